/** CRC32 (SSE4.2): CRC-32C (Castagnoli), bit-reflected, no pre/post inversion (SDM vol. 2A). */
import type { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";

const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[i] = c;
}

function step(crc: number, byte: number): number {
  return TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
}

function word(crc: number, v: number, bytes: number): number {
  for (let i = 0; i < bytes; i++) crc = step(crc, v >>> (8 * i));
  return crc;
}

/**
 * CRC32 crc, src: accumulates the `size`-bit source into the 32-bit crc, least significant byte
 * first. `out[0]` = new crc, `out[1]` = 0 (the 64-bit form zero-extends). No flags.
 */
export function crc32(s: CpuState, size: OperandSize, crc: number, srcLo: number, srcHi: number): void {
  let c = crc >>> 0;
  c = word(c, srcLo, size === 64 ? 4 : size >>> 3);
  if (size === 64) c = word(c, srcHi, 4);
  s.out[0] = c;
  s.out[1] = 0;
}
