/**
 * RDMSR/WRMSR on the MSRs an operating system touches (SDM vol. 4, Table 2-2; MTRRs and PAT: SDM
 * vol. 3, "Memory Cache Control"; machine checks: SDM vol. 3, "Machine-Check Architecture").
 *
 * The MSRs are a table: index, name, where the value lives, which bits a write may set, and an
 * optional validator or special read/write. An unknown MSR, or a write that sets a reserved bit,
 * breaks a rule of the table or a non-canonical address, returns false: the caller raises #GP(0).
 */
import { Seg } from "../state/registers.js";
import { isCanonicalHi } from "./canonical.js";
import type { Cpu } from "./cpu.js";
import { add64, FIXED_MTRRS, MC_BANK_COUNT, Msr, type Msrs, MTRR_VARIABLE_COUNT, sub64 } from "./msr.js";

/** One MSR: its name, storage and write rules. */
interface MsrDef {
  readonly name: string;
  /** The array (of {@link Msrs}) holding the value and the index of its low half. */
  readonly store?: (m: Msrs) => Uint32Array;
  readonly at?: number;
  /** Bits a write may change (lo, hi); a write setting any other bit #GPs unless ignored. */
  readonly wlo: number;
  readonly whi: number;
  /** Bits a write leaves alone without faulting (read-only bits, "writes ignored"). */
  readonly ilo?: number;
  readonly ihi?: number;
  /** A write is refused (#GP) altogether: read-only MSR. */
  readonly readOnly?: boolean;
  /** Reads fault: write-only MSR. */
  readonly writeOnly?: boolean;
  /** Extra validation of the written value. */
  readonly check?: (c: Cpu, lo: number, hi: number) => boolean;
  /** Whether the MSR exists on this model (default: yes). */
  readonly exists?: (c: Cpu) => boolean;
  /** A special read into `c.s.out`. */
  readonly read?: (c: Cpu) => void;
  /** A special write (after the mask checks); false = #GP. */
  readonly write?: (c: Cpu, lo: number, hi: number) => boolean;
}

/** Bits 0..n-1 of a 32-bit half (n may be 0..32). */
function bits(n: number): number {
  return n >= 32 ? 0xffffffff : ((1 << n) - 1) >>> 0;
}

/** Physical-address bits of the high half below MAXPHYADDR (bits 63:MAXPHYADDR are reserved). */
function physHi(c: Cpu): number {
  return bits(c.model.maxPhysAddr - 32);
}

/** Memory types an MTRR may hold: UC, WC, WT, WP, WB (SDM vol. 3, Table 13-8 "Memory Types"). */
function mtrrType(t: number): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6;
}

/** Memory types a PAT entry may hold: UC, WC, WT, WP, WB, UC- (SDM vol. 3, "PAT Memory Types"). */
function patType(t: number): boolean {
  return mtrrType(t) || t === 7;
}

/** Every byte of (lo, hi) satisfies `ok`. */
function everyByte(lo: number, hi: number, ok: (t: number) => boolean): boolean {
  for (let k = 0; k < 4; k++) if (!ok((lo >>> (8 * k)) & 0xff) || !ok((hi >>> (8 * k)) & 0xff)) return false;
  return true;
}

/** Whether NX is usable: the model has it and IA32_MISC_ENABLE.XD_DISABLE does not turn it off. */
export function nxSupported(c: Cpu): boolean {
  return c.model.nx && (c.msrs.miscEnable[1]! & 0x4) === 0;
}

const spec = (c: Cpu): boolean => c.model.speculationControl;

/** The time-stamp counter into `out` (lo, hi): retired instructions + IA32_TSC offset. */
export function readTsc(c: Cpu, out: Uint32Array): void {
  const n = c.instructions;
  const off = c.msrs.tscOffset;
  add64(out, n >>> 0, Math.floor(n / 4294967296) >>> 0, off[0]!, off[1]!);
}

const tmp = new Uint32Array(2);

/** WRMSR IA32_TSC: the counter continues from the value; TSC_ADJUST moves by the same step (SDM vol. 3, 19.17.3). */
function writeTsc(c: Cpu, lo: number, hi: number): boolean {
  const m = c.msrs;
  readTsc(c, tmp);
  sub64(tmp, lo, hi, tmp[0]!, tmp[1]!); // the step
  add64(m.tscAdjust, m.tscAdjust[0]!, m.tscAdjust[1]!, tmp[0]!, tmp[1]!);
  add64(m.tscOffset, m.tscOffset[0]!, m.tscOffset[1]!, tmp[0]!, tmp[1]!);
  return true;
}

/** WRMSR IA32_TSC_ADJUST: the TSC moves by the change of the adjustment (SDM vol. 3, 19.17.3). */
function writeTscAdjust(c: Cpu, lo: number, hi: number): boolean {
  const m = c.msrs;
  sub64(tmp, lo, hi, m.tscAdjust[0]!, m.tscAdjust[1]!);
  add64(m.tscOffset, m.tscOffset[0]!, m.tscOffset[1]!, tmp[0]!, tmp[1]!);
  m.tscAdjust[0] = lo;
  m.tscAdjust[1] = hi;
  return true;
}

/** WRMSR IA32_EFER (SDM vol. 4, Table 2-2; vol. 3, 10.8.5 "Initializing IA-32e Mode"). */
function writeEfer(c: Cpu, lo: number, hi: number): boolean {
  const s = c.s;
  if ((lo & 0x800) !== 0 && !nxSupported(c)) return false;
  const old = s.efer[0]!;
  // LME may not change while paging is on; LMA is read-only (kept).
  if (c.paging && ((old ^ lo) & 0x100) !== 0) return false;
  s.efer[0] = ((lo & 0x901) | (old & 0x400)) >>> 0;
  s.efer[1] = hi & 0;
  if (((old ^ s.efer[0]!) & 0x800) !== 0) c.pagingChanged();
  return true;
}

function segBaseWriter(seg: number): (c: Cpu, lo: number, hi: number) => boolean {
  return (c, lo, hi) => {
    c.s.segBase[2 * seg] = lo;
    c.s.segBase[2 * seg + 1] = hi;
    c.refreshSegment(seg);
    return true;
  };
}

function segBaseReader(seg: number): (c: Cpu) => void {
  return (c) => {
    c.s.out[0] = c.s.segBase[2 * seg]!;
    c.s.out[1] = c.s.segBase[2 * seg + 1]!;
  };
}

const isCanonical = (c: Cpu, _lo: number, hi: number): boolean => isCanonicalHi(c, hi);

/** The table (data), keyed by MSR index. */
const TABLE = new Map<number, MsrDef>();

function def(index: number, d: MsrDef): void {
  TABLE.set(index, d);
}

def(Msr.TSC, {
  name: "IA32_TIME_STAMP_COUNTER",
  wlo: 0xffffffff,
  whi: 0xffffffff,
  read: (c) => readTsc(c, c.s.out),
  write: writeTsc,
});
def(Msr.TSC_ADJUST, {
  name: "IA32_TSC_ADJUST",
  store: (m) => m.tscAdjust,
  wlo: 0xffffffff,
  whi: 0xffffffff,
  write: writeTscAdjust,
});
def(Msr.TSC_AUX, { name: "IA32_TSC_AUX", store: (m) => m.tscAux, wlo: 0xffffffff, whi: 0 });
// APIC base: BSP (8), global enable (11), base up to MAXPHYADDR; bit 9 and x2APIC enable (10,
// no x2APIC on this model) are reserved (SDM vol. 3, 12.4.4 "Local APIC Status and Location").
def(Msr.APIC_BASE, {
  name: "IA32_APIC_BASE",
  store: (m) => m.apicBase,
  wlo: 0xfffff900,
  whi: 0xffffffff,
  check: (c, _lo, hi) => (hi & ~physHi(c)) === 0,
});
// Lock (0); VMX in/outside SMX (1, 2) only with CPUID.1:ECX.VMX — not on this model (VMX
// non-root execution is not wired in the interpreter). Locked: every write #GPs (SDM vol. 3,
// 24.7 "Enabling and Entering VMX Operation").
def(Msr.FEATURE_CONTROL, {
  name: "IA32_FEATURE_CONTROL",
  store: (m) => m.featureControl,
  wlo: 0x1,
  whi: 0,
  check: (c) => (c.msrs.featureControl[0]! & 1) === 0,
});
def(Msr.SPEC_CTRL, {
  name: "IA32_SPEC_CTRL",
  store: (m) => m.specCtrl,
  wlo: 0x7, // IBRS, STIBP, SSBD
  whi: 0,
  exists: spec,
});
def(Msr.PRED_CMD, {
  name: "IA32_PRED_CMD",
  wlo: 0x1, // IBPB: a command, nothing stored
  whi: 0,
  writeOnly: true,
  exists: spec,
  write: () => true,
});
def(Msr.ARCH_CAPABILITIES, {
  name: "IA32_ARCH_CAPABILITIES",
  wlo: 0,
  whi: 0,
  readOnly: true,
  exists: spec,
  read: (c) => {
    c.s.out[0] = c.model.archCapabilities >>> 0;
    c.s.out[1] = 0;
  },
});
// The microcode revision (bits 63:32) is 0; writes (the "write 0, then CPUID" protocol) are accepted.
def(Msr.BIOS_SIGN_ID, {
  name: "IA32_BIOS_SIGN_ID",
  store: (m) => m.biosSignId,
  wlo: 0,
  whi: 0,
  ilo: 0xffffffff,
  ihi: 0xffffffff,
});
def(Msr.SYSENTER_CS, {
  name: "IA32_SYSENTER_CS",
  store: (m) => m.sysenter,
  at: 0,
  wlo: 0xffffffff,
  whi: 0,
  ihi: 0xffffffff,
});
def(Msr.SYSENTER_ESP, {
  name: "IA32_SYSENTER_ESP",
  store: (m) => m.sysenter,
  at: 2,
  wlo: 0xffffffff,
  whi: 0xffffffff,
  check: isCanonical,
});
def(Msr.SYSENTER_EIP, {
  name: "IA32_SYSENTER_EIP",
  store: (m) => m.sysenter,
  at: 4,
  wlo: 0xffffffff,
  whi: 0xffffffff,
  check: isCanonical,
});
// MCG_CAP: Count = MC_BANK_COUNT; no MCG_CTL, no CMCI, no LMCE (SDM vol. 3, "IA32_MCG_CAP MSR").
def(Msr.MCG_CAP, {
  name: "IA32_MCG_CAP",
  wlo: 0,
  whi: 0,
  readOnly: true,
  read: (c) => {
    c.s.out[0] = MC_BANK_COUNT;
    c.s.out[1] = 0;
  },
});
def(Msr.MCG_STATUS, { name: "IA32_MCG_STATUS", store: (m) => m.mcgStatus, wlo: 0x7, whi: 0 }); // RIPV, EIPV, MCIP
for (let k = 0; k < MC_BANK_COUNT; k++) {
  def(Msr.MC0_CTL + 4 * k, {
    name: `IA32_MC${k}_CTL`,
    store: (m) => m.mcBanks,
    at: 8 * k,
    wlo: 0xffffffff,
    whi: 0xffffffff,
  });
  // STATUS, ADDR, MISC: software clears them by writing 0s; writing 1s #GPs.
  for (const [off, what] of [
    [1, "STATUS"],
    [2, "ADDR"],
    [3, "MISC"],
  ] as const)
    def(Msr.MC0_CTL + 4 * k + off, {
      name: `IA32_MC${k}_${what}`,
      store: (m) => m.mcBanks,
      at: 8 * k + 2 * off,
      wlo: 0,
      whi: 0,
    });
}
// MISC_ENABLE (SDM vol. 4, Table 2-2): fast strings (0), automatic thermal control (3), limit
// CPUID maxval (22), xTPR disable (23), XD disable (34) are R/W; performance monitoring
// available (7), BTS unavailable (11), PEBS unavailable (12) are read-only; EIST (16) and
// MONITOR FSM (18) are reserved without EIST and MONITOR; everything else is reserved.
def(Msr.MISC_ENABLE, {
  name: "IA32_MISC_ENABLE",
  store: (m) => m.miscEnable,
  wlo: 0x1 | 0x8 | 0x400000 | 0x800000,
  whi: 0x4,
  ilo: 0x80 | 0x800 | 0x1000,
  ihi: 0,
  // XD disable exists only where NX does.
  check: (c, _lo, hi) => (hi & 0x4) === 0 || c.model.nx,
});
def(Msr.PAT, {
  name: "IA32_PAT",
  store: (m) => m.pat,
  wlo: 0x07070707,
  whi: 0x07070707,
  check: (_c, lo, hi) => everyByte(lo, hi, patType),
});
// MTRRCAP: VCNT = 8, FIX (8), WC (10); no SMRR (SDM vol. 3, "IA32_MTRRCAP Register").
def(Msr.MTRRCAP, {
  name: "IA32_MTRRCAP",
  wlo: 0,
  whi: 0,
  readOnly: true,
  read: (c) => {
    c.s.out[0] = MTRR_VARIABLE_COUNT | 0x100 | 0x400;
    c.s.out[1] = 0;
  },
});
def(Msr.MTRR_DEF_TYPE, {
  name: "IA32_MTRR_DEF_TYPE",
  store: (m) => m.mtrrDefType,
  wlo: 0xcff, // type (7:0), FE (10), E (11)
  whi: 0,
  check: (_c, lo) => mtrrType(lo & 0xff),
});
FIXED_MTRRS.forEach((index, k) => {
  def(index, {
    name: `IA32_MTRR_FIX_${index.toString(16).toUpperCase()}`,
    store: (m) => m.mtrrFixed,
    at: 2 * k,
    wlo: 0xffffffff,
    whi: 0xffffffff,
    check: (_c, lo, hi) => everyByte(lo, hi, mtrrType),
  });
});
for (let k = 0; k < MTRR_VARIABLE_COUNT; k++) {
  def(Msr.MTRR_PHYSBASE0 + 2 * k, {
    name: `IA32_MTRR_PHYSBASE${k}`,
    store: (m) => m.mtrrVariable,
    at: 4 * k,
    wlo: 0xfffff0ff, // type (7:0), base (31:12)
    whi: 0xffffffff,
    check: (c, lo, hi) => mtrrType(lo & 0xff) && (hi & ~physHi(c)) === 0,
  });
  def(Msr.MTRR_PHYSMASK0 + 2 * k, {
    name: `IA32_MTRR_PHYSMASK${k}`,
    store: (m) => m.mtrrVariable,
    at: 4 * k + 2,
    wlo: 0xfffff800, // valid (11), mask (31:12)
    whi: 0xffffffff,
    check: (c, _lo, hi) => (hi & ~physHi(c)) === 0,
  });
}
// EFER: SCE (0), LME (8), LMA (10, read-only: kept), NXE (11, when NX is supported).
def(Msr.EFER, {
  name: "IA32_EFER",
  wlo: 0x901,
  whi: 0,
  ilo: 0x400,
  read: (c) => {
    c.s.out[0] = c.s.efer[0]!;
    c.s.out[1] = c.s.efer[1]!;
  },
  write: writeEfer,
});
def(Msr.STAR, { name: "IA32_STAR", store: (m) => m.star, wlo: 0xffffffff, whi: 0xffffffff });
def(Msr.LSTAR, {
  name: "IA32_LSTAR",
  store: (m) => m.lstar,
  wlo: 0xffffffff,
  whi: 0xffffffff,
  check: isCanonical,
});
def(Msr.CSTAR, {
  name: "IA32_CSTAR",
  store: (m) => m.cstar,
  wlo: 0xffffffff,
  whi: 0xffffffff,
  check: isCanonical,
});
def(Msr.FMASK, { name: "IA32_FMASK", store: (m) => m.fmask, wlo: 0xffffffff, whi: 0 });
def(Msr.FS_BASE, {
  name: "IA32_FS_BASE",
  wlo: 0xffffffff,
  whi: 0xffffffff,
  check: isCanonical,
  read: segBaseReader(Seg.FS),
  write: segBaseWriter(Seg.FS),
});
def(Msr.GS_BASE, {
  name: "IA32_GS_BASE",
  wlo: 0xffffffff,
  whi: 0xffffffff,
  check: isCanonical,
  read: segBaseReader(Seg.GS),
  write: segBaseWriter(Seg.GS),
});
def(Msr.KERNEL_GS_BASE, {
  name: "IA32_KERNEL_GS_BASE",
  store: (m) => m.kernelGsBase,
  wlo: 0xffffffff,
  whi: 0xffffffff,
  check: isCanonical,
});

/** The name of MSR `index` (e.g. "IA32_PAT"), or undefined when the interpreter has no such MSR. */
export function msrName(index: number): string | undefined {
  return TABLE.get(index >>> 0)?.name;
}

/** The indexes of every MSR in the table (whether the model has it or not). */
export function msrIndexes(): number[] {
  return [...TABLE.keys()];
}

/** Reads MSR `index` into `c.s.out[0..1]`; false when it does not exist (or is write-only). */
export function readMsr(c: Cpu, index: number): boolean {
  const dev = c.msrDevice;
  if (dev?.handlesMsr(index >>> 0)) return dev.readMsr(index >>> 0, c.s.out);
  const d = TABLE.get(index >>> 0);
  if (d === undefined || d.writeOnly === true || (d.exists !== undefined && !d.exists(c))) return false;
  if (d.read !== undefined) {
    d.read(c);
    return true;
  }
  const a = d.store!(c.msrs);
  const at = d.at ?? 0;
  c.s.out[0] = a[at]!;
  c.s.out[1] = a[at + 1]!;
  return true;
}

/** Writes MSR `index`; false (#GP) when it does not exist, is read-only, or `lo`/`hi` break its rules. */
export function writeMsr(c: Cpu, index: number, lo: number, hi: number): boolean {
  const dev = c.msrDevice;
  if (dev?.handlesMsr(index >>> 0)) return dev.writeMsr(index >>> 0, lo >>> 0, hi >>> 0);
  const d = TABLE.get(index >>> 0);
  if (d === undefined || d.readOnly === true || (d.exists !== undefined && !d.exists(c))) return false;
  lo >>>= 0;
  hi >>>= 0;
  const ilo = d.ilo ?? 0;
  const ihi = d.ihi ?? 0;
  if ((lo & ~(d.wlo | ilo)) !== 0 || (hi & ~(d.whi | ihi)) !== 0) return false;
  if (d.check !== undefined && !d.check(c, lo, hi)) return false;
  if (d.write !== undefined) return d.write(c, lo, hi);
  const a = d.store!(c.msrs);
  const at = d.at ?? 0;
  // Ignored bits keep their value; the writable ones take the new one.
  a[at] = ((a[at]! & ilo) | (lo & d.wlo)) >>> 0;
  a[at + 1] = ((a[at + 1]! & ihi) | (hi & d.whi)) >>> 0;
  return true;
}
