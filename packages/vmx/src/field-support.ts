import { EntryCtl, ExitCtl, PinCtl, Proc2Ctl, ProcCtl } from "./controls.js";
import type { VmxFeatures } from "./features.js";
import { FieldWidth, fieldIndex, fieldWidth } from "./field-encoding.js";
import { VMCS_FIELDS, type VmcsFieldName } from "./vmcs-fields.js";

type Requirement = (f: VmxFeatures) => boolean;

const pin =
  (bit: number): Requirement =>
  (f) =>
    (f.pin.allowed1 & bit) !== 0;
const proc =
  (bit: number): Requirement =>
  (f) =>
    (f.proc.allowed1 & bit) !== 0;
const proc2 =
  (bit: number): Requirement =>
  (f) =>
    (f.proc.allowed1 & ProcCtl.SecondaryControls) !== 0 && (f.proc2 & bit) !== 0;
const exit =
  (bit: number): Requirement =>
  (f) =>
    (f.exit.allowed1 & bit) !== 0;
const entry =
  (bit: number): Requirement =>
  (f) =>
    (f.entry.allowed1 & bit) !== 0;
const either =
  (a: Requirement, b: Requirement): Requirement =>
  (f) =>
    a(f) || b(f);
const never: Requirement = () => false;

/**
 * Fields that exist only when a feature may be enabled (SDM appendix B footnotes); every other
 * field of the table always exists. Fields of features this implementation never offers (tertiary
 * controls, HLAT, dual-monitor SMM, ...) are tied to `never` or to a control bit it leaves 0.
 */
const REQUIREMENTS: Partial<Record<VmcsFieldName, Requirement>> = {
  VIRTUAL_PROCESSOR_ID: proc2(Proc2Ctl.Vpid),
  POSTED_INTR_NOTIFICATION_VECTOR: pin(PinCtl.PostedInterrupts),
  POSTED_INTR_DESC_ADDR: pin(PinCtl.PostedInterrupts),
  EPTP_INDEX: proc2(Proc2Ctl.EptViolationVe),
  HLAT_PREFIX_SIZE: never,
  LAST_PID_POINTER_INDEX: never,
  GUEST_INTERRUPT_STATUS: proc2(Proc2Ctl.VirtIntrDelivery),
  GUEST_PML_INDEX: proc2(Proc2Ctl.Pml),
  GUEST_UINV: never,
  EXECUTIVE_VMCS_POINTER: never,
  PML_ADDRESS: proc2(Proc2Ctl.Pml),
  VIRTUAL_APIC_PAGE_ADDR: proc(ProcCtl.TprShadow),
  TPR_THRESHOLD: proc(ProcCtl.TprShadow),
  APIC_ACCESS_ADDR: proc2(Proc2Ctl.VirtApicAccesses),
  VM_FUNCTION_CONTROLS: proc2(Proc2Ctl.Vmfunc),
  EPTP_LIST_ADDRESS: proc2(Proc2Ctl.Vmfunc),
  EPT_POINTER: proc2(Proc2Ctl.Ept),
  GUEST_PHYSICAL_ADDRESS: proc2(Proc2Ctl.Ept),
  GUEST_PDPTE0: proc2(Proc2Ctl.Ept),
  GUEST_PDPTE1: proc2(Proc2Ctl.Ept),
  GUEST_PDPTE2: proc2(Proc2Ctl.Ept),
  GUEST_PDPTE3: proc2(Proc2Ctl.Ept),
  EOI_EXIT_BITMAP0: proc2(Proc2Ctl.VirtIntrDelivery),
  EOI_EXIT_BITMAP1: proc2(Proc2Ctl.VirtIntrDelivery),
  EOI_EXIT_BITMAP2: proc2(Proc2Ctl.VirtIntrDelivery),
  EOI_EXIT_BITMAP3: proc2(Proc2Ctl.VirtIntrDelivery),
  VMREAD_BITMAP: proc2(Proc2Ctl.VmcsShadowing),
  VMWRITE_BITMAP: proc2(Proc2Ctl.VmcsShadowing),
  VE_INFORMATION_ADDRESS: proc2(Proc2Ctl.EptViolationVe),
  XSS_EXIT_BITMAP: proc2(Proc2Ctl.Xsaves),
  ENCLS_EXITING_BITMAP: proc2(Proc2Ctl.EnclsExiting),
  SPP_TABLE_POINTER: proc2(Proc2Ctl.SubPagePermissions),
  TSC_MULTIPLIER: proc2(Proc2Ctl.TscScaling),
  TERTIARY_VM_EXEC_CONTROL: proc(ProcCtl.TertiaryControls),
  ENCLV_EXITING_BITMAP: proc2(Proc2Ctl.EnclvExiting),
  LOW_PASID_DIRECTORY: proc2(Proc2Ctl.PasidTranslation),
  HIGH_PASID_DIRECTORY: proc2(Proc2Ctl.PasidTranslation),
  SHARED_EPTP: never,
  PCONFIG_EXITING_BITMAP: proc2(Proc2Ctl.Pconfig),
  HLATP: never,
  PID_POINTER_TABLE: never,
  SECONDARY_VM_EXIT_CONTROLS: exit(ExitCtl.SecondaryControls),
  GUEST_IA32_PAT: either(entry(EntryCtl.LoadPat), exit(ExitCtl.SavePat)),
  GUEST_IA32_EFER: either(entry(EntryCtl.LoadEfer), exit(ExitCtl.SaveEfer)),
  GUEST_IA32_PERF_GLOBAL_CTRL: either(entry(EntryCtl.LoadPerfGlobalCtrl), exit(ExitCtl.SavePerfGlobalCtrl)),
  GUEST_IA32_BNDCFGS: either(entry(EntryCtl.LoadBndcfgs), exit(ExitCtl.ClearBndcfgs)),
  GUEST_IA32_RTIT_CTL: either(entry(EntryCtl.LoadRtitCtl), exit(ExitCtl.ClearRtitCtl)),
  GUEST_IA32_LBR_CTL: either(entry(EntryCtl.LoadLbrCtl), exit(ExitCtl.ClearLbrCtl)),
  GUEST_IA32_PKRS: entry(EntryCtl.LoadPkrs),
  HOST_IA32_PAT: exit(ExitCtl.LoadPat),
  HOST_IA32_EFER: exit(ExitCtl.LoadEfer),
  HOST_IA32_PERF_GLOBAL_CTRL: exit(ExitCtl.LoadPerfGlobalCtrl),
  HOST_IA32_PKRS: exit(ExitCtl.LoadPkrs),
  SECONDARY_VM_EXEC_CONTROL: proc(ProcCtl.SecondaryControls),
  PLE_GAP: proc2(Proc2Ctl.PauseLoopExiting),
  PLE_WINDOW: proc2(Proc2Ctl.PauseLoopExiting),
  INSTRUCTION_TIMEOUT_CONTROL: proc2(Proc2Ctl.InstructionTimeout),
  VMX_PREEMPTION_TIMER_VALUE: pin(PinCtl.PreemptionTimer),
  GUEST_S_CET: either(entry(EntryCtl.LoadCetState), exit(ExitCtl.LoadCetState)),
  GUEST_SSP: either(entry(EntryCtl.LoadCetState), exit(ExitCtl.LoadCetState)),
  GUEST_INTR_SSP_TABLE_ADDR: either(entry(EntryCtl.LoadCetState), exit(ExitCtl.LoadCetState)),
  HOST_S_CET: exit(ExitCtl.LoadCetState),
  HOST_SSP: exit(ExitCtl.LoadCetState),
  HOST_INTR_SSP_TABLE_ADDR: exit(ExitCtl.LoadCetState),
};

/**
 * The set of field encodings (full and, for 64-bit fields, high aliases) that exist under a
 * feature description, as a lookup table indexed by encoding (0 = unsupported, 1 = supported).
 */
export function supportedFieldMap(features: VmxFeatures): Uint8Array {
  const map = new Uint8Array(0x8000);
  for (const { name, encoding } of VMCS_FIELDS) {
    const req = REQUIREMENTS[name];
    if (req !== undefined && !req(features)) continue;
    map[encoding] = 1;
    if (fieldWidth(encoding) === FieldWidth.Bits64) map[encoding | 1] = 1;
  }
  return map;
}

/** The highest field index (bits 9:1) over the supported fields: bits 9:1 of IA32_VMX_VMCS_ENUM. */
export function highestFieldIndex(supported: Uint8Array): number {
  let max = 0;
  for (let enc = 0; enc < supported.length; enc++) {
    if (supported[enc] === 1) max = Math.max(max, fieldIndex(enc));
  }
  return max;
}
