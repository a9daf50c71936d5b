/** SHLD and SHRD (SDM vol. 2B). Results go to `s.out[0..1]`. */
import type { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";
import { msb } from "./flag-bits.js";
import { countMask, keep, shiftFlags } from "./shift-common.js";

/**
 * SHLD a, b, count: shifts a left, filling from the high bits of b. CF = last bit out of a;
 * OF (count 1) = sign change. A count above the operand size (16-bit only) gives an undefined
 * result and flags (SDM vol. 2B, SHLD); this computes a rotation of b:a.
 */
export function shld(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  count: number,
): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const o = s.out;
  let cf: number;
  if (size === 16) {
    const x = (((aLo & 0xffff) << 16) | (bLo & 0xffff)) >>> 0;
    const r = c === 32 ? x : ((x << c) | (x >>> (32 - c))) >>> 0;
    o[0] = r >>> 16;
    o[1] = 0;
    cf = (x >>> (32 - c)) & 1;
  } else if (size === 32) {
    o[0] = (aLo << c) | (bLo >>> (32 - c));
    o[1] = 0;
    cf = (aLo >>> (32 - c)) & 1;
  } else if (c < 32) {
    o[1] = (aHi << c) | (aLo >>> (32 - c));
    o[0] = (aLo << c) | (bHi >>> (32 - c));
    cf = (aHi >>> (32 - c)) & 1;
  } else if (c === 32) {
    o[1] = aLo;
    o[0] = bHi;
    cf = aHi & 1;
  } else {
    const n = c - 32;
    o[1] = (aLo << n) | (bHi >>> (32 - n));
    o[0] = (bHi << n) | (bLo >>> (32 - n));
    cf = (aLo >>> (32 - n)) & 1;
  }
  shiftFlags(s, size, cf, msb(size, o[0]!, o[1]!) ^ msb(size, aLo >>> 0, aHi >>> 0));
}

/**
 * SHRD a, b, count: shifts a right, filling from the low bits of b. CF = last bit out of a;
 * OF (count 1) = sign change. Counts above a 16-bit operand size are undefined (see SHLD).
 */
export function shrd(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  count: number,
): void {
  const c = count & countMask(size);
  if (c === 0) {
    keep(s, size, aLo, aHi);
    return;
  }
  const o = s.out;
  let cf: number;
  if (size === 16) {
    const x = (((bLo & 0xffff) << 16) | (aLo & 0xffff)) >>> 0;
    const r = c === 32 ? x : ((x >>> c) | (x << (32 - c))) >>> 0;
    o[0] = r & 0xffff;
    o[1] = 0;
    cf = (x >>> (c - 1)) & 1;
  } else if (size === 32) {
    o[0] = (aLo >>> c) | (bLo << (32 - c));
    o[1] = 0;
    cf = (aLo >>> (c - 1)) & 1;
  } else if (c < 32) {
    o[0] = (aLo >>> c) | (aHi << (32 - c));
    o[1] = (aHi >>> c) | (bLo << (32 - c));
    cf = (aLo >>> (c - 1)) & 1;
  } else if (c === 32) {
    o[0] = aHi;
    o[1] = bLo;
    cf = aLo >>> 31;
  } else {
    const n = c - 32;
    o[0] = (aHi >>> n) | (bLo << (32 - n));
    o[1] = (bLo >>> n) | (bHi << (32 - n));
    cf = (aHi >>> (n - 1)) & 1;
  }
  shiftFlags(s, size, cf, msb(size, o[0]!, o[1]!) ^ msb(size, aLo >>> 0, aHi >>> 0));
}
