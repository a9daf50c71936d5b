/**
 * Virtual-8086 mode (SDM vol. 3, chapter 20 "8086 Emulation"): entering it by IRET, the
 * IOPL-sensitive instructions inside it with and without the virtual-mode extensions (CR4.VME:
 * VIF/VIP, software-interrupt redirection through the TSS bitmap to the 8086 program's IVT),
 * protected-mode virtual interrupts (CR4.PVI), and leaving it through an interrupt or trap gate
 * to a ring-0 handler. The handlers call in here only when EFLAGS.VM = 1 or CPL > IOPL, so the
 * common case pays nothing.
 */
import { Seg } from "../state/registers.js";
import type { Cpu } from "./cpu.js";
import { NO_ERROR, V } from "./fault.js";
import type { Insn } from "./insn.js";
import {
  baseOf,
  commitCs,
  desc,
  descAddr,
  limitOf,
  readDescriptor,
  setNullSegment,
  setSegmentFromDesc,
  setV86Segment,
} from "./segments.js";

const TF = 0x100;
const IF = 0x200;
const IOPL = 0x3000;
const NT = 0x4000;
const RF = 0x10000;
const VM = 0x20000;
const VIF = 0x80000;
const VIP = 0x100000;
/** Every EFLAGS bit an IRET at CPL 0 loads (SDM vol. 1, 3.4.3): ID, VIP, VIF, AC, VM, RF, NT, IOPL, status and control flags. */
const EFLAGS_ALL = 0x3f7fd5;
/** CR4.VME and CR4.PVI. */
const CR4_VME = 0x1;
const CR4_PVI = 0x2;

function iopl(c: Cpu): number {
  return (c.s.flags.bits >>> 12) & 3;
}

function vme(c: Cpu): boolean {
  return (c.s.cr[8]! & CR4_VME) !== 0;
}

// ---------------------------------------------------------------------------------------------
// Entering: IRET at CPL 0 with VM = 1 in the popped EFLAGS (SDM IRET, RETURN-TO-VIRTUAL-8086-MODE)

/**
 * IRETD at CPL 0 in legacy protected mode whose EFLAGS image has VM = 1: EIP, CS and EFLAGS are
 * already read (`ip`, `cs`, `flags`); pops ESP, SS, ES, DS, FS, GS (32 bits each, the high word
 * ignored) and resumes the 8086 program at CPL 3.
 */
export function iretToV86(c: Cpu, ip: number, cs: number, flags: number): void {
  const s = c.s;
  // The whole 36-byte frame must be inside SS before anything changes (#SS(0) from peek).
  const esp = c.peek(4, 12);
  const ss = c.peek(4, 16) & 0xffff;
  const es = c.peek(4, 20) & 0xffff;
  const ds = c.peek(4, 24) & 0xffff;
  const fs = c.peek(4, 28) & 0xffff;
  const gs = c.peek(4, 32) & 0xffff;
  // The instruction pointer must be inside the new code segment (limit 0xFFFF).
  if (ip >>> 0 > 0xffff) c.fault(V.GP, 0);
  setV86Segment(c, Seg.CS, cs);
  setV86Segment(c, Seg.SS, ss);
  setV86Segment(c, Seg.ES, es);
  setV86Segment(c, Seg.DS, ds);
  setV86Segment(c, Seg.FS, fs);
  setV86Segment(c, Seg.GS, gs);
  s.gpr[8] = esp >>> 0;
  s.gpr[9] = 0;
  // Setting VM re-derives the mode, CPL 3 and every segment cache (Cpu.setRflags -> syncFromState).
  c.setRflags(flags, EFLAGS_ALL);
  c.nmiBlocked = false;
  c.nextRip = ip & 0xffff;
  c.breakBlock = true;
}

// ---------------------------------------------------------------------------------------------
// IOPL-sensitive instructions (SDM vol. 3, 20.2.7; CLI, STI, PUSHF, POPF, INT n, IRET in vol. 2)

/**
 * CLI (aux 0) / STI (aux 1) when CPL > IOPL in protected or virtual-8086 mode: with CR4.VME in
 * virtual-8086 mode, or CR4.PVI at CPL 3 in protected mode, they act on VIF (STI with VIP set is
 * #GP(0)); otherwise #GP(0) (SDM CLI/STI, Tables 3-7 and 4-19).
 */
export function virtualCliSti(c: Cpu, i: Insn): void {
  const s = c.s;
  const f = s.flags;
  const virtual = (f.bits & VM) !== 0 ? vme(c) : c.cpl === 3 && (s.cr[8]! & CR4_PVI) !== 0;
  if (!virtual) c.fault(V.GP, 0);
  if (i.aux === 0) {
    f.bits &= ~VIF;
  } else {
    if ((f.bits & VIP) !== 0) c.fault(V.GP, 0);
    f.bits |= VIF;
  }
}

/**
 * PUSHF in virtual-8086 mode with IOPL < 3: with CR4.VME and a 16-bit operand, pushes FLAGS with
 * IF replaced by VIF and IOPL reading 3; otherwise #GP(0) (SDM PUSHF "Operation").
 */
export function v86Pushf(c: Cpu, i: Insn): void {
  if (i.size !== 16 || !vme(c)) c.fault(V.GP, 0);
  const fl = c.rflags();
  let image = (fl & 0xffff & ~IF) | IOPL;
  if ((fl & VIF) !== 0) image |= IF;
  c.push(2, image, 0);
}

/**
 * POPF in virtual-8086 mode with IOPL < 3: with CR4.VME and a 16-bit operand, the popped IF goes
 * to VIF (IF and IOPL unchanged); #GP(0) when it would set VIF with VIP pending or sets TF, and
 * #GP(0) without VME or for POPFD (SDM POPF "Operation").
 */
export function v86Popf(c: Cpu, i: Insn): void {
  if (i.size !== 16 || !vme(c)) c.fault(V.GP, 0);
  const s = c.s;
  const v = c.peek(2, 0);
  if (((v & IF) !== 0 && (s.flags.bits & VIP) !== 0) || (v & TF) !== 0) c.fault(V.GP, 0);
  c.addSp(2);
  setVirtualFlags(c, v);
}

/** Loads FLAGS[15:0] except IF and IOPL from `v`, and VIF from its IF bit. */
function setVirtualFlags(c: Cpu, v: number): void {
  const vif = (v & IF) !== 0 ? VIF : 0;
  c.setRflags(v | vif, (0xffff & ~(IF | IOPL) & 0x7fd5) | VIF);
  c.breakBlock = true;
}

/**
 * IRET in virtual-8086 mode (SDM IRET, RETURN-FROM-VIRTUAL-8086-MODE): with IOPL = 3 a real-mode
 * style return that leaves VM, IOPL, VIP and VIF alone; with IOPL < 3 and CR4.VME a 16-bit IRET
 * loads the popped IF into VIF (#GP(0) if that sets VIF with VIP pending, or sets TF); otherwise
 * #GP(0), a trap to the virtual-8086 monitor.
 */
export function v86Iret(c: Cpu, i: Insn): void {
  const bytes = i.size >>> 3;
  const io3 = iopl(c) === 3;
  if (!io3 && (bytes !== 2 || !vme(c))) c.fault(V.GP, 0);
  const ip = c.peek(bytes, 0);
  const cs = c.peek(bytes, bytes) & 0xffff;
  const fl = c.peek(bytes, 2 * bytes);
  if (ip >>> 0 > c.segLim[Seg.CS]!) c.fault(V.GP, 0);
  if (!io3 && (((fl & IF) !== 0 && (c.s.flags.bits & VIP) !== 0) || (fl & TF) !== 0)) c.fault(V.GP, 0);
  c.addSp(3 * bytes);
  setV86Segment(c, Seg.CS, cs);
  if (io3) c.setRflags(fl, (bytes === 2 ? 0x7fd5 : 0x257fd5) & ~IOPL);
  else setVirtualFlags(c, fl);
  c.nmiBlocked = false;
  c.nextRip = ip & 0xffff;
  c.breakBlock = true;
}

// ---------------------------------------------------------------------------------------------
// INT n in virtual-8086 mode (SDM vol. 3, 20.3.3, Table 20-2: the six methods)

/**
 * INT n in virtual-8086 mode. Returns false when the interrupt goes through the IDT (methods 1
 * and 4); redirects it to the 8086 program's IVT and returns true (methods 5 and 6); raises
 * #GP(0) for methods 2 and 3.
 */
export function v86SoftInt(c: Cpu, i: Insn): boolean {
  const vector = i.immLo & 0xff;
  const io3 = iopl(c) === 3;
  if (!vme(c) || !redirected(c, vector)) {
    if (!io3) c.fault(V.GP, 0);
    return false;
  }
  const s = c.s;
  const fl = c.rflags();
  let image = fl & 0xffff;
  if (!io3) image = (image & ~IF) | IOPL | ((fl & VIF) !== 0 ? IF : 0);
  // The 8086 program's interrupt vector table is at linear address 0 of the task (user access).
  const entry = c.rd32(vector * 4);
  const sp = s.gpr[8]!;
  try {
    c.push(2, image, 0);
    c.push(2, s.segSelector[Seg.CS]!, 0);
    c.push(2, i.next & 0xffff, 0);
  } catch (e) {
    s.gpr[8] = sp; // a fault on the 8086 stack leaves SP as it was (the INT restarts)
    throw e;
  }
  setV86Segment(c, Seg.CS, entry >>> 16);
  s.flags.bits &= ~(TF | RF | (io3 ? IF : VIF));
  c.nextRip = entry & 0xffff;
  c.breakBlock = true;
  return true;
}

/**
 * Whether bit `vector` of the TSS's software-interrupt redirection bitmap (the 32 bytes below
 * the I/O permission bitmap) is clear. A TSS too small to hold the byte gives #GP(0).
 */
function redirected(c: Cpu, vector: number): boolean {
  const s = c.s;
  const ar = s.segAccess[Seg.TR]!;
  const type = ar & 0xf;
  const limit = s.segLimit[Seg.TR]!;
  if ((ar & 0x10000) !== 0 || (type !== 0x9 && type !== 0xb) || limit < 0x67) c.fault(V.GP, 0);
  const base = s.segBase[2 * Seg.TR]!;
  const mapBase = c.sysRd16(base + 0x66);
  const at = mapBase - 32 + (vector >>> 3);
  if (at < 0 || at > limit) c.fault(V.GP, 0);
  const byte = c.sysRd16(base + at) & 0xff;
  return ((byte >>> (vector & 7)) & 1) === 0;
}

// ---------------------------------------------------------------------------------------------
// Leaving: an interrupt or exception through an IDT gate (SDM INT n, INTERRUPT-FROM-VIRTUAL-8086-MODE)

/**
 * Delivers an event taken in virtual-8086 mode through an interrupt or trap gate whose code
 * segment descriptor is in {@link desc} (already checked as a present code segment). The handler
 * must be in a non-conforming ring-0 segment (else #GP(selector + EXT)). Switches to SS0:ESP0 of
 * the TSS, pushes GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP and the error code (`error`, or
 * NO_ERROR for none) at the gate's size, clears VM, TF, RF, NT (and IF for an interrupt gate),
 * nulls DS, ES, FS, GS and jumps to `target`. Every check is made before anything changes.
 */
export function deliverFromV86(
  c: Cpu,
  sel: number,
  gate32: boolean,
  interruptGate: boolean,
  target: number,
  error: number,
  returnRip: number,
  ext: number,
): void {
  const s = c.s;
  const csLo = desc[0]!;
  const csHi = desc[1]!;
  if ((csHi & 0x400) !== 0 || ((csHi >>> 13) & 3) !== 0) c.fault(V.GP, (sel & 0xfffc) + ext);
  // SS0:ESP0 of the current TSS (32-bit: ESP0 at 4, SS0 at 8; 16-bit: SP0 at 2, SS0 at 4).
  const tr = s.segSelector[Seg.TR]!;
  const tss32 = (s.segAccess[Seg.TR]! & 8) !== 0;
  if ((s.segAccess[Seg.TR]! & 0x10000) !== 0 || s.segLimit[Seg.TR]! < (tss32 ? 9 : 5))
    c.fault(V.TS, (tr & 0xfffc) + ext);
  const tss = s.segBase[2 * Seg.TR]!;
  const esp0 = tss32 ? c.sysRd32(tss + 4) : c.sysRd16(tss + 2);
  const ss0 = c.sysRd16(tss + (tss32 ? 8 : 4));
  if ((ss0 & 0xfffc) === 0) c.fault(V.TS, ext);
  if (!readDescriptor(c, ss0, false)) c.fault(V.TS, (ss0 & 0xfffc) + ext);
  const ssLo = desc[0]!;
  const ssHi = desc[1]!;
  const ssAt = descAddr[0]!;
  const ssType = (ssHi >>> 8) & 0xf;
  if ((ss0 & 3) !== 0 || ((ssHi >>> 13) & 3) !== 0 || ((ssHi >>> 12) & 1) === 0 || (ssType & 0xa) !== 0x2)
    c.fault(V.TS, (ss0 & 0xfffc) + ext);
  if (((ssHi >>> 15) & 1) === 0) c.fault(V.SS, (ss0 & 0xfffc) + ext);
  // Room for the frame on the new stack.
  const size = gate32 ? 4 : 2;
  const hasError = error !== NO_ERROR;
  const frame = (hasError ? 10 : 9) * size;
  const big = (ssHi & 0x400000) !== 0;
  const sp = big ? esp0 >>> 0 : esp0 & 0xffff;
  const top = sp - frame;
  const limit = limitOf(ssLo, ssHi);
  const inside =
    (ssType & 4) === 0
      ? top >= 0 && sp - 1 <= limit
      : top > limit && sp - 1 <= (big ? 0xffffffff : 0xffff) && top >= 0;
  if (!inside) c.fault(V.SS, (ss0 & 0xfffc) + ext);
  if (target > limitOf(csLo, csHi)) c.fault(V.GP, ext);
  const la = (baseOf(ssLo, ssHi) + top) >>> 0;
  // Translate both ends now so that writing the frame cannot fault half way.
  c.xlateSystem(la, true);
  c.xlateSystem((la + frame - 1) >>> 0, true);
  // Commit: the frame, lowest address first.
  const flags = c.rflags();
  let at = la;
  if (hasError) {
    writeSized(c, at, size, error);
    at += size;
  }
  writeSized(c, at, size, returnRip);
  writeSized(c, at + size, size, s.segSelector[Seg.CS]!);
  writeSized(c, at + 2 * size, size, flags);
  writeSized(c, at + 3 * size, size, s.gpr[8]!);
  writeSized(c, at + 4 * size, size, s.segSelector[Seg.SS]!);
  writeSized(c, at + 5 * size, size, s.segSelector[Seg.ES]!);
  writeSized(c, at + 6 * size, size, s.segSelector[Seg.DS]!);
  writeSized(c, at + 7 * size, size, s.segSelector[Seg.FS]!);
  writeSized(c, at + 8 * size, size, s.segSelector[Seg.GS]!);
  s.flags.write(flags & ~(VM | TF | RF | NT | (interruptGate ? IF : 0)));
  if ((ssHi & 0x100) === 0) c.sysWr8(ssAt + 5, ((ssHi | 0x100) >>> 8) & 0xff);
  desc[0] = ssLo;
  desc[1] = ssHi | 0x100;
  setSegmentFromDesc(c, Seg.SS, ss0);
  s.gpr[8] = big ? top >>> 0 : ((esp0 & 0xffff0000) | (top & 0xffff)) >>> 0;
  s.gpr[9] = 0;
  for (const seg of NULLED) setNullSegment(c, seg, 0);
  desc[0] = csLo;
  desc[1] = csHi;
  commitCs(c, sel, 0);
  c.nextRip = gate32 ? target >>> 0 : target & 0xffff;
  s.rip = c.nextRip;
  c.breakBlock = true;
}

const NULLED = [Seg.ES, Seg.DS, Seg.FS, Seg.GS] as const;

/** A supervisor write of 2 or 4 bytes at linear `la`. */
function writeSized(c: Cpu, la: number, size: number, v: number): void {
  if (size === 4) {
    c.sysWr32(la, v);
  } else {
    c.sysWr8(la, v & 0xff);
    c.sysWr8(la + 1, (v >>> 8) & 0xff);
  }
}
