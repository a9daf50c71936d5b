import { AccessKind } from "@turtles/memory";
import { EntryCtl, PinCtl, Proc2Ctl } from "./controls.js";
import {
  ActivityState,
  activity,
  arDpl,
  CR0_PE,
  CR0_PG,
  CR4_PAE,
  CR4_PCIDE,
  canon,
  check,
  EFER_LMA,
  EFER_LME,
  EFER_VALID,
  type EntryCheck,
  type EntryCheckContext,
  EntryFailureQual,
  entryc,
  fixedOk,
  G,
  has,
  hi,
  Interruptibility,
  ia32eGuest,
  injecting,
  injType,
  injVector,
  interruptibility,
  lo,
  patOk,
  perfOk,
  pinc,
  proc2c,
  RFLAGS_IF,
  RFLAGS_TF,
  SEG_CS,
  SEG_SS,
  segAr,
  unrestricted,
  v8086,
  withinWidth,
} from "./entry-check-support.js";
import { InterruptionType } from "./exit-info.js";
import { VmcsField as F } from "./vmcs-fields.js";

// Checks on the guest-state area other than segment registers (SDM 27.3.1): a failure is exit 33.
function pdpteOk(c: EntryCheckContext, l: number, h: number): boolean {
  if ((l & 1) === 0) return true;
  return (l & 0x1e6) === 0 && withinWidth(c, h); // bits 2:1 and 8:5 reserved
}

const pdpteScratch = new Uint32Array(2);

/** Every VM-entry check, in the order VM entry performs them. */

/** Checks on guest control/debug registers and MSRs (SDM 27.3.1.1). */
export const GUEST_REGISTER_CHECKS: readonly EntryCheck[] = [
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
];

/** Checks on descriptor tables, RIP/RFLAGS, non-register state and PDPTEs (SDM 27.3.1.3-27.3.1.6). */
export const GUEST_OTHER_CHECKS: readonly EntryCheck[] = [
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
