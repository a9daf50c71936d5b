import type { PhysicalMemory } from "@turtles/memory";
import { EntryCtl } from "./controls.js";
import { EXIT_REASON_ENTRY_FAILURE, ExitReason } from "./exit-reason.js";
import { conditionHolds, controlWords, GUEST_FIELD_RULES } from "./guest-fields.js";
import { loadMsrArea } from "./msr-area.js";
import { type GuestStateAccess, type MsrAccess, VmcsGuestView } from "./state-access.js";
import { checkVmEntry, type EntryCheckContext, type EntryCheckResult } from "./vm-entry-checks.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F } from "./vmcs-fields.js";

/** How a VM entry ended. */
export const VmEntryOutcome = {
  /** The guest state is loaded: run the guest. */
  Entered: 0,
  /** VMfailValid with the error in the result (controls or host state). */
  FailValid: 1,
  /** VM-entry failure: exit reason 33 or 34 (bit 31 set) and qualification are in the VMCS. */
  Failed: 2,
} as const;
/** One of the {@link VmEntryOutcome} values. */
export type VmEntryOutcome = (typeof VmEntryOutcome)[keyof typeof VmEntryOutcome];

const tmp = new Uint32Array(2);

/** Loads the guest-state area of `vmcs` into `dst` (SDM 27.3.2), field by field as the entry controls say. */
export function loadGuestState(vmcs: Vmcs, dst: GuestStateAccess): void {
  const w = controlWords(vmcs);
  const d = vmcs.data;
  if (dst instanceof VmcsGuestView) {
    const to = dst.vmcs.data;
    for (const rule of GUEST_FIELD_RULES) {
      if (!conditionHolds(rule.load, w)) continue;
      to[rule.slot * 2] = d[rule.slot * 2]!;
      to[rule.slot * 2 + 1] = d[rule.slot * 2 + 1]!;
    }
  } else {
    for (const rule of GUEST_FIELD_RULES) {
      if (conditionHolds(rule.load, w))
        dst.writeState(rule.encoding, d[rule.slot * 2]!, d[rule.slot * 2 + 1]!);
    }
  }
  if ((vmcs.get32(F.VM_ENTRY_CONTROLS) & EntryCtl.LoadEfer) === 0) {
    // EFER.LMA <- "IA-32e mode guest"; EFER.LME too when CR0.PG = 1 (SDM 27.3.2.1).
    const ia32e = (vmcs.get32(F.VM_ENTRY_CONTROLS) & EntryCtl.Ia32eModeGuest) !== 0;
    dst.readState(F.GUEST_IA32_EFER, tmp);
    let efer = ia32e ? tmp[0]! | (1 << 10) : tmp[0]! & ~(1 << 10);
    if ((vmcs.get32(F.GUEST_CR0) & 0x8000_0000) !== 0) efer = ia32e ? efer | (1 << 8) : efer & ~(1 << 8);
    dst.writeState(F.GUEST_IA32_EFER, efer >>> 0, tmp[1]!);
  }
}

/** Sets the exit-reason and qualification fields of a failed VM entry (SDM 27.8). */
export function recordEntryFailure(vmcs: Vmcs, reason: number, qualification: number): void {
  vmcs.set(F.VM_EXIT_REASON, (reason | EXIT_REASON_ENTRY_FAILURE) >>> 0);
  vmcs.set(F.EXIT_QUALIFICATION, qualification, 0);
}

/**
 * The checks and loads of VM entry after the instruction-level checks of VMLAUNCH/VMRESUME
 * (SDM 27.2-27.4): controls and host state, guest state, then the guest state is loaded into
 * `dst` and the VM-entry MSR-load area into `guestMsrs`. `controlsAndHostUnchanged`: see
 * {@link checkVmEntry}.
 */
export function performVmEntry(
  ctx: EntryCheckContext,
  result: EntryCheckResult,
  dst: GuestStateAccess,
  guestMsrs: MsrAccess,
  mem: PhysicalMemory,
  controlsAndHostUnchanged = false,
): VmEntryOutcome {
  checkVmEntry(ctx, result, controlsAndHostUnchanged);
  if (result.failed !== null) {
    if (result.error !== 0) return VmEntryOutcome.FailValid;
    recordEntryFailure(ctx.vmcs, ExitReason.EntryFailGuestState, result.failed.qualification);
    return VmEntryOutcome.Failed;
  }
  loadGuestState(ctx.vmcs, dst);
  const count = ctx.vmcs.get32(F.VM_ENTRY_MSR_LOAD_COUNT);
  if (count !== 0) {
    // Beyond the recommended maximum (IA32_VMX_MISC bits 27:25) the SDM leaves the outcome
    // undefined; like KVM, the entry past the maximum fails.
    const max = 512 * (ctx.caps.features.misc.msrListLog + 1);
    let bad = loadMsrArea(
      mem,
      ctx.vmcs.getNumber(F.ENTRY_MSR_LOAD_ADDR),
      Math.min(count, max),
      guestMsrs,
      true,
    );
    if (bad === 0 && count > max) bad = max + 1;
    if (bad !== 0) {
      recordEntryFailure(ctx.vmcs, ExitReason.EntryFailMsrLoad, bad);
      return VmEntryOutcome.Failed;
    }
  }
  return VmEntryOutcome.Entered;
}
