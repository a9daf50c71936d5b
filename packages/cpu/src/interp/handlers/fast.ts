/**
 * Size-specialised handlers for the hottest integer forms (32- and 64-bit ADD, SUB, AND, OR, XOR,
 * CMP, TEST between registers or with an immediate): the arithmetic inline, the flags recorded
 * lazily, no size switch. Semantics are those of `src/alu` (checked by the same tests).
 */
import { FlagOp } from "../../state/lazy-flags.js";
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { AluOp } from "./alu.js";

/**
 * 64-bit ALU of register `d` with the operand in `c.q[0..1]` (passed through the scratch array so
 * no 32-bit value crosses a call boundary as a boxed number); writes `d` unless CMP/TEST.
 */
function alu64(c: Cpu, op: number, d: number): void {
  const g = c.s.gpr;
  const f = c.s.flags;
  const q = c.q;
  const aLo = g[2 * d]!;
  const aHi = g[2 * d + 1]!;
  const bLo = q[0]!;
  const bHi = q[1]!;
  let rLo: number;
  let rHi: number;
  let kind: number;
  switch (op) {
    case AluOp.ADD: {
      const lo = aLo + bLo;
      rLo = lo >>> 0;
      rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      kind = FlagOp.Add;
      break;
    }
    case AluOp.SUB:
    case AluOp.CMP: {
      const lo = aLo - bLo;
      rLo = lo >>> 0;
      rHi = (aHi - bHi - (lo < 0 ? 1 : 0)) >>> 0;
      kind = FlagOp.Sub;
      break;
    }
    case AluOp.AND:
    case AluOp.TEST:
      rLo = (aLo & bLo) >>> 0;
      rHi = (aHi & bHi) >>> 0;
      kind = FlagOp.Logic;
      break;
    case AluOp.OR:
      rLo = (aLo | bLo) >>> 0;
      rHi = (aHi | bHi) >>> 0;
      kind = FlagOp.Logic;
      break;
    default:
      rLo = (aLo ^ bLo) >>> 0;
      rHi = (aHi ^ bHi) >>> 0;
      kind = FlagOp.Logic;
      break;
  }
  f.op = kind as FlagOp;
  f.size = 64;
  f.aLo = aLo;
  f.aHi = aHi;
  f.bLo = bLo;
  f.bHi = bHi;
  f.rLo = rLo;
  f.rHi = rHi;
  if (op === AluOp.CMP || op === AluOp.TEST) return;
  g[2 * d] = rLo;
  g[2 * d + 1] = rHi;
}

/** 32-bit ALU of register `d` with the operand in `c.q[0]`; writes `d` (zero-extending) unless CMP/TEST. */
function alu32(c: Cpu, op: number, d: number): void {
  const g = c.s.gpr;
  const f = c.s.flags;
  const a = g[2 * d]!;
  const b = c.q[0]!;
  let r: number;
  let kind: number;
  switch (op) {
    case AluOp.ADD:
      r = (a + b) >>> 0;
      kind = FlagOp.Add;
      break;
    case AluOp.SUB:
    case AluOp.CMP:
      r = (a - b) >>> 0;
      kind = FlagOp.Sub;
      break;
    case AluOp.AND:
    case AluOp.TEST:
      r = (a & b) >>> 0;
      kind = FlagOp.Logic;
      break;
    case AluOp.OR:
      r = (a | b) >>> 0;
      kind = FlagOp.Logic;
      break;
    default:
      r = (a ^ b) >>> 0;
      kind = FlagOp.Logic;
      break;
  }
  f.op = kind as FlagOp;
  f.size = 32;
  f.aLo = a;
  f.aHi = 0;
  f.bLo = b;
  f.bHi = 0;
  f.rLo = r;
  f.rHi = 0;
  if (op === AluOp.CMP || op === AluOp.TEST) return;
  g[2 * d] = r;
  g[2 * d + 1] = 0;
}

/** op r64, r64 */
export function alu64RR(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const q = c.q;
  q[0] = g[2 * i.s]!;
  q[1] = g[2 * i.s + 1]!;
  alu64(c, i.aux, i.d);
}

/** op r64, imm (sign-extended) */
export function alu64RI(c: Cpu, i: Insn): void {
  const q = c.q;
  q[0] = i.immLo;
  q[1] = i.immHi;
  alu64(c, i.aux, i.d);
}

/** op r64, [mem] */
export function alu64RM(c: Cpu, i: Insn): void {
  c.ld64(c.lin(i.seg, c.ea(i), 8, false));
  alu64(c, i.aux, i.d);
}

/** op r32, r32 */
export function alu32RR(c: Cpu, i: Insn): void {
  c.q[0] = c.s.gpr[2 * i.s]!;
  alu32(c, i.aux, i.d);
}

/** op r32, imm */
export function alu32RI(c: Cpu, i: Insn): void {
  c.q[0] = i.immLo;
  alu32(c, i.aux, i.d);
}

/** op r32, [mem] */
export function alu32RM(c: Cpu, i: Insn): void {
  c.ld32(c.lin(i.seg, c.ea(i), 4, false));
  alu32(c, i.aux, i.d);
}

/** MOV r32, r32 */
export function mov32RR(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  g[2 * i.d] = g[2 * i.s]!;
  g[2 * i.d + 1] = 0;
}

/** MOV r64, r64 */
export function mov64RR(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  g[2 * i.d] = g[2 * i.s]!;
  g[2 * i.d + 1] = g[2 * i.s + 1]!;
}

/** MOV r32, [mem] */
export function mov32RM(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  c.ld32(c.lin(i.seg, c.ea(i), 4, false));
  g[2 * i.d] = c.q[0]!;
  g[2 * i.d + 1] = 0;
}

/** MOV [mem], r32 */
export function mov32MR(c: Cpu, i: Insn): void {
  c.wr32(c.lin(i.seg, c.ea(i), 4, true), c.s.gpr[2 * i.s]!);
}

/** DEC r32 (CF kept). */
export function dec32(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const f = c.s.flags;
  const cf = f.cf();
  const a = g[2 * i.d]!;
  const r = (a - 1) >>> 0;
  f.set(FlagOp.Dec, 32, a, 0, 1, 0, r, 0);
  f.cin = cf;
  g[2 * i.d] = r;
  g[2 * i.d + 1] = 0;
}

/** INC r32 (CF kept). */
export function inc32(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const f = c.s.flags;
  const cf = f.cf();
  const a = g[2 * i.d]!;
  const r = (a + 1) >>> 0;
  f.set(FlagOp.Inc, 32, a, 0, 1, 0, r, 0);
  f.cin = cf;
  g[2 * i.d] = r;
  g[2 * i.d + 1] = 0;
}

/** LEA r64, [base + index*scale + disp] (64-bit address size). */
export function lea64(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const b = i.base;
  const x = i.index;
  let lo = i.dispLo;
  let hi = i.dispHi;
  if (b >= 0) {
    lo += g[2 * b]!;
    hi += g[2 * b + 1]!;
  }
  if (x >= 0) {
    lo += g[2 * x]! * i.scale;
    hi += g[2 * x + 1]! * i.scale;
  }
  const carry = (lo * 2.3283064365386963e-10) | 0;
  g[2 * i.d] = lo >>> 0;
  g[2 * i.d + 1] = (hi + carry) >>> 0;
}

/** ROL/ROR r64, imm (aux 0 = ROL, 1 = ROR): only CF and OF change (SDM ROL/ROR). */
export function rot64RI(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const n = i.immLo & 63;
  if (n === 0) return;
  const d = 2 * i.d;
  let lo = g[d]!;
  let hi = g[d + 1]!;
  const left = i.aux === 0 ? n : 64 - n;
  if (left >= 32) {
    const t = lo;
    lo = hi;
    hi = t;
  }
  const k = left & 31;
  if (k !== 0) {
    const nlo = ((lo << k) | (hi >>> (32 - k))) >>> 0;
    hi = ((hi << k) | (lo >>> (32 - k))) >>> 0;
    lo = nlo;
  }
  g[d] = lo;
  g[d + 1] = hi;
  const f = c.s.flags;
  f.materialize();
  let cf: number;
  let of: number;
  if (i.aux === 0) {
    cf = lo & 1;
    of = (hi >>> 31) ^ cf;
  } else {
    cf = hi >>> 31;
    of = cf ^ ((hi >>> 30) & 1);
  }
  f.bits = ((f.bits & ~0x801) | cf | (of << 11)) >>> 0;
}

/** ROL/ROR r32, imm (aux 0 = ROL, 1 = ROR). */
export function rot32RI(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const n = i.immLo & 31;
  const d = 2 * i.d;
  const v = g[d]!;
  if (n === 0) {
    g[d + 1] = 0;
    return;
  }
  const left = i.aux === 0 ? n : 32 - n;
  const r = ((v << left) | (v >>> (32 - left))) >>> 0;
  g[d] = r;
  g[d + 1] = 0;
  const f = c.s.flags;
  f.materialize();
  let cf: number;
  let of: number;
  if (i.aux === 0) {
    cf = r & 1;
    of = (r >>> 31) ^ cf;
  } else {
    cf = r >>> 31;
    of = cf ^ ((r >>> 30) & 1);
  }
  f.bits = ((f.bits & ~0x801) | cf | (of << 11)) >>> 0;
}
