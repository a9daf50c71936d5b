import { AccessKind } from "@turtles/memory";
import { EntryCtl, ExitCtl, PinCtl, Proc2Ctl, ProcCtl } from "./controls.js";
import {
  addrOk,
  C,
  CR0_PE,
  check,
  ctlOk,
  type EntryCheck,
  entryc,
  exitc,
  has,
  hi,
  injecting,
  injType,
  injVector,
  intrInfo,
  isValidEptp,
  lo,
  msrAreaOk,
  pinc,
  proc2c,
  procc,
  unrestricted,
} from "./entry-check-support.js";
import { InterruptionType } from "./exit-info.js";
import { VmcsField as F } from "./vmcs-fields.js";

/** Checks on the VMX controls (SDM 27.2.1.1-27.2.1.3): a failure is VMfailValid(7). */
export const CONTROL_CHECKS: readonly EntryCheck[] = [
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
];
