/**
 * `@turtles/vmx`: Intel VMX as data and functions — VMCS fields and storage, capability MSRs,
 * VMX instruction semantics, VM-entry checks, VM-exit encoding and the nested engine that runs a
 * guest hypervisor's guests (VMCS12 -> VMCS02, exit routing, reflection, VMCS shadowing).
 *
 * @packageDocumentation
 */
export { VmxCapabilities, VmxMsr } from "./capabilities.js";
export {
  ENTRY_DEFAULT1,
  EntryCtl,
  EXIT_DEFAULT1,
  ExitCtl,
  PIN_DEFAULT1,
  PinCtl,
  PROC_DEFAULT1,
  Proc2Ctl,
  ProcCtl,
} from "./controls.js";
export {
  CrAccessType,
  EptViolationQual,
  encodeCrAccessQualification,
  encodeInterruptionInfo,
  encodeIoQualification,
  encodeMovDrQualification,
  encodeTaskSwitchQualification,
  encodeVmxInstructionInfo,
  INTR_INFO_ERROR_CODE,
  INTR_INFO_NMI_UNBLOCKING,
  INTR_INFO_VALID,
  InterruptionType,
  interruptionType,
  interruptionVector,
  TaskSwitchSource,
} from "./exit-info.js";
export {
  EXIT_REASON_ENTRY_FAILURE,
  EXIT_REASON_LIMIT,
  ExitReason,
  exitReasonNames,
} from "./exit-reason.js";
export {
  type ControlFeature,
  DEFAULT_VMX_FEATURES,
  type EptVpidFeature,
  type MiscFeature,
  type VmxFeatures,
} from "./features.js";
export {
  FieldKind,
  FieldWidth,
  fieldIndex,
  fieldKind,
  fieldWidth,
  fieldWidthBits,
  isHighAccess,
  makeFieldEncoding,
} from "./field-encoding.js";
export { highestFieldIndex, supportedFieldMap } from "./field-support.js";
export {
  ControlWord,
  conditionHolds,
  controlWords,
  GUEST_FIELD_RULES,
  type GuestFieldCondition,
  type GuestFieldRule,
} from "./guest-fields.js";
export { VmInstructionError } from "./instruction-error.js";
export {
  eptpSwitch,
  invept,
  invvpid,
  VMX_INSTRUCTION_EXIT_REASON,
  type VmEntryTarget,
  vmcall,
  vmclear,
  vmexit,
  vmfunc,
  vmlaunch,
  vmptrld,
  vmptrst,
  vmread as vmreadInstruction,
  vmwrite as vmwriteInstruction,
  vmxoff,
  vmxon,
} from "./instructions.js";
export {
  EXIT_TABLE,
  type ExitRule,
  type ExitTableEntry,
  effectiveProc2,
  ioBitmapIntercepts,
  l1WantsExit,
  msrBitmapIntercepts,
} from "./l1-routing.js";
export { loadMsrArea, msrLoadForbidden, storeMsrArea } from "./msr-area.js";
export { NestedCounters } from "./nested-counters.js";
export { NestedVmx } from "./nested-engine.js";
export {
  EptFaultOutcome,
  L2ExitRoute,
  type NestedHost,
  type NestedVmxState,
  type ShadowEpt,
} from "./nested-host.js";
export { CpuMode, type VmxProcessor } from "./processor.js";
export {
  initShadowVmcs,
  SHADOW_READ_FIELDS,
  SHADOW_WRITE_FIELDS,
  type ShadowVmcsPages,
  syncFromShadow,
  syncLoggedFromShadow,
  syncToShadow,
} from "./shadow-vmcs.js";
export { type GuestStateAccess, type MsrAccess, VmcsGuestView } from "./state-access.js";
export {
  loadGuestState,
  performVmEntry,
  recordEntryFailure,
  VmEntryOutcome,
} from "./vm-entry.js";
export {
  ActivityState,
  checkVmEntry,
  ENTRY_CHECKS,
  type EntryCheck,
  type EntryCheckContext,
  type EntryCheckResult,
  EntryFailureQual,
  EntryStage,
  Interruptibility,
  isCanonical,
  isValidEptp,
} from "./vm-entry-checks.js";
export {
  loadHostState,
  performVmExit,
  readExitRecord,
  recordExit,
  saveGuestState,
  type VmExitTargets,
  VmxAbort,
} from "./vm-exit.js";
export { VmExitRecord } from "./vm-exit-record.js";
export { LaunchState, VMCS_SLOT_COUNT, Vmcs, vmcsSlot } from "./vmcs.js";
export {
  highAlias,
  VMCS_FIELDS,
  VmcsField,
  type VmcsFieldEntry,
  type VmcsFieldName,
  vmcsFieldName,
} from "./vmcs-fields.js";
export { fillLongModeVmcs, type LongModeVmcsOptions } from "./vmcs-templates.js";
export {
  controlsChanged,
  copyEventInjection,
  type MergeContext,
  mergeVmcs02Controls,
} from "./vmcs02-merge.js";
export {
  loadVmcs12,
  renderVmcs12Layout,
  storeVmcs12,
  VMCS12_ABORT_OFFSET,
  VMCS12_FIELDS_OFFSET,
  VMCS12_LAUNCH_STATE_OFFSET,
  VMCS12_LAYOUT_VERSION,
  VMCS12_LAYOUT_VERSION_OFFSET,
  VMCS12_REVISION_OFFSET,
  VMCS12_SIZE,
  vmcs12FieldOffset,
} from "./vmcs12-layout.js";
export { vmread, vmwrite } from "./vmread-vmwrite.js";
export { INVALID_VMCS_POINTER, SHADOW_WRITE_LOG_SIZE, VmxOperation, VmxState } from "./vmx-state.js";
export { VmxStatus } from "./vmx-status.js";
