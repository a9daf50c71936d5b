import type { VmxCapabilities } from "./capabilities.js";
import { EntryCtl, ExitCtl } from "./controls.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F } from "./vmcs-fields.js";

/** Where the 64-bit host and guest of {@link fillLongModeVmcs} start. */
export interface LongModeVmcsOptions {
  /** Host RIP after every VM exit. */
  readonly hostRip: number;
  /** Host RSP after every VM exit. */
  readonly hostRsp: number;
  /** Host CR3 (page-aligned). */
  readonly hostCr3: number;
  /** Guest RIP at VM entry. */
  readonly guestRip: number;
  /** Guest RSP at VM entry. */
  readonly guestRsp: number;
  /** Guest CR3 (page-aligned). */
  readonly guestCr3: number;
}

/**
 * Fills `vmcs` with a minimal valid configuration: every control at its required setting (the
 * must-be-1 bits of the TRUE capability MSRs) plus 64-bit host and IA-32e-mode guest, flat
 * segments, no link pointer. Every VM-entry check passes on the result; tests break one check at
 * a time from here. Addresses are numbers below 2^32 for simplicity.
 */
export function fillLongModeVmcs(vmcs: Vmcs, caps: VmxCapabilities, o: LongModeVmcsOptions): void {
  vmcs.clearFields();
  vmcs.revisionId = caps.revisionId;
  vmcs.set(F.PIN_BASED_VM_EXEC_CONTROL, caps.pinMust1);
  vmcs.set(F.CPU_BASED_VM_EXEC_CONTROL, caps.procMust1);
  vmcs.set(F.VM_EXIT_CONTROLS, caps.exitMust1 | ExitCtl.HostAddrSpaceSize);
  vmcs.set(F.VM_ENTRY_CONTROLS, caps.entryMust1 | EntryCtl.Ia32eModeGuest);
  vmcs.set(F.VMCS_LINK_POINTER, 0xffff_ffff, 0xffff_ffff);
  const cr0 = caps.features.cr0Fixed0 | 0x10 | 0x2; // + ET, MP
  const cr4 = caps.features.cr4Fixed0 | 0x20; // + PAE
  // host
  vmcs.set(F.HOST_CR0, cr0);
  vmcs.set(F.HOST_CR3, o.hostCr3);
  vmcs.set(F.HOST_CR4, cr4);
  vmcs.set(F.HOST_CS_SELECTOR, 0x08);
  vmcs.set(F.HOST_SS_SELECTOR, 0x10);
  vmcs.set(F.HOST_DS_SELECTOR, 0x10);
  vmcs.set(F.HOST_ES_SELECTOR, 0x10);
  vmcs.set(F.HOST_TR_SELECTOR, 0x18);
  vmcs.setNumber(F.HOST_RIP, o.hostRip);
  vmcs.setNumber(F.HOST_RSP, o.hostRsp);
  // guest
  vmcs.set(F.GUEST_CR0, cr0);
  vmcs.set(F.GUEST_CR3, o.guestCr3);
  vmcs.set(F.GUEST_CR4, cr4);
  vmcs.set(F.GUEST_DR7, 0x400);
  vmcs.set(F.GUEST_RFLAGS, 2);
  vmcs.setNumber(F.GUEST_RIP, o.guestRip);
  vmcs.setNumber(F.GUEST_RSP, o.guestRsp);
  for (let seg = 0; seg < 6; seg++) {
    const code = seg === 1;
    vmcs.set(F.GUEST_ES_SELECTOR + 2 * seg, code ? 0x08 : 0x10);
    vmcs.set(F.GUEST_ES_LIMIT + 2 * seg, 0xffff_ffff);
    vmcs.set(F.GUEST_ES_AR_BYTES + 2 * seg, code ? 0xa09b : 0xc093);
  }
  vmcs.set(F.GUEST_LDTR_AR_BYTES, 0x1_0000);
  vmcs.set(F.GUEST_TR_SELECTOR, 0x18);
  vmcs.set(F.GUEST_TR_LIMIT, 0x67);
  vmcs.set(F.GUEST_TR_AR_BYTES, 0x8b);
  vmcs.set(F.GUEST_GDTR_LIMIT, 0x27);
  vmcs.set(F.GUEST_IDTR_LIMIT, 0xfff);
}
