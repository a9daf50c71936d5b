/**
 * Macro-op fusion: a flag-setting instruction followed by JZ/JNZ runs as one record (two guest
 * instructions, counted as two). Only forms that cannot fault are fused: DEC r32, TEST r8/r32 with
 * an immediate or register, CMP r32 with an immediate.
 */
import { FlagOp } from "../../state/lazy-flags.js";
import type { Cpu } from "../cpu.js";
import { type Handler, Insn } from "../insn.js";
import { AluOp } from "./alu.js";
import { jnz, jz } from "./branch.js";
import { alu32RI, alu32RR, dec32 } from "./fast.js";

function take(c: Cpu, i: Insn, zero: boolean): void {
  if (zero === (i.aux === 1)) {
    c.nextRip = i.target;
    c.breakBlock = true;
  }
}

/** DEC r32; Jcc (aux 1 = JZ, 0 = JNZ). */
export function decJcc32(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const f = c.s.flags;
  const cf = f.cf();
  const a = g[2 * i.d]!;
  const r = (a - 1) >>> 0;
  f.set(FlagOp.Dec, 32, a, 0, 1, 0, r, 0);
  f.cin = cf;
  g[2 * i.d] = r;
  g[2 * i.d + 1] = 0;
  take(c, i, r === 0);
}

/** TEST r8, imm8; Jcc. */
export function testJcc8(c: Cpu, i: Insn): void {
  const r = (c.s.gpr[2 * i.d]! >>> i.dh) & i.immLo & 0xff;
  c.s.flags.set(FlagOp.Logic, 8, 0, 0, 0, 0, r, 0);
  take(c, i, r === 0);
}

/** TEST r32, imm32; Jcc. */
export function testJcc32I(c: Cpu, i: Insn): void {
  const r = (c.s.gpr[2 * i.d]! & i.immLo) >>> 0;
  c.s.flags.set(FlagOp.Logic, 32, 0, 0, 0, 0, r, 0);
  take(c, i, r === 0);
}

/** TEST r32, r32; Jcc. */
export function testJcc32R(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const r = (g[2 * i.d]! & g[2 * i.s]!) >>> 0;
  c.s.flags.set(FlagOp.Logic, 32, 0, 0, 0, 0, r, 0);
  take(c, i, r === 0);
}

/** CMP r32, imm32; Jcc. */
export function cmpJcc32I(c: Cpu, i: Insn): void {
  const a = c.s.gpr[2 * i.d]!;
  const b = i.immLo;
  const r = (a - b) >>> 0;
  c.s.flags.set(FlagOp.Sub, 32, a, 0, b, 0, r, 0);
  take(c, i, r === 0);
}

/**
 * The fused record for `first` followed by `branch` (a JZ or JNZ), or null when they do not fuse.
 * The record keeps `first`'s operands and address and `branch`'s target and end.
 */
export function fuse(first: Insn, branch: Insn): Insn | null {
  if (branch.fn !== jz && branch.fn !== jnz) return null;
  let fn: Handler | null = null;
  if (first.fn === dec32) fn = decJcc32;
  else if (first.fn === alu32RI && first.aux === AluOp.TEST) fn = testJcc32I;
  else if (first.fn === alu32RR && first.aux === AluOp.TEST) fn = testJcc32R;
  else if (first.fn === alu32RI && first.aux === AluOp.CMP) fn = cmpJcc32I;
  else if (first.size === 8 && first.aux === AluOp.TEST && first.s < 0 && !first.mem && first.d >= 0)
    fn = testJcc8;
  if (fn === null) return null;
  const f = new Insn(fn);
  f.opcode = first.opcode;
  f.rip = first.rip;
  f.len = first.len + branch.len;
  f.next = branch.next;
  f.size = first.size;
  f.asz = first.asz;
  f.d = first.d;
  f.dh = first.dh;
  f.s = first.s;
  f.sh = first.sh;
  f.immLo = first.immLo;
  f.immHi = first.immHi;
  f.target = branch.target;
  f.aux = branch.fn === jz ? 1 : 0;
  f.count = 2;
  return f;
}
