/**
 * Hardware task switching (SDM vol. 3, chapter 7 "Task Management"): far JMP/CALL to a TSS
 * descriptor or a task gate, events delivered through a task gate of the IDT, and IRET with
 * EFLAGS.NT = 1, with 32-bit and 16-bit TSSs (SDM 7.2.1, 7.6), the busy flag, NT and the previous
 * task link (7.4), and the checks of SDM 7.3 (Table 7-1) and Table 6-6 (#TS conditions).
 *
 * The switch runs in two halves around the commit point (SDM 7.3, steps 1-11 and 12-13). Faults
 * before it leave the old task untouched and are delivered in its context; faults after it
 * (loading LDTR, CR3 and the segment registers of the new task, pushing an error code) are
 * delivered in the new task's context, with the new task's EIP as the return address.
 */
import { Seg } from "../state/registers.js";
import type { Cpu } from "./cpu.js";
import { deliverEvent, EventSource, pushSys } from "./delivery.js";
import { FAULT, NO_ERROR, V } from "./fault.js";
import type { Insn } from "./insn.js";
import { interceptTaskSwitch } from "./intercepts.js";
import {
  arOf,
  baseOf,
  desc,
  limitOf,
  markAccessed,
  readDescriptor,
  setSegmentFromDesc,
  setV86Segment,
} from "./segments.js";
import { StopReason } from "./stop-reason.js";

/** What starts a task switch: decides nesting, busy-flag handling and the fault vectors. */
export const TaskSource = {
  /** Far JMP to a TSS descriptor or task gate: not nested; the old task becomes not busy. */
  Jmp: 0,
  /** Far CALL to a TSS descriptor or task gate: nested (link written, NT set). */
  Call: 1,
  /** IRET with NT = 1: returns to the previous task; the old task becomes not busy. */
  Iret: 2,
  /** An interrupt or exception through a task gate of the IDT: nested, like CALL. */
  Interrupt: 3,
} as const;

/** One of the {@link TaskSource} values. */
export type TaskSource = (typeof TaskSource)[keyof typeof TaskSource];

/**
 * Where the fields of a TSS are (SDM Figure 7-2 for the 32-bit TSS, Figure 7-11 for the 16-bit
 * one). `saveEnd` is the last byte the processor writes when it saves a task; `minLimit` the
 * smallest limit a new TSS may have (Table 6-6); -1 marks a field the format does not have.
 */
interface TssLayout {
  readonly width: 2 | 4;
  readonly eip: number;
  readonly eflags: number;
  /** EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI at `gpr + k * width`. */
  readonly gpr: number;
  /** ES, CS, SS, DS[, FS, GS] at `seg + k * width` (`segs` of them). */
  readonly seg: number;
  readonly segs: number;
  readonly ldt: number;
  readonly cr3: number;
  /** Byte whose bit 0 is the T (debug trap) flag. */
  readonly trap: number;
  readonly saveEnd: number;
  readonly minLimit: number;
}

const TSS32: TssLayout = {
  width: 4,
  eip: 0x20,
  eflags: 0x24,
  gpr: 0x28,
  seg: 0x48,
  segs: 6,
  ldt: 0x60,
  cr3: 0x1c,
  trap: 0x64,
  saveEnd: 0x5f,
  minLimit: 0x67,
};

const TSS16: TssLayout = {
  width: 2,
  eip: 0x0e,
  eflags: 0x10,
  gpr: 0x12,
  seg: 0x22,
  segs: 4,
  ldt: 0x2a,
  cr3: -1,
  trap: -1,
  saveEnd: 0x29,
  minLimit: 0x2b,
};

const NT = 0x4000;
const VM = 0x20000;
const AC = 0x40000;
const BUSY = 0x200;
/** EFLAGS bits that exist (SDM vol. 1, 3.4.3); the others load as their fixed values. */
const EFLAGS_DEFINED = 0x3f7fd5;
/** The order segment registers are stored in a TSS (ES, CS, SS, DS, FS, GS = encoding order). */
const TSS_SEGS = [Seg.ES, Seg.CS, Seg.SS, Seg.DS, Seg.FS, Seg.GS] as const;

/** The new task's state, read from its TSS before the commit point (no allocation per switch). */
const incoming = {
  eip: 0,
  eflags: 0,
  gpr: new Uint32Array(8),
  seg: new Uint16Array(6),
  ldt: 0,
  cr3: 0,
  trap: false,
};

/** Whether a descriptor type (with S = 0, 5 bits) is a TSS: 1/3 16-bit, 9/B 32-bit (3/B busy). */
function isTss(type: number): boolean {
  return type === 0x01 || type === 0x03 || type === 0x09 || type === 0x0b;
}

function wr16(c: Cpu, la: number, v: number): void {
  c.sysWr8(la >>> 0, v & 0xff);
  c.sysWr8((la + 1) >>> 0, (v >>> 8) & 0xff);
}

function wrField(c: Cpu, la: number, width: number, v: number): void {
  if (width === 4) c.sysWr32(la >>> 0, v);
  else wr16(c, la, v);
}

function rdField(c: Cpu, la: number, width: number): number {
  return width === 4 ? c.sysRd32(la >>> 0) : c.sysRd16(la >>> 0);
}

/** Linear address of the GDT entry of `sel` (TR selectors are always in the GDT). */
function gdtEntry(c: Cpu, sel: number): number {
  return (c.s.gdtr.baseLo + (sel & 0xfff8)) >>> 0;
}

/** Sets or clears the busy flag of the TSS descriptor of `sel` (byte 5 of the GDT entry). */
function setBusy(c: Cpu, sel: number, busy: boolean): void {
  const la = gdtEntry(c, sel) + 5;
  const b = c.sysRd16(la) & 0xff;
  c.sysWr8(la, busy ? b | 0x02 : b & ~0x02);
}

/** Delivers a fault raised in the new task (after the commit point) from an instruction handler. */
function raiseInNewTask(c: Cpu, vector: number, error: number, eip: number): void {
  if (!deliverEvent(c, vector, error, EventSource.Exception, eip)) {
    c.shutdown = true;
    c.pendingStop = StopReason.Shutdown;
    c.breakBlock = true;
  }
}

/**
 * Switches to the task whose TSS descriptor `sel` selects (SDM vol. 3, 7.3). `returnEip` is the
 * EIP saved in the old task; `ext` the EXT bit of error codes (1 for hardware events); `error`
 * an error code pushed on the new task's stack (events through a task gate) or NO_ERROR. The
 * caller has done the privilege checks of its source (JMP/CALL: TSS or gate DPL; INT n: gate
 * DPL) and, for task gates, the gate's present check.
 */
export function taskSwitch(
  c: Cpu,
  sel: number,
  source: TaskSource,
  returnEip: number,
  ext: number,
  error: number,
): void {
  const s = c.s;
  const iret = source === TaskSource.Iret;
  const nested = source === TaskSource.Call || source === TaskSource.Interrupt;
  // Steps 1-4: the new TSS descriptor: in the GDT, a TSS, available (busy for IRET), present,
  // large enough. IRET reports the first group with #TS (Table 6-6), JMP/CALL/INT with #GP.
  const selErr = (sel & 0xfffc) | ext;
  const badVector = iret ? V.TS : V.GP;
  if ((sel & 4) !== 0 || !readDescriptor(c, sel, false)) c.fault(badVector, selErr);
  const lo = desc[0]!;
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0x1f;
  if (!isTss(type) || ((type & 2) !== 0) !== iret) c.fault(badVector, selErr);
  if ((hi & 0x8000) === 0) c.fault(V.NP, selErr);
  const layout = (type & 8) !== 0 ? TSS32 : TSS16;
  const newBase = baseOf(lo, hi);
  const newLimit = limitOf(lo, hi);
  if (newLimit < layout.minLimit) c.fault(V.TS, selErr);
  const newAr = arOf(hi | BUSY);

  // The old TSS must hold the state saved into it (Table 6-6: stores to the old TSS).
  const oldSel = s.segSelector[Seg.TR]!;
  const oldBase = s.segBase[2 * Seg.TR]!;
  const oldLayout = (s.segAccess[Seg.TR]! & 8) !== 0 ? TSS32 : TSS16;
  if (s.segLimit[Seg.TR]! < oldLayout.saveEnd) c.fault(V.TS, (oldSel & 0xfffc) | ext);

  // Step 5: everything touched below is paged in (a #PF here is restartable in the old task).
  c.xlateSystem(oldBase, true);
  c.xlateSystem((oldBase + oldLayout.saveEnd) >>> 0, true);
  c.xlateSystem(newBase, nested);
  c.xlateSystem((newBase + layout.minLimit) >>> 0, false);
  c.xlateSystem(gdtEntry(c, sel) + 5, true);
  c.xlateSystem(gdtEntry(c, oldSel) + 5, true);

  // Read the new task's state before anything changes (its TSS is read under the old CR3).
  const w = layout.width;
  incoming.eip = rdField(c, newBase + layout.eip, w);
  incoming.eflags = rdField(c, newBase + layout.eflags, w);
  for (let k = 0; k < 8; k++) incoming.gpr[k] = rdField(c, newBase + layout.gpr + k * w, w);
  incoming.seg.fill(0);
  for (let k = 0; k < layout.segs; k++) incoming.seg[k] = c.sysRd16((newBase + layout.seg + k * w) >>> 0);
  incoming.ldt = c.sysRd16((newBase + layout.ldt) >>> 0);
  incoming.cr3 = layout.cr3 >= 0 ? c.sysRd32((newBase + layout.cr3) >>> 0) : 0;
  incoming.trap = layout.trap >= 0 && (c.sysRd16((newBase + layout.trap) >>> 0) & 1) !== 0;

  // ---- Commit point passed: from here on the old task is being left. ----
  // Step 6: JMP and IRET leave the old task not busy.
  if (!nested) setBusy(c, oldSel, false);
  // Steps 7-8: save the dynamic state of the old task (IRET saves EFLAGS with NT cleared).
  let oldFlags = c.rflags();
  if (iret) oldFlags &= ~NT;
  const ow = oldLayout.width;
  wrField(c, oldBase + oldLayout.eip, ow, returnEip >>> 0);
  wrField(c, oldBase + oldLayout.eflags, ow, oldFlags);
  for (let k = 0; k < 8; k++) wrField(c, oldBase + oldLayout.gpr + k * ow, ow, s.gpr[2 * k]!);
  for (let k = 0; k < oldLayout.segs; k++)
    wr16(c, oldBase + oldLayout.seg + k * ow, s.segSelector[TSS_SEGS[k]!]!);
  // Step 9 and 7.4: a nested task records its caller and runs with NT = 1.
  let flags = incoming.eflags & EFLAGS_DEFINED;
  // A 16-bit TSS holds FLAGS only: the upper half of EFLAGS is loaded as 0.
  if (layout === TSS16) flags &= 0xffff;
  flags = (flags | 2) >>> 0;
  if (nested) {
    wr16(c, newBase, oldSel);
    flags |= NT;
  }
  // Step 10: the new task is busy (IRET returns to a task that already is).
  if (!iret) setBusy(c, sel, true);
  // Step 11: TR, and CR0.TS (SDM 2.5).
  s.segSelector[Seg.TR] = sel;
  s.segBase[2 * Seg.TR] = newBase;
  s.segBase[2 * Seg.TR + 1] = 0;
  s.segLimit[Seg.TR] = newLimit;
  s.segAccess[Seg.TR] = newAr;
  c.refreshSegment(Seg.TR);
  s.cr[0] = s.cr[0]! | 8;
  // Step 12: the registers of the new task. Segment registers get their selectors with the
  // hidden parts unusable until step 13 qualifies them.
  const newEip = incoming.eip;
  const oldAc = c.rflags() & AC;
  s.flags.write(flags);
  if ((flags & AC) !== oldAc) c.flushTlb(true);
  for (let k = 0; k < 8; k++) {
    const v = incoming.gpr[k]!;
    s.gpr[2 * k] = w === 4 ? v : (s.gpr[2 * k]! & 0xffff0000) | v;
    s.gpr[2 * k + 1] = 0;
  }
  for (let k = 0; k < 6; k++) {
    const seg = TSS_SEGS[k]!;
    s.segSelector[seg] = incoming.seg[k]!;
    s.segAccess[seg] = 0x10000;
  }
  s.segSelector[Seg.LDTR] = incoming.ldt;
  s.segAccess[Seg.LDTR] = 0x10000;
  c.setCpl((flags & VM) !== 0 ? 3 : incoming.seg[1]! & 3);
  c.nextRip = newEip;
  s.rip = newEip;
  c.breakBlock = true;
  try {
    if (layout.cr3 >= 0 && c.paging) loadCr3(c, incoming.cr3);
    // Step 13: descriptors, checked in the new task's context.
    loadLdt(c, incoming.ldt, ext);
    if ((flags & VM) !== 0) {
      // Virtual-8086 task (SDM 20.2.5): segments are real-style, CPL 3.
      for (const seg of TSS_SEGS) setV86Segment(c, seg, c.s.segSelector[seg]!);
    } else {
      loadTaskSegments(c, ext);
    }
    c.syncFromState();
    c.breakBlock = true;
    if (error !== NO_ERROR) pushSys(c, w, error);
    if (newEip > c.segLim[Seg.CS]!) c.fault(V.GP, ext);
  } catch (e) {
    if (e !== FAULT) throw e;
    c.syncFromState();
    c.nextRip = newEip;
    s.rip = newEip;
    // During event delivery the caller's loop delivers it (with the double-fault rules).
    if (source === TaskSource.Interrupt) throw e;
    raiseInNewTask(c, c.excVector, c.excError, newEip);
    return;
  }
  if (iret) c.nmiBlocked = false;
  if (incoming.trap) {
    // T flag (SDM 17.3.1.5): a debug trap in the new task before its first instruction, with
    // DR6.BT set.
    s.dr[12] = s.dr[12]! | 0x8000;
    raiseInNewTask(c, V.DB, NO_ERROR, c.nextRip);
  }
}

/** CR3 of a 32-bit TSS (loaded only with paging on); bad PAE PDPTEs are #GP(0) in the new task. */
function loadCr3(c: Cpu, cr3: number): void {
  const s = c.s;
  s.cr[6] = cr3;
  s.cr[7] = 0;
  c.cr3Changed();
  if ((s.cr[8]! & 0x20) !== 0 && !c.loadPdptes()) c.fault(V.GP, 0);
}

/** LDTR from the new TSS: null, or an LDT descriptor of the GDT; every failure is #TS (Table 7-1). */
function loadLdt(c: Cpu, sel: number, ext: number): void {
  if ((sel & 0xfffc) === 0) return; // stays unusable
  const err = (sel & 0xfffc) | ext;
  if ((sel & 4) !== 0 || !readDescriptor(c, sel, false)) c.fault(V.TS, err);
  const hi = desc[1]!;
  if (((hi >>> 8) & 0x1f) !== 0x02 || (hi & 0x8000) === 0) c.fault(V.TS, err);
  setSegmentFromDesc(c, Seg.LDTR, sel);
}

/** CS, SS, then DS/ES/FS/GS of a protected-mode task, with the checks of Table 7-1. */
function loadTaskSegments(c: Cpu, ext: number): void {
  const s = c.s;
  const cs = s.segSelector[Seg.CS]!;
  const cpl = cs & 3;
  // CS: a code segment; non-conforming DPL = RPL, conforming DPL <= RPL; #NP when not present.
  let err = (cs & 0xfffc) | ext;
  if ((cs & 0xfffc) === 0 || !readDescriptor(c, cs, false)) c.fault(V.TS, err);
  let hi = desc[1]!;
  let dpl = (hi >>> 13) & 3;
  if ((hi & 0x1000) === 0 || (hi & 0x800) === 0) c.fault(V.TS, err);
  if ((hi & 0x400) !== 0 ? dpl > cpl : dpl !== cpl) c.fault(V.TS, err);
  if ((hi & 0x8000) === 0) c.fault(V.NP, err);
  markAccessed(c);
  setSegmentFromDesc(c, Seg.CS, cs);
  c.updateMode();
  // SS: RPL = DPL = CPL, a writable data segment; #SS when not present.
  const ss = s.segSelector[Seg.SS]!;
  err = (ss & 0xfffc) | ext;
  if ((ss & 0xfffc) === 0 || !readDescriptor(c, ss, false)) c.fault(V.TS, err);
  hi = desc[1]!;
  dpl = (hi >>> 13) & 3;
  if ((ss & 3) !== cpl || dpl !== cpl || (hi & 0x1a00) !== 0x1200) c.fault(V.TS, err);
  if ((hi & 0x8000) === 0) c.fault(V.SS, err);
  markAccessed(c);
  setSegmentFromDesc(c, Seg.SS, ss);
  c.updateMode();
  // Data segments: null is allowed; otherwise data or readable code, visible at CPL and RPL.
  for (const seg of [Seg.DS, Seg.ES, Seg.FS, Seg.GS]) {
    const sel = s.segSelector[seg]!;
    if ((sel & 0xfffc) === 0) continue; // stays unusable
    err = (sel & 0xfffc) | ext;
    if (!readDescriptor(c, sel, false)) c.fault(V.TS, err);
    hi = desc[1]!;
    dpl = (hi >>> 13) & 3;
    if ((hi & 0x1000) === 0 || (hi & 0xa00) === 0x800) c.fault(V.TS, err);
    const conformingCode = (hi & 0xc00) === 0xc00;
    if (!conformingCode && (dpl < cpl || dpl < (sel & 3))) c.fault(V.TS, err);
    if ((hi & 0x8000) === 0) c.fault(V.NP, err);
    markAccessed(c);
    setSegmentFromDesc(c, seg, sel);
  }
}

/**
 * Far JMP/CALL whose selector names a system descriptor other than a call gate (already in
 * `desc`): a TSS descriptor or a task gate switches tasks (SDM vol. 2, JMP/CALL "TASK-GATE" and
 * "TASK-STATE-SEGMENT"); any other type is #GP(selector), as are both in IA-32e mode. Returns
 * false for call gates (left to the caller).
 */
export function farTaskTransfer(c: Cpu, i: Insn, sel: number, call: boolean): boolean {
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0x1f;
  const lma = (c.s.efer[0]! & 0x400) !== 0;
  if (type === 0x0c || (type === 0x04 && !lma)) return false;
  const err = sel & 0xfffc;
  if (lma || (type !== 0x05 && !isTss(type))) c.fault(V.GP, err);
  const dpl = (hi >>> 13) & 3;
  if (dpl < c.cpl || dpl < (sel & 3)) c.fault(V.GP, err);
  let tss = sel;
  if (type === 0x05) {
    if ((hi & 0x8000) === 0) c.fault(V.NP, err);
    tss = desc[0]! >>> 16;
  }
  if (c.intercepts !== null) interceptTaskSwitch(c, i, tss, call ? 0 : 2);
  taskSwitch(c, tss, call ? TaskSource.Call : TaskSource.Jmp, i.next, 0, NO_ERROR);
  return true;
}

/** IRET with EFLAGS.NT = 1: back to the task in the previous task link (#GP(0) in IA-32e mode). */
export function iretTask(c: Cpu, i: Insn): void {
  const s = c.s;
  if ((s.efer[0]! & 0x400) !== 0) c.fault(V.GP, 0);
  const link = c.sysRd16(s.segBase[2 * Seg.TR]!);
  if (c.intercepts !== null) interceptTaskSwitch(c, i, link, 1);
  taskSwitch(c, link, TaskSource.Iret, i.next, 0, NO_ERROR);
}
