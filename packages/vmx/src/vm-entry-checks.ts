import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import type { VmxCapabilities } from "./capabilities.js";
import { EntryCtl, ExitCtl, PinCtl, Proc2Ctl, ProcCtl } from "./controls.js";
import { InterruptionType } from "./exit-info.js";
import { VmInstructionError } from "./instruction-error.js";
import { effectiveProc2 } from "./l1-routing.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F } from "./vmcs-fields.js";

// The checks VM entry performs, as data (Intel SDM vol. 3, 27.2 "Checks on VMX Controls and
// Host-State Area" and 27.3 "Checking and Loading Guest State"), in the SDM's order.

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

const lo = (c: EntryCheckContext, f: number) => c.vmcs.get32(f);
const hi = (c: EntryCheckContext, f: number) => c.vmcs.getHi(f);
const pinc = (c: EntryCheckContext) => c.vmcs.get32(F.PIN_BASED_VM_EXEC_CONTROL);
const procc = (c: EntryCheckContext) => c.vmcs.get32(F.CPU_BASED_VM_EXEC_CONTROL);
const proc2c = (c: EntryCheckContext) => effectiveProc2(c.vmcs);
const exitc = (c: EntryCheckContext) => c.vmcs.get32(F.VM_EXIT_CONTROLS);
const entryc = (c: EntryCheckContext) => c.vmcs.get32(F.VM_ENTRY_CONTROLS);
const has = (v: number, mask: number) => (v & mask) !== 0;

/** Bits 63:32 of a value with MAXPHYADDR `w` hold no address bits beyond the width. */
function withinWidth(c: EntryCheckContext, hiWord: number): boolean {
  const w = c.caps.features.maxPhysAddr;
  return w >= 64 || hiWord >>> (w - 32) === 0;
}
/** A physical address field: aligned to `align` bytes and within the physical-address width. */
function addrOk(c: EntryCheckContext, f: number, align: number): boolean {
  return (lo(c, f) & (align - 1)) === 0 && withinWidth(c, hi(c, f));
}
/** 48-bit canonical: bits 63:47 all equal (they all lie in the high half). */
export function isCanonical(_loWord: number, hiWord: number): boolean {
  const top = hiWord >> 15; // arithmetic: bits 63:47 as a signed value
  return top === 0 || top === -1;
}
const canon = (c: EntryCheckContext, f: number) => isCanonical(lo(c, f), hi(c, f));
/** A control word respects the allowed-0 (must be 1) and allowed-1 settings. */
const ctlOk = (v: number, must1: number, may1: number) =>
  (v & must1) >>> 0 === must1 >>> 0 && (v & ~may1) === 0;
/** PAT: every byte is a valid memory type (0, 1, 4, 5, 6, 7). */
function patOk(l: number, h: number): boolean {
  for (let i = 0; i < 4; i++) {
    for (const t of [(l >>> (8 * i)) & 0xff, (h >>> (8 * i)) & 0xff]) {
      if (t === 2 || t === 3 || t > 7) return false;
    }
  }
  return true;
}
/** IA32_PERF_GLOBAL_CTRL sets only bits of existing counters. */
function perfOk(c: EntryCheckContext, l: number, h: number): boolean {
  const v = c.caps.features.perfGlobalCtrlValid;
  return (l & ~v.lo) === 0 && (h & ~v.hi) === 0;
}
const EFER_SCE = 1;
const EFER_LME = 1 << 8;
const EFER_LMA = 1 << 10;
const EFER_NXE = 1 << 11;
const EFER_VALID = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
const CR0_PE = 1;
const CR0_PG = 0x8000_0000;
const CR4_PAE = 1 << 5;
const CR4_PCIDE = 1 << 17;
const RFLAGS_VM = 1 << 17;
const RFLAGS_IF = 1 << 9;
const RFLAGS_TF = 1 << 8;

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

function segAr(c: EntryCheckContext, seg: number): number {
  return c.vmcs.get32(F.GUEST_ES_AR_BYTES + 2 * seg);
}
const SEG_ES = 0;
const SEG_CS = 1;
const SEG_SS = 2;
const SEG_DS = 3;
const SEG_FS = 4;
const SEG_GS = 5;
const SEG_LDTR = 6;
const SEG_TR = 7;
const unusable = (ar: number) => (ar & 0x10000) !== 0;
const arType = (ar: number) => ar & 0xf;
const arDpl = (ar: number) => (ar >>> 5) & 3;
const selector = (c: EntryCheckContext, seg: number) => c.vmcs.get32(F.GUEST_ES_SELECTOR + 2 * seg);
const limit = (c: EntryCheckContext, seg: number) => c.vmcs.get32(F.GUEST_ES_LIMIT + 2 * seg);
const base = (c: EntryCheckContext, seg: number): [number, number] => [
  c.vmcs.get32(F.GUEST_ES_BASE + 2 * seg),
  c.vmcs.getHi(F.GUEST_ES_BASE + 2 * seg),
];
const v8086 = (c: EntryCheckContext) => has(lo(c, F.GUEST_RFLAGS), RFLAGS_VM);
const unrestricted = (c: EntryCheckContext) => has(proc2c(c), Proc2Ctl.UnrestrictedGuest);
const ia32eGuest = (c: EntryCheckContext) => has(entryc(c), EntryCtl.Ia32eModeGuest);
/** Granularity rule of a segment's access rights against its limit. */
function granularityOk(ar: number, lim: number): boolean {
  const g = (ar & 0x8000) !== 0;
  if ((lim & 0xfff) !== 0xfff && g) return false;
  if ((lim & 0xfff0_0000) !== 0 && !g) return false;
  return true;
}
const intrInfo = (c: EntryCheckContext) => lo(c, F.VM_ENTRY_INTR_INFO);
const injecting = (c: EntryCheckContext) => (intrInfo(c) & 0x8000_0000) !== 0;
const injType = (c: EntryCheckContext) => (intrInfo(c) >>> 8) & 7;
const injVector = (c: EntryCheckContext) => intrInfo(c) & 0xff;
const activity = (c: EntryCheckContext) => lo(c, F.GUEST_ACTIVITY_STATE);
const interruptibility = (c: EntryCheckContext) => lo(c, F.GUEST_INTERRUPTIBILITY_INFO);

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

const C = EntryStage.Controls;
const H = EntryStage.Host;
const G = EntryStage.Guest;
const check = (
  id: string,
  sdm: string,
  stage: EntryStage,
  passes: (c: EntryCheckContext) => boolean,
  qualification: number = EntryFailureQual.Default,
): EntryCheck => ({ id, sdm, stage, qualification, passes, alwaysRecheck: RECHECK.has(id) });

/** Control/host checks that read more than the control and host-state fields. */
const RECHECK = new Set([
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

function segmentChecks(): EntryCheck[] {
  const out: EntryCheck[] = [];
  const sdm = "27.3.1.2";
  const names = ["es", "cs", "ss", "ds", "fs", "gs"];
  // virtual-8086 mode: base = selector << 4, limit FFFFH, access rights F3H
  for (let s = 0; s < 6; s++) {
    out.push(
      check(`guest.${names[s]}.v86-base`, sdm, G, (c) => {
        if (!v8086(c)) return true;
        const [l, h] = base(c, s);
        return h === 0 && l === selector(c, s) * 16;
      }),
      check(`guest.${names[s]}.v86-limit`, sdm, G, (c) => !v8086(c) || limit(c, s) === 0xffff),
      check(`guest.${names[s]}.v86-ar`, sdm, G, (c) => !v8086(c) || segAr(c, s) === 0xf3),
    );
  }
  out.push(
    check("guest.tr.selector-ti", sdm, G, (c) => (selector(c, SEG_TR) & 4) === 0),
    check(
      "guest.ldtr.selector-ti",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (selector(c, SEG_LDTR) & 4) === 0,
    ),
    check(
      "guest.ss.rpl-equals-cs-rpl",
      sdm,
      G,
      (c) => v8086(c) || unrestricted(c) || (selector(c, SEG_SS) & 3) === (selector(c, SEG_CS) & 3),
    ),
    check("guest.tr.base-canonical", sdm, G, (c) => isCanonical(...base(c, SEG_TR))),
    check("guest.fs.base-canonical", sdm, G, (c) => isCanonical(...base(c, SEG_FS))),
    check("guest.gs.base-canonical", sdm, G, (c) => isCanonical(...base(c, SEG_GS))),
    check(
      "guest.ldtr.base-canonical",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || isCanonical(...base(c, SEG_LDTR)),
    ),
    check("guest.cs.base-high-zero", sdm, G, (c) => base(c, SEG_CS)[1] === 0),
  );
  for (const s of [SEG_SS, SEG_DS, SEG_ES]) {
    out.push(
      check(`guest.${names[s]}.base-high-zero`, sdm, G, (c) => unusable(segAr(c, s)) || base(c, s)[1] === 0),
    );
  }
  // access rights outside virtual-8086 mode
  const nv = (f: (c: EntryCheckContext) => boolean) => (c: EntryCheckContext) => v8086(c) || f(c);
  out.push(
    check(
      "guest.cs.type",
      sdm,
      G,
      nv((c) => {
        const t = arType(segAr(c, SEG_CS));
        return t === 9 || t === 11 || t === 13 || t === 15 || (unrestricted(c) && t === 3);
      }),
    ),
    check(
      "guest.ss.type",
      sdm,
      G,
      nv((c) => {
        const ar = segAr(c, SEG_SS);
        return unusable(ar) || arType(ar) === 3 || arType(ar) === 7;
      }),
    ),
  );
  for (const s of [SEG_DS, SEG_ES, SEG_FS, SEG_GS]) {
    out.push(
      check(
        `guest.${names[s]}.type`,
        sdm,
        G,
        nv((c) => {
          const ar = segAr(c, s);
          if (unusable(ar)) return true;
          const t = arType(ar);
          return (t & 1) === 1 && ((t & 8) === 0 || (t & 2) === 2);
        }),
      ),
    );
  }
  for (let s = 0; s < 6; s++) {
    const usableOrCs = (c: EntryCheckContext) => s === SEG_CS || !unusable(segAr(c, s));
    out.push(
      check(
        `guest.${names[s]}.s-bit`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || (segAr(c, s) & 0x10) !== 0),
      ),
    );
  }
  out.push(
    check(
      "guest.cs.dpl",
      sdm,
      G,
      nv((c) => {
        const ar = segAr(c, SEG_CS);
        const t = arType(ar);
        const ssDpl = arDpl(segAr(c, SEG_SS));
        if (t === 3) return arDpl(ar) === 0;
        if (t === 9 || t === 11) return arDpl(ar) === ssDpl;
        return arDpl(ar) <= ssDpl;
      }),
    ),
    check(
      "guest.ss.dpl-equals-rpl",
      sdm,
      G,
      nv((c) => unrestricted(c) || arDpl(segAr(c, SEG_SS)) === (selector(c, SEG_SS) & 3)),
    ),
    check(
      "guest.ss.dpl-zero-in-real-or-type3-cs",
      sdm,
      G,
      nv(
        (c) =>
          !(arType(segAr(c, SEG_CS)) === 3 || (lo(c, F.GUEST_CR0) & CR0_PE) === 0) ||
          arDpl(segAr(c, SEG_SS)) === 0,
      ),
    ),
  );
  for (const s of [SEG_DS, SEG_ES, SEG_FS, SEG_GS]) {
    out.push(
      check(
        `guest.${names[s]}.dpl`,
        sdm,
        G,
        nv((c) => {
          const ar = segAr(c, s);
          if (unrestricted(c) || unusable(ar) || arType(ar) > 11) return true;
          return arDpl(ar) >= (selector(c, s) & 3);
        }),
      ),
    );
  }
  for (let s = 0; s < 6; s++) {
    const usableOrCs = (c: EntryCheckContext) => s === SEG_CS || !unusable(segAr(c, s));
    out.push(
      check(
        `guest.${names[s]}.present`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || (segAr(c, s) & 0x80) !== 0),
      ),
      check(
        `guest.${names[s]}.ar-reserved`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || (segAr(c, s) & 0xfffe_0f00) === 0),
      ),
      check(
        `guest.${names[s]}.granularity`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || granularityOk(segAr(c, s), limit(c, s))),
      ),
    );
  }
  out.push(
    check(
      "guest.cs.db-with-l",
      sdm,
      G,
      nv((c) => {
        const ar = segAr(c, SEG_CS);
        return !(ia32eGuest(c) && (ar & 0x2000) !== 0) || (ar & 0x4000) === 0;
      }),
    ),
    check("guest.tr.type", sdm, G, (c) => {
      const t = arType(segAr(c, SEG_TR));
      return t === 11 || (t === 3 && !ia32eGuest(c));
    }),
    check("guest.tr.s-bit", sdm, G, (c) => (segAr(c, SEG_TR) & 0x10) === 0),
    check("guest.tr.present", sdm, G, (c) => (segAr(c, SEG_TR) & 0x80) !== 0),
    check("guest.tr.ar-reserved", sdm, G, (c) => (segAr(c, SEG_TR) & 0xfffe_0f00) === 0),
    check("guest.tr.granularity", sdm, G, (c) => granularityOk(segAr(c, SEG_TR), limit(c, SEG_TR))),
    check("guest.tr.usable", sdm, G, (c) => !unusable(segAr(c, SEG_TR))),
    check("guest.ldtr.type", sdm, G, (c) => unusable(segAr(c, SEG_LDTR)) || arType(segAr(c, SEG_LDTR)) === 2),
    check(
      "guest.ldtr.s-bit",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (segAr(c, SEG_LDTR) & 0x10) === 0,
    ),
    check(
      "guest.ldtr.present",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (segAr(c, SEG_LDTR) & 0x80) !== 0,
    ),
    check(
      "guest.ldtr.ar-reserved",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (segAr(c, SEG_LDTR) & 0xfffe_0f00) === 0,
    ),
    check(
      "guest.ldtr.granularity",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || granularityOk(segAr(c, SEG_LDTR), limit(c, SEG_LDTR)),
    ),
  );
  return out;
}

function pdpteOk(c: EntryCheckContext, l: number, h: number): boolean {
  if ((l & 1) === 0) return true;
  return (l & 0x1e6) === 0 && withinWidth(c, h); // bits 2:1 and 8:5 reserved
}

const pdpteScratch = new Uint32Array(2);

/** Every VM-entry check, in the order VM entry performs them. */
export const ENTRY_CHECKS: readonly EntryCheck[] = [
  // 27.2.1.1 VM-execution control fields
  check("ctl.pin.reserved", "27.2.1.1", C, (c) => ctlOk(pinc(c), c.caps.pinMust1, c.caps.pinMay1)),
  check("ctl.proc.reserved", "27.2.1.1", C, (c) => ctlOk(procc(c), c.caps.procMust1, c.caps.procMay1)),
  check("ctl.proc2.reserved", "27.2.1.1", C, (c) => ctlOk(proc2c(c), 0, c.caps.proc2May1)),
  check(
    "ctl.cr3-target-count",
    "27.2.1.1",
    C,
    (c) => lo(c, F.CR3_TARGET_COUNT) <= c.caps.features.misc.cr3TargetCount,
  ),
  check(
    "ctl.io-bitmaps",
    "27.2.1.1",
    C,
    (c) =>
      !has(procc(c), ProcCtl.UseIoBitmaps) ||
      (addrOk(c, F.IO_BITMAP_A, 4096) && addrOk(c, F.IO_BITMAP_B, 4096)),
  ),
  check(
    "ctl.msr-bitmap",
    "27.2.1.1",
    C,
    (c) => !has(procc(c), ProcCtl.UseMsrBitmaps) || addrOk(c, F.MSR_BITMAP, 4096),
  ),
  check(
    "ctl.virtual-apic-address",
    "27.2.1.1",
    C,
    (c) => !has(procc(c), ProcCtl.TprShadow) || addrOk(c, F.VIRTUAL_APIC_PAGE_ADDR, 4096),
  ),
  check(
    "ctl.tpr-threshold-high",
    "27.2.1.1",
    C,
    (c) =>
      !has(procc(c), ProcCtl.TprShadow) ||
      has(proc2c(c), Proc2Ctl.VirtIntrDelivery) ||
      (lo(c, F.TPR_THRESHOLD) & 0xffff_fff0) === 0,
  ),
  check("ctl.tpr-threshold-vtpr", "27.2.1.1", C, (c) => {
    const p2 = proc2c(c);
    if (!has(procc(c), ProcCtl.TprShadow) || has(p2, Proc2Ctl.VirtIntrDelivery | Proc2Ctl.VirtApicAccesses)) {
      return true;
    }
    const vtpr = c.mem.read8(c.vmcs.getNumber(F.VIRTUAL_APIC_PAGE_ADDR) + 0x80, AccessKind.Read);
    return (lo(c, F.TPR_THRESHOLD) & 0xf) <= vtpr >>> 4;
  }),
  check(
    "ctl.no-tpr-shadow-apic-virt",
    "27.2.1.1",
    C,
    (c) =>
      has(procc(c), ProcCtl.TprShadow) ||
      !has(proc2c(c), Proc2Ctl.VirtX2apic | Proc2Ctl.ApicRegisterVirt | Proc2Ctl.VirtIntrDelivery),
  ),
  check(
    "ctl.virtual-nmis-need-nmi-exiting",
    "27.2.1.1",
    C,
    (c) => has(pinc(c), PinCtl.NmiExiting) || !has(pinc(c), PinCtl.VirtualNmis),
  ),
  check(
    "ctl.nmi-window-needs-virtual-nmis",
    "27.2.1.1",
    C,
    (c) => has(pinc(c), PinCtl.VirtualNmis) || !has(procc(c), ProcCtl.NmiWindowExiting),
  ),
  check(
    "ctl.apic-access-address",
    "27.2.1.1",
    C,
    (c) => !has(proc2c(c), Proc2Ctl.VirtApicAccesses) || addrOk(c, F.APIC_ACCESS_ADDR, 4096),
  ),
  check(
    "ctl.x2apic-excludes-apic-access",
    "27.2.1.1",
    C,
    (c) => !(has(proc2c(c), Proc2Ctl.VirtX2apic) && has(proc2c(c), Proc2Ctl.VirtApicAccesses)),
  ),
  check(
    "ctl.vid-needs-ext-int-exiting",
    "27.2.1.1",
    C,
    (c) => !has(proc2c(c), Proc2Ctl.VirtIntrDelivery) || has(pinc(c), PinCtl.ExtIntExiting),
  ),
  check(
    "ctl.posted-interrupts",
    "27.2.1.1",
    C,
    (c) =>
      !has(pinc(c), PinCtl.PostedInterrupts) ||
      (has(proc2c(c), Proc2Ctl.VirtIntrDelivery) &&
        has(exitc(c), ExitCtl.AckIntrOnExit) &&
        (lo(c, F.POSTED_INTR_NOTIFICATION_VECTOR) & 0xff00) === 0 &&
        addrOk(c, F.POSTED_INTR_DESC_ADDR, 64)),
  ),
  check(
    "ctl.vpid-nonzero",
    "27.2.1.1",
    C,
    (c) => !has(proc2c(c), Proc2Ctl.Vpid) || lo(c, F.VIRTUAL_PROCESSOR_ID) !== 0,
  ),
  check(
    "ctl.eptp",
    "27.2.1.1",
    C,
    (c) => !has(proc2c(c), Proc2Ctl.Ept) || isValidEptp(c.caps, lo(c, F.EPT_POINTER), hi(c, F.EPT_POINTER)),
  ),
  check(
    "ctl.pml",
    "27.2.1.1",
    C,
    (c) => !has(proc2c(c), Proc2Ctl.Pml) || (has(proc2c(c), Proc2Ctl.Ept) && addrOk(c, F.PML_ADDRESS, 4096)),
  ),
  check(
    "ctl.unrestricted-needs-ept",
    "27.2.1.1",
    C,
    (c) => !has(proc2c(c), Proc2Ctl.UnrestrictedGuest) || has(proc2c(c), Proc2Ctl.Ept),
  ),
  check(
    "ctl.vmfunc-reserved",
    "27.2.1.1",
    C,
    (c) =>
      !has(proc2c(c), Proc2Ctl.Vmfunc) ||
      ((lo(c, F.VM_FUNCTION_CONTROLS) & ~c.caps.features.vmfunc) === 0 &&
        hi(c, F.VM_FUNCTION_CONTROLS) === 0),
  ),
  check(
    "ctl.vmfunc-eptp-switching",
    "27.2.1.1",
    C,
    (c) =>
      !has(proc2c(c), Proc2Ctl.Vmfunc) ||
      (lo(c, F.VM_FUNCTION_CONTROLS) & 1) === 0 ||
      (has(proc2c(c), Proc2Ctl.Ept) && addrOk(c, F.EPTP_LIST_ADDRESS, 4096)),
  ),
  check(
    "ctl.vmcs-shadowing-bitmaps",
    "27.2.1.1",
    C,
    (c) =>
      !has(proc2c(c), Proc2Ctl.VmcsShadowing) ||
      (addrOk(c, F.VMREAD_BITMAP, 4096) && addrOk(c, F.VMWRITE_BITMAP, 4096)),
  ),
  // 27.2.1.2 VM-exit control fields
  check("ctl.exit.reserved", "27.2.1.2", C, (c) => ctlOk(exitc(c), c.caps.exitMust1, c.caps.exitMay1)),
  check(
    "ctl.exit.save-preemption-timer",
    "27.2.1.2",
    C,
    (c) => has(pinc(c), PinCtl.PreemptionTimer) || !has(exitc(c), ExitCtl.SavePreemptionTimer),
  ),
  check("ctl.exit.msr-store-area", "27.2.1.2", C, (c) =>
    msrAreaOk(c, F.EXIT_MSR_STORE_ADDR, F.VM_EXIT_MSR_STORE_COUNT),
  ),
  check("ctl.exit.msr-load-area", "27.2.1.2", C, (c) =>
    msrAreaOk(c, F.EXIT_MSR_LOAD_ADDR, F.VM_EXIT_MSR_LOAD_COUNT),
  ),
  // 27.2.1.3 VM-entry control fields
  check("ctl.entry.reserved", "27.2.1.3", C, (c) => ctlOk(entryc(c), c.caps.entryMust1, c.caps.entryMay1)),
  check("ctl.entry.intr-type", "27.2.1.3", C, (c) => {
    if (!injecting(c)) return true;
    const t = injType(c);
    return t !== 1 && (t !== InterruptionType.Other || has(c.caps.procMay1, ProcCtl.MonitorTrapFlag));
  }),
  check("ctl.entry.intr-vector", "27.2.1.3", C, (c) => {
    if (!injecting(c)) return true;
    const t = injType(c);
    const v = injVector(c);
    if (t === InterruptionType.Nmi) return v === 2;
    if (t === InterruptionType.HardwareException) return v <= 31;
    if (t === InterruptionType.Other) return v === 0;
    return true;
  }),
  check("ctl.entry.intr-error-code", "27.2.1.3", C, (c) => {
    if (!injecting(c)) return true;
    const deliver = (intrInfo(c) & 0x800) !== 0;
    const pe = (lo(c, F.GUEST_CR0) & CR0_PE) !== 0;
    const v = injVector(c);
    const needs =
      (!unrestricted(c) || pe) &&
      injType(c) === InterruptionType.HardwareException &&
      (v === 8 || v === 10 || v === 11 || v === 12 || v === 13 || v === 14 || v === 17);
    return deliver === needs;
  }),
  check("ctl.entry.intr-reserved", "27.2.1.3", C, (c) => !injecting(c) || (intrInfo(c) & 0x7fff_f000) === 0),
  check(
    "ctl.entry.error-code-reserved",
    "27.2.1.3",
    C,
    (c) =>
      !injecting(c) ||
      (intrInfo(c) & 0x800) === 0 ||
      (lo(c, F.VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff_0000) === 0,
  ),
  check("ctl.entry.instruction-length", "27.2.1.3", C, (c) => {
    if (!injecting(c)) return true;
    const t = injType(c);
    if (t !== 4 && t !== 5 && t !== 6) return true;
    const len = lo(c, F.VM_ENTRY_INSTRUCTION_LEN);
    return len <= 15 && (len >= 1 || c.caps.features.misc.injectZeroLength);
  }),
  check("ctl.entry.msr-load-area", "27.2.1.3", C, (c) =>
    msrAreaOk(c, F.ENTRY_MSR_LOAD_ADDR, F.VM_ENTRY_MSR_LOAD_COUNT),
  ),
  check(
    "ctl.entry.smm",
    "27.2.1.3",
    C,
    (c) => !has(entryc(c), EntryCtl.EntryToSmm | EntryCtl.DeactivateDualMonitor),
  ),
  // 27.2.2 host control registers and MSRs
  check(
    "host.cr0-fixed",
    "27.2.2",
    H,
    (c) =>
      fixedOk(lo(c, F.HOST_CR0), c.caps.features.cr0Fixed0, c.caps.features.cr0Fixed1) &&
      hi(c, F.HOST_CR0) === 0,
  ),
  check(
    "host.cr4-fixed",
    "27.2.2",
    H,
    (c) =>
      fixedOk(lo(c, F.HOST_CR4), c.caps.features.cr4Fixed0, c.caps.features.cr4Fixed1) &&
      hi(c, F.HOST_CR4) === 0,
  ),
  check("host.cr3-width", "27.2.2", H, (c) => withinWidth(c, hi(c, F.HOST_CR3))),
  check("host.sysenter-esp-canonical", "27.2.2", H, (c) => canon(c, F.HOST_IA32_SYSENTER_ESP)),
  check("host.sysenter-eip-canonical", "27.2.2", H, (c) => canon(c, F.HOST_IA32_SYSENTER_EIP)),
  check(
    "host.perf-global-ctrl",
    "27.2.2",
    H,
    (c) =>
      !has(exitc(c), ExitCtl.LoadPerfGlobalCtrl) ||
      perfOk(c, lo(c, F.HOST_IA32_PERF_GLOBAL_CTRL), hi(c, F.HOST_IA32_PERF_GLOBAL_CTRL)),
  ),
  check(
    "host.pat",
    "27.2.2",
    H,
    (c) => !has(exitc(c), ExitCtl.LoadPat) || patOk(lo(c, F.HOST_IA32_PAT), hi(c, F.HOST_IA32_PAT)),
  ),
  check(
    "host.efer-reserved",
    "27.2.2",
    H,
    (c) =>
      !has(exitc(c), ExitCtl.LoadEfer) ||
      ((lo(c, F.HOST_IA32_EFER) & ~EFER_VALID) === 0 && hi(c, F.HOST_IA32_EFER) === 0),
  ),
  check("host.efer-lma-lme", "27.2.2", H, (c) => {
    if (!has(exitc(c), ExitCtl.LoadEfer)) return true;
    const e = lo(c, F.HOST_IA32_EFER);
    const size = has(exitc(c), ExitCtl.HostAddrSpaceSize);
    return has(e, EFER_LMA) === size && has(e, EFER_LME) === size;
  }),
  // 27.2.3 host segment and descriptor-table registers
  check("host.selectors-rpl-ti", "27.2.3", H, (c) => {
    for (const f of [
      F.HOST_ES_SELECTOR,
      F.HOST_CS_SELECTOR,
      F.HOST_SS_SELECTOR,
      F.HOST_DS_SELECTOR,
      F.HOST_FS_SELECTOR,
      F.HOST_GS_SELECTOR,
      F.HOST_TR_SELECTOR,
    ]) {
      if ((lo(c, f) & 7) !== 0) return false;
    }
    return true;
  }),
  check("host.cs-selector-nonzero", "27.2.3", H, (c) => lo(c, F.HOST_CS_SELECTOR) !== 0),
  check("host.tr-selector-nonzero", "27.2.3", H, (c) => lo(c, F.HOST_TR_SELECTOR) !== 0),
  check(
    "host.ss-selector-nonzero",
    "27.2.3",
    H,
    (c) => has(exitc(c), ExitCtl.HostAddrSpaceSize) || lo(c, F.HOST_SS_SELECTOR) !== 0,
  ),
  check("host.bases-canonical", "27.2.3", H, (c) =>
    [F.HOST_FS_BASE, F.HOST_GS_BASE, F.HOST_GDTR_BASE, F.HOST_IDTR_BASE, F.HOST_TR_BASE].every((f) =>
      canon(c, f),
    ),
  ),
  // 27.2.4 address-space size
  check(
    "host.legacy-mode-no-ia32e",
    "27.2.4",
    H,
    (c) =>
      c.hostLongMode ||
      (!has(entryc(c), EntryCtl.Ia32eModeGuest) && !has(exitc(c), ExitCtl.HostAddrSpaceSize)),
  ),
  check(
    "host.long-mode-host-size",
    "27.2.4",
    H,
    (c) => !c.hostLongMode || has(exitc(c), ExitCtl.HostAddrSpaceSize),
  ),
  check(
    "host.size0-pcide",
    "27.2.4",
    H,
    (c) => has(exitc(c), ExitCtl.HostAddrSpaceSize) || (lo(c, F.HOST_CR4) & CR4_PCIDE) === 0,
  ),
  check(
    "host.size0-rip",
    "27.2.4",
    H,
    (c) => has(exitc(c), ExitCtl.HostAddrSpaceSize) || hi(c, F.HOST_RIP) === 0,
  ),
  check(
    "host.size1-pae",
    "27.2.4",
    H,
    (c) => !has(exitc(c), ExitCtl.HostAddrSpaceSize) || (lo(c, F.HOST_CR4) & CR4_PAE) !== 0,
  ),
  check(
    "host.size1-rip-canonical",
    "27.2.4",
    H,
    (c) => !has(exitc(c), ExitCtl.HostAddrSpaceSize) || canon(c, F.HOST_RIP),
  ),
  // 27.3.1.1 guest control registers, debug registers and MSRs
  check("guest.cr0-fixed", "27.3.1.1", G, (c) => {
    let f0 = c.caps.features.cr0Fixed0;
    if (unrestricted(c)) f0 &= ~(CR0_PE | CR0_PG);
    return fixedOk(lo(c, F.GUEST_CR0), f0, c.caps.features.cr0Fixed1) && hi(c, F.GUEST_CR0) === 0;
  }),
  check("guest.cr0-pg-needs-pe", "27.3.1.1", G, (c) => {
    const cr0 = lo(c, F.GUEST_CR0);
    return !has(cr0, CR0_PG) || has(cr0, CR0_PE);
  }),
  check(
    "guest.cr4-fixed",
    "27.3.1.1",
    G,
    (c) =>
      fixedOk(lo(c, F.GUEST_CR4), c.caps.features.cr4Fixed0, c.caps.features.cr4Fixed1) &&
      hi(c, F.GUEST_CR4) === 0,
  ),
  check(
    "guest.debugctl-reserved",
    "27.3.1.1",
    G,
    (c) =>
      !has(entryc(c), EntryCtl.LoadDebugControls) ||
      ((lo(c, F.GUEST_IA32_DEBUGCTL) & 0xffff_003c) === 0 && hi(c, F.GUEST_IA32_DEBUGCTL) === 0),
  ),
  check(
    "guest.ia32e-needs-pg-pae",
    "27.3.1.1",
    G,
    (c) => !ia32eGuest(c) || (has(lo(c, F.GUEST_CR0), CR0_PG) && has(lo(c, F.GUEST_CR4), CR4_PAE)),
  ),
  check(
    "guest.no-ia32e-no-pcide",
    "27.3.1.1",
    G,
    (c) => ia32eGuest(c) || !has(lo(c, F.GUEST_CR4), CR4_PCIDE),
  ),
  check("guest.cr3-width", "27.3.1.1", G, (c) => withinWidth(c, hi(c, F.GUEST_CR3))),
  check(
    "guest.dr7-high",
    "27.3.1.1",
    G,
    (c) => !has(entryc(c), EntryCtl.LoadDebugControls) || hi(c, F.GUEST_DR7) === 0,
  ),
  check("guest.sysenter-esp-canonical", "27.3.1.1", G, (c) => canon(c, F.GUEST_SYSENTER_ESP)),
  check("guest.sysenter-eip-canonical", "27.3.1.1", G, (c) => canon(c, F.GUEST_SYSENTER_EIP)),
  check(
    "guest.perf-global-ctrl",
    "27.3.1.1",
    G,
    (c) =>
      !has(entryc(c), EntryCtl.LoadPerfGlobalCtrl) ||
      perfOk(c, lo(c, F.GUEST_IA32_PERF_GLOBAL_CTRL), hi(c, F.GUEST_IA32_PERF_GLOBAL_CTRL)),
  ),
  check(
    "guest.pat",
    "27.3.1.1",
    G,
    (c) => !has(entryc(c), EntryCtl.LoadPat) || patOk(lo(c, F.GUEST_IA32_PAT), hi(c, F.GUEST_IA32_PAT)),
  ),
  check(
    "guest.efer-reserved",
    "27.3.1.1",
    G,
    (c) =>
      !has(entryc(c), EntryCtl.LoadEfer) ||
      ((lo(c, F.GUEST_IA32_EFER) & ~EFER_VALID) === 0 && hi(c, F.GUEST_IA32_EFER) === 0),
  ),
  check("guest.efer-lma", "27.3.1.1", G, (c) => {
    if (!has(entryc(c), EntryCtl.LoadEfer)) return true;
    const e = lo(c, F.GUEST_IA32_EFER);
    if (has(e, EFER_LMA) !== ia32eGuest(c)) return false;
    return !has(lo(c, F.GUEST_CR0), CR0_PG) || has(e, EFER_LME) === has(e, EFER_LMA);
  }),
  // 27.3.1.2 segment registers
  ...segmentChecks(),
  // 27.3.1.3 descriptor-table registers
  check("guest.gdtr-base-canonical", "27.3.1.3", G, (c) => canon(c, F.GUEST_GDTR_BASE)),
  check("guest.idtr-base-canonical", "27.3.1.3", G, (c) => canon(c, F.GUEST_IDTR_BASE)),
  check("guest.gdtr-limit", "27.3.1.3", G, (c) => (lo(c, F.GUEST_GDTR_LIMIT) & 0xffff_0000) === 0),
  check("guest.idtr-limit", "27.3.1.3", G, (c) => (lo(c, F.GUEST_IDTR_LIMIT) & 0xffff_0000) === 0),
  // 27.3.1.4 RIP and RFLAGS
  check("guest.rip", "27.3.1.4", G, (c) => {
    const longCs = ia32eGuest(c) && (segAr(c, SEG_CS) & 0x2000) !== 0;
    return longCs ? canon(c, F.GUEST_RIP) : hi(c, F.GUEST_RIP) === 0;
  }),
  check("guest.rflags-reserved", "27.3.1.4", G, (c) => {
    const f = lo(c, F.GUEST_RFLAGS);
    return hi(c, F.GUEST_RFLAGS) === 0 && (f & 0xffc0_8028) === 0 && (f & 2) === 2;
  }),
  check(
    "guest.rflags-vm",
    "27.3.1.4",
    G,
    (c) => !(ia32eGuest(c) || !has(lo(c, F.GUEST_CR0), CR0_PE)) || !v8086(c),
  ),
  check(
    "guest.rflags-if-for-ext-int",
    "27.3.1.4",
    G,
    (c) => !injecting(c) || injType(c) !== InterruptionType.External || has(lo(c, F.GUEST_RFLAGS), RFLAGS_IF),
  ),
  // 27.3.1.5 non-register state
  check("guest.activity-state", "27.3.1.5", G, (c) => {
    const a = activity(c);
    const m = c.caps.features.misc;
    return (
      a === ActivityState.Active ||
      (a === ActivityState.Hlt && m.activityHlt) ||
      (a === ActivityState.Shutdown && m.activityShutdown) ||
      (a === ActivityState.WaitForSipi && m.activityWaitForSipi)
    );
  }),
  check(
    "guest.activity-hlt-needs-ss-dpl0",
    "27.3.1.5",
    G,
    (c) => activity(c) !== ActivityState.Hlt || arDpl(segAr(c, SEG_SS)) === 0,
  ),
  check(
    "guest.activity-with-sti-movss",
    "27.3.1.5",
    G,
    (c) => (interruptibility(c) & 3) === 0 || activity(c) === ActivityState.Active,
  ),
  check("guest.activity-blocks-injection", "27.3.1.5", G, (c) => {
    if (!injecting(c)) return true;
    const a = activity(c);
    const t = injType(c);
    const v = injVector(c);
    if (a === ActivityState.Hlt) {
      return (
        t === InterruptionType.External ||
        t === InterruptionType.Nmi ||
        t === InterruptionType.Other ||
        (t === InterruptionType.HardwareException && (v === 1 || v === 18))
      );
    }
    if (a === ActivityState.Shutdown) {
      return t === InterruptionType.Nmi || (t === InterruptionType.HardwareException && v === 18);
    }
    return a !== ActivityState.WaitForSipi;
  }),
  check("guest.interruptibility-reserved", "27.3.1.5", G, (c) => (interruptibility(c) & 0xffff_fff0) === 0),
  check("guest.interruptibility-sti-and-movss", "27.3.1.5", G, (c) => (interruptibility(c) & 3) !== 3),
  check(
    "guest.interruptibility-sti-needs-if",
    "27.3.1.5",
    G,
    (c) => has(lo(c, F.GUEST_RFLAGS), RFLAGS_IF) || (interruptibility(c) & Interruptibility.Sti) === 0,
  ),
  check(
    "guest.interruptibility-ext-int",
    "27.3.1.5",
    G,
    (c) => !injecting(c) || injType(c) !== InterruptionType.External || (interruptibility(c) & 3) === 0,
  ),
  check(
    "guest.interruptibility-nmi-movss",
    "27.3.1.5",
    G,
    (c) =>
      !injecting(c) ||
      injType(c) !== InterruptionType.Nmi ||
      (interruptibility(c) & Interruptibility.MovSs) === 0,
  ),
  check(
    "guest.interruptibility-smi",
    "27.3.1.5",
    G,
    (c) => (interruptibility(c) & Interruptibility.Smi) === 0,
  ),
  check(
    "guest.interruptibility-virtual-nmi",
    "27.3.1.5",
    G,
    (c) =>
      !has(pinc(c), PinCtl.VirtualNmis) ||
      !injecting(c) ||
      injType(c) !== InterruptionType.Nmi ||
      (interruptibility(c) & Interruptibility.Nmi) === 0,
  ),
  check(
    "guest.pending-debug-reserved",
    "27.3.1.5",
    G,
    (c) =>
      (lo(c, F.GUEST_PENDING_DBG_EXCEPTIONS) & 0xffff_aff0) === 0 &&
      hi(c, F.GUEST_PENDING_DBG_EXCEPTIONS) === 0,
  ),
  check("guest.pending-debug-bs", "27.3.1.5", G, (c) => {
    if ((interruptibility(c) & 3) === 0 && activity(c) !== ActivityState.Hlt) return true;
    const bs = (lo(c, F.GUEST_PENDING_DBG_EXCEPTIONS) & 0x4000) !== 0;
    const tf = has(lo(c, F.GUEST_RFLAGS), RFLAGS_TF);
    const btf = (lo(c, F.GUEST_IA32_DEBUGCTL) & 2) !== 0;
    return bs === (tf && !btf);
  }),
  check(
    "guest.vmcs-link-pointer",
    "27.3.1.5",
    G,
    (c) => {
      const l = lo(c, F.VMCS_LINK_POINTER);
      const h = hi(c, F.VMCS_LINK_POINTER);
      if (l === 0xffff_ffff && h === 0xffff_ffff) return true;
      if ((l & 0xfff) !== 0 || !withinWidth(c, h)) return false;
      const word0 = c.mem.read32(c.vmcs.getNumber(F.VMCS_LINK_POINTER), AccessKind.Read);
      const shadowing = has(proc2c(c), Proc2Ctl.VmcsShadowing);
      return (word0 & 0x7fff_ffff) === c.caps.revisionId && word0 >>> 31 === (shadowing ? 1 : 0);
    },
    EntryFailureQual.VmcsLinkPointer,
  ),
  // 27.3.1.6 PDPTEs (PAE paging outside IA-32e mode)
  check(
    "guest.pdptes",
    "27.3.1.6",
    G,
    (c) => {
      const cr0 = lo(c, F.GUEST_CR0);
      if (!has(cr0, CR0_PG) || !has(lo(c, F.GUEST_CR4), CR4_PAE) || ia32eGuest(c)) return true;
      if (has(proc2c(c), Proc2Ctl.Ept)) {
        for (let i = 0; i < 4; i++) {
          const f = F.GUEST_PDPTE0 + 2 * i;
          if (!pdpteOk(c, lo(c, f), hi(c, f))) return false;
        }
        return true;
      }
      const table = lo(c, F.GUEST_CR3) & 0xffff_ffe0;
      for (let i = 0; i < 4; i++) {
        c.mem.read64(table + 8 * i, AccessKind.PageWalk, pdpteScratch, 0);
        if (!pdpteOk(c, pdpteScratch[0]!, pdpteScratch[1]!)) return false;
      }
      return true;
    },
    EntryFailureQual.Pdpte,
  ),
];

function fixedOk(v: number, fixed0: number, fixed1: number): boolean {
  return (v & fixed0) >>> 0 === fixed0 >>> 0 && (v & ~fixed1) === 0;
}

/** An MSR area: 16-byte aligned, and its last byte within the physical-address width. */
function msrAreaOk(c: EntryCheckContext, addrField: number, countField: number): boolean {
  const count = lo(c, countField);
  if (count === 0) return true;
  if ((lo(c, addrField) & 0xf) !== 0 || !withinWidth(c, hi(c, addrField))) return false;
  const last = c.vmcs.getNumber(addrField) + count * 16 - 1;
  return last < 2 ** c.caps.features.maxPhysAddr;
}

/** The result of {@link checkVmEntry}: which check failed, and how that is reported. */
export interface EntryCheckResult {
  /** The first failing check, or null when every check passed. */
  failed: EntryCheck | null;
  /** VMfailValid error number (7 or 8) for control and host failures, else 0. */
  error: VmInstructionError;
}

/**
 * Runs every VM-entry check in order and reports the first failure: controls -> VMfailValid(7),
 * host state -> VMfailValid(8), guest state -> exit reason 33 with the check's qualification.
 * `out` is reused (no allocation). With `controlsAndHostUnchanged` (the caller knows the control
 * and host-state fields are those of a VMCS that passed before), only the guest-state checks and
 * the control/host checks marked {@link EntryCheck.alwaysRecheck} run — same result, less work.
 */
export function checkVmEntry(
  ctx: EntryCheckContext,
  out: EntryCheckResult,
  controlsAndHostUnchanged = false,
): EntryCheckResult {
  for (const chk of ENTRY_CHECKS) {
    if (controlsAndHostUnchanged && chk.stage !== EntryStage.Guest && !chk.alwaysRecheck) continue;
    if (!chk.passes(ctx)) {
      out.failed = chk;
      out.error =
        chk.stage === EntryStage.Controls
          ? VmInstructionError.EntryInvalidControls
          : chk.stage === EntryStage.Host
            ? VmInstructionError.EntryInvalidHostState
            : VmInstructionError.None;
      return out;
    }
  }
  out.failed = null;
  out.error = VmInstructionError.None;
  return out;
}
