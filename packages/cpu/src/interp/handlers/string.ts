/**
 * String instructions MOVS/CMPS/SCAS/LODS/STOS/INS/OUTS with REP/REPE/REPNE (SDM vol. 2, REP
 * prefix): rSI/rDI/rCX at the address size, the direction flag, and per-iteration register
 * updates so that a fault in the middle resumes where it stopped. IN/OUT with the I/O permission
 * checks (SDM vol. 1, 19.5).
 */
import { cmp } from "../../alu/arith.js";
import type { OperandSize } from "../../state/operand-size.js";
import { Seg } from "../../state/registers.js";
import type { Cpu } from "../cpu.js";
import { debugIo, repChunk } from "../debug.js";
import { V } from "../fault.js";
import type { Insn } from "../insn.js";
import { interceptInstruction } from "../intercepts.js";
import { getReg, setReg } from "./operands.js";

/**
 * Iterations of a repeated string instruction per step at most (it then resumes at the same RIP,
 * after the run loop has looked at pending events).
 */
export const REP_CHUNK = 4096;

/** String operation kinds (`Insn.aux` low byte); bits 8-15 hold the REP prefix byte (0, 0xF2, 0xF3). */
export const StrOp = { MOVS: 0, CMPS: 1, SCAS: 2, LODS: 3, STOS: 4, INS: 5, OUTS: 6 } as const;

function getIdx(g: Uint32Array, r: number, asz: number): number {
  if (asz === 64) return (g[2 * r + 1]! | 0) * 4294967296 + g[2 * r]!;
  return asz === 32 ? g[2 * r]! : g[2 * r]! & 0xffff;
}

function setIdx(g: Uint32Array, r: number, asz: number, v: number): void {
  if (asz === 64) {
    g[2 * r] = v >>> 0;
    g[2 * r + 1] = Math.floor(v / 4294967296) >>> 0;
  } else if (asz === 32) {
    g[2 * r] = v >>> 0;
    g[2 * r + 1] = 0;
  } else {
    g[2 * r] = (g[2 * r]! & 0xffff0000) | (v & 0xffff);
  }
}

function wrap(v: number, asz: number): number {
  return asz === 64 ? v : asz === 32 ? v >>> 0 : v & 0xffff;
}

/** Checks port access at CPL > IOPL (or virtual-8086 mode) against the TSS I/O permission bitmap (#GP(0)). */
export function checkIo(c: Cpu, port: number, bytes: number): void {
  const s = c.s;
  if (!c.pe) return;
  const vm = (s.flags.bits & 0x20000) !== 0;
  if (!vm && c.cpl <= ((s.flags.bits >>> 12) & 3)) return;
  const ar = s.segAccess[Seg.TR]!;
  const type = ar & 0xf;
  const limit = s.segLimit[Seg.TR]!;
  if ((ar & 0x10000) !== 0 || (type !== 0x9 && type !== 0xb) || limit < 0x67) c.fault(V.GP, 0);
  // A 64-bit base is a canonical address: held signed, as linear addresses are.
  const base = (s.segBase[2 * Seg.TR + 1]! | 0) * 4294967296 + s.segBase[2 * Seg.TR]!;
  const mapBase = c.sysRd32(base + 0x64) >>> 16;
  const at = mapBase + (port >>> 3);
  if (at + 1 > limit) c.fault(V.GP, 0);
  const bitsWord = c.sysRd32(base + at) & 0xffff;
  const mask = ((1 << bytes) - 1) << (port & 7);
  if ((bitsWord & mask) !== 0) c.fault(V.GP, 0);
}

/** IN acc, imm8|DX (imm2 = 1: port in DX). */
export function inOp(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const port = i.imm2 === 1 ? g[4]! & 0xffff : i.immLo & 0xff;
  const bytes = i.size >>> 3;
  checkIo(c, port, bytes);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  if (c.debugActive) debugIo(c, port, bytes);
  const v = c.io.read(port, bytes as 1 | 2 | 4);
  setReg(g, 0, 0, i.size, v >>> 0, 0);
}

/** OUT imm8|DX, acc. */
export function outOp(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const port = i.imm2 === 1 ? g[4]! & 0xffff : i.immLo & 0xff;
  const bytes = i.size >>> 3;
  checkIo(c, port, bytes);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  if (c.debugActive) debugIo(c, port, bytes);
  c.io.write(port, bytes as 1 | 2 | 4, getReg(g, 0, 0, i.size));
}

/** One string instruction, with or without a repeat prefix. */
export function stringOp(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const op = i.aux & 0xff;
  const rep = i.aux >>> 8;
  const asz = i.asz;
  const size = i.size as OperandSize;
  const bytes = size >>> 3;
  const step = (s.flags.bits & 0x400) !== 0 ? -bytes : bytes;
  let count = rep !== 0 ? getIdx(g, 1, asz) : 1;
  if (count === 0) return;
  let si = getIdx(g, 6, asz);
  let di = getIdx(g, 7, asz);
  const srcSeg = i.seg;
  const repe = rep === 0xf3;
  const compares = op === 1 || op === 2;
  if ((op === 5 || op === 6) && count > 0) checkIo(c, g[4]! & 0xffff, bytes);
  if (c.intercepts !== null && (op === 5 || op === 6) && interceptInstruction(c, i)) return;
  if (c.debugActive && (op === 5 || op === 6)) debugIo(c, g[4]! & 0xffff, bytes);
  // A repeat runs at most REP_CHUNK iterations per step, and no more than the budget has left
  // (each iteration counts as one instruction; the record itself counts the first), then resumes
  // at the same RIP: the run loop can stop or take an interrupt between iterations (SDM REP).
  const left = c.runEnd - c.instructions - (i.seqEnd - 1);
  let chunk = Math.max(1, Math.min(left, c.debugActive ? repChunk(c, REP_CHUNK) : REP_CHUNK));
  let done = 0;
  let finished = false;
  try {
    for (;;) {
      switch (op) {
        case 0: {
          const v = c.rdSized(c.lin(srcSeg, si, bytes, false), bytes);
          c.wrSized(c.lin(Seg.ES, di, bytes, true), bytes, v, c.mhi);
          si = wrap(si + step, asz);
          di = wrap(di + step, asz);
          break;
        }
        case 1: {
          const a = c.rdSized(c.lin(srcSeg, si, bytes, false), bytes);
          const aHi = c.mhi;
          const b = c.rdSized(c.lin(Seg.ES, di, bytes, false), bytes);
          cmp(s, size, a, aHi, b, c.mhi);
          si = wrap(si + step, asz);
          di = wrap(di + step, asz);
          break;
        }
        case 2: {
          const b = c.rdSized(c.lin(Seg.ES, di, bytes, false), bytes);
          cmp(s, size, getReg(g, 0, 0, size), g[1]!, b, c.mhi);
          di = wrap(di + step, asz);
          break;
        }
        case 3: {
          const v = c.rdSized(c.lin(srcSeg, si, bytes, false), bytes);
          setReg(g, 0, 0, size, v, c.mhi);
          si = wrap(si + step, asz);
          break;
        }
        case 4:
          c.wrSized(c.lin(Seg.ES, di, bytes, true), bytes, getReg(g, 0, 0, size), g[1]!);
          di = wrap(di + step, asz);
          break;
        case 5: {
          const la = c.lin(Seg.ES, di, bytes, true);
          c.probeWrite(la, bytes);
          c.wrSized(la, bytes, c.io.read(g[4]! & 0xffff, bytes as 1 | 2 | 4), 0);
          di = wrap(di + step, asz);
          break;
        }
        default: {
          const v = c.rdSized(c.lin(srcSeg, si, bytes, false), bytes);
          c.io.write(g[4]! & 0xffff, bytes as 1 | 2 | 4, v);
          si = wrap(si + step, asz);
          break;
        }
      }
      done++;
      if (rep === 0) break;
      count = wrap(count - 1, asz);
      if (count === 0) break;
      if (compares) {
        const zf = s.flags.zf();
        if (repe ? zf === 0 : zf === 1) break;
      }
      // A device the I/O reached may have raised an interrupt: take it between iterations, as
      // hardware does, rather than after the whole repeat (only INS/OUTS can cause one).
      if (
        op >= 5 &&
        (s.nmiPending !== 0 || ((s.flags.bits & 0x200) !== 0 && c.interrupts?.hasInterrupt() === true))
      )
        c.breakBlock = true;
      if (c.breakBlock) break;
      if (--chunk === 0) {
        c.breakBlock = true;
        break;
      }
    }
    finished = true;
    // The block was cut to the budget counting this record as one: end it after extra iterations.
    if (done > 1) c.breakBlock = true;
  } finally {
    // Iterations beyond the first count extra; after a fault the record is not counted at all.
    if (done > 0) c.instructions += finished ? done - 1 : done;
    if (rep !== 0) setIdx(g, 1, asz, count);
    if (op !== 2 && op !== 4 && op !== 5) setIdx(g, 6, asz, si);
    if (op !== 3 && op !== 6) setIdx(g, 7, asz, di);
  }
  // An interrupted repeat (a device asked to stop, or code was overwritten) resumes here.
  if (rep !== 0 && count !== 0 && c.breakBlock && !(compares && s.flags.zf() === (repe ? 0 : 1))) {
    c.nextRip = i.rip;
    // The resumed iterations are the same instruction: RF keeps its breakpoint from firing again.
    if (c.debugActive) s.flags.bits |= 0x10000;
  }
}
