/**
 * System instructions: control and debug registers, descriptor-table registers, task and LDT
 * registers, MSRs, CPUID, the time-stamp counter, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS,
 * CLI/STI, PUSHF/POPF, LAR/LSL/VERR/VERW/ARPL, the FS/GS base instructions, UD.
 */
import { Seg } from "../../state/registers.js";
import { isCanonicalHi } from "../canonical.js";
import type { Cpu } from "../cpu.js";
import { cpuid } from "../cpuid.js";
import { CR4_PCIDE, CR4_TRANSLATION_BITS, cr4PagingFault, cr4ReloadsPdptes, pagingCr4Bits } from "../cr4.js";
import { debugRegisterNumber, refreshDebug, writeDebugRegister } from "../debug.js";
import { Blocking, updateAlignmentCheck } from "../events.js";
import { NO_ERROR, V } from "../fault.js";
import type { Insn } from "../insn.js";
import { interceptInstruction } from "../intercepts.js";
import { readMsr, readTsc, writeMsr } from "../msr-access.js";
import { writeCr3 } from "../pcid.js";
import {
  desc,
  descAddr,
  queryableSystemType,
  readDescriptor,
  setNullSegment,
  setSegmentFromDesc,
} from "../segments.js";
import { v86Popf, v86Pushf, virtualCliSti } from "../v86.js";
import { checkTarget } from "./branch.js";
import { getReg, setReg, toNum } from "./operands.js";

function requireCpl0(c: Cpu): void {
  if (c.cpl !== 0) c.fault(V.GP, 0);
}

/** #UD: invalid or undefined opcodes (UD0/UD1/UD2, bytes that decode to nothing). */
export function undefinedOpcode(c: Cpu, _i: Insn): void {
  c.fault(V.UD, NO_ERROR);
}

/** CLI (aux 0) / STI (aux 1): IOPL-sensitive in protected mode (SDM CLI/STI; VME/PVI in v86.ts). */
export function cliSti(c: Cpu, i: Insn): void {
  const f = c.s.flags;
  if (c.pe && c.cpl > ((f.bits >>> 12) & 3)) {
    virtualCliSti(c, i);
    return;
  }
  if (i.aux === 0) {
    f.bits &= ~0x200;
  } else {
    if ((f.bits & 0x200) === 0) {
      c.s.interruptibility |= Blocking.Sti;
      c.breakBlock = true;
    }
    f.bits |= 0x200;
  }
}

/** PUSHF/PUSHFD/PUSHFQ: VM and RF read as 0 in the image. */
export function pushf(c: Cpu, i: Insn): void {
  const fl = c.rflags();
  if ((fl & 0x20000) !== 0 && ((fl >>> 12) & 3) < 3) {
    v86Pushf(c, i);
    return;
  }
  c.push(i.size >>> 3, fl & ~0x30000 & (i.size === 16 ? 0xffff : 0xffffffff), 0);
}

/** POPF/POPFD/POPFQ with the IOPL and IF rules (SDM POPF, Table 4-16 "Operation"). */
export function popf(c: Cpu, i: Insn): void {
  const s = c.s;
  const bytes = i.size >>> 3;
  const iopl = (s.flags.bits >>> 12) & 3;
  if ((s.flags.bits & 0x20000) !== 0 && iopl < 3) {
    v86Popf(c, i);
    return;
  }
  const v = c.pop(bytes);
  let mask = 0x244dd5 | 0x100 | 0x400 | 0x4000; // ID, AC, arith, TF, DF, NT (RF cleared; VM/VIF/VIP kept)
  if (!c.pe || c.cpl === 0) mask |= 0x3000 | 0x200;
  else if (c.cpl <= iopl) mask |= 0x200;
  if (bytes === 2) mask &= 0xffff;
  c.setRflags(v & ~0x10000, mask | 0x10000);
  c.breakBlock = true;
}

/** MOV to CRn (aux = n) from register `s`. */
export function movToCr(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const s = c.s;
  const g = s.gpr;
  const lo = g[2 * i.s]!;
  const hi = c.mode64 ? g[2 * i.s + 1]! : 0;
  writeCr(c, i.aux, lo, hi);
}

/** The CR4 bits software may set (VME..SMAP minus what is absent); others are reserved (#GP). */
const CR4_ALLOWED = (0x003f07ff | 0x800) & ~(0x2000 | 0x4000 | 0x20000); // 0x800: UMIP

/** @internal Writes a control register with the checks of SDM MOV CR (vol. 2B) and the mode changes. */
export function writeCr(c: Cpu, n: number, lo: number, hi: number): void {
  const s = c.s;
  switch (n) {
    case 0: {
      if (hi !== 0) c.fault(V.GP, 0);
      const v = (lo | 0x10) >>> 0; // ET is fixed 1
      if ((v & 0x80000000) !== 0 && (v & 1) === 0) c.fault(V.GP, 0);
      if ((v & 0x20000000) !== 0 && (v & 0x40000000) === 0) c.fault(V.GP, 0);
      const old = s.cr[0]!;
      const pgOn = (v & 0x80000000) !== 0 && (old & 0x80000000) === 0;
      const pgOff = (v & 0x80000000) === 0 && (old & 0x80000000) !== 0;
      const lme = (s.efer[0]! & 0x100) !== 0;
      if (pgOn && lme) {
        if ((s.cr[8]! & 0x20) === 0) c.fault(V.GP, 0);
        if ((s.segAccess[Seg.CS]! & 0x2000) !== 0) c.fault(V.GP, 0);
      }
      if (pgOff && c.mode64) c.fault(V.GP, 0);
      if (pgOff && (s.cr[8]! & CR4_PCIDE) !== 0) c.fault(V.GP, 0); // SDM MOV CR: PG = 0 needs PCIDE = 0
      if (pgOn && !lme && (s.cr[8]! & 0x20) !== 0) {
        s.cr[0] = v;
        if (!c.loadPdptes()) {
          s.cr[0] = old;
          c.fault(V.GP, 0);
        }
      }
      s.cr[0] = v;
      s.cr[1] = 0;
      updateAlignmentCheck(c);
      if (pgOn && lme) s.efer[0] = s.efer[0]! | 0x400;
      if (pgOff) s.efer[0] = s.efer[0]! & ~0x400;
      if (((old ^ v) & 0x80010001) !== 0) {
        c.pe = (v & 1) !== 0;
        if (!c.pe) c.setCpl(0);
        c.pagingChanged();
        c.updateMode();
        for (let seg = 0; seg < 8; seg++) c.refreshSegment(seg);
      }
      break;
    }
    case 2:
      s.cr[4] = lo;
      s.cr[5] = hi;
      break;
    case 3:
      writeCr3(c, lo, hi);
      break;
    case 4: {
      if (hi !== 0 || (lo & ~(CR4_ALLOWED | pagingCr4Bits(c.model))) !== 0) c.fault(V.GP, 0);
      if ((s.efer[0]! & 0x400) !== 0 && (lo & 0x20) === 0) c.fault(V.GP, 0);
      const old = s.cr[8]!;
      if (cr4PagingFault(c, old, lo)) c.fault(V.GP, 0);
      s.cr[8] = lo;
      s.cr[9] = 0;
      if (((old ^ lo) & CR4_TRANSLATION_BITS) !== 0) c.pagingChanged();
      else c.breakBlock = true;
      if (cr4ReloadsPdptes(c, old, lo) && !c.loadPdptes()) {
        s.cr[8] = old;
        c.pagingChanged();
        c.fault(V.GP, 0);
      }
      break;
    }
    case 8:
      if (hi !== 0 || (lo & ~0xf) !== 0) c.fault(V.GP, 0);
      s.cr[16] = lo;
      if (c.tpr !== undefined) c.tpr.taskPriority = lo << 4;
      break;
    default:
      c.fault(V.UD, NO_ERROR);
  }
}

/** MOV reg `d` from CRn (aux = n). */
export function movFromCr(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const s = c.s;
  const n = i.aux;
  if (n !== 0 && n !== 2 && n !== 3 && n !== 4 && n !== 8) c.fault(V.UD, NO_ERROR);
  if (n === 8 && c.tpr !== undefined) s.cr[16] = (c.tpr.taskPriority >>> 4) & 0xf;
  setReg(s.gpr, i.d, 0, c.mode64 ? 64 : 32, s.cr[2 * n]!, c.mode64 ? s.cr[2 * n + 1]! : 0);
}

/** MOV DRn (aux = n; imm2 = 1: to the debug register): checks and breakpoints in debug.ts. */
export function movDr(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const s = c.s;
  const n = debugRegisterNumber(c, i.aux);
  const g = s.gpr;
  if (i.imm2 === 1) {
    writeDebugRegister(c, n, g[2 * i.s]!, c.mode64 ? g[2 * i.s + 1]! : 0);
  } else {
    setReg(g, i.d, 0, c.mode64 ? 64 : 32, s.dr[2 * n]!, c.mode64 ? s.dr[2 * n + 1]! : 0);
  }
}

/** CLTS */
export function clts(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  c.s.cr[0] = c.s.cr[0]! & ~8;
}

/** LMSW: loads CR0 bits 0-3 (PE can be set, not cleared). */
export function lmsw(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const v = i.mem ? c.rd16(c.lin(i.seg, c.ea(i), 2, false)) : c.s.gpr[2 * i.d]! & 0xffff;
  const old = c.s.cr[0]!;
  writeCr(c, 0, ((old & ~0xe) | (v & 0xf) | (old & 1)) >>> 0, 0);
}

/** SMSW: CR0's low bits to a register (operand size) or 16 bits to memory. */
export function smsw(c: Cpu, i: Insn): void {
  if ((c.s.cr[8]! & 0x800) !== 0 && c.cpl > 0) c.fault(V.GP, 0); // CR4.UMIP
  const cr0 = c.s.cr[0]!;
  if (i.mem) c.wr16(c.lin(i.seg, c.ea(i), 2, true), cr0 & 0xffff);
  else setReg(c.s.gpr, i.d, 0, i.size, i.size === 16 ? cr0 & 0xffff : cr0, 0);
}

/** INVLPG m */
export function invlpg(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const off = c.ea(i);
  const la = c.mode64 ? off + c.segBaseN[i.seg]! : (c.segBaseN[i.seg]! + off) >>> 0;
  c.flushPage(la);
}

/** INVD / WBINVD: no caches to act on. */
export function invd(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
}

/** LGDT (aux 0) / LIDT (aux 1). */
export function lgdt(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const s = c.s;
  const baseBytes = c.mode64 ? 8 : 4;
  const la = c.lin(i.seg, c.ea(i), 2 + baseBytes, false);
  const limit = c.rd16(la);
  let lo = c.rd32(la + 2);
  let hi = 0;
  if (c.mode64) hi = c.rd32(la + 6);
  else if (i.size === 16) lo &= 0xffffff;
  if (c.mode64 && !isCanonicalHi(c, hi)) c.fault(V.GP, 0);
  const r = i.aux === 0 ? s.gdtr : s.idtr;
  r.limit = limit;
  r.baseLo = lo >>> 0;
  r.baseHi = hi >>> 0;
}

/** SGDT (aux 0) / SIDT (aux 1). */
export function sgdt(c: Cpu, i: Insn): void {
  const s = c.s;
  if ((s.cr[8]! & 0x800) !== 0 && c.cpl > 0) c.fault(V.GP, 0); // CR4.UMIP
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const baseBytes = c.mode64 ? 8 : 4;
  const la = c.lin(i.seg, c.ea(i), 2 + baseBytes, true);
  const r = i.aux === 0 ? s.gdtr : s.idtr;
  c.probeWrite(la, 2 + baseBytes);
  c.wr16(la, r.limit);
  c.wr32(la + 2, r.baseLo);
  if (c.mode64) c.wr32(la + 6, r.baseHi);
}

function readSelector(c: Cpu, i: Insn): number {
  return i.mem ? c.rd16(c.lin(i.seg, c.ea(i), 2, false)) : c.s.gpr[2 * i.d]! & 0xffff;
}

/** LLDT */
export function lldt(c: Cpu, i: Insn): void {
  if (!c.pe || (c.s.flags.bits & 0x20000) !== 0) c.fault(V.UD, NO_ERROR);
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const sel = readSelector(c, i);
  if ((sel & 0xfffc) === 0) {
    setNullSegment(c, Seg.LDTR, sel);
    return;
  }
  if (sel & 4) c.fault(V.GP, sel & 0xfffc);
  if (!readDescriptor(c, sel, c.mode64)) c.fault(V.GP, sel & 0xfffc);
  const hi = desc[1]!;
  if (((hi >>> 8) & 0x1f) !== 0x02) c.fault(V.GP, sel & 0xfffc);
  if (((hi >>> 15) & 1) === 0) c.fault(V.NP, sel & 0xfffc);
  if (c.mode64 && !isCanonicalHi(c, desc[2]!)) c.fault(V.GP, sel & 0xfffc);
  setSegmentFromDesc(c, Seg.LDTR, sel);
}

/** LTR: loads TR from an available TSS descriptor and marks it busy. */
export function ltr(c: Cpu, i: Insn): void {
  if (!c.pe || (c.s.flags.bits & 0x20000) !== 0) c.fault(V.UD, NO_ERROR);
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const sel = readSelector(c, i);
  if ((sel & 0xfffc) === 0) c.fault(V.GP, 0);
  if (sel & 4) c.fault(V.GP, sel & 0xfffc);
  const lma = (c.s.efer[0]! & 0x400) !== 0;
  if (!readDescriptor(c, sel, lma)) c.fault(V.GP, sel & 0xfffc);
  const la = descAddr[0]!;
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0x1f;
  if (lma ? type !== 0x09 : type !== 0x09 && type !== 0x01) c.fault(V.GP, sel & 0xfffc);
  if (((hi >>> 15) & 1) === 0) c.fault(V.NP, sel & 0xfffc);
  // IA-32e: the upper half's type field must be 0 and the base canonical (SDM vol. 2, LTR).
  if (lma && ((desc[3]! & 0x1f00) !== 0 || !isCanonicalHi(c, desc[2]!))) c.fault(V.GP, sel & 0xfffc);
  desc[1] = hi | 0x200;
  c.sysWr8(la + 5, (desc[1]! >>> 8) & 0xff);
  setSegmentFromDesc(c, Seg.TR, sel);
  if (lma) {
    c.s.segBase[2 * Seg.TR + 1] = desc[2]!;
    c.refreshSegment(Seg.TR);
  }
}

/** SLDT (aux 0) / STR (aux 1). */
export function storeSystemSelector(c: Cpu, i: Insn): void {
  if (!c.pe || (c.s.flags.bits & 0x20000) !== 0) c.fault(V.UD, NO_ERROR);
  if ((c.s.cr[8]! & 0x800) !== 0 && c.cpl > 0) c.fault(V.GP, 0);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const sel = c.s.segSelector[i.aux === 0 ? Seg.LDTR : Seg.TR]!;
  if (i.mem) c.wr16(c.lin(i.seg, c.ea(i), 2, true), sel);
  else setReg(c.s.gpr, i.d, 0, i.size === 16 ? 16 : i.size, sel, 0);
}

/**
 * LAR (aux 0), LSL (aux 1), VERR (aux 2), VERW (aux 3): ZF = 1 when the descriptor is visible at
 * the current privilege and of an allowed type (SDM LAR/LSL/VERR).
 */
export function descriptorQuery(c: Cpu, i: Insn): void {
  if (!c.pe || (c.s.flags.bits & 0x20000) !== 0) c.fault(V.UD, NO_ERROR);
  const s = c.s;
  const sel = i.mem ? c.rd16(c.lin(i.seg, c.ea(i), 2, false)) : getReg(s.gpr, i.aux >= 2 ? i.d : i.s, 0, 16);
  let ok = false;
  if ((sel & 0xfffc) !== 0 && readDescriptor(c, sel, false)) {
    const hi = desc[1]!;
    const type = (hi >>> 8) & 0xf;
    const isSeg = ((hi >>> 12) & 1) === 1;
    const dpl = (hi >>> 13) & 3;
    const conforming = isSeg && (type & 0xc) === 0xc;
    const visible = conforming || (dpl >= c.cpl && dpl >= (sel & 3));
    if (i.aux <= 1) ok = visible && (isSeg || queryableSystemType(c, type, i.aux === 0));
    else if (i.aux === 2) ok = isSeg && (conforming || visible) && ((type & 8) === 0 || (type & 2) !== 0);
    else ok = isSeg && visible && (type & 8) === 0 && (type & 2) !== 0;
    if (ok && i.aux === 0) setReg(s.gpr, i.d, 0, i.size, hi & 0x00f0ff00, 0);
    if (ok && i.aux === 1) {
      const raw = (desc[0]! & 0xffff) | (hi & 0xf0000);
      setReg(s.gpr, i.d, 0, i.size, hi & 0x800000 ? ((raw << 12) | 0xfff) >>> 0 : raw, 0);
    }
  }
  s.flags.merge(0x40, ok ? 0x40 : 0);
}

/** ARPL E16, r16 (legacy modes). */
export function arpl(c: Cpu, i: Insn): void {
  if (!c.pe || (c.s.flags.bits & 0x20000) !== 0) c.fault(V.UD, NO_ERROR);
  const g = c.s.gpr;
  const la = i.mem ? c.lin(i.seg, c.ea(i), 2, true) : Number.NaN;
  const dst = i.mem ? c.rd16(la) : g[2 * i.d]! & 0xffff;
  const src = g[2 * i.s]! & 0xffff;
  if ((dst & 3) < (src & 3)) {
    const v = (dst & ~3) | (src & 3);
    if (i.mem) c.wr16(la, v);
    else setReg(g, i.d, 0, 16, v, 0);
    c.s.flags.merge(0x40, 0x40);
  } else {
    c.s.flags.merge(0x40, 0);
  }
}

/** RDMSR */
export function rdmsr(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const g = c.s.gpr;
  if (!readMsr(c, g[2]!)) c.fault(V.GP, 0);
  g[0] = c.s.out[0]!;
  g[1] = 0;
  g[4] = c.s.out[1]!;
  g[5] = 0;
}

/** WRMSR */
export function wrmsr(c: Cpu, i: Insn): void {
  requireCpl0(c);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const g = c.s.gpr;
  if (!writeMsr(c, g[2]!, g[0]!, g[4]!)) c.fault(V.GP, 0);
  c.breakBlock = true;
}

/** RDTSC (aux 0) / RDTSCP (aux 1): a virtual counter of instructions retired. */
export function rdtsc(c: Cpu, i: Insn): void {
  if ((c.s.cr[8]! & 0x4) !== 0 && c.cpl > 0) c.fault(V.GP, 0);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const g = c.s.gpr;
  readTsc(c, c.s.out);
  g[0] = c.s.out[0]!;
  g[1] = 0;
  g[4] = c.s.out[1]!;
  g[5] = 0;
  if (i.aux === 1) {
    g[2] = c.msrs.tscAux[0]!;
    g[3] = 0;
  }
}

/** CPUID */
export function cpuidOp(c: Cpu, i: Insn): void {
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const g = c.s.gpr;
  const r = cpuid(c, g[0]!, g[2]!);
  g[0] = r[0]!;
  g[1] = 0;
  g[6] = r[1]!;
  g[7] = 0;
  g[2] = r[2]!;
  g[3] = 0;
  g[4] = r[3]!;
  g[5] = 0;
}

function flatSegment(c: Cpu, seg: number, sel: number, ar: number): void {
  const s = c.s;
  s.segSelector[seg] = sel;
  s.segBase[2 * seg] = 0;
  s.segBase[2 * seg + 1] = 0;
  s.segLimit[seg] = 0xffffffff;
  s.segAccess[seg] = ar;
  c.refreshSegment(seg);
}

/** SYSCALL (SDM vol. 2B): 64-bit mode with EFER.SCE. */
export function syscall(c: Cpu, i: Insn): void {
  const s = c.s;
  if ((s.efer[0]! & 1) === 0 || !c.mode64) c.fault(V.UD, NO_ERROR);
  const g = s.gpr;
  const next = i.next;
  g[2] = next >>> 0;
  g[3] = Math.floor(next / 4294967296) >>> 0;
  const fl = c.rflags();
  g[22] = fl & ~0x10000;
  g[23] = 0;
  const star = c.msrs.star[1]!;
  const cs = star & 0xfffc;
  flatSegment(c, Seg.CS, cs, 0xa09b);
  flatSegment(c, Seg.SS, (cs + 8) & 0xffff, 0xc093);
  const newFl = fl & ~c.msrs.fmask[0]! & ~0x10000;
  s.flags.write(newFl);
  if ((fl & ~newFl & 0x40000) !== 0) c.acCleared(); // the TLB caches SMAP checks made under AC
  c.setCpl(0);
  c.updateMode();
  c.nextRip = toNum(c.msrs.lstar[0]!, c.msrs.lstar[1]!);
}

/** SYSRET (SDM vol. 2B): REX.W returns to 64-bit code, otherwise to compatibility mode. */
export function sysret(c: Cpu, i: Insn): void {
  const s = c.s;
  if ((s.efer[0]! & 1) === 0 || !c.mode64) c.fault(V.UD, NO_ERROR);
  requireCpl0(c);
  const g = s.gpr;
  const base = c.msrs.star[1]! >>> 16;
  let target: number;
  if (i.size === 64) {
    target = toNum(g[2]!, g[3]!);
    checkTarget(c, target);
    flatSegment(c, Seg.CS, ((base + 16) & 0xfffc) | 3, 0xa0fb);
  } else {
    target = g[2]!;
    flatSegment(c, Seg.CS, (base & 0xfffc) | 3, 0xc0fb);
  }
  flatSegment(c, Seg.SS, ((base + 8) & 0xfffc) | 3, 0xc0f3);
  const oldFlags = c.rflags();
  const newFl = (g[22]! & 0x3c7fd7) | 2;
  s.flags.write(newFl);
  if ((oldFlags & ~newFl & 0x40000) !== 0) c.acCleared(); // the TLB caches SMAP checks made under AC
  if ((g[22]! & 0x100) !== 0) refreshDebug(c); // TF from R11: single-step from here on
  c.setCpl(3);
  c.updateMode();
  c.nextRip = target;
}

/** SYSENTER (SDM vol. 2B). */
export function sysenter(c: Cpu, _i: Insn): void {
  const s = c.s;
  const m = c.msrs.sysenter;
  if (!c.pe || (m[0]! & 0xfffc) === 0) c.fault(V.GP, 0);
  const lma = (s.efer[0]! & 0x400) !== 0;
  const cs = m[0]! & 0xfffc;
  flatSegment(c, Seg.CS, cs, lma ? 0xa09b : 0xc09b);
  flatSegment(c, Seg.SS, (cs + 8) & 0xfffc, 0xc093);
  s.flags.write(c.rflags() & ~(0x20000 | 0x200 | 0x10000));
  c.setCpl(0);
  c.updateMode();
  const g = s.gpr;
  if (lma) {
    g[8] = m[2]!;
    g[9] = m[3]!;
    c.nextRip = toNum(m[4]!, m[5]!);
  } else {
    g[8] = m[2]!;
    g[9] = 0;
    c.nextRip = m[4]!;
  }
}

/** SYSEXIT (SDM vol. 2B): REX.W returns to 64-bit code. */
export function sysexit(c: Cpu, i: Insn): void {
  const s = c.s;
  const m = c.msrs.sysenter;
  if (!c.pe || c.cpl !== 0 || (m[0]! & 0xfffc) === 0) c.fault(V.GP, 0);
  const g = s.gpr;
  const cs = m[0]! & 0xfffc;
  if (i.size === 64 && (!isCanonicalHi(c, g[3]!) || !isCanonicalHi(c, g[5]!))) c.fault(V.GP, 0);
  if (i.size === 64) {
    flatSegment(c, Seg.CS, (cs + 32) | 3, 0xa0fb);
    flatSegment(c, Seg.SS, (cs + 40) | 3, 0xc0f3);
  } else {
    flatSegment(c, Seg.CS, (cs + 16) | 3, 0xc0fb);
    flatSegment(c, Seg.SS, (cs + 24) | 3, 0xc0f3);
  }
  c.setCpl(3);
  c.updateMode();
  if (i.size === 64) {
    g[8] = g[2]!;
    g[9] = g[3]!;
    c.nextRip = toNum(g[4]!, g[5]!);
  } else {
    g[8] = g[2]!;
    g[9] = 0;
    c.nextRip = g[4]!;
  }
}

/** SWAPGS: exchanges GS.base with IA32_KERNEL_GS_BASE (64-bit mode, CPL 0). */
export function swapgs(c: Cpu, _i: Insn): void {
  if (!c.mode64) c.fault(V.UD, NO_ERROR);
  requireCpl0(c);
  const s = c.s;
  const k = c.msrs.kernelGsBase;
  const lo = s.segBase[2 * Seg.GS]!;
  const hi = s.segBase[2 * Seg.GS + 1]!;
  s.segBase[2 * Seg.GS] = k[0]!;
  s.segBase[2 * Seg.GS + 1] = k[1]!;
  k[0] = lo;
  k[1] = hi;
  c.refreshSegment(Seg.GS);
}

/** RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (aux bit 0 = GS, bit 1 = write); CR4.FSGSBASE required. */
export function fsgsBase(c: Cpu, i: Insn): void {
  const s = c.s;
  if (!c.mode64 || (s.cr[8]! & 0x10000) === 0) c.fault(V.UD, NO_ERROR);
  const seg = i.aux & 1 ? Seg.GS : Seg.FS;
  const g = s.gpr;
  if (i.aux & 2) {
    const lo = g[2 * i.d]!;
    const hi = i.size === 64 ? g[2 * i.d + 1]! : 0;
    if (!isCanonicalHi(c, hi)) c.fault(V.GP, 0);
    s.segBase[2 * seg] = lo;
    s.segBase[2 * seg + 1] = hi;
    c.refreshSegment(seg);
  } else {
    setReg(g, i.d, 0, i.size, s.segBase[2 * seg]!, s.segBase[2 * seg + 1]!);
  }
}
