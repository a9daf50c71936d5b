// Builds minimal little-endian ELF executables byte by byte for the loader tests.

/** One PT_LOAD segment to put in a test ELF. */
export interface TestSegment {
  paddr: number;
  data: Uint8Array;
  memSize?: number;
}

/** An ELF32 (bits 32) or ELF64 executable with the given segments, entry and machine. */
export function buildElf(
  bits: 32 | 64,
  machine: number,
  entry: number,
  segments: TestSegment[],
  prefix?: Uint8Array,
): Uint8Array {
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  const phoff = ehsize;
  let dataOff = phoff + phentsize * segments.length;
  // Optional bytes right after the program headers (e.g. a multiboot header inside the first 8 KiB).
  dataOff = Math.ceil(dataOff / 8) * 8;
  const prefixOff = dataOff;
  dataOff += prefix?.byteLength ?? 0;
  const offsets: number[] = [];
  for (const s of segments) {
    dataOff = Math.ceil(dataOff / 16) * 16;
    offsets.push(dataOff);
    dataOff += s.data.byteLength;
  }
  const out = new Uint8Array(dataOff);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true);
  if (bits === 64) {
    v.setUint32(24, entry, true);
    v.setUint32(32, phoff, true);
    v.setUint16(52, ehsize, true);
    v.setUint16(54, phentsize, true);
    v.setUint16(56, segments.length, true);
  } else {
    v.setUint32(24, entry, true);
    v.setUint32(28, phoff, true);
    v.setUint16(40, ehsize, true);
    v.setUint16(42, phentsize, true);
    v.setUint16(44, segments.length, true);
  }
  segments.forEach((s, i) => {
    const ph = phoff + i * phentsize;
    const mem = s.memSize ?? s.data.byteLength;
    v.setUint32(ph, 1, true); // PT_LOAD
    if (bits === 64) {
      v.setUint32(ph + 4, 7, true);
      v.setUint32(ph + 8, offsets[i]!, true);
      v.setUint32(ph + 16, s.paddr, true);
      v.setUint32(ph + 24, s.paddr, true);
      v.setUint32(ph + 32, s.data.byteLength, true);
      v.setUint32(ph + 40, mem, true);
    } else {
      v.setUint32(ph + 4, offsets[i]!, true);
      v.setUint32(ph + 8, s.paddr, true);
      v.setUint32(ph + 12, s.paddr, true);
      v.setUint32(ph + 16, s.data.byteLength, true);
      v.setUint32(ph + 20, mem, true);
      v.setUint32(ph + 24, 7, true);
    }
    out.set(s.data, offsets[i]!);
  });
  if (prefix !== undefined) out.set(prefix, prefixOff);
  return out;
}

/** Little-endian dwords as bytes. */
export function dwords(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => {
    v.setUint32(4 * i, x >>> 0, true);
  });
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
