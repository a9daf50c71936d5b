/**
 * MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV and the BMI2 MULX (SDM vol. 2).
 * Products: `out[0..1]` = low half at the operand size (AL/AX/EAX/RAX or the two/three-operand
 * destination), `out[2..3]` = high half (AH/DX/EDX/RDX). Quotients: `out[0..1]` = quotient,
 * `out[2..3]` = remainder. DIV/IDIV return {@link NO_FAULT} or the #DE vector instead of throwing.
 */

import { Vector } from "../exceptions/vectors.js";
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { szp } from "./flag-bits.js";
import { divU128, ltU64, mulU32, mulU64, W } from "./wide.js";

/** Returned by the faulting ALU functions when no exception occurs. */
export const NO_FAULT = -1;

/** Vector of the divide error, #DE (SDM vol. 3, 6.15). */
export const VECTOR_DE: number = Vector.DE;

function signExtend(size: 8 | 16, v: number): number {
  const sh = 32 - size;
  return (v << sh) >> sh;
}

function mulFlags(s: CpuState, size: OperandSize, overflow: boolean): void {
  // SF, ZF, AF and PF are undefined after MUL/IMUL (SDM vol. 2A); this sets them from the low half.
  const o = s.out;
  s.flags.setArith((overflow ? Rflags.CF | Rflags.OF : 0) | szp(size, o[0]!, o[1]!));
}

/** MUL: unsigned a × b. CF = OF = (high half != 0). */
export function mul(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const o = s.out;
  if (size === 64) {
    mulU64(aLo, aHi, bLo, bHi);
    o.set(W);
  } else if (size === 32) {
    mulU32(aLo, bLo);
    o[0] = W[0]!;
    o[1] = 0;
    o[2] = W[1]!;
    o[3] = 0;
  } else {
    const m = sizeMask(size);
    const p = (aLo & m) * (bLo & m);
    o[0] = p & m;
    o[1] = 0;
    o[2] = p >>> size;
    o[3] = 0;
  }
  mulFlags(s, size, o[2] !== 0 || o[3] !== 0);
}

/**
 * IMUL: signed a × b, for all three forms (the two- and three-operand forms keep only
 * `out[0..1]`). CF = OF = (the full product differs from the sign-extended low half).
 */
export function imul(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const o = s.out;
  let overflow: boolean;
  if (size === 8 || size === 16) {
    const m = sizeMask(size);
    const p = signExtend(size, aLo) * signExtend(size, bLo);
    o[0] = p & m;
    o[1] = 0;
    o[2] = (p >> size) & m;
    o[3] = 0;
    overflow = p !== signExtend(size, p & m);
  } else if (size === 32) {
    mulU32(aLo, bLo);
    let hi = W[1]!;
    if (aLo & 0x80000000) hi -= bLo >>> 0;
    if (bLo & 0x80000000) hi -= aLo >>> 0;
    o[0] = W[0]!;
    o[1] = 0;
    o[2] = hi;
    o[3] = 0;
    overflow = o[2] !== (o[0]! & 0x80000000 ? 0xffffffff : 0);
  } else {
    mulU64(aLo, aHi, bLo, bHi);
    let h0 = W[2]!;
    let h1 = W[3]!;
    if (aHi & 0x80000000) {
      const t = h0 - (bLo >>> 0);
      h1 = h1 - (bHi >>> 0) - (t < 0 ? 1 : 0);
      h0 = t;
    }
    if (bHi & 0x80000000) {
      const t = (h0 >>> 0) - (aLo >>> 0);
      h1 = h1 - (aHi >>> 0) - (t < 0 ? 1 : 0);
      h0 = t;
    }
    o[0] = W[0]!;
    o[1] = W[1]!;
    o[2] = h0;
    o[3] = h1;
    const ext = o[1]! & 0x80000000 ? 0xffffffff : 0;
    overflow = o[2] !== ext || o[3] !== ext;
  }
  mulFlags(s, size, overflow);
}

/** MULX (BMI2): unsigned a × b with no flags. `out[0..1]` = low half, `out[2..3]` = high half. */
export function mulx(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const o = s.out;
  if (size === 64) {
    mulU64(aLo, aHi, bLo, bHi);
    o.set(W);
  } else {
    mulU32(aLo, bLo);
    o[0] = W[0]!;
    o[1] = 0;
    o[2] = W[1]!;
    o[3] = 0;
  }
}

/**
 * DIV: unsigned (hi:lo) / d, the dividend being twice the operand size (8-bit: AH:AL). Returns
 * {@link VECTOR_DE} when d is 0 or the quotient does not fit, leaving `out` and flags untouched;
 * otherwise {@link NO_FAULT}. The flags are undefined after DIV and are left unchanged.
 */
export function div(
  s: CpuState,
  size: OperandSize,
  loLo: number,
  loHi: number,
  hiLo: number,
  hiHi: number,
  dLo: number,
  dHi: number,
): number {
  const o = s.out;
  if (size === 8 || size === 16) {
    const m = sizeMask(size);
    const d = dLo & m;
    if (d === 0) return VECTOR_DE;
    const n = (hiLo & m) * (m + 1) + (loLo & m);
    const q = Math.floor(n / d);
    if (q > m) return VECTOR_DE;
    o[0] = q;
    o[1] = 0;
    o[2] = n - q * d;
    o[3] = 0;
    return NO_FAULT;
  }
  if (size === 32) {
    const d = dLo >>> 0;
    if (d === 0 || hiLo >>> 0 >= d) return VECTOR_DE;
    divU128(0, 0, hiLo, loLo, 0, d);
    o[0] = W[0]!;
    o[1] = 0;
    o[2] = W[2]!;
    o[3] = 0;
    return NO_FAULT;
  }
  if ((dLo | dHi) === 0 || !ltU64(hiLo, hiHi, dLo, dHi)) return VECTOR_DE;
  divU128(hiHi, hiLo, loHi, loLo, dHi, dLo);
  o.set(W);
  return NO_FAULT;
}

/** Scratch for the magnitudes of IDIV's operands. */
const N = new Uint32Array(4);

/**
 * IDIV: signed (hi:lo) / d, truncating toward zero; the remainder has the dividend's sign.
 * Returns {@link VECTOR_DE} when d is 0 or the quotient is out of range (SDM vol. 2A, IDIV).
 */
export function idiv(
  s: CpuState,
  size: OperandSize,
  loLo: number,
  loHi: number,
  hiLo: number,
  hiHi: number,
  dLo: number,
  dHi: number,
): number {
  const o = s.out;
  if (size === 8 || size === 16) {
    const m = sizeMask(size);
    const d = signExtend(size, dLo & m);
    if (d === 0) return VECTOR_DE;
    const n = ((((hiLo & m) << size) | (loLo & m)) << (32 - 2 * size)) >> (32 - 2 * size);
    const q = Math.trunc(n / d);
    const lim = 1 << (size - 1);
    if (q >= lim || q < -lim) return VECTOR_DE;
    o[0] = q & m;
    o[1] = 0;
    o[2] = (n - q * d) & m;
    o[3] = 0;
    return NO_FAULT;
  }
  // Magnitudes: dividend as 4 words (n3..n0 in N[3..0]), divisor as 2 words.
  const wide = size === 64;
  const nNeg = (wide ? hiHi : hiLo) >>> 31;
  const dNeg = (wide ? dHi : dLo) >>> 31;
  if (wide) {
    N[0] = loLo;
    N[1] = loHi;
    N[2] = hiLo;
    N[3] = hiHi;
  } else {
    N[0] = loLo;
    N[1] = hiLo;
    N[2] = nNeg ? 0xffffffff : 0;
    N[3] = N[2]!;
  }
  if (nNeg) {
    // Two's complement of the 128-bit dividend.
    let carry = 1;
    for (let i = 0; i < 4; i++) {
      const v = (~N[i]! >>> 0) + carry;
      N[i] = v;
      carry = v > 0xffffffff ? 1 : 0;
    }
  }
  let ddLo = dLo >>> 0;
  let ddHi = wide ? dHi >>> 0 : dNeg ? 0xffffffff : 0;
  if (dNeg) {
    const v = (~ddLo >>> 0) + 1;
    ddLo = v >>> 0;
    ddHi = (~ddHi + (v > 0xffffffff ? 1 : 0)) >>> 0;
  }
  if ((ddLo | ddHi) === 0) return VECTOR_DE;
  // The quotient magnitude must fit the unsigned 64-bit division first.
  if (wide && !ltU64(N[2]!, N[3]!, ddLo, ddHi)) return VECTOR_DE;
  divU128(N[3]!, N[2]!, N[1]!, N[0]!, ddHi, ddLo);
  let qLo = W[0]!;
  let qHi = W[1]!;
  let rLo = W[2]!;
  let rHi = W[3]!;
  const qNeg = nNeg ^ dNeg;
  // Range: |q| <= 2^(n-1) - 1, or 2^(n-1) when negative.
  if (wide) {
    if (qHi > 0x80000000 || (qHi === 0x80000000 && (qLo !== 0 || !qNeg))) return VECTOR_DE;
  } else if (qHi !== 0 || qLo > 0x80000000 || (qLo === 0x80000000 && !qNeg)) {
    return VECTOR_DE;
  }
  if (qNeg) {
    const v = (~qLo >>> 0) + 1;
    qLo = v >>> 0;
    qHi = (~qHi + (v > 0xffffffff ? 1 : 0)) >>> 0;
  }
  if (nNeg) {
    const v = (~rLo >>> 0) + 1;
    rLo = v >>> 0;
    rHi = (~rHi + (v > 0xffffffff ? 1 : 0)) >>> 0;
  }
  o[0] = qLo;
  o[1] = wide ? qHi : 0;
  o[2] = rLo;
  o[3] = wide ? rHi : 0;
  return NO_FAULT;
}
