/**
 * Control transfers: near JMP/CALL/RET/Jcc/LOOP, far JMP/CALL/RET, IRET, INT n/INT3/INTO/INT1,
 * HLT (SDM vol. 2 instruction pages; vol. 3, 5.8 for privilege checks on far transfers).
 */
import { condition } from "../../alu/conditions.js";
import { Seg } from "../../state/registers.js";
import { isCanonical } from "../canonical.js";
import type { Cpu } from "../cpu.js";
import { deliverEvent, EventSource } from "../delivery.js";
import { NO_ERROR, V } from "../fault.js";
import type { Insn } from "../insn.js";
import { interceptInstruction } from "../intercepts.js";
import {
  checkFarCodeTarget,
  checkReturnCs,
  commitCs,
  loadStackSegment,
  nullifyOuterSegments,
  setRealSegment,
} from "../segments.js";
import { peekQwords64 } from "../stack-frame.js";
import { StopReason } from "../stop-reason.js";
import { farTaskTransfer, iretTask } from "../task-switch.js";
import { iretToV86, v86Iret, v86SoftInt } from "../v86.js";
import { throughCallGate } from "./call-gate.js";
import { getReg, maskIp, memLin, toNum } from "./operands.js";

/** Checks a near branch target: canonical in 64-bit mode, within the CS limit otherwise (#GP(0)). */
export function checkTarget(c: Cpu, t: number): void {
  if (c.mode64) {
    if (!isCanonical(c, t)) c.fault(V.GP, 0);
  } else if (t > c.segLim[Seg.CS]!) {
    c.fault(V.GP, 0);
  }
}

/** JMP rel */
export function jmpRel(c: Cpu, i: Insn): void {
  c.nextRip = i.target;
}

/** Jcc rel (aux = condition) */
export function jcc(c: Cpu, i: Insn): void {
  if (condition(c.s.flags, i.aux)) {
    c.nextRip = i.target;
    c.breakBlock = true;
  }
}

/** JE/JZ rel: the zero flag straight from the lazy result when possible. */
export function jz(c: Cpu, i: Insn): void {
  const f = c.s.flags;
  if (f.op !== 0 ? f.rLo === 0 && f.rHi === 0 : (f.bits & 0x40) !== 0) {
    c.nextRip = i.target;
    c.breakBlock = true;
  }
}

/** JNE/JNZ rel. */
export function jnz(c: Cpu, i: Insn): void {
  const f = c.s.flags;
  if (!(f.op !== 0 ? f.rLo === 0 && f.rHi === 0 : (f.bits & 0x40) !== 0)) {
    c.nextRip = i.target;
    c.breakBlock = true;
  }
}

/** LOOP/LOOPE/LOOPNE (aux 0/1/2) and JrCXZ (aux 3); the count register's width is the address size. */
export function loop(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  if (i.aux === 3) {
    const zero = i.asz === 64 ? (g[2]! | g[3]!) === 0 : i.asz === 32 ? g[2] === 0 : (g[2]! & 0xffff) === 0;
    if (zero) c.nextRip = i.target;
    return;
  }
  let nz: boolean;
  if (i.asz === 64) {
    const lo = g[2]!;
    g[2] = lo - 1;
    if (lo === 0) g[3] = g[3]! - 1;
    nz = (g[2]! | g[3]!) !== 0;
  } else if (i.asz === 32) {
    g[2] = g[2]! - 1;
    if (c.mode64) g[3] = 0;
    nz = g[2] !== 0;
  } else {
    const cx = (g[2]! - 1) & 0xffff;
    g[2] = (g[2]! & 0xffff0000) | cx;
    nz = cx !== 0;
  }
  if (nz && i.aux !== 0) {
    const zf = condition(c.s.flags, 4);
    nz = i.aux === 1 ? zf : !zf;
  }
  if (nz) c.nextRip = i.target;
}

/** CALL rel */
export function callRel(c: Cpu, i: Insn): void {
  const n = i.next;
  c.push(i.size >>> 3, n >>> 0, Math.floor(n / 4294967296) >>> 0);
  c.nextRip = i.target;
}

function readTarget(c: Cpu, i: Insn): number {
  const g = c.s.gpr;
  if (i.mem) {
    const v = c.rdSized(memLin(c, i, false), i.size >>> 3);
    return i.size === 64 ? toNum(v, c.mhi) : v;
  }
  return i.size === 64 ? toNum(g[2 * i.d]!, g[2 * i.d + 1]!) : getReg(g, i.d, 0, i.size);
}

/** JMP E */
export function jmpInd(c: Cpu, i: Insn): void {
  const t = readTarget(c, i);
  checkTarget(c, t);
  c.nextRip = t;
}

/** CALL E */
export function callInd(c: Cpu, i: Insn): void {
  const t = readTarget(c, i);
  checkTarget(c, t);
  const n = i.next;
  c.push(i.size >>> 3, n >>> 0, Math.floor(n / 4294967296) >>> 0);
  c.nextRip = t;
}

/** RET [imm16] */
export function ret(c: Cpu, i: Insn): void {
  const bytes = i.size >>> 3;
  const v = c.peek(bytes, 0);
  const t = bytes === 8 ? toNum(v, c.mhi) : v;
  checkTarget(c, t);
  c.addSp(bytes + i.immLo);
  c.nextRip = t;
}

/** Far transfer to sel:offset (JMP when `call` is false): real mode, or a code segment in protected mode. */
function farTransfer(c: Cpu, i: Insn, sel: number, offset: number, call: boolean): void {
  const s = c.s;
  const bytes = i.size >>> 3;
  if (!c.pe || (s.flags.bits & 0x20000) !== 0) {
    if (call) {
      c.push(bytes, s.segSelector[Seg.CS]!, 0);
      c.push(bytes, i.next, 0);
    }
    setRealSegment(c, Seg.CS, sel);
    c.nextRip = maskIp(offset, i.size);
    c.updateMode();
    return;
  }
  if (!checkFarCodeTarget(c, sel)) {
    // A system descriptor: a call gate, or a task gate / TSS (a task switch, task-switch.ts).
    if (!throughCallGate(c, i, sel, call) && !farTaskTransfer(c, i, sel, call)) c.unimplementedAt(i);
    return;
  }
  const savedCs = s.segSelector[Seg.CS]!;
  if (call) {
    const ret = i.next;
    c.push(bytes, savedCs, 0);
    c.push(bytes, ret >>> 0, Math.floor(ret / 4294967296) >>> 0);
  }
  commitCs(c, sel, c.cpl);
  c.nextRip = c.bits === 64 ? offset : offset >>> 0;
}

/** JMP ptr16:16/32 (aux 0) and CALL ptr16:16/32 (aux 1). */
export function farDirect(c: Cpu, i: Insn): void {
  farTransfer(c, i, i.imm2, i.target, i.aux === 1);
}

/** JMP m16:v (aux 0) and CALL m16:v (aux 1). */
export function farIndirect(c: Cpu, i: Insn): void {
  const bytes = i.size >>> 3;
  const la = c.lin(i.seg, c.ea(i), bytes + 2, false);
  const lo = c.rdSized(la, bytes);
  const off = bytes === 8 ? toNum(lo, c.mhi) : lo;
  const sel = c.rd16(la + bytes);
  farTransfer(c, i, sel, off, i.aux === 1);
}

/** RETF [imm16] (SDM RET, far return). */
export function retFar(c: Cpu, i: Insn): void {
  const s = c.s;
  const bytes = i.size >>> 3;
  const lo = c.peek(bytes, 0);
  const off = bytes === 8 ? toNum(lo, c.mhi) : lo;
  const sel = c.peek(bytes, bytes) & 0xffff;
  if (!c.pe || (s.flags.bits & 0x20000) !== 0) {
    c.addSp(2 * bytes + i.immLo);
    setRealSegment(c, Seg.CS, sel);
    c.nextRip = off & (bytes === 2 ? 0xffff : 0xffffffff);
    c.updateMode();
    return;
  }
  checkReturnCs(c, sel);
  const rpl = sel & 3;
  if (rpl === c.cpl) {
    c.addSp(2 * bytes + i.immLo);
    commitCs(c, sel, rpl);
  } else {
    const newSpLo = c.peek(bytes, 2 * bytes + i.immLo);
    const newSpHi = c.mhi;
    const newSs = c.peek(bytes, 3 * bytes + i.immLo) & 0xffff;
    commitCs(c, sel, rpl);
    loadStackSegment(c, newSs, rpl, V.GP);
    c.updateMode();
    c.setSp((bytes === 8 ? toNum(newSpLo, newSpHi) : newSpLo) + i.immLo);
    nullifyOuterSegments(c);
  }
  c.nextRip = c.bits === 64 ? off : off >>> 0;
}

/** IRETQ's frame read at once (lo, hi pairs of RIP, CS, RFLAGS, RSP, SS). */
const IRET_FRAME = new Uint32Array(10);

/** IRET/IRETD/IRETQ (SDM IRET); virtual-8086 entry and returns in v86.ts, task returns (NT = 1) in task-switch.ts. */
export function iret(c: Cpu, i: Insn): void {
  const s = c.s;
  const bytes = i.size >>> 3;
  c.nmiBlocked = false; // every IRET unblocks NMIs, even one that then faults (SDM vol. 3, 6.7.1)
  if (!c.pe) {
    const ip = c.peek(bytes, 0);
    const cs = c.peek(bytes, bytes) & 0xffff;
    const fl = c.peek(bytes, 2 * bytes);
    c.addSp(3 * bytes);
    setRealSegment(c, Seg.CS, cs);
    c.setRflags(fl, bytes === 2 ? 0x7fd5 : 0x257fd5);
    c.nextRip = bytes === 2 ? ip & 0xffff : ip;
    c.updateMode();
    return;
  }
  const lma = (s.efer[0]! & 0x400) !== 0;
  if ((s.flags.bits & 0x20000) !== 0) {
    v86Iret(c, i);
    return;
  }
  if ((s.flags.bits & 0x4000) !== 0) {
    iretTask(c, i); // NT = 1: task return (#GP(0) in IA-32e mode)
    return;
  }
  const f = IRET_FRAME;
  const fast = bytes === 8 && peekQwords64(c, 5, f); // IRETQ in 64-bit mode: the frame at once
  const ipLo = fast ? f[0]! : c.peek(bytes, 0);
  const ipHi = fast ? f[1]! : c.mhi;
  const sel = (fast ? f[2]! : c.peek(bytes, bytes)) & 0xffff;
  const fl = fast ? f[4]! : c.peek(bytes, 2 * bytes);
  if ((fl & 0x20000) !== 0 && c.cpl === 0 && !lma) {
    iretToV86(c, ipLo, sel, fl);
    return;
  }
  checkReturnCs(c, sel);
  const rpl = sel & 3;
  const oldCpl = c.cpl;
  const iopl = (s.flags.bits >>> 12) & 3;
  let mask = 0x1c0dd5 | 0x100 | 0x400 | 0x4000 | 0x10000; // arith, TF, DF, NT, RF, AC, VIF/VIP, ID
  mask |= 0x40000 | 0x200000;
  if (oldCpl <= iopl) mask |= 0x200;
  if (oldCpl === 0) mask |= 0x3000 | 0x180000;
  const popStack = c.mode64 || rpl > oldCpl;
  let newSp = 0;
  let newSs = 0;
  if (popStack) {
    const spLo = fast ? f[6]! : c.peek(bytes, 3 * bytes);
    const spHi = fast ? f[7]! : c.mhi;
    newSp = bytes === 8 ? toNum(spLo, spHi) : spLo;
    newSs = (fast ? f[8]! : c.peek(bytes, 4 * bytes)) & 0xffff;
  }
  const target = bytes === 8 ? toNum(ipLo, ipHi) : ipLo;
  if (!popStack) c.addSp(3 * bytes);
  commitCs(c, sel, rpl);
  if (popStack) {
    loadStackSegment(c, newSs, rpl, V.GP);
    c.updateMode();
    if (c.stackBits === 64 || bytes === 8) {
      s.gpr[8] = newSp >>> 0;
      s.gpr[9] = Math.floor(newSp / 4294967296) >>> 0;
    } else {
      c.setSp(newSp);
    }
    if (rpl > oldCpl) nullifyOuterSegments(c);
  }
  c.setRflags(fl, bytes === 2 ? mask & 0xffff : mask);
  c.nmiBlocked = false;
  if (c.mode64) checkTarget(c, target);
  c.nextRip = c.bits === 64 ? target : target >>> 0;
}

/** Delivers a software interrupt from instruction `i`; a triple fault stops the run. */
function softInt(c: Cpu, i: Insn, vector: number, source: number): void {
  c.s.rip = i.rip;
  if (!deliverEvent(c, vector, NO_ERROR, source, i.next)) {
    c.shutdown = true;
    c.pendingStop = StopReason.Shutdown;
    c.breakBlock = true;
  }
}

/** INT imm8 */
export function intN(c: Cpu, i: Insn): void {
  if ((c.s.flags.bits & 0x20000) !== 0 && v86SoftInt(c, i)) return;
  softInt(c, i, i.immLo & 0xff, EventSource.Software);
}

/** INT3 */
export function int3(c: Cpu, i: Insn): void {
  softInt(c, i, V.BP, EventSource.SoftwareException);
}

/** INTO */
export function into(c: Cpu, i: Insn): void {
  if (condition(c.s.flags, 0)) softInt(c, i, V.OF, EventSource.SoftwareException);
}

/** INT1 (ICEBP) */
export function int1(c: Cpu, i: Insn): void {
  softInt(c, i, V.DB, EventSource.Privileged);
}

/** HLT: privileged; the processor waits for an interrupt. */
export function hlt(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) c.fault(V.GP, 0);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  c.halted = true;
  c.breakBlock = true;
}
