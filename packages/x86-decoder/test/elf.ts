import { readFileSync } from "node:fs";

/** The .text section of an ELF file: its bytes and address, or undefined. */
export interface TextSection {
  bytes: Uint8Array;
  address: number;
  bitness: 32 | 64;
}

/** Reads the .text section of an ELF executable by parsing the section headers (ELF64/ELF32, LE). */
export function readElfText(path: string): TextSection | undefined {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch {
    return undefined;
  }
  if (buf.length < 64 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46)
    return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const is64 = buf[4] === 2;
  if (buf[5] !== 1) return undefined;
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32;
  const shoff = is64 ? u64(0x28) : u32(0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  const sh = (i: number) => {
    const o = shoff + i * shentsize;
    return is64
      ? { name: u32(o), addr: u64(o + 0x10), offset: u64(o + 0x18), size: u64(o + 0x20) }
      : { name: u32(o), addr: u32(o + 0x0c), offset: u32(o + 0x10), size: u32(o + 0x14) };
  };
  if (shoff === 0 || shstrndx >= shnum) return undefined;
  const strtab = sh(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    let name = "";
    for (let p = strtab.offset + s.name; p < buf.length && buf[p] !== 0; p++)
      name += String.fromCharCode(buf[p]!);
    if (name === ".text") {
      return { bytes: buf.subarray(s.offset, s.offset + s.size), address: s.addr, bitness: is64 ? 64 : 32 };
    }
  }
  return undefined;
}
