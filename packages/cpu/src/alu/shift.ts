/**
 * SHL/SAL, SHR, SAR by CL or an immediate (SDM vol. 2B). The count is masked to 5 bits (6 for
 * 64-bit operands); a masked count of 0 changes neither the operand nor the flags. Results go to
 * `s.out[0..1]`.
 */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { msb } from "./flag-bits.js";
import { countMask, keep, shiftFlags } from "./shift-common.js";

/** SHL/SAL a, count. CF = last bit out; OF (count 1) = MSB(result) ^ CF. */
export function shl(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const o = s.out;
  let cf: number;
  if (size !== 64) {
    const a = (aLo & sizeMask(size)) >>> 0;
    o[0] = (a << c) & sizeMask(size);
    o[1] = 0;
    cf = c <= size ? (a >>> (size - c)) & 1 : 0;
  } else if (c < 32) {
    o[1] = (aHi << c) | (aLo >>> (32 - c));
    o[0] = aLo << c;
    cf = (aHi >>> (32 - c)) & 1;
  } else {
    o[1] = aLo << (c - 32);
    o[0] = 0;
    cf = c === 32 ? aHi & 1 : (aLo >>> (64 - c)) & 1;
  }
  shiftFlags(s, size, cf, msb(size, o[0]!, o[1]!) ^ cf);
}

/** SHR a, count. CF = last bit out; OF (count 1) = MSB(a). */
export function shr(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const o = s.out;
  let cf: number;
  const of = msb(size, aLo >>> 0, aHi >>> 0);
  if (size !== 64) {
    const a = (aLo & sizeMask(size)) >>> 0;
    o[0] = a >>> c;
    o[1] = 0;
    cf = (a >>> (c - 1)) & 1;
  } else if (c < 32) {
    o[0] = (aLo >>> c) | (aHi << (32 - c));
    o[1] = aHi >>> c;
    cf = (aLo >>> (c - 1)) & 1;
  } else {
    o[0] = aHi >>> (c - 32);
    o[1] = 0;
    cf = c === 32 ? aLo >>> 31 : (aHi >>> (c - 33)) & 1;
  }
  shiftFlags(s, size, cf, of);
}

/** SAR a, count: arithmetic shift right. CF = last bit out; OF (count 1) = 0. */
export function sar(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const o = s.out;
  let cf: number;
  if (size !== 64) {
    const sh = 32 - size;
    const a = (aLo << sh) >> sh;
    o[0] = (a >> c) & sizeMask(size);
    o[1] = 0;
    cf = (a >> (c - 1)) & 1;
  } else if (c < 32) {
    o[0] = (aLo >>> c) | (aHi << (32 - c));
    o[1] = aHi >> c;
    cf = (aLo >>> (c - 1)) & 1;
  } else {
    o[0] = aHi >> (c - 32);
    o[1] = aHi >> 31;
    cf = c === 32 ? aLo >>> 31 : (aHi >> (c - 33)) & 1;
  }
  shiftFlags(s, size, cf, 0);
}
