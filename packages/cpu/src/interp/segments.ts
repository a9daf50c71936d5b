/**
 * Segment descriptors and segment-register loads (SDM vol. 3, 3.4 and 5.x; the checks of the
 * MOV/POP Sreg, far JMP/CALL/RET and IRET pages of vol. 2).
 */
import { Seg } from "../state/registers.js";
import type { Cpu } from "./cpu.js";
import { V } from "./fault.js";
import { sysReadDwords } from "./sys-read.js";

/** The descriptor last read by {@link readDescriptor}: low and high dwords (and the upper 8 bytes of system descriptors in 64-bit mode). */
export const desc = new Uint32Array(4);

/** Access rights in the VMCS format from a descriptor's high dword. */
export function arOf(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

/** Base (low 32 bits) of a descriptor. */
export function baseOf(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

/** Limit in bytes (granularity applied) of a descriptor. */
export function limitOf(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return hi & 0x800000 ? ((raw << 12) | 0xfff) >>> 0 : raw;
}

/** Linear address of the descriptor last read by {@link readDescriptor} (signed when in the upper half). */
export const descAddr = new Float64Array(1);

/**
 * Reads the descriptor that `sel` selects (GDT, or LDT when TI = 1) into {@link desc} and its
 * linear address into {@link descAddr}; `wide` reads 16 bytes (64-bit system descriptors).
 * Returns false when the selector is outside the table (the caller raises the fault its
 * instruction names).
 */
export function readDescriptor(c: Cpu, sel: number, wide: boolean): boolean {
  const s = c.s;
  let base: number;
  let limit: number;
  if (sel & 4) {
    if (s.segAccess[Seg.LDTR]! & 0x10000) return false;
    base = (s.segBase[2 * Seg.LDTR + 1]! | 0) * 4294967296 + s.segBase[2 * Seg.LDTR]!;
    limit = s.segLimit[Seg.LDTR]!;
  } else {
    base = (s.gdtr.baseHi | 0) * 4294967296 + s.gdtr.baseLo;
    limit = s.gdtr.limit;
  }
  const off = sel & 0xfff8;
  if (off + (wide ? 15 : 7) > limit) return false;
  // 64-bit bases are canonical addresses held signed, like every linear address.
  let la = base + off;
  if (!c.mode64 && (s.efer[0]! & 0x400) === 0) la >>>= 0;
  sysReadDwords(c, la, wide ? 4 : 2, desc, 0);
  descAddr[0] = la;
  return true;
}

/** Sets the accessed bit of the descriptor last read (at {@link descAddr}) if it is clear. */
export function markAccessed(c: Cpu): void {
  if ((desc[1]! & 0x100) === 0) {
    desc[1] = desc[1]! | 0x100;
    c.sysWr8(descAddr[0]! + 5, (desc[1]! >>> 8) & 0xff);
  }
}

/**
 * Sets the accessed bit of the code descriptor in {@link desc}, which `sel` selects (SDM vol. 3,
 * 3.4.5.1: loading a segment register sets it). Its address is derived from the selector: the
 * callers may have read other descriptors (a stack segment) since.
 */
function markCsAccessed(c: Cpu, sel: number): void {
  if ((desc[1]! & 0x100) !== 0) return;
  desc[1] = desc[1]! | 0x100;
  const s = c.s;
  const base =
    sel & 4
      ? (s.segBase[2 * Seg.LDTR + 1]! | 0) * 4294967296 + s.segBase[2 * Seg.LDTR]!
      : (s.gdtr.baseHi | 0) * 4294967296 + s.gdtr.baseLo;
  let la = base + (sel & 0xfff8);
  if (!c.mode64 && (s.efer[0]! & 0x400) === 0) la >>>= 0;
  c.sysWr8(la + 5, (desc[1]! >>> 8) & 0xff);
}

/** Writes a segment register's visible and hidden parts from {@link desc} and refreshes the caches. */
export function setSegmentFromDesc(c: Cpu, seg: number, sel: number): void {
  const s = c.s;
  const lo = desc[0]!;
  const hi = desc[1]!;
  s.segSelector[seg] = sel;
  s.segBase[2 * seg] = baseOf(lo, hi);
  s.segBase[2 * seg + 1] = seg >= Seg.LDTR && c.mode64 ? desc[2]! : 0;
  s.segLimit[seg] = limitOf(lo, hi);
  s.segAccess[seg] = arOf(hi);
  c.refreshSegment(seg);
}

/** Makes a segment register unusable (a null selector loaded). */
export function setNullSegment(c: Cpu, seg: number, sel: number): void {
  const s = c.s;
  s.segSelector[seg] = sel;
  s.segBase[2 * seg] = 0;
  s.segBase[2 * seg + 1] = 0;
  s.segLimit[seg] = 0;
  s.segAccess[seg] = 0x10000;
  c.refreshSegment(seg);
}

/**
 * A segment-register load in virtual-8086 mode (SDM vol. 3, 20.1.1): base = selector × 16,
 * limit 0xFFFF, a present read/write data segment with DPL 3 (the attributes VMX requires too).
 */
export function setV86Segment(c: Cpu, seg: number, sel: number): void {
  const s = c.s;
  s.segSelector[seg] = sel & 0xffff;
  s.segBase[2 * seg] = (sel & 0xffff) << 4;
  s.segBase[2 * seg + 1] = 0;
  s.segLimit[seg] = 0xffff;
  s.segAccess[seg] = 0xf3;
  c.refreshSegment(seg);
}

/** Real-mode (and virtual-8086) load: base = selector × 16; usable; limit and attributes kept (v86: reset). */
export function setRealSegment(c: Cpu, seg: number, sel: number): void {
  const s = c.s;
  if ((s.flags.bits & 0x20000) !== 0 && c.pe) {
    setV86Segment(c, seg, sel);
    return;
  }
  s.segSelector[seg] = sel;
  s.segBase[2 * seg] = sel << 4;
  s.segBase[2 * seg + 1] = 0;
  s.segAccess[seg] = (s.segAccess[seg]! & ~0x10000) | 0x80;
  c.refreshSegment(seg);
}

/**
 * MOV/POP to a data segment register or SS (SDM vol. 2, MOV "Operation"), in any mode. Faults
 * with the error codes the SDM gives. Does not handle CS (far transfers do).
 */
export function loadDataSegment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!c.pe || (c.s.flags.bits & 0x20000) !== 0) {
    setRealSegment(c, seg, sel);
    if (seg === Seg.SS) c.updateMode();
    return;
  }
  const cpl = c.cpl;
  if ((sel & 0xfffc) === 0) {
    if (seg === Seg.SS && !(c.mode64 && cpl !== 3 && (sel & 3) === cpl)) c.fault(V.GP, 0);
    setNullSegment(c, seg, sel);
    if (seg === Seg.SS) {
      // 64-bit mode: a null SS stays usable for stack accesses (SDM 5.7); keep it writable.
      c.s.segAccess[Seg.SS] = 0x10000 | (cpl << 5);
      c.refreshSegment(seg);
      c.updateMode();
    }
    return;
  }
  if (!readDescriptor(c, sel, false)) c.fault(V.GP, sel & 0xfffc);
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0xf;
  const s = (hi >>> 12) & 1;
  const dpl = (hi >>> 13) & 3;
  const present = (hi >>> 15) & 1;
  const rpl = sel & 3;
  if (seg === Seg.SS) {
    if (rpl !== cpl || dpl !== cpl || s === 0 || (type & 8) !== 0 || (type & 2) === 0)
      c.fault(V.GP, sel & 0xfffc);
    if (!present) c.fault(V.SS, sel & 0xfffc);
  } else {
    if (s === 0 || ((type & 8) !== 0 && (type & 2) === 0)) c.fault(V.GP, sel & 0xfffc);
    const conformingCode = (type & 0xc) === 0xc;
    if (!conformingCode && (dpl < cpl || dpl < rpl)) c.fault(V.GP, sel & 0xfffc);
    if (!present) c.fault(V.NP, sel & 0xfffc);
  }
  markAccessed(c);
  setSegmentFromDesc(c, seg, sel);
  if (seg === Seg.SS) c.updateMode();
}

/**
 * Loads CS for a far JMP/CALL/RET/IRET at privilege `newCpl` from the descriptor in
 * {@link desc} (already checked by the caller) and switches the mode and CPL.
 */
export function commitCs(c: Cpu, sel: number, newCpl: number): void {
  markCsAccessed(c, sel);
  setSegmentFromDesc(c, Seg.CS, (sel & 0xfffc) | newCpl);
  c.setCpl(newCpl);
  c.updateMode();
}

/**
 * Reads and checks a code-segment descriptor for a far JMP or CALL to `sel` (SDM vol. 2, JMP:
 * "far jump to a code segment"). Returns true; call gates, task gates and TSS targets return
 * false (not supported here).
 */
export function checkFarCodeTarget(c: Cpu, sel: number): boolean {
  if ((sel & 0xfffc) === 0) c.fault(V.GP, 0);
  if (!readDescriptor(c, sel, false)) c.fault(V.GP, sel & 0xfffc);
  const hi = desc[1]!;
  if (((hi >>> 12) & 1) === 0) return false;
  const type = (hi >>> 8) & 0xf;
  const dpl = (hi >>> 13) & 3;
  if ((type & 8) === 0) c.fault(V.GP, sel & 0xfffc);
  if (type & 4) {
    if (dpl > c.cpl) c.fault(V.GP, sel & 0xfffc);
  } else if ((sel & 3) > c.cpl || dpl !== c.cpl) {
    c.fault(V.GP, sel & 0xfffc);
  }
  if (((hi >>> 15) & 1) === 0) c.fault(V.NP, sel & 0xfffc);
  if ((c.s.efer[0]! & 0x400) !== 0 && (hi & 0x200000) !== 0 && (hi & 0x400000) !== 0)
    c.fault(V.GP, sel & 0xfffc);
  return true;
}

/**
 * Reads and checks the code segment a far RET or IRET returns to (RPL = the new CPL, which must
 * not be below the current one), leaving it in {@link desc}.
 */
export function checkReturnCs(c: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) c.fault(V.GP, 0);
  if (!readDescriptor(c, sel, false)) c.fault(V.GP, sel & 0xfffc);
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0xf;
  const dpl = (hi >>> 13) & 3;
  const rpl = sel & 3;
  if (((hi >>> 12) & 1) === 0 || (type & 8) === 0) c.fault(V.GP, sel & 0xfffc);
  if (rpl < c.cpl) c.fault(V.GP, sel & 0xfffc);
  if (type & 4 ? dpl > rpl : dpl !== rpl) c.fault(V.GP, sel & 0xfffc);
  if (((hi >>> 15) & 1) === 0) c.fault(V.NP, sel & 0xfffc);
}

/**
 * Loads SS for a return to an outer privilege level `rpl` (far RET, IRET), or for a stack switch
 * to an inner one (`#TS` error codes then). In 64-bit mode a null SS is allowed below ring 3.
 */
export function loadStackSegment(c: Cpu, sel: number, newCpl: number, faultVector: number): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) {
    if ((c.s.efer[0]! & 0x400) !== 0 && newCpl !== 3 && c.bits === 64) {
      setNullSegment(c, Seg.SS, sel);
      c.s.segAccess[Seg.SS] = 0x10000 | (newCpl << 5);
      c.refreshSegment(Seg.SS);
      return;
    }
    c.fault(faultVector, 0);
  }
  if (!readDescriptor(c, sel, false)) c.fault(faultVector, sel & 0xfffc);
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0xf;
  const dpl = (hi >>> 13) & 3;
  if (
    (sel & 3) !== newCpl ||
    dpl !== newCpl ||
    ((hi >>> 12) & 1) === 0 ||
    (type & 8) !== 0 ||
    (type & 2) === 0
  )
    c.fault(faultVector, sel & 0xfffc);
  if (((hi >>> 15) & 1) === 0) c.fault(faultVector === V.TS ? V.SS : V.SS, sel & 0xfffc);
  markAccessed(c);
  setSegmentFromDesc(c, Seg.SS, sel);
}

/** The data segment registers a return to an outer level may nullify. */
const OUTER_SEGMENTS = [Seg.ES, Seg.DS, Seg.FS, Seg.GS] as const;

/**
 * After a return to an outer privilege level: data segment registers whose DPL is below the new
 * CPL (and are not conforming code) become null (SDM vol. 2, RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
 */
export function nullifyOuterSegments(c: Cpu): void {
  const s = c.s;
  for (let k = 0; k < 4; k++) {
    const seg = OUTER_SEGMENTS[k]!;
    const ar = s.segAccess[seg]!;
    if (ar & 0x10000) continue;
    const dpl = (ar >>> 5) & 3;
    const conformingCode = (ar & 0x1c) === 0x1c;
    if (!conformingCode && dpl < c.cpl) {
      s.segSelector[seg] = 0;
      s.segAccess[seg] = 0x10000;
      c.refreshSegment(seg);
    }
  }
}

/**
 * System-descriptor types LAR and LSL accept, as bit masks (bit n = type n), exactly as the
 * tables "Segment and Gate Types" of SDM vol. 2A, LAR and LSL, give them. Outside IA-32e mode:
 * LAR takes the 16/32-bit TSSs, the LDT, call gates and task gates; LSL the TSSs and the LDT.
 * In IA-32e mode LAR takes the 64-bit TSSs and call gate (the table marks the LDT invalid), LSL
 * the LDT, the 64-bit TSSs and type 0 ("upper 8 bytes of a 16-byte descriptor").
 */
const SYSTEM_TYPES = {
  larLegacy: (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 0xb) | (1 << 0xc),
  larIa32e: (1 << 9) | (1 << 0xb) | (1 << 0xc),
  lslLegacy: (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 0xb),
  lslIa32e: (1 << 0) | (1 << 2) | (1 << 9) | (1 << 0xb),
} as const;

/** Whether LAR (`lar`) or LSL accepts a system descriptor of `type` in the current mode. */
export function queryableSystemType(c: Cpu, type: number, lar: boolean): boolean {
  const ia32e = (c.s.efer[0]! & 0x400) !== 0;
  const mask = lar
    ? ia32e
      ? SYSTEM_TYPES.larIa32e
      : SYSTEM_TYPES.larLegacy
    : ia32e
      ? SYSTEM_TYPES.lslIa32e
      : SYSTEM_TYPES.lslLegacy;
  return ((mask >>> (type & 0xf)) & 1) === 1;
}
