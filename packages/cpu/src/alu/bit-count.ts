/** BSF, BSR, POPCNT, LZCNT, TZCNT (SDM vol. 2). Results go to `s.out[0..1]`. */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { setResult, zeroOf } from "./result.js";

/**
 * BSF: index of the lowest set bit of src. When src is 0, ZF = 1 and the destination keeps its
 * old value `dest` (what Intel and AMD processors do; the SDM calls it undefined).
 */
export function bsf(
  s: CpuState,
  size: OperandSize,
  srcLo: number,
  srcHi: number,
  destLo: number,
  destHi: number,
): void {
  const lo = size === 64 ? srcLo : srcLo & sizeMask(size);
  const hi = size === 64 ? srcHi : 0;
  if ((lo | hi) === 0) {
    setResult(s, size, destLo, destHi);
    s.flags.merge(Rflags.ZF, Rflags.ZF);
    return;
  }
  setResult(s, size, lo !== 0 ? 31 - Math.clz32(lo & -lo) : 63 - Math.clz32(hi & -hi), 0);
  s.flags.merge(Rflags.ZF, 0);
}

/** BSR: index of the highest set bit of src; src 0 as for {@link bsf}. */
export function bsr(
  s: CpuState,
  size: OperandSize,
  srcLo: number,
  srcHi: number,
  destLo: number,
  destHi: number,
): void {
  const lo = size === 64 ? srcLo : srcLo & sizeMask(size);
  const hi = size === 64 ? srcHi : 0;
  if ((lo | hi) === 0) {
    setResult(s, size, destLo, destHi);
    s.flags.merge(Rflags.ZF, Rflags.ZF);
    return;
  }
  setResult(s, size, hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo), 0);
  s.flags.merge(Rflags.ZF, 0);
}

function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/** POPCNT: number of set bits. ZF = (src == 0); CF, OF, SF, AF, PF cleared. */
export function popcnt(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  const lo = size === 64 ? srcLo : srcLo & sizeMask(size);
  const hi = size === 64 ? srcHi : 0;
  setResult(s, size, popcount32(lo) + popcount32(hi), 0);
  s.flags.setArith(zeroOf(lo, hi));
}

function countFlags(s: CpuState, size: OperandSize, result: number): void {
  // CF = (source is zero, i.e. result == size); ZF = (result == 0). OF, SF, AF, PF undefined: kept.
  s.flags.merge(Rflags.CF | Rflags.ZF, (result === size ? Rflags.CF : 0) | (result === 0 ? Rflags.ZF : 0));
}

/** LZCNT: number of leading zero bits (the operand size when src is 0). */
export function lzcnt(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  let n: number;
  if (size === 64) n = srcHi !== 0 ? Math.clz32(srcHi) : 32 + Math.clz32(srcLo);
  else n = Math.clz32(srcLo & sizeMask(size)) - (32 - size);
  setResult(s, size, n, 0);
  countFlags(s, size, n);
}

/** TZCNT: number of trailing zero bits (the operand size when src is 0). */
export function tzcnt(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  const lo = size === 64 ? srcLo : srcLo & sizeMask(size);
  const hi = size === 64 ? srcHi : 0;
  let n: number;
  if (lo !== 0) n = 31 - Math.clz32(lo & -lo);
  else if (hi !== 0) n = 63 - Math.clz32(hi & -hi);
  else n = size;
  setResult(s, size, n, 0);
  countFlags(s, size, n);
}
