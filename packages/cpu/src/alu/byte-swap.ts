/** BSWAP and MOVBE's byte swap (SDM vol. 2A). No flags. */
import type { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";

function swap32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) >>> 0;
}

/**
 * Reverses the byte order of a value (BSWAP for 32/64 bits; MOVBE for 16/32/64). 16 bits swaps
 * the two bytes, as MOVBE does (BSWAP of a 16-bit register is undefined). No flags.
 */
export function byteSwap(s: CpuState, size: OperandSize, lo: number, hi: number): void {
  if (size === 64) {
    s.out[0] = swap32(hi);
    s.out[1] = swap32(lo);
  } else if (size === 32) {
    s.out[0] = swap32(lo);
    s.out[1] = 0;
  } else if (size === 16) {
    s.out[0] = ((lo >>> 8) & 0xff) | ((lo & 0xff) << 8);
    s.out[1] = 0;
  } else {
    s.out[0] = lo & 0xff;
    s.out[1] = 0;
  }
}
