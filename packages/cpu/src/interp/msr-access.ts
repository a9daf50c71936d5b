/**
 * RDMSR/WRMSR on the MSRs an operating system touches (SDM vol. 4, Table 2-2). An unknown MSR, or a
 * write of reserved bits, returns false (the caller raises #GP(0)).
 */
import { Seg } from "../state/registers.js";
import { isCanonicalHi } from "./canonical.js";
import type { Cpu } from "./cpu.js";
import { Msr } from "./msr.js";
import { setPkrs } from "./pkeys.js";

const EFER_WRITABLE = 0x1 | 0x100 | 0x800; // SCE, LME, NXE

function pair(c: Cpu, a: Uint32Array, k = 0): true {
  c.s.out[0] = a[k]!;
  c.s.out[1] = a[k + 1]!;
  return true;
}

/** Reads MSR `index` into `c.s.out[0..1]`; false when it does not exist. */
export function readMsr(c: Cpu, index: number): boolean {
  const s = c.s;
  const m = c.msrs;
  switch (index >>> 0) {
    case Msr.TSC: {
      const t = c.tsc();
      s.out[0] = t >>> 0;
      s.out[1] = Math.floor(t / 4294967296) >>> 0;
      return true;
    }
    case Msr.APIC_BASE:
      return pair(c, m.apicBase);
    case Msr.FEATURE_CONTROL:
      s.out[0] = 1; // locked, VMX off
      s.out[1] = 0;
      return true;
    case Msr.SPEC_CTRL:
      return pair(c, m.specCtrl);
    case Msr.BIOS_SIGN_ID:
    case Msr.MTRRCAP:
    case Msr.TSC_ADJUST:
      s.out[0] = 0;
      s.out[1] = 0;
      return true;
    case Msr.SYSENTER_CS:
      return pair(c, m.sysenter, 0);
    case Msr.SYSENTER_ESP:
      return pair(c, m.sysenter, 2);
    case Msr.SYSENTER_EIP:
      return pair(c, m.sysenter, 4);
    case Msr.MISC_ENABLE:
      return pair(c, m.miscEnable);
    case Msr.PAT:
      return pair(c, m.pat);
    case Msr.PKRS:
      if (c.model.pks !== true) return false;
      s.out[0] = s.pkrs;
      s.out[1] = 0;
      return true;
    case Msr.MTRR_DEF_TYPE:
      return pair(c, m.mtrrDefType);
    case Msr.EFER:
      return pair(c, s.efer);
    case Msr.STAR:
      return pair(c, m.star);
    case Msr.LSTAR:
      return pair(c, m.lstar);
    case Msr.CSTAR:
      return pair(c, m.cstar);
    case Msr.FMASK:
      return pair(c, m.fmask);
    case Msr.FS_BASE:
      return pair(c, s.segBase, 2 * Seg.FS);
    case Msr.GS_BASE:
      return pair(c, s.segBase, 2 * Seg.GS);
    case Msr.KERNEL_GS_BASE:
      return pair(c, m.kernelGsBase);
    case Msr.TSC_AUX:
      return pair(c, m.tscAux);
    default:
      return false;
  }
}

function set(a: Uint32Array, lo: number, hi: number, k = 0): true {
  a[k] = lo;
  a[k + 1] = hi;
  return true;
}

/** Writes MSR `index`; false when it does not exist or `lo`/`hi` set reserved bits. */
export function writeMsr(c: Cpu, index: number, lo: number, hi: number): boolean {
  const s = c.s;
  const m = c.msrs;
  switch (index >>> 0) {
    case Msr.TSC:
      c.tscOffset = hi * 4294967296 + lo - c.instructions;
      return true;
    case Msr.APIC_BASE:
      return set(m.apicBase, (lo & 0xfffff900) >>> 0, hi);
    case Msr.SPEC_CTRL:
      return set(m.specCtrl, lo, hi);
    case Msr.BIOS_SIGN_ID:
    case Msr.TSC_ADJUST:
      return true;
    case Msr.SYSENTER_CS:
      return set(m.sysenter, lo, hi, 0);
    case Msr.SYSENTER_ESP:
      return isCanonicalHi(c, hi) && set(m.sysenter, lo, hi, 2);
    case Msr.SYSENTER_EIP:
      return isCanonicalHi(c, hi) && set(m.sysenter, lo, hi, 4);
    case Msr.MISC_ENABLE:
      return set(m.miscEnable, lo, hi);
    case Msr.PAT:
      return set(m.pat, lo, hi);
    case Msr.PKRS: // bits 63:32 are reserved (SDM vol. 4)
      if (c.model.pks !== true || hi !== 0) return false;
      setPkrs(c, lo);
      return true;
    case Msr.MTRR_DEF_TYPE:
      return set(m.mtrrDefType, lo, hi);
    case Msr.EFER: {
      if (hi !== 0 || (lo & ~(EFER_WRITABLE | 0x400)) !== 0) return false;
      const old = s.efer[0]!;
      // LME may not change while paging is on (SDM 10.8.5); LMA is read-only.
      if (c.paging && ((old ^ lo) & 0x100) !== 0) return false;
      s.efer[0] = ((lo & EFER_WRITABLE) | (old & 0x400)) >>> 0;
      s.efer[1] = 0;
      if (((old ^ s.efer[0]!) & 0x800) !== 0) c.pagingChanged();
      return true;
    }
    case Msr.STAR:
      return set(m.star, lo, hi);
    case Msr.LSTAR:
      return isCanonicalHi(c, hi) && set(m.lstar, lo, hi);
    case Msr.CSTAR:
      return isCanonicalHi(c, hi) && set(m.cstar, lo, hi);
    case Msr.FMASK:
      return set(m.fmask, lo, 0);
    case Msr.FS_BASE:
      if (!isCanonicalHi(c, hi)) return false;
      set(s.segBase, lo, hi, 2 * Seg.FS);
      c.refreshSegment(Seg.FS);
      return true;
    case Msr.GS_BASE:
      if (!isCanonicalHi(c, hi)) return false;
      set(s.segBase, lo, hi, 2 * Seg.GS);
      c.refreshSegment(Seg.GS);
      return true;
    case Msr.KERNEL_GS_BASE:
      return isCanonicalHi(c, hi) && set(m.kernelGsBase, lo, hi);
    case Msr.TSC_AUX:
      return set(m.tscAux, lo, 0);
    default:
      return false;
  }
}
