import type { PhysicalMemory } from "@turtles/memory";
import { EntryCtl, ExitCtl } from "./controls.js";
import { conditionHolds, controlWords, GUEST_FIELD_RULES } from "./guest-fields.js";
import { loadMsrArea, storeMsrArea } from "./msr-area.js";
import { type GuestStateAccess, type MsrAccess, VmcsGuestView } from "./state-access.js";
import type { VmExitRecord } from "./vm-exit-record.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F } from "./vmcs-fields.js";

// VM exits (Intel SDM vol. 3, chapter 28): record the exit, save guest state, store MSRs, load
// host state, load MSRs.

/** VMX-abort indicators (SDM 28.7). */
export const VmxAbort = {
  /** No abort. */
  None: 0,
  /** Failure saving guest MSRs. */
  SaveGuestMsrs: 1,
  /** Host checksum failure. */
  HostChecksum: 2,
  /** The current VMCS has been corrupted. */
  CorruptedVmcs: 3,
  /** Failure loading host MSRs. */
  LoadHostMsrs: 4,
  /** Machine-check event during VM exit. */
  MachineCheck: 5,
} as const;

/** Writes the VM-exit information fields of `vmcs` from `exit` (SDM 28.2) and invalidates event injection. */
export function recordExit(vmcs: Vmcs, exit: VmExitRecord): void {
  vmcs.set(F.VM_EXIT_REASON, (exit.reason & 0xffff) | (exit.reasonFlags & 0xffff_0000));
  vmcs.set(F.EXIT_QUALIFICATION, exit.qualLo, exit.qualHi);
  vmcs.set(F.GUEST_LINEAR_ADDRESS, exit.linearLo, exit.linearHi);
  vmcs.setNumber(F.GUEST_PHYSICAL_ADDRESS, exit.guestPhysical);
  vmcs.set(F.VM_EXIT_INSTRUCTION_LEN, exit.instructionLength);
  vmcs.set(F.VM_EXIT_INSTRUCTION_INFO, exit.instructionInfo);
  vmcs.set(F.VM_EXIT_INTR_INFO, exit.interruptionInfo);
  vmcs.set(F.VM_EXIT_INTR_ERROR_CODE, exit.interruptionErrorCode);
  vmcs.set(F.IDT_VECTORING_INFO, exit.idtVectoringInfo);
  vmcs.set(F.IDT_VECTORING_ERROR_CODE, exit.idtVectoringErrorCode);
  // SDM 28.2: the valid bit of the VM-entry interruption-information field is cleared.
  vmcs.set(F.VM_ENTRY_INTR_INFO, vmcs.get32(F.VM_ENTRY_INTR_INFO) & 0x7fff_ffff);
}

/**
 * Fills `exit` from the VM-exit information fields of `vmcs` (the inverse of
 * {@link recordExit}), for a processor that wrote an exit into its hardware VMCS. The register
 * values a record also carries (ECX, EAX, EDX, CR source) are left for the caller to set.
 */
export function readExitRecord(vmcs: Vmcs, exit: VmExitRecord): VmExitRecord {
  const reason = vmcs.get32(F.VM_EXIT_REASON);
  exit.clear();
  exit.reason = reason & 0xffff;
  exit.reasonFlags = (reason & 0xffff_0000) >>> 0;
  exit.qualLo = vmcs.get32(F.EXIT_QUALIFICATION);
  exit.qualHi = vmcs.getHi(F.EXIT_QUALIFICATION);
  exit.linearLo = vmcs.get32(F.GUEST_LINEAR_ADDRESS);
  exit.linearHi = vmcs.getHi(F.GUEST_LINEAR_ADDRESS);
  exit.guestPhysical = vmcs.getNumber(F.GUEST_PHYSICAL_ADDRESS);
  exit.instructionLength = vmcs.get32(F.VM_EXIT_INSTRUCTION_LEN);
  exit.instructionInfo = vmcs.get32(F.VM_EXIT_INSTRUCTION_INFO);
  exit.interruptionInfo = vmcs.get32(F.VM_EXIT_INTR_INFO);
  exit.interruptionErrorCode = vmcs.get32(F.VM_EXIT_INTR_ERROR_CODE);
  exit.idtVectoringInfo = vmcs.get32(F.IDT_VECTORING_INFO);
  exit.idtVectoringErrorCode = vmcs.get32(F.IDT_VECTORING_ERROR_CODE);
  return exit;
}

const tmp = new Uint32Array(2);

/**
 * Saves the processor state of `src` into the guest-state area of `vmcs` (SDM 28.3), field by
 * field as the VM-exit controls say, and stores EFER.LMA into the "IA-32e mode guest" control.
 */
export function saveGuestState(vmcs: Vmcs, src: GuestStateAccess): void {
  const w = controlWords(vmcs);
  if (src instanceof VmcsGuestView) {
    // VMCS to VMCS (the nested engine's VMCS02 -> VMCS12): values are already truncated
    const from = src.vmcs.data;
    const to = vmcs.data;
    for (const rule of GUEST_FIELD_RULES) {
      if (!conditionHolds(rule.save, w)) continue;
      to[rule.slot * 2] = from[rule.slot * 2]!;
      to[rule.slot * 2 + 1] = from[rule.slot * 2 + 1]!;
    }
  } else {
    for (const rule of GUEST_FIELD_RULES) {
      if (!conditionHolds(rule.save, w)) continue;
      src.readState(rule.encoding, tmp);
      vmcs.set(rule.encoding, tmp[0]!, tmp[1]!);
    }
  }
  src.readState(F.GUEST_IA32_EFER, tmp);
  const lma = (tmp[0]! & (1 << 10)) !== 0;
  const entry = vmcs.get32(F.VM_ENTRY_CONTROLS);
  vmcs.set(F.VM_ENTRY_CONTROLS, lma ? entry | EntryCtl.Ia32eModeGuest : entry & ~EntryCtl.Ia32eModeGuest);
}

/** Access rights the host state gets on VM exit (SDM 28.5.2). */
const AR_CODE64 = 0xa09b;
const AR_CODE32 = 0xc09b;
const AR_DATA = 0xc093;
const AR_TSS = 0x8b;
const AR_UNUSABLE = 0x1_0000;

function hostToGuest(vmcs: Vmcs, dst: GuestStateAccess, guest: number, host: number): void {
  dst.writeState(guest, vmcs.get32(host), vmcs.getHi(host));
}

function loadSegment(
  vmcs: Vmcs,
  dst: GuestStateAccess,
  seg: number,
  hostSel: number,
  baseLo: number,
  baseHi: number,
  ar: number,
  limit: number,
): void {
  dst.writeState(F.GUEST_ES_SELECTOR + 2 * seg, vmcs.get32(hostSel), 0);
  dst.writeState(F.GUEST_ES_BASE + 2 * seg, baseLo, baseHi);
  dst.writeState(F.GUEST_ES_LIMIT + 2 * seg, limit, 0);
  dst.writeState(F.GUEST_ES_AR_BYTES + 2 * seg, ar, 0);
}

/** A data segment: usable with flat attributes unless its selector is 0 (SDM 28.5.2). */
function loadDataSegment(
  vmcs: Vmcs,
  dst: GuestStateAccess,
  seg: number,
  hostSel: number,
  baseField: number,
): void {
  const usable = vmcs.get32(hostSel) !== 0;
  const bl = baseField < 0 ? 0 : vmcs.get32(baseField);
  const bh = baseField < 0 ? 0 : vmcs.getHi(baseField);
  loadSegment(vmcs, dst, seg, hostSel, bl, bh, usable ? AR_DATA : AR_UNUSABLE, 0xffff_ffff);
}

/**
 * Loads the host-state area of `vmcs` into `dst` (SDM 28.5): control registers, debug
 * registers, MSRs named by the exit controls, segment registers with the fixed attributes the
 * SDM gives them, descriptor tables, RIP, RSP and RFLAGS = 2.
 */
export function loadHostState(vmcs: Vmcs, dst: GuestStateAccess): void {
  const exitCtl = vmcs.get32(F.VM_EXIT_CONTROLS);
  const long = (exitCtl & ExitCtl.HostAddrSpaceSize) !== 0;
  hostToGuest(vmcs, dst, F.GUEST_CR0, F.HOST_CR0);
  hostToGuest(vmcs, dst, F.GUEST_CR3, F.HOST_CR3);
  hostToGuest(vmcs, dst, F.GUEST_CR4, F.HOST_CR4);
  dst.writeState(F.GUEST_DR7, 0x400, 0);
  dst.writeState(F.GUEST_IA32_DEBUGCTL, 0, 0);
  dst.writeState(F.GUEST_SYSENTER_CS, vmcs.get32(F.HOST_IA32_SYSENTER_CS), 0);
  hostToGuest(vmcs, dst, F.GUEST_SYSENTER_ESP, F.HOST_IA32_SYSENTER_ESP);
  hostToGuest(vmcs, dst, F.GUEST_SYSENTER_EIP, F.HOST_IA32_SYSENTER_EIP);
  if ((exitCtl & ExitCtl.LoadPerfGlobalCtrl) !== 0) {
    hostToGuest(vmcs, dst, F.GUEST_IA32_PERF_GLOBAL_CTRL, F.HOST_IA32_PERF_GLOBAL_CTRL);
  }
  if ((exitCtl & ExitCtl.LoadPat) !== 0) hostToGuest(vmcs, dst, F.GUEST_IA32_PAT, F.HOST_IA32_PAT);
  if ((exitCtl & ExitCtl.LoadEfer) !== 0) {
    hostToGuest(vmcs, dst, F.GUEST_IA32_EFER, F.HOST_IA32_EFER);
  } else {
    dst.readState(F.GUEST_IA32_EFER, tmp);
    const lmaLme = (1 << 10) | (1 << 8);
    dst.writeState(F.GUEST_IA32_EFER, long ? tmp[0]! | lmaLme : tmp[0]! & ~lmaLme, tmp[1]!);
  }
  loadDataSegment(vmcs, dst, 0, F.HOST_ES_SELECTOR, -1);
  loadSegment(vmcs, dst, 1, F.HOST_CS_SELECTOR, 0, 0, long ? AR_CODE64 : AR_CODE32, 0xffff_ffff);
  loadDataSegment(vmcs, dst, 2, F.HOST_SS_SELECTOR, -1);
  loadDataSegment(vmcs, dst, 3, F.HOST_DS_SELECTOR, -1);
  loadDataSegment(vmcs, dst, 4, F.HOST_FS_SELECTOR, F.HOST_FS_BASE);
  loadDataSegment(vmcs, dst, 5, F.HOST_GS_SELECTOR, F.HOST_GS_BASE);
  dst.writeState(F.GUEST_LDTR_SELECTOR, 0, 0);
  dst.writeState(F.GUEST_LDTR_AR_BYTES, AR_UNUSABLE, 0);
  loadSegment(
    vmcs,
    dst,
    7,
    F.HOST_TR_SELECTOR,
    vmcs.get32(F.HOST_TR_BASE),
    vmcs.getHi(F.HOST_TR_BASE),
    AR_TSS,
    0x67,
  );
  hostToGuest(vmcs, dst, F.GUEST_GDTR_BASE, F.HOST_GDTR_BASE);
  hostToGuest(vmcs, dst, F.GUEST_IDTR_BASE, F.HOST_IDTR_BASE);
  dst.writeState(F.GUEST_GDTR_LIMIT, 0xffff, 0);
  dst.writeState(F.GUEST_IDTR_LIMIT, 0xffff, 0);
  hostToGuest(vmcs, dst, F.GUEST_RIP, F.HOST_RIP);
  hostToGuest(vmcs, dst, F.GUEST_RSP, F.HOST_RSP);
  dst.writeState(F.GUEST_RFLAGS, 2, 0);
  dst.writeState(F.GUEST_ACTIVITY_STATE, 0, 0);
  dst.writeState(F.GUEST_INTERRUPTIBILITY_INFO, 0, 0);
  dst.writeState(F.GUEST_PENDING_DBG_EXCEPTIONS, 0, 0);
}

/** The places a full VM exit reads and writes. */
export interface VmExitTargets {
  /** The processor whose guest exits (its state is saved, then the host state loaded into it). */
  readonly cpu: GuestStateAccess;
  /** MSRs of the guest (MSR-store area). */
  readonly guestMsrs: MsrAccess;
  /** MSRs of the host (MSR-load area). */
  readonly hostMsrs: MsrAccess;
  /** Memory holding the MSR areas. */
  readonly mem: PhysicalMemory;
}

/**
 * A complete VM exit from the guest running under `vmcs` (SDM 28.1-28.6). Returns the VMX-abort
 * indicator ({@link VmxAbort.None} on success); on an abort the indicator is also written to
 * `vmcs.abortIndicator` and the processor must shut down.
 */
export function performVmExit(vmcs: Vmcs, exit: VmExitRecord, t: VmExitTargets): number {
  recordExit(vmcs, exit);
  saveGuestState(vmcs, t.cpu);
  const storeCount = vmcs.get32(F.VM_EXIT_MSR_STORE_COUNT);
  if (
    storeCount !== 0 &&
    storeMsrArea(t.mem, vmcs.getNumber(F.EXIT_MSR_STORE_ADDR), storeCount, t.guestMsrs) !== 0
  ) {
    vmcs.abortIndicator = VmxAbort.SaveGuestMsrs;
    return VmxAbort.SaveGuestMsrs;
  }
  loadHostState(vmcs, t.cpu);
  const loadCount = vmcs.get32(F.VM_EXIT_MSR_LOAD_COUNT);
  if (
    loadCount !== 0 &&
    loadMsrArea(t.mem, vmcs.getNumber(F.EXIT_MSR_LOAD_ADDR), loadCount, t.hostMsrs, false) !== 0
  ) {
    vmcs.abortIndicator = VmxAbort.LoadHostMsrs;
    return VmxAbort.LoadHostMsrs;
  }
  return VmxAbort.None;
}
