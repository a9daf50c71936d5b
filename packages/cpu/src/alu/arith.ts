/**
 * ADD/ADC/SUB/SBB/CMP, the logic operations, INC/DEC/NEG/NOT, XADD and CMPXCHG
 * (SDM vol. 2, the instruction pages). Results go to `s.out[0..1]` (lo, hi); flags are recorded
 * lazily. For operand sizes below 64 the high halves are ignored and the results' are 0.
 */
import type { CpuState } from "../state/cpu-state.js";
import { FlagOp } from "../state/lazy-flags.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";

function addWith(
  s: CpuState,
  op: FlagOp,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cin: number,
): void {
  const out = s.out;
  if (size === 64) {
    const a = aLo >>> 0;
    const lo = a + (bLo >>> 0) + cin;
    const carry = lo > 0xffffffff ? 1 : 0;
    out[0] = lo;
    out[1] = (aHi >>> 0) + (bHi >>> 0) + carry;
    s.flags.set(op, 64, aLo, aHi, bLo, bHi, out[0]!, out[1]!);
  } else {
    const m = sizeMask(size);
    const a = (aLo & m) >>> 0;
    const b = (bLo & m) >>> 0;
    out[0] = (a + b + cin) & m;
    out[1] = 0;
    s.flags.set(op, size, a, 0, b, 0, out[0]!, 0);
  }
}

function subWith(
  s: CpuState,
  op: FlagOp,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cin: number,
): void {
  const out = s.out;
  if (size === 64) {
    const lo = (aLo >>> 0) - (bLo >>> 0) - cin;
    const borrow = lo < 0 ? 1 : 0;
    out[0] = lo;
    out[1] = (aHi >>> 0) - (bHi >>> 0) - borrow;
    s.flags.set(op, 64, aLo, aHi, bLo, bHi, out[0]!, out[1]!);
  } else {
    const m = sizeMask(size);
    const a = (aLo & m) >>> 0;
    const b = (bLo & m) >>> 0;
    out[0] = (a - b - cin) & m;
    out[1] = 0;
    s.flags.set(op, size, a, 0, b, 0, out[0]!, 0);
  }
}

/** ADD: a + b. */
export function add(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  addWith(s, FlagOp.Add, size, aLo, aHi, bLo, bHi, 0);
}

/** ADC: a + b + CF. */
export function adc(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const cf = s.flags.cf();
  addWith(s, cf ? FlagOp.Adc : FlagOp.Add, size, aLo, aHi, bLo, bHi, cf);
}

/** SUB: a - b. */
export function sub(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  subWith(s, FlagOp.Sub, size, aLo, aHi, bLo, bHi, 0);
}

/** SBB: a - (b + CF). */
export function sbb(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const cf = s.flags.cf();
  subWith(s, cf ? FlagOp.Sbb : FlagOp.Sub, size, aLo, aHi, bLo, bHi, cf);
}

/** CMP: the flags of a - b (the difference is left in `out` too; CMP writes no register). */
export function cmp(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  subWith(s, FlagOp.Sub, size, aLo, aHi, bLo, bHi, 0);
}

function logic(s: CpuState, size: OperandSize, rLo: number, rHi: number): void {
  const out = s.out;
  if (size === 64) {
    out[0] = rLo;
    out[1] = rHi;
  } else {
    out[0] = rLo & sizeMask(size);
    out[1] = 0;
  }
  s.flags.set(FlagOp.Logic, size, 0, 0, 0, 0, out[0]!, out[1]!);
}

/** AND: a & b; CF = OF = 0. */
export function and(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  logic(s, size, aLo & bLo, aHi & bHi);
}

/** OR: a | b; CF = OF = 0. */
export function or(s: CpuState, size: OperandSize, aLo: number, aHi: number, bLo: number, bHi: number): void {
  logic(s, size, aLo | bLo, aHi | bHi);
}

/** XOR: a ^ b; CF = OF = 0. */
export function xor(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  logic(s, size, aLo ^ bLo, aHi ^ bHi);
}

/** TEST: the flags of a & b (TEST writes no register). */
export function test(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  logic(s, size, aLo & bLo, aHi & bHi);
}

/** INC: a + 1; CF is kept. */
export function inc(s: CpuState, size: OperandSize, aLo: number, aHi: number): void {
  const cf = s.flags.cf();
  addWith(s, FlagOp.Inc, size, aLo, aHi, 1, 0, 0);
  s.flags.cin = cf;
}

/** DEC: a - 1; CF is kept. */
export function dec(s: CpuState, size: OperandSize, aLo: number, aHi: number): void {
  const cf = s.flags.cf();
  subWith(s, FlagOp.Dec, size, aLo, aHi, 1, 0, 0);
  s.flags.cin = cf;
}

/** NEG: 0 - a; CF = (a != 0). */
export function neg(s: CpuState, size: OperandSize, aLo: number, aHi: number): void {
  subWith(s, FlagOp.Sub, size, 0, 0, aLo, aHi, 0);
}

/** NOT: ~a; no flags. */
export function not(s: CpuState, size: OperandSize, aLo: number, aHi: number): void {
  if (size === 64) {
    s.out[0] = ~aLo;
    s.out[1] = ~aHi;
  } else {
    s.out[0] = ~aLo & sizeMask(size);
    s.out[1] = 0;
  }
}

/**
 * XADD dest, src: dest = dest + src with ADD's flags, src = old dest.
 * `out[0..1]` = new destination, `out[2..3]` = new source (the old destination).
 */
export function xadd(
  s: CpuState,
  size: OperandSize,
  dLo: number,
  dHi: number,
  srcLo: number,
  srcHi: number,
): void {
  addWith(s, FlagOp.Add, size, dLo, dHi, srcLo, srcHi, 0);
  const m = size === 64 ? 0xffffffff : sizeMask(size);
  s.out[2] = dLo & m;
  s.out[3] = size === 64 ? dHi : 0;
}

/**
 * CMPXCHG dest, src with accumulator acc: flags of CMP acc, dest; if equal (ZF = 1) dest = src,
 * else acc = dest (SDM vol. 2A, CMPXCHG). `out[0..1]` = destination to write back (the processor
 * writes it in both cases), `out[2..3]` = accumulator. Returns ZF (1 when the exchange happened).
 */
export function cmpxchg(
  s: CpuState,
  size: OperandSize,
  accLo: number,
  accHi: number,
  dLo: number,
  dHi: number,
  srcLo: number,
  srcHi: number,
): number {
  subWith(s, FlagOp.Sub, size, accLo, accHi, dLo, dHi, 0);
  const f = s.flags;
  const m = size === 64 ? 0xffffffff : sizeMask(size);
  const hiKeep = size === 64 ? 1 : 0;
  if (f.rLo === 0 && f.rHi === 0) {
    s.out[0] = srcLo & m;
    s.out[1] = srcHi * hiKeep;
    s.out[2] = accLo & m;
    s.out[3] = accHi * hiKeep;
    return 1;
  }
  s.out[0] = dLo & m;
  s.out[1] = dHi * hiKeep;
  s.out[2] = dLo & m;
  s.out[3] = dHi * hiKeep;
  return 0;
}
