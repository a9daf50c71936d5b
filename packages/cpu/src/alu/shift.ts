/**
 * SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD (count from CL or an immediate) and the BMI2
 * flagless SARX/SHLX/SHRX/RORX (SDM vol. 2B). The count is masked to 5 bits (6 for 64-bit
 * operands); a masked count of 0 changes neither the operand nor the flags. Results go to
 * `s.out[0..1]`.
 */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { msb, szp } from "./flag-bits.js";

function countMask(size: OperandSize): number {
  return size === 64 ? 0x3f : 0x1f;
}

function keep(s: CpuState, size: OperandSize, aLo: number, aHi: number): void {
  s.out[0] = size === 64 ? aLo : aLo & sizeMask(size);
  s.out[1] = size === 64 ? aHi : 0;
}

function shiftFlags(s: CpuState, size: OperandSize, cf: number, of: number): void {
  const o = s.out;
  s.flags.setArith(cf | (of ? Rflags.OF : 0) | szp(size, o[0]!, o[1]!));
}

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

function rotl(s: CpuState, size: OperandSize, aLo: number, aHi: number, n: number): void {
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

/** SHLX (BMI2): a << (count & (size - 1)); flags untouched. Sizes 32 and 64. */
export function shlx(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & (size - 1);
  if (size !== 64) {
    s.out[0] = aLo << c;
    s.out[1] = 0;
  } else if (c === 0) {
    s.out[0] = aLo;
    s.out[1] = aHi;
  } else if (c < 32) {
    s.out[1] = (aHi << c) | (aLo >>> (32 - c));
    s.out[0] = aLo << c;
  } else {
    s.out[1] = aLo << (c - 32);
    s.out[0] = 0;
  }
}

/** SHRX (BMI2): a >>> (count & (size - 1)); flags untouched. Sizes 32 and 64. */
export function shrx(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & (size - 1);
  if (size !== 64) {
    s.out[0] = aLo >>> c;
    s.out[1] = 0;
  } else if (c === 0) {
    s.out[0] = aLo;
    s.out[1] = aHi;
  } else if (c < 32) {
    s.out[0] = (aLo >>> c) | (aHi << (32 - c));
    s.out[1] = aHi >>> c;
  } else {
    s.out[0] = aHi >>> (c - 32);
    s.out[1] = 0;
  }
}

/** SARX (BMI2): a >> (count & (size - 1)), arithmetic; flags untouched. Sizes 32 and 64. */
export function sarx(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & (size - 1);
  if (size !== 64) {
    s.out[0] = aLo >> c;
    s.out[1] = 0;
  } else if (c === 0) {
    s.out[0] = aLo;
    s.out[1] = aHi;
  } else if (c < 32) {
    s.out[0] = (aLo >>> c) | (aHi << (32 - c));
    s.out[1] = aHi >> c;
  } else {
    s.out[0] = aHi >> (c - 32);
    s.out[1] = aHi >> 31;
  }
}

/** RORX (BMI2): rotate right by imm & (size - 1); flags untouched. Sizes 32 and 64. */
export function rorx(s: CpuState, size: OperandSize, aLo: number, aHi: number, imm: number): void {
  const n = imm & (size - 1);
  rotl(s, size, aLo, aHi, n === 0 ? 0 : size - n);
}
