// Machine-code snippets for the interpreter tests: nasm source next to the committed bytes, so the
// tests need no assembler. test/snippets.test.ts re-assembles every snippet with nasm (when it is
// installed) and requires the same bytes.

/** One assembled snippet. */
export interface Snippet {
  /** nasm source (without the `bits` line). */
  readonly src: string;
  /** 16, 32 or 64. */
  readonly bits: 16 | 32 | 64;
  /** Address the code is assembled for (`org`). */
  readonly org: number;
  /** The bytes, as hex. */
  readonly hex: string;
  /** Addresses of the source's labels (from nasm's map file). */
  readonly labels: Readonly<Record<string, number>>;
}

/** The bytes of a snippet. */
export function bytesOf(s: Snippet): Uint8Array {
  const out = new Uint8Array(s.hex.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = Number.parseInt(s.hex.slice(2 * k, 2 * k + 2), 16);
  return out;
}

/** The four little-endian bytes of a 32-bit value (for machine code written as byte arrays). */
export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
