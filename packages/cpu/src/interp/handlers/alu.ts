/**
 * Integer ALU handlers over the `src/alu` semantics: the eight classic binary operations and TEST,
 * INC/DEC/NEG/NOT, shifts and rotates, SHLD/SHRD, MUL/IMUL/DIV/IDIV, bit tests and scans, and the
 * other register/memory forms. Each form (reg-reg, reg-mem, mem-reg, reg-imm, mem-imm) has its own
 * handler so the hot ones stay small.
 */
import { adc, add, and, cmp, dec, inc, neg, not, or, sbb, sub, test, xor } from "../../alu/arith.js";
import { bsf, bsr, lzcnt, popcnt, tzcnt } from "../../alu/bit-count.js";
import { type BitOp, bitTest } from "../../alu/bit-test.js";
import { byteSwap } from "../../alu/byte-swap.js";
import { shld, shrd } from "../../alu/double-shift.js";
import { div, idiv, imul, mul } from "../../alu/muldiv.js";
import { rcl, rcr, rol, ror } from "../../alu/rotate.js";
import { sar, shl, shr } from "../../alu/shift.js";
import type { CpuState } from "../../state/cpu-state.js";
import type { OperandSize } from "../../state/operand-size.js";
import type { Cpu } from "../cpu.js";
import { NO_ERROR, V } from "../fault.js";
import type { Insn } from "../insn.js";
import { getReg, memLin, NO_LA, readE, setReg, writeE } from "./operands.js";

/** ALU operation numbers (`Insn.aux`) in the order of the 0x00-0x3F opcode rows; TEST last. */
export const AluOp = { ADD: 0, OR: 1, ADC: 2, SBB: 3, AND: 4, SUB: 5, XOR: 6, CMP: 7, TEST: 8 } as const;

function aluOp(
  s: CpuState,
  op: number,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  switch (op) {
    case 0:
      add(s, size, aLo, aHi, bLo, bHi);
      break;
    case 1:
      or(s, size, aLo, aHi, bLo, bHi);
      break;
    case 2:
      adc(s, size, aLo, aHi, bLo, bHi);
      break;
    case 3:
      sbb(s, size, aLo, aHi, bLo, bHi);
      break;
    case 4:
      and(s, size, aLo, aHi, bLo, bHi);
      break;
    case 5:
      sub(s, size, aLo, aHi, bLo, bHi);
      break;
    case 6:
      xor(s, size, aLo, aHi, bLo, bHi);
      break;
    case 7:
      cmp(s, size, aLo, aHi, bLo, bHi);
      break;
    default:
      test(s, size, aLo, aHi, bLo, bHi);
      break;
  }
}

/** op reg, reg */
export function aluRR(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  aluOp(
    s,
    i.aux,
    size,
    getReg(g, i.d, i.dh, size),
    g[2 * i.d + 1]!,
    getReg(g, i.s, i.sh, size),
    g[2 * i.s + 1]!,
  );
  if (i.aux < 7) setReg(g, i.d, i.dh, size, s.out[0]!, s.out[1]!);
}

/** op reg, [mem] */
export function aluRM(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  const b = c.rdSized(memLin(c, i, false), size >>> 3);
  aluOp(s, i.aux, size, getReg(g, i.d, i.dh, size), g[2 * i.d + 1]!, b, c.mhi);
  if (i.aux < 7) setReg(g, i.d, i.dh, size, s.out[0]!, s.out[1]!);
}

/** op reg, imm */
export function aluRI(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  aluOp(s, i.aux, size, getReg(g, i.d, i.dh, size), g[2 * i.d + 1]!, i.immLo, i.immHi);
  if (i.aux < 7) setReg(g, i.d, i.dh, size, s.out[0]!, s.out[1]!);
}

/** op [mem], reg */
export function aluMR(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  const bytes = size >>> 3;
  const writes = i.aux < 7;
  const la = memLin(c, i, writes);
  if (writes) c.probeWrite(la, bytes);
  const a = c.rdSized(la, bytes);
  aluOp(s, i.aux, size, a, c.mhi, getReg(g, i.s, i.sh, size), g[2 * i.s + 1]!);
  if (writes) c.wrSized(la, bytes, s.out[0]!, s.out[1]!);
}

/** op [mem], imm */
export function aluMI(c: Cpu, i: Insn): void {
  const s = c.s;
  const size = i.size;
  const bytes = size >>> 3;
  const writes = i.aux < 7;
  const la = memLin(c, i, writes);
  if (writes) c.probeWrite(la, bytes);
  const a = c.rdSized(la, bytes);
  aluOp(s, i.aux, size, a, c.mhi, i.immLo, i.immHi);
  if (writes) c.wrSized(la, bytes, s.out[0]!, s.out[1]!);
}

/** Reads the E operand for a read-modify-write: returns the linear address (NO_LA for a register) and leaves the value in `c.out`-free scratch. */
function rmwLin(c: Cpu, i: Insn): number {
  if (!i.mem) return NO_LA;
  const la = memLin(c, i, true);
  c.probeWrite(la, i.size >>> 3);
  return la;
}

function readAt(c: Cpu, i: Insn, la: number): number {
  if (!Number.isNaN(la)) return c.rdSized(la, i.size >>> 3);
  return readE(c, i, false);
}

/** INC/DEC/NEG/NOT (aux 0-3) on the E operand. */
export function unary(c: Cpu, i: Insn): void {
  const s = c.s;
  const la = rmwLin(c, i);
  const a = readAt(c, i, la);
  const hi = c.mhi;
  switch (i.aux) {
    case 0:
      inc(s, i.size, a, hi);
      break;
    case 1:
      dec(s, i.size, a, hi);
      break;
    case 2:
      neg(s, i.size, a, hi);
      break;
    default:
      not(s, i.size, a, hi);
      break;
  }
  writeE(c, i, la, s.out[0]!, s.out[1]!);
}

/** DEC reg (the hot loop counter form). */
export function decReg(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  dec(s, i.size, getReg(g, i.d, i.dh, i.size), g[2 * i.d + 1]!);
  setReg(g, i.d, i.dh, i.size, s.out[0]!, s.out[1]!);
}

/** INC reg. */
export function incReg(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  inc(s, i.size, getReg(g, i.d, i.dh, i.size), g[2 * i.d + 1]!);
  setReg(g, i.d, i.dh, i.size, s.out[0]!, s.out[1]!);
}

function shiftOp(s: CpuState, op: number, size: OperandSize, aLo: number, aHi: number, count: number): void {
  switch (op) {
    case 0:
      rol(s, size, aLo, aHi, count);
      break;
    case 1:
      ror(s, size, aLo, aHi, count);
      break;
    case 2:
      rcl(s, size, aLo, aHi, count);
      break;
    case 3:
      rcr(s, size, aLo, aHi, count);
      break;
    case 4:
    case 6:
      shl(s, size, aLo, aHi, count);
      break;
    case 5:
      shr(s, size, aLo, aHi, count);
      break;
    default:
      sar(s, size, aLo, aHi, count);
      break;
  }
}

/** Shift/rotate (aux = /r field) of the E operand by an immediate (`imm2` = -1: by CL). */
export function shift(c: Cpu, i: Insn): void {
  const s = c.s;
  const count = i.imm2 < 0 ? s.gpr[2]! & 0xff : i.immLo;
  const la = rmwLin(c, i);
  const a = readAt(c, i, la);
  shiftOp(s, i.aux, i.size, a, c.mhi, count);
  writeE(c, i, la, s.out[0]!, s.out[1]!);
}

/** Shift/rotate of a register by an immediate. */
export function shiftRI(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  shiftOp(s, i.aux, i.size, getReg(g, i.d, i.dh, i.size), g[2 * i.d + 1]!, i.immLo);
  setReg(g, i.d, i.dh, i.size, s.out[0]!, s.out[1]!);
}

/** SHLD/SHRD E, reg, imm|CL (aux 0 = SHLD). */
export function doubleShift(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const count = i.imm2 < 0 ? g[2]! & 0xff : i.immLo;
  const la = rmwLin(c, i);
  const a = readAt(c, i, la);
  const aHi = c.mhi;
  const b = getReg(g, i.s, 0, i.size);
  if (i.aux === 0) shld(s, i.size, a, aHi, b, g[2 * i.s + 1]!, count);
  else shrd(s, i.size, a, aHi, b, g[2 * i.s + 1]!, count);
  writeE(c, i, la, s.out[0]!, s.out[1]!);
}

/** MUL/IMUL/DIV/IDIV with one operand (aux 4-7 = the /r field). */
export function mulDiv(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  const b = i.mem ? c.rdSized(memLin(c, i, false), size >>> 3) : readE(c, i, false);
  const bHi = c.mhi;
  const o = s.out;
  if (i.aux === 4 || i.aux === 5) {
    if (i.aux === 4) mul(s, size, g[0]!, g[1]!, b, bHi);
    else imul(s, size, g[0]!, g[1]!, b, bHi);
    if (size === 8) setReg(g, 0, 0, 16, (o[0]! & 0xff) | ((o[2]! & 0xff) << 8), 0);
    else {
      setReg(g, 0, 0, size, o[0]!, o[1]!);
      setReg(g, 2, 0, size, o[2]!, o[3]!);
    }
    return;
  }
  let r: number;
  if (size === 8) {
    const ax = g[0]! & 0xffff;
    r =
      i.aux === 6 ? div(s, 8, ax & 0xff, 0, ax >>> 8, 0, b, 0) : idiv(s, 8, ax & 0xff, 0, ax >>> 8, 0, b, 0);
    if (r >= 0) c.fault(V.DE, NO_ERROR);
    setReg(g, 0, 0, 16, (o[0]! & 0xff) | ((o[2]! & 0xff) << 8), 0);
    return;
  }
  const aLo = getReg(g, 0, 0, size);
  const dLo = getReg(g, 2, 0, size);
  r =
    i.aux === 6
      ? div(s, size, aLo, g[1]!, dLo, g[5]!, b, bHi)
      : idiv(s, size, aLo, g[1]!, dLo, g[5]!, b, bHi);
  if (r >= 0) c.fault(V.DE, NO_ERROR);
  setReg(g, 0, 0, size, o[0]!, o[1]!);
  setReg(g, 2, 0, size, o[2]!, o[3]!);
}

/** IMUL reg, E (aux 0) or IMUL reg, E, imm (aux 1). */
export function imulReg(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  let aLo: number;
  let aHi: number;
  let bLo: number;
  let bHi: number;
  const e = i.mem ? c.rdSized(memLin(c, i, false), size >>> 3) : getReg(g, i.s, 0, size);
  const eHi = i.mem ? c.mhi : g[2 * i.s + 1]!;
  if (i.aux === 1) {
    aLo = e;
    aHi = eHi;
    bLo = i.immLo;
    bHi = i.immHi;
  } else {
    aLo = getReg(g, i.d, 0, size);
    aHi = g[2 * i.d + 1]!;
    bLo = e;
    bHi = eHi;
  }
  imul(s, size, aLo, aHi, bLo, bHi);
  setReg(g, i.d, 0, size, s.out[0]!, s.out[1]!);
}

/** BT/BTS/BTR/BTC E, reg|imm (aux = BitOp; `imm2` = 1 for the immediate form). */
export function bitTestOp(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  const op = i.aux as BitOp;
  if (!i.mem) {
    const offset = i.imm2 === 1 ? i.immLo : g[2 * i.s]!;
    bitTest(s, size, op, getReg(g, i.d, 0, size), g[2 * i.d + 1]!, offset);
    if (op !== 0) setReg(g, i.d, 0, size, s.out[0]!, s.out[1]!);
    return;
  }
  // Memory form: a register offset selects any bit relative to the operand (signed), SDM BT.
  let off = c.ea(i);
  let bit: number;
  if (i.imm2 === 1) {
    bit = i.immLo & (size - 1);
  } else {
    const raw =
      size === 64 ? g[2 * i.s]! | 0 : size === 32 ? g[2 * i.s]! | 0 : ((g[2 * i.s]! & 0xffff) << 16) >> 16;
    const hiPart = size === 64 ? (g[2 * i.s + 1]! | 0) * 4294967296 : 0;
    const full = hiPart + (size === 64 ? g[2 * i.s]! : raw);
    const words = Math.floor(full / size);
    off += words * (size >>> 3);
    if (i.asz === 32) off >>>= 0;
    else if (i.asz === 16) off &= 0xffff;
    bit = full - words * size;
  }
  const bytes = size >>> 3;
  const la = c.lin(i.seg, off, bytes, op !== 0);
  if (op !== 0) c.probeWrite(la, bytes);
  const v = c.rdSized(la, bytes);
  bitTest(s, size, op, v, c.mhi, bit);
  if (op !== 0) c.wrSized(la, bytes, s.out[0]!, s.out[1]!);
}

/** BSF/BSR/POPCNT/LZCNT/TZCNT reg, E (aux 0-4). */
export function bitScan(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  const v = i.mem ? c.rdSized(memLin(c, i, false), size >>> 3) : getReg(g, i.s, 0, size);
  const vHi = i.mem ? c.mhi : g[2 * i.s + 1]!;
  const dLo = getReg(g, i.d, 0, size);
  const dHi = g[2 * i.d + 1]!;
  switch (i.aux) {
    case 0:
      bsf(s, size, v, vHi, dLo, dHi);
      break;
    case 1:
      bsr(s, size, v, vHi, dLo, dHi);
      break;
    case 2:
      popcnt(s, size, v, vHi);
      break;
    case 3:
      lzcnt(s, size, v, vHi);
      break;
    default:
      tzcnt(s, size, v, vHi);
      break;
  }
  if (i.aux <= 1 && (size === 64 ? (v | vHi) === 0 : (v & (size === 32 ? 0xffffffff : 0xffff)) === 0)) {
    // A zero source leaves the destination unchanged (not even zero-extended, as Intel and AMD do).
    return;
  }
  setReg(g, i.d, 0, size, s.out[0]!, s.out[1]!);
}

/** BSWAP reg. */
export function bswap(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  byteSwap(s, i.size, g[2 * i.d]!, g[2 * i.d + 1]!);
  setReg(g, i.d, 0, i.size, s.out[0]!, s.out[1]!);
}
