/**
 * Exception and interrupt delivery (SDM vol. 3, chapter 6): through the real-mode IVT, 32-bit IDT
 * gates (interrupt and trap, 16- and 32-bit) and 64-bit IDT gates with IST and the TSS stack
 * switch, with the double-fault rules of {@link combineExceptions}.
 */
import { AccessKind } from "@turtles/memory";
import { Combination, combineExceptions } from "../exceptions/events.js";
import { VECTORS } from "../exceptions/vectors.js";
import { Seg } from "../state/registers.js";
import { isCanonical } from "./canonical.js";
import type { Cpu } from "./cpu.js";
import { suspendAlignmentCheck, updateAlignmentCheck } from "./events.js";
import { FAULT, NO_ERROR, V } from "./fault.js";
import { interceptEvent, interceptTaskGate, interceptTripleFault } from "./intercepts.js";
import { commitCs, desc, loadStackSegment, readDescriptor, setRealSegment } from "./segments.js";
import { sysReadDwords } from "./sys-read.js";
import { TaskSource, taskSwitch } from "./task-switch.js";
import { deliverFromV86 } from "./v86.js";

/** Where an event comes from: decides privilege checks, error codes and the EXT bit. */
export const EventSource = {
  /** An exception raised by the processor. */
  Exception: 0,
  /** INT n (gate DPL checked against CPL). */
  Software: 1,
  /** An external interrupt (INTR). */
  External: 2,
  /** INT3 / INTO (gate DPL checked, like INT n). */
  SoftwareException: 3,
  /** INT1 (ICEBP): no DPL check. */
  Privileged: 4,
} as const;

/**
 * Delivers event `vector` (with `error`, or NO_ERROR) whose return address is `returnRip`,
 * handling faults met during delivery: a contributory fault or #PF on top of one is a #DF, and a
 * fault while delivering #DF is a triple fault. Returns false on a triple fault.
 */
export function deliverEvent(
  c: Cpu,
  vector: number,
  error: number,
  source: number,
  returnRip: number,
): boolean {
  let vec = vector;
  let err = error;
  let src = source;
  let ret = returnRip;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      if (c.intercepts !== null && interceptEvent(c, vec, err, src, ret, attempt)) return true;
      c.eventCounts[vec]!++;
      deliverOnce(c, vec, err, src, ret);
      updateAlignmentCheck(c);
      return true;
    } catch (e) {
      if (e !== FAULT) throw e;
      const second = c.excVector;
      ret = c.s.rip;
      const combination =
        src === EventSource.Exception && vec < 32 ? combineExceptions(vec, second) : Combination.Serial;
      if (combination === Combination.TripleFault && c.intercepts !== null) return interceptTripleFault(c);
      if (combination === Combination.TripleFault) return false;
      if (combination === Combination.DoubleFault) {
        vec = V.DF;
        err = 0;
      } else {
        vec = second;
        err = c.excError;
      }
      src = EventSource.Exception;
    }
  }
  return false;
}

function deliverOnce(c: Cpu, vector: number, error: number, source: number, returnRip: number): void {
  c.halted = false;
  suspendAlignmentCheck(c); // the frame pushes are implicit supervisor accesses: no #AC (SDM 6.15)
  if (!c.pe) {
    deliverReal(c, vector, returnRip);
    return;
  }
  if ((c.s.efer[0]! & 0x400) !== 0) deliverLong(c, vector, error, source, returnRip);
  else deliverProtected(c, vector, error, source, returnRip);
}

/** Whether the event pushes an error code (protected mode, hardware exceptions of the table). */
function hasErrorCode(vector: number, source: number, error: number): boolean {
  return source === EventSource.Exception && vector < 32 && VECTORS[vector]!.errorCode && error !== NO_ERROR;
}

/** The EXT bit of error codes that name a selector or gate of this event. */
function ext(source: number): number {
  return source === EventSource.External || source === EventSource.Exception ? 1 : 0;
}

/** SDM vol. 3, 21.1.4 "Interrupt and Exception Handling" in real-address mode. */
function deliverReal(c: Cpu, vector: number, returnRip: number): void {
  const s = c.s;
  const entry = vector * 4;
  if (entry + 3 > s.idtr.limit) c.fault(V.GP, 0);
  const la = (s.idtr.baseLo + entry) >>> 0;
  const offset = c.sysRd32(la);
  const flags = c.rflags();
  c.push(2, flags & 0xffff, 0);
  c.push(2, s.segSelector[Seg.CS]!, 0);
  c.push(2, returnRip & 0xffff, 0);
  setRealSegment(c, Seg.CS, offset >>> 16);
  s.flags.write(flags & ~(0x200 | 0x100 | 0x40000 | 0x10000));
  c.nextRip = offset & 0xffff;
  s.rip = c.nextRip;
  c.breakBlock = true;
}

/** Reads the IDT gate for `vector` (8 or 16 bytes) into gate[0..3], checking the IDT limit. */
const gate = new Uint32Array(4);
function readGate(c: Cpu, vector: number, size: number, source: number): void {
  const s = c.s;
  const errSel = vector * 8 + 2 + ext(source);
  if (vector * size + size - 1 > s.idtr.limit) c.fault(V.GP, errSel);
  // A 64-bit base is a canonical address, held signed like every linear address.
  let la = (s.idtr.baseHi | 0) * 4294967296 + s.idtr.baseLo + vector * size;
  if (size === 8) la >>>= 0;
  sysReadDwords(c, la, size >>> 2, gate, 0);
}

/** Reads the target code segment of a gate and checks it; returns its DPL (the new CPL). */
function checkGateTarget(c: Cpu, sel: number, source: number): number {
  const e = ext(source);
  if ((sel & 0xfffc) === 0) c.fault(V.GP, e);
  if (!readDescriptor(c, sel, false)) c.fault(V.GP, (sel & 0xfffc) + e);
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0xf;
  const dpl = (hi >>> 13) & 3;
  if (((hi >>> 12) & 1) === 0 || (type & 8) === 0 || dpl > c.cpl) c.fault(V.GP, (sel & 0xfffc) + e);
  if (((hi >>> 15) & 1) === 0) c.fault(V.NP, (sel & 0xfffc) + e);
  return type & 4 ? c.cpl : dpl;
}

function checkGateAccess(c: Cpu, vector: number, dpl: number, present: boolean, source: number): void {
  const errSel = vector * 8 + 2 + ext(source);
  if ((source === EventSource.Software || source === EventSource.SoftwareException) && dpl < c.cpl)
    c.fault(V.GP, errSel);
  if (!present) c.fault(V.NP, errSel);
}

/** 64-bit IDT gates (SDM vol. 3, 6.14). */
function deliverLong(c: Cpu, vector: number, error: number, source: number, returnRip: number): void {
  const s = c.s;
  readGate(c, vector, 16, source);
  const g0 = gate[0]!;
  const g1 = gate[1]!;
  const type = (g1 >>> 8) & 0xf;
  if (type !== 0xe && type !== 0xf) c.fault(V.GP, vector * 8 + 2 + ext(source));
  checkGateAccess(c, vector, (g1 >>> 13) & 3, (g1 & 0x8000) !== 0, source);
  const sel = g0 >>> 16;
  const target = (gate[2]! | 0) * 4294967296 + (((g1 & 0xffff0000) | (g0 & 0xffff)) >>> 0);
  const ist = g1 & 7;
  const newCpl = checkGateTarget(c, sel, source);
  if ((desc[1]! & 0x200000) === 0 || (desc[1]! & 0x400000) !== 0) c.fault(V.GP, (sel & 0xfffc) + ext(source));
  const csDesc0 = desc[0]!;
  const csDesc1 = desc[1]!;
  const oldCpl = c.cpl;
  let rsp: number;
  if (ist !== 0) rsp = tssRead64(c, 0x24 + 8 * (ist - 1), source);
  else if (newCpl < oldCpl) rsp = tssRead64(c, 4 + 8 * newCpl, source);
  else rsp = c.sp();
  if (!isCanonical(c, target)) c.fault(V.GP, ext(source));
  if (!isCanonical(c, rsp)) c.fault(V.SS, ext(source));
  rsp -= rsp & 15; // align down to 16 (the low bits of a signed integer, as two's complement)
  const flags = c.rflags();
  const g = s.gpr;
  const oldSs = s.segSelector[Seg.SS]!;
  const oldRspLo = g[8]!;
  const oldRspHi = g[9]!;
  const err = hasErrorCode(vector, source, error);
  const frame = err ? 48 : 40;
  const top = rsp - frame;
  // The frame: [error,] RIP, CS, RFLAGS, RSP, SS (SDM Figure 6-9), written as supervisor data.
  const ripHi = Math.floor(returnRip / 4294967296) >>> 0;
  if ((top & 0xfff) + frame <= 4096 && !c.dataWatch) {
    // The whole frame in one page and no data breakpoint to check per access: translate once.
    writeFrame64(
      c,
      c.xlateSystem(top, true, frame),
      err,
      error,
      returnRip,
      ripHi,
      flags,
      oldRspLo,
      oldRspHi,
      oldSs,
    );
  } else {
    let at = top;
    if (err) {
      sysWrite64(c, at, error >>> 0, 0);
      at += 8;
    }
    sysWrite64(c, at, returnRip >>> 0, ripHi);
    sysWrite64(c, at + 8, s.segSelector[Seg.CS]!, 0);
    sysWrite64(c, at + 16, flags, 0);
    sysWrite64(c, at + 24, oldRspLo, oldRspHi);
    sysWrite64(c, at + 32, oldSs, 0);
  }
  // Commit.
  desc[0] = csDesc0;
  desc[1] = csDesc1;
  commitCs(c, sel, newCpl);
  if (newCpl < oldCpl) {
    s.segSelector[Seg.SS] = newCpl;
    s.segBase[2 * Seg.SS] = 0;
    s.segBase[2 * Seg.SS + 1] = 0;
    s.segAccess[Seg.SS] = 0x10000 | (newCpl << 5);
    c.refreshSegment(Seg.SS);
  }
  c.stackBits = 64;
  g[8] = top >>> 0;
  g[9] = Math.floor(top / 4294967296) >>> 0;
  let clear = 0x100 | 0x4000 | 0x10000 | 0x20000;
  if (type === 0xe) clear |= 0x200;
  s.flags.write(flags & ~clear);
  c.nextRip = target;
  s.rip = target;
  c.breakBlock = true;
}

/** Writes a 64-bit interrupt frame (SDM Figure 6-9) at physical `pa`, inside one page. */
function writeFrame64(
  c: Cpu,
  pa: number,
  err: boolean,
  error: number,
  rip: number,
  ripHi: number,
  flags: number,
  rspLo: number,
  rspHi: number,
  ss: number,
): void {
  const m = c.memory;
  let at = pa;
  if (err) {
    m.write64(at, error >>> 0, 0, AccessKind.Write);
    at += 8;
  }
  m.write64(at, rip >>> 0, ripHi, AccessKind.Write);
  m.write64(at + 8, c.s.segSelector[Seg.CS]!, 0, AccessKind.Write);
  m.write64(at + 16, flags >>> 0, 0, AccessKind.Write);
  m.write64(at + 24, rspLo, rspHi, AccessKind.Write);
  m.write64(at + 32, ss, 0, AccessKind.Write);
}

/** 32-bit protected-mode IDT gates (SDM vol. 3, 6.12). */
function deliverProtected(c: Cpu, vector: number, error: number, source: number, returnRip: number): void {
  const s = c.s;
  readGate(c, vector, 8, source);
  const g0 = gate[0]!;
  const g1 = gate[1]!;
  const type = (g1 >>> 8) & 0x1f;
  if (type === 0x05) {
    checkGateAccess(c, vector, (g1 >>> 13) & 3, (g1 & 0x8000) !== 0, source);
    const err = hasErrorCode(vector, source, error) ? error : NO_ERROR;
    if (c.intercepts !== null && interceptTaskGate(c, g0 >>> 16)) return;
    taskSwitch(c, g0 >>> 16, TaskSource.Interrupt, returnRip, ext(source), err);
    return;
  }
  if (type !== 0x06 && type !== 0x07 && type !== 0x0e && type !== 0x0f)
    c.fault(V.GP, vector * 8 + 2 + ext(source));
  checkGateAccess(c, vector, (g1 >>> 13) & 3, (g1 & 0x8000) !== 0, source);
  const gate32 = (type & 8) !== 0;
  const sel = g0 >>> 16;
  const target = gate32 ? ((g1 & 0xffff0000) | (g0 & 0xffff)) >>> 0 : g0 & 0xffff;
  const newCpl = checkGateTarget(c, sel, source);
  if ((s.flags.bits & 0x20000) !== 0) {
    const code = hasErrorCode(vector, source, error) ? error : NO_ERROR;
    deliverFromV86(c, sel, gate32, (type & 1) === 0, target, code, returnRip, ext(source));
    return;
  }
  const csDesc0 = desc[0]!;
  const csDesc1 = desc[1]!;
  const oldCpl = c.cpl;
  const flags = c.rflags();
  const g = s.gpr;
  const oldSs = s.segSelector[Seg.SS]!;
  const oldEsp = g[8]!;
  const size = gate32 ? 4 : 2;
  const err = hasErrorCode(vector, source, error);
  if (newCpl < oldCpl) {
    // Inner privilege: SS:ESP from the TSS (32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n).
    const espN = tssRead32(c, 4 + 8 * newCpl, source);
    const ssN = tssRead32(c, 8 + 8 * newCpl, source) & 0xffff;
    const savedCpl = c.cpl;
    c.cpl = newCpl;
    try {
      loadStackSegment(c, ssN, newCpl, V.TS);
    } finally {
      c.cpl = savedCpl;
    }
    c.stackBits = (s.segAccess[Seg.SS]! & 0x4000) !== 0 ? 32 : 16;
    c.setSp(espN);
    pushSys(c, size, oldSs);
    pushSys(c, size, oldEsp);
  }
  pushSys(c, size, flags);
  pushSys(c, size, s.segSelector[Seg.CS]!);
  pushSys(c, size, returnRip);
  if (err) pushSys(c, size, error);
  desc[0] = csDesc0;
  desc[1] = csDesc1;
  commitCs(c, sel, newCpl);
  let clear = 0x100 | 0x4000 | 0x10000 | 0x20000;
  if ((type & 1) === 0) clear |= 0x200;
  s.flags.write(flags & ~clear);
  c.nextRip = target;
  s.rip = target;
  c.breakBlock = true;
}

/** Pushes 2 or 4 bytes on the current stack as a supervisor access. */
export function pushSys(c: Cpu, size: number, v: number): void {
  let sp = c.sp() - size;
  if (c.stackBits === 32) sp >>>= 0;
  else sp &= 0xffff;
  const la = c.lin(Seg.SS, sp, size, true);
  if (size === 4) {
    c.sysWr32(la, v);
  } else {
    c.sysWr8(la, v & 0xff);
    c.sysWr8(la + 1, (v >>> 8) & 0xff);
  }
  c.setSp(sp);
}

/** Writes 64 bits as a supervisor access. */
export function sysWrite64(c: Cpu, la: number, lo: number, hi: number): void {
  c.sysWr32(la, lo);
  c.sysWr32(la + 4, hi);
}

function tssBase(c: Cpu): number {
  const s = c.s;
  // A 64-bit base is a canonical address: held signed, as linear addresses are.
  return (s.segBase[2 * Seg.TR + 1]! | 0) * 4294967296 + s.segBase[2 * Seg.TR]!;
}

/** Reads 32 bits of the current TSS at `offset` (#TS when outside its limit). */
export function tssRead32(c: Cpu, offset: number, source: number): number {
  const s = c.s;
  if (s.segAccess[Seg.TR]! & 0x10000 || offset + 3 > s.segLimit[Seg.TR]!)
    c.fault(V.TS, (s.segSelector[Seg.TR]! & 0xfffc) + ext(source));
  return c.sysRd32(tssBase(c) + offset);
}

const tssPair = new Uint32Array(2);

/** Reads 64 bits of the current TSS at `offset` (#TS when outside its limit), as a signed address. */
export function tssRead64(c: Cpu, offset: number, source: number): number {
  const s = c.s;
  if (s.segAccess[Seg.TR]! & 0x10000 || offset + 7 > s.segLimit[Seg.TR]!)
    c.fault(V.TS, (s.segSelector[Seg.TR]! & 0xfffc) + ext(source));
  sysReadDwords(c, tssBase(c) + offset, 2, tssPair, 0);
  return (tssPair[1]! | 0) * 4294967296 + tssPair[0]!;
}
