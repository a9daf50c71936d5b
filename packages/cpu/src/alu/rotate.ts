/**
 * ROL, ROR, RCL, RCR (SDM vol. 2B): only CF and OF change; a masked count of 0 changes nothing.
 * Results go to `s.out[0..1]`.
 */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { msb } from "./flag-bits.js";
import { countMask, keep, rotl } from "./shift-common.js";

/** ROL a, count. Only CF (= LSB of the result) and OF (count 1: MSB ^ CF) change. */
export function rol(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  rotl(s, size, aLo, aHi, c % size);
  const cf = s.out[0]! & 1;
  const of = msb(size, s.out[0]!, s.out[1]!) ^ cf;
  s.flags.merge(Rflags.CF | Rflags.OF, cf | (of << 11));
}

/** ROR a, count. Only CF (= MSB of the result) and OF (count 1: MSB ^ next bit) change. */
export function ror(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const n = c % size;
  rotl(s, size, aLo, aHi, n === 0 ? 0 : size - n);
  const o = s.out;
  const cf = msb(size, o[0]!, o[1]!);
  const next = size === 64 ? (o[1]! >>> 30) & 1 : (o[0]! >>> (size - 2)) & 1;
  s.flags.merge(Rflags.CF | Rflags.OF, cf | ((cf ^ next) << 11));
}

/**
 * RCL a, count: rotate left through CF. The count is masked, then taken modulo 9 (8-bit) or 17
 * (16-bit). Only CF and OF (count 1: MSB(result) ^ CF) change.
 */
export function rcl(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const t = size === 8 ? c % 9 : size === 16 ? c % 17 : c;
  let cf = s.flags.cf();
  let lo = size === 64 ? aLo >>> 0 : (aLo & sizeMask(size)) >>> 0;
  let hi = size === 64 ? aHi >>> 0 : 0;
  const top = size === 64 ? 31 : size - 1;
  const m = sizeMask(size);
  for (let i = 0; i < t; i++) {
    if (size === 64) {
      const out = hi >>> 31;
      hi = ((hi << 1) | (lo >>> 31)) >>> 0;
      lo = ((lo << 1) | cf) >>> 0;
      cf = out;
    } else {
      const out = (lo >>> top) & 1;
      lo = ((lo << 1) | cf) & m;
      cf = out;
    }
  }
  s.out[0] = lo;
  s.out[1] = hi;
  s.flags.merge(Rflags.CF | Rflags.OF, cf | ((msb(size, lo, hi) ^ cf) << 11));
}

/**
 * RCR a, count: rotate right through CF (count masked, then modulo 9 or 17 for 8/16 bits). Only CF
 * and OF (count 1: MSB(a) ^ CF before the rotate) change.
 */
export function rcr(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const t = size === 8 ? c % 9 : size === 16 ? c % 17 : c;
  let cf = s.flags.cf();
  let lo = size === 64 ? aLo >>> 0 : (aLo & sizeMask(size)) >>> 0;
  let hi = size === 64 ? aHi >>> 0 : 0;
  const of = msb(size, lo, hi) ^ cf;
  for (let i = 0; i < t; i++) {
    const out = lo & 1;
    if (size === 64) {
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = ((hi >>> 1) | (cf << 31)) >>> 0;
    } else {
      lo = (lo >>> 1) | (cf << (size - 1));
      lo >>>= 0;
    }
    cf = out;
  }
  s.out[0] = lo;
  s.out[1] = hi;
  s.flags.merge(Rflags.CF | Rflags.OF, cf | (of << 11));
}
