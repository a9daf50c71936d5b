/**
 * Bit operations: BT/BTS/BTR/BTC, BSF/BSR, POPCNT/LZCNT/TZCNT, the BMI1 and BMI2 bit-field
 * instructions, BSWAP and MOVBE's byte swap, ADCX/ADOX (SDM vol. 2). Results go to `s.out[0..1]`.
 */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { msb } from "./flag-bits.js";

function set(s: CpuState, size: OperandSize, lo: number, hi: number): void {
  if (size === 64) {
    s.out[0] = lo;
    s.out[1] = hi;
  } else {
    s.out[0] = lo & sizeMask(size);
    s.out[1] = 0;
  }
}

function zeroOf(lo: number, hi: number): number {
  return (lo | hi) === 0 ? Rflags.ZF : 0;
}

/** Kinds of BT-family operation. */
export const BitOp = {
  /** BT: test only. */
  Test: 0,
  /** BTS: set. */
  Set: 1,
  /** BTR: reset. */
  Reset: 2,
  /** BTC: complement. */
  Complement: 3,
} as const;

/** One of the {@link BitOp} kinds. */
export type BitOp = (typeof BitOp)[keyof typeof BitOp];

/**
 * BT/BTS/BTR/BTC on a register operand: the bit offset is taken modulo the operand size (memory
 * forms add the offset's high bits to the address before calling this). CF = the selected bit;
 * the other status flags are left unchanged (OF, SF, AF, PF undefined; ZF unaffected).
 */
export function bitTest(
  s: CpuState,
  size: OperandSize,
  op: BitOp,
  aLo: number,
  aHi: number,
  offset: number,
): void {
  const n = offset & (size - 1);
  const inHi = n >= 32;
  const bit = 1 << (n & 31);
  const word = inHi ? aHi : aLo;
  const cf = (word & bit) !== 0 ? 1 : 0;
  let w = word;
  if (op === BitOp.Set) w = word | bit;
  else if (op === BitOp.Reset) w = word & ~bit;
  else if (op === BitOp.Complement) w = word ^ bit;
  if (inHi) set(s, size, aLo, w);
  else set(s, size, w, aHi);
  s.flags.merge(Rflags.CF, cf);
}

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
    set(s, size, destLo, destHi);
    s.flags.merge(Rflags.ZF, Rflags.ZF);
    return;
  }
  set(s, size, lo !== 0 ? 31 - Math.clz32(lo & -lo) : 63 - Math.clz32(hi & -hi), 0);
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
    set(s, size, destLo, destHi);
    s.flags.merge(Rflags.ZF, Rflags.ZF);
    return;
  }
  set(s, size, hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo), 0);
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
  set(s, size, popcount32(lo) + popcount32(hi), 0);
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
  set(s, size, n, 0);
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
  set(s, size, n, 0);
  countFlags(s, size, n);
}

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
  set(s, size, ~aLo & bLo, ~aHi & bHi);
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
  set(s, size, lo, hi);
  s.flags.merge(Rflags.CF | Rflags.ZF | Rflags.OF, zeroOf(s.out[0]!, s.out[1]!));
}

/** BLSI (BMI1): src & -src. SF, ZF from the result; CF = (src != 0); OF = 0. */
export function blsi(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  const nLo = -srcLo >>> 0;
  const nHi = ~srcHi + (srcLo === 0 ? 1 : 0);
  set(s, size, srcLo & nLo, srcHi & nHi);
  const zero = size === 64 ? (srcLo | srcHi) === 0 : (srcLo & sizeMask(size)) === 0;
  bmiFlags(s, size, zero ? 0 : Rflags.CF);
}

/** BLSMSK (BMI1): src ^ (src - 1). SF from the result; CF = (src == 0); ZF = OF = 0. */
export function blsmsk(s: CpuState, size: OperandSize, srcLo: number, srcHi: number): void {
  const mLo = (srcLo - 1) >>> 0;
  const mHi = srcHi - (srcLo >>> 0 === 0 ? 1 : 0);
  set(s, size, srcLo ^ mLo, srcHi ^ mHi);
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
  set(s, size, srcLo & mLo, srcHi & mHi);
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
  set(s, size, lo, hi);
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
  set(s, size, rLo, rHi);
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
  set(s, size, rLo, rHi);
}

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

function addCarry(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cin: number,
): number {
  if (size === 64) {
    const lo = (aLo >>> 0) + (bLo >>> 0) + cin;
    const c = lo > 0xffffffff ? 1 : 0;
    const hi = (aHi >>> 0) + (bHi >>> 0) + c;
    s.out[0] = lo;
    s.out[1] = hi;
    return hi > 0xffffffff ? 1 : 0;
  }
  const r = (aLo >>> 0) + (bLo >>> 0) + cin;
  s.out[0] = r;
  s.out[1] = 0;
  return r > 0xffffffff ? 1 : 0;
}

/** ADCX (ADX): a + b + CF, writing only CF. Sizes 32 and 64. */
export function adcx(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const c = addCarry(s, size, aLo, aHi, bLo, bHi, s.flags.cf());
  s.flags.merge(Rflags.CF, c);
}

/** ADOX (ADX): a + b + OF, writing only OF. Sizes 32 and 64. */
export function adox(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const c = addCarry(s, size, aLo, aHi, bLo, bHi, s.flags.of());
  s.flags.merge(Rflags.OF, c << 11);
}
