/** Helpers shared by the shift and rotate modules. */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { szp } from "./flag-bits.js";

/** Count mask: 5 bits, 6 for 64-bit operands. */
export function countMask(size: OperandSize): number {
  return size === 64 ? 0x3f : 0x1f;
}

/** A zero count: the operand unchanged into `out`, flags untouched. */
export function keep(s: CpuState, size: OperandSize, aLo: number, aHi: number): void {
  s.out[0] = size === 64 ? aLo : aLo & sizeMask(size);
  s.out[1] = size === 64 ? aHi : 0;
}

/** Sets CF, OF and SF/ZF/PF of `out` (AF, undefined, becomes 0). */
export function shiftFlags(s: CpuState, size: OperandSize, cf: number, of: number): void {
  const o = s.out;
  s.flags.setArith(cf | (of ? Rflags.OF : 0) | szp(size, o[0]!, o[1]!));
}

/** Rotates the halves left by n (0-63) into out[0..1]. */
function rotl64(s: CpuState, lo: number, hi: number, n: number): void {
  if (n >= 32) {
    const t = lo;
    lo = hi;
    hi = t;
    n -= 32;
  }
  if (n === 0) {
    s.out[0] = lo;
    s.out[1] = hi;
  } else {
    s.out[0] = (lo << n) | (hi >>> (32 - n));
    s.out[1] = (hi << n) | (lo >>> (32 - n));
  }
}

/** Rotates a `size`-bit value left by n into out[0..1]. */
export function rotl(s: CpuState, size: OperandSize, aLo: number, aHi: number, n: number): void {
  if (size === 64) {
    rotl64(s, aLo, aHi, n & 63);
    return;
  }
  const m = sizeMask(size);
  const a = (aLo & m) >>> 0;
  const r = n % size;
  s.out[0] = r === 0 ? a : ((a << r) | (a >>> (size - r))) & m;
  s.out[1] = 0;
}
