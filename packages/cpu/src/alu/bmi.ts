/**
 * BMI1 (ANDN, BEXTR, BLSI, BLSMSK, BLSR) and the BMI2 bit-field instructions BZHI, PDEP, PEXT
 * (SDM vol. 2A/2B). Results go to `s.out[0..1]`.
 */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { msb } from "./flag-bits.js";
import { setResult, zeroOf } from "./result.js";

function bmiFlags(s: CpuState, size: OperandSize, cf: number): void {
  // SF, ZF from the result, CF given, OF cleared; AF and PF undefined (left unchanged).
  const o = s.out;
  s.flags.merge(
    Rflags.CF | Rflags.ZF | Rflags.SF | Rflags.OF,
    cf | zeroOf(o[0]!, o[1]!) | (msb(size, o[0]!, o[1]!) ? Rflags.SF : 0),
  );
}

/** ANDN (BMI1): ~a & b. SF, ZF from the result; CF = OF = 0. Sizes 32 and 64. */
export function andn(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  setResult(s, size, ~aLo & bLo, ~aHi & bHi);
  bmiFlags(s, size, 0);
}

/**
 * BEXTR (BMI1): extracts control[15:8] bits of src starting at bit control[7:0] (bits beyond
 * the operand read as 0). ZF from the result; CF = OF = 0; SF, AF, PF undefined.
 */
export function bextr(s: CpuState, size: OperandSize, srcLo: number, srcHi: number, control: number): void {
  const start = control & 0xff;
  const len = (control >>> 8) & 0xff;
  let lo = 0;
  let hi = 0;
  if (start < size) {
    // Shift right by start.
    if (size !== 64) {
      lo = srcLo >>> start;
    } else if (start === 0) {
      lo = srcLo;
      hi = srcHi;
    } else if (start < 32) {
      lo = (srcLo >>> start) | (srcHi << (32 - start));
      hi = srcHi >>> start;
    } else {
      lo = srcHi >>> (start - 32);
    }
    // Keep len bits.
    if (len < 32) {
      lo = len === 0 ? 0 : lo & (0xffffffff >>> (32 - len));
      hi = 0;
    } else if (len < 64) {
      hi = len === 32 ? 0 : hi & (0xffffffff >>> (64 - len));
    }
  }
  setResult(s, size, lo, hi);
  s.flags.merge(Rflags.CF | Rflags.ZF | Rflags.OF, zeroOf(s.out[0]!, s.out[1]!));
}

/** BLSI (BMI1): src & -src. SF, ZF from the result; CF = (src != 0); OF = 0. */
export function blsi(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  const nLo = -srcLo >>> 0;
  const nHi = ~srcHi + (srcLo === 0 ? 1 : 0);
  setResult(s, size, srcLo & nLo, srcHi & nHi);
  const zero = size === 64 ? (srcLo | srcHi) === 0 : (srcLo & sizeMask(size)) === 0;
  bmiFlags(s, size, zero ? 0 : Rflags.CF);
}

/** BLSMSK (BMI1): src ^ (src - 1). SF from the result; CF = (src == 0); ZF = OF = 0. */
export function blsmsk(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  const mLo = (srcLo - 1) >>> 0;
  const mHi = srcHi - (srcLo >>> 0 === 0 ? 1 : 0);
  setResult(s, size, srcLo ^ mLo, srcHi ^ mHi);
  const zero = size === 64 ? (srcLo | srcHi) === 0 : (srcLo & sizeMask(size)) === 0;
  const o = s.out;
  s.flags.merge(
    Rflags.CF | Rflags.ZF | Rflags.SF | Rflags.OF,
    (zero ? Rflags.CF : 0) | (msb(size, o[0]!, o[1]!) ? Rflags.SF : 0),
  );
}

/** BLSR (BMI1): src & (src - 1). SF, ZF from the result; CF = (src == 0); OF = 0. */
export function blsr(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  const mLo = (srcLo - 1) >>> 0;
  const mHi = srcHi - (srcLo >>> 0 === 0 ? 1 : 0);
  setResult(s, size, srcLo & mLo, srcHi & mHi);
  const zero = size === 64 ? (srcLo | srcHi) === 0 : (srcLo & sizeMask(size)) === 0;
  bmiFlags(s, size, zero ? Rflags.CF : 0);
}

/**
 * BZHI (BMI2): clears the bits of src from index[7:0] up. CF = (index[7:0] > size - 1); SF, ZF
 * from the result; OF = 0; AF, PF undefined.
 */
export function bzhi(s: CpuState, size: OperandSize, srcLo: number, srcHi: number, index: number): void {
  const n = index & 0xff;
  let lo = srcLo;
  let hi = srcHi;
  if (n < size) {
    if (n < 32) {
      lo = n === 0 ? 0 : lo & (0xffffffff >>> (32 - n));
      hi = 0;
    } else {
      hi = n === 32 ? 0 : hi & (0xffffffff >>> (64 - n));
    }
  }
  setResult(s, size, lo, hi);
  bmiFlags(s, size, n > size - 1 ? Rflags.CF : 0);
}

/** PDEP (BMI2): deposits the low bits of src at the set bits of mask; no flags. */
export function pdep(
  s: CpuState,
  size: OperandSize,
  srcLo: number,
  srcHi: number,
  maskLo: number,
  maskHi: number,
): void {
  let rLo = 0;
  let rHi = 0;
  let k = 0; // next source bit
  for (let half = 0; half < (size === 64 ? 2 : 1); half++) {
    let m = half === 0 ? maskLo >>> 0 : maskHi >>> 0;
    while (m !== 0) {
      const low = m & -m;
      const srcBit = k < 32 ? (srcLo >>> k) & 1 : (srcHi >>> (k - 32)) & 1;
      if (srcBit) {
        if (half === 0) rLo |= low;
        else rHi |= low;
      }
      k++;
      m = (m & (m - 1)) >>> 0;
    }
  }
  setResult(s, size, rLo, rHi);
}

/** PEXT (BMI2): gathers the bits of src at the set bits of mask into the low bits; no flags. */
export function pext(
  s: CpuState,
  size: OperandSize,
  srcLo: number,
  srcHi: number,
  maskLo: number,
  maskHi: number,
): void {
  let rLo = 0;
  let rHi = 0;
  let k = 0; // next destination bit
  for (let half = 0; half < (size === 64 ? 2 : 1); half++) {
    let m = half === 0 ? maskLo >>> 0 : maskHi >>> 0;
    const src = half === 0 ? srcLo : srcHi;
    while (m !== 0) {
      const low = m & -m;
      if (src & low) {
        if (k < 32) rLo |= 1 << k;
        else rHi |= 1 << (k - 32);
      }
      k++;
      m = (m & (m - 1)) >>> 0;
    }
  }
  setResult(s, size, rLo, rHi);
}
