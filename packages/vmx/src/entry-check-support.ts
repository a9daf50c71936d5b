import type { PhysicalMemory } from "@turtles/memory";
import type { VmxCapabilities } from "./capabilities.js";
import { EntryCtl, Proc2Ctl } from "./controls.js";
import { effectiveProc2 } from "./l1-routing.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F } from "./vmcs-fields.js";

// What the VM-entry checks share: their types, the stages that decide how a failure is reported,
// and small readers of VMCS fields (Intel SDM vol. 3, 27.2 and 27.3).

/** The stage a VM-entry check belongs to; it decides how a failure is reported. */
export const EntryStage = {
  /** VMX controls (27.2.1): VMfailValid(7). */
  Controls: 0,
  /** Host-state area and address-space size (27.2.2-27.2.4): VMfailValid(8). */
  Host: 1,
  /** Guest-state area (27.3.1): VM exit 33 "VM-entry failure due to invalid guest state". */
  Guest: 2,
} as const;
/** One of the {@link EntryStage} values. */
export type EntryStage = (typeof EntryStage)[keyof typeof EntryStage];

/** Exit qualifications of a VM-entry failure due to invalid guest state (SDM 27.8). */
export const EntryFailureQual = {
  /** Not otherwise specified. */
  Default: 0,
  /** A problem loading the PDPTEs. */
  Pdpte: 2,
  /** An invalid VMCS link pointer. */
  VmcsLinkPointer: 4,
} as const;

/** What a check may look at: the VMCS, the capabilities, memory, and the mode VMLAUNCH ran in. */
export interface EntryCheckContext {
  /** The VMCS being entered. */
  readonly vmcs: Vmcs;
  /** The implementation's capabilities (allowed control settings, fixed bits, ...). */
  readonly caps: VmxCapabilities;
  /** Physical memory of the processor executing VM entry (PDPTEs, link pointer, APIC page). */
  readonly mem: PhysicalMemory;
  /** IA32_EFER.LMA of the processor executing VMLAUNCH/VMRESUME. */
  readonly hostLongMode: boolean;
}

/** One VM-entry check. */
export interface EntryCheck {
  /** Short stable name. */
  readonly id: string;
  /** Where the SDM states it. */
  readonly sdm: string;
  /** Stage (decides the failure report). */
  readonly stage: EntryStage;
  /** Exit qualification when a guest-state check fails (0 for other stages). */
  readonly qualification: number;
  /** True when the VMCS passes the check. */
  readonly passes: (c: EntryCheckContext) => boolean;
  /**
   * A control/host check whose outcome can change while the control and host fields stay the
   * same (it reads memory, the processor's mode, or the event-injection or guest fields).
   */
  readonly alwaysRecheck: boolean;
}

// --- helpers ----------------------------------------------------------------------------------

/** Low 32 bits of field `f`. */
export const lo = (c: EntryCheckContext, f: number) => c.vmcs.get32(f);
/** High 32 bits of field `f`. */
export const hi = (c: EntryCheckContext, f: number) => c.vmcs.getHi(f);
/** Pin-based controls. */
export const pinc = (c: EntryCheckContext) => c.vmcs.get32(F.PIN_BASED_VM_EXEC_CONTROL);
/** Primary processor-based controls. */
export const procc = (c: EntryCheckContext) => c.vmcs.get32(F.CPU_BASED_VM_EXEC_CONTROL);
/** Secondary processor-based controls in effect. */
export const proc2c = (c: EntryCheckContext) => effectiveProc2(c.vmcs);
/** VM-exit controls. */
export const exitc = (c: EntryCheckContext) => c.vmcs.get32(F.VM_EXIT_CONTROLS);
/** VM-entry controls. */
export const entryc = (c: EntryCheckContext) => c.vmcs.get32(F.VM_ENTRY_CONTROLS);
/** Any bit of `mask` set in `v`. */
export const has = (v: number, mask: number) => (v & mask) !== 0;

/** Bits 63:32 of a value with MAXPHYADDR `w` hold no address bits beyond the width. */
export function withinWidth(c: EntryCheckContext, hiWord: number): boolean {
  const w = c.caps.features.maxPhysAddr;
  return w >= 64 || hiWord >>> (w - 32) === 0;
}
/** A physical address field: aligned to `align` bytes and within the physical-address width. */
export function addrOk(c: EntryCheckContext, f: number, align: number): boolean {
  return (lo(c, f) & (align - 1)) === 0 && withinWidth(c, hi(c, f));
}
/** Canonical for `linearBits` (48 or 57) address bits: bits 63:(linearBits - 1) all equal (all in the high half). */
export function isCanonical(_loWord: number, hiWord: number, linearBits = 48): boolean {
  const top = hiWord >> (linearBits - 33); // arithmetic: bits 63:(linearBits - 1) as a signed value
  return top === 0 || top === -1;
}
/** Field `f` holds a canonical address. */
export const canon = (c: EntryCheckContext, f: number) =>
  isCanonical(lo(c, f), hi(c, f), c.caps.features.linearAddressBits);
/** Guest segment `seg` has a canonical base. */
export const baseCanonical = (c: EntryCheckContext, seg: number) =>
  isCanonical(0, c.vmcs.getHi(F.GUEST_ES_BASE + 2 * seg), c.caps.features.linearAddressBits);
/** A control word respects the allowed-0 (must be 1) and allowed-1 settings. */
export const ctlOk = (v: number, must1: number, may1: number) =>
  (v & must1) >>> 0 === must1 >>> 0 && (v & ~may1) === 0;
/** PAT: every byte is a valid memory type (0, 1, 4, 5, 6, 7). */
export function patOk(l: number, h: number): boolean {
  for (let i = 0; i < 4; i++) {
    for (const t of [(l >>> (8 * i)) & 0xff, (h >>> (8 * i)) & 0xff]) {
      if (t === 2 || t === 3 || t > 7) return false;
    }
  }
  return true;
}
/** IA32_PERF_GLOBAL_CTRL sets only bits of existing counters. */
export function perfOk(c: EntryCheckContext, l: number, h: number): boolean {
  const v = c.caps.features.perfGlobalCtrlValid;
  return (l & ~v.lo) === 0 && (h & ~v.hi) === 0;
}
/** IA32_EFER.SCE. */
export const EFER_SCE = 1;
/** IA32_EFER.LME. */
export const EFER_LME = 1 << 8;
/** IA32_EFER.LMA. */
export const EFER_LMA = 1 << 10;
/** IA32_EFER.NXE. */
export const EFER_NXE = 1 << 11;
/** IA32_EFER bits that may be 1. */
export const EFER_VALID = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
/** CR0.PE. */
export const CR0_PE = 1;
/** CR0.PG. */
export const CR0_PG = 0x8000_0000;
/** CR4.PAE. */
export const CR4_PAE = 1 << 5;
/** CR4.PCIDE. */
export const CR4_PCIDE = 1 << 17;
/** RFLAGS.VM. */
export const RFLAGS_VM = 1 << 17;
/** RFLAGS.IF. */
export const RFLAGS_IF = 1 << 9;
/** RFLAGS.TF. */
export const RFLAGS_TF = 1 << 8;

/** An EPT pointer is valid for the implementation (SDM 27.2.1.1, "EPTP"). */
export function isValidEptp(caps: VmxCapabilities, eptpLo: number, eptpHi: number): boolean {
  const e = caps.features.eptVpid;
  const memType = eptpLo & 7;
  if (!((memType === 0 && e.memTypeUc) || (memType === 6 && e.memTypeWb))) return false;
  const walk = (eptpLo >>> 3) & 7;
  if (!((walk === 3 && e.walk4) || (walk === 4 && e.walk5))) return false;
  if ((eptpLo & 0x40) !== 0 && !e.accessedDirty) return false;
  if ((eptpLo & 0xf80) !== 0) return false; // bits 11:7 reserved (no supervisor shadow stack)
  const w = caps.features.maxPhysAddr;
  return w >= 64 || eptpHi >>> (w - 32) === 0;
}

/** Access rights of guest segment register `seg` (0 ES ... 7 TR). */
export function segAr(c: EntryCheckContext, seg: number): number {
  return c.vmcs.get32(F.GUEST_ES_AR_BYTES + 2 * seg);
}
/** Segment index of ES. */
export const SEG_ES = 0;
/** Segment index of CS. */
export const SEG_CS = 1;
/** Segment index of SS. */
export const SEG_SS = 2;
/** Segment index of DS. */
export const SEG_DS = 3;
/** Segment index of FS. */
export const SEG_FS = 4;
/** Segment index of GS. */
export const SEG_GS = 5;
/** Segment index of LDTR. */
export const SEG_LDTR = 6;
/** Segment index of TR. */
export const SEG_TR = 7;
/** The "unusable" bit (16) of access rights. */
export const unusable = (ar: number) => (ar & 0x10000) !== 0;
/** Segment type (bits 3:0). */
export const arType = (ar: number) => ar & 0xf;
/** Descriptor privilege level (bits 6:5). */
export const arDpl = (ar: number) => (ar >>> 5) & 3;
/** Guest selector of segment `seg`. */
export const selector = (c: EntryCheckContext, seg: number) => c.vmcs.get32(F.GUEST_ES_SELECTOR + 2 * seg);
/** Guest limit of segment `seg`. */
export const limit = (c: EntryCheckContext, seg: number) => c.vmcs.get32(F.GUEST_ES_LIMIT + 2 * seg);
/** Guest base of segment `seg` as (lo, hi). */
export const base = (c: EntryCheckContext, seg: number): [number, number] => [
  c.vmcs.get32(F.GUEST_ES_BASE + 2 * seg),
  c.vmcs.getHi(F.GUEST_ES_BASE + 2 * seg),
];
/** The guest enters virtual-8086 mode (RFLAGS.VM). */
export const v8086 = (c: EntryCheckContext) => has(lo(c, F.GUEST_RFLAGS), RFLAGS_VM);
/** "Unrestricted guest" is in effect. */
export const unrestricted = (c: EntryCheckContext) => has(proc2c(c), Proc2Ctl.UnrestrictedGuest);
/** "IA-32e mode guest" is set. */
export const ia32eGuest = (c: EntryCheckContext) => has(entryc(c), EntryCtl.Ia32eModeGuest);
/** Granularity rule of a segment's access rights against its limit. */
export function granularityOk(ar: number, lim: number): boolean {
  const g = (ar & 0x8000) !== 0;
  if ((lim & 0xfff) !== 0xfff && g) return false;
  if ((lim & 0xfff0_0000) !== 0 && !g) return false;
  return true;
}
/** VM-entry interruption information. */
export const intrInfo = (c: EntryCheckContext) => lo(c, F.VM_ENTRY_INTR_INFO);
/** An event is injected (valid bit). */
export const injecting = (c: EntryCheckContext) => (intrInfo(c) & 0x8000_0000) !== 0;
/** Type of the injected event. */
export const injType = (c: EntryCheckContext) => (intrInfo(c) >>> 8) & 7;
/** Vector of the injected event. */
export const injVector = (c: EntryCheckContext) => intrInfo(c) & 0xff;
/** Guest activity state. */
export const activity = (c: EntryCheckContext) => lo(c, F.GUEST_ACTIVITY_STATE);
/** Guest interruptibility state. */
export const interruptibility = (c: EntryCheckContext) => lo(c, F.GUEST_INTERRUPTIBILITY_INFO);

/** Activity states (SDM 25.4.2). */
export const ActivityState = {
  /** Active. */
  Active: 0,
  /** HLT. */
  Hlt: 1,
  /** Shutdown. */
  Shutdown: 2,
  /** Wait-for-SIPI. */
  WaitForSipi: 3,
} as const;

/** Interruptibility-state bits (SDM 25.4.2). */
export const Interruptibility = {
  /** Blocking by STI. */
  Sti: 1,
  /** Blocking by MOV SS. */
  MovSs: 2,
  /** Blocking by SMI. */
  Smi: 4,
  /** Blocking by NMI. */
  Nmi: 8,
} as const;

// --- the checks -----------------------------------------------------------------------------

/** Short name of the controls stage. */
export const C = EntryStage.Controls;
/** Short name of the host stage. */
export const H = EntryStage.Host;
/** Short name of the guest stage. */
export const G = EntryStage.Guest;
/** Builds one {@link EntryCheck}. */
export const check = (
  id: string,
  sdm: string,
  stage: EntryStage,
  passes: (c: EntryCheckContext) => boolean,
  qualification: number = EntryFailureQual.Default,
): EntryCheck => ({ id, sdm, stage, qualification, passes, alwaysRecheck: RECHECK.has(id) });

/** Control/host checks that read more than the control and host-state fields. */
export const RECHECK = new Set([
  "ctl.tpr-threshold-vtpr",
  "ctl.entry.intr-type",
  "ctl.entry.intr-vector",
  "ctl.entry.intr-error-code",
  "ctl.entry.intr-reserved",
  "ctl.entry.error-code-reserved",
  "ctl.entry.instruction-length",
  "host.legacy-mode-no-ia32e",
  "host.long-mode-host-size",
]);

/** `v` has every FIXED0 bit set and no bit outside FIXED1. */
export function fixedOk(v: number, fixed0: number, fixed1: number): boolean {
  return (v & fixed0) >>> 0 === fixed0 >>> 0 && (v & ~fixed1) === 0;
}

/** An MSR area: 16-byte aligned, and its last byte within the physical-address width. */
export function msrAreaOk(c: EntryCheckContext, addrField: number, countField: number): boolean {
  const count = lo(c, countField);
  if (count === 0) return true;
  if ((lo(c, addrField) & 0xf) !== 0 || !withinWidth(c, hi(c, addrField))) return false;
  const last = c.vmcs.getNumber(addrField) + count * 16 - 1;
  return last < 2 ** c.caps.features.maxPhysAddr;
}
