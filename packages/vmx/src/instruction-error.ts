/** VM-instruction error numbers (SDM vol. 3, 31.4 "VM Instruction Error Numbers"). */
export const VmInstructionError = {
  /** No error (used internally for success). */
  None: 0,
  /** VMCALL executed in VMX root operation. */
  VmcallInRoot: 1,
  /** VMCLEAR with invalid physical address. */
  VmclearInvalidAddress: 2,
  /** VMCLEAR with VMXON pointer. */
  VmclearVmxonPointer: 3,
  /** VMLAUNCH with non-clear VMCS. */
  VmlaunchNonClear: 4,
  /** VMRESUME with non-launched VMCS. */
  VmresumeNonLaunched: 5,
  /** VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME). */
  VmresumeAfterVmxoff: 6,
  /** VM entry with invalid control field(s). */
  EntryInvalidControls: 7,
  /** VM entry with invalid host-state field(s). */
  EntryInvalidHostState: 8,
  /** VMPTRLD with invalid physical address. */
  VmptrldInvalidAddress: 9,
  /** VMPTRLD with VMXON pointer. */
  VmptrldVmxonPointer: 10,
  /** VMPTRLD with incorrect VMCS revision identifier. */
  VmptrldBadRevision: 11,
  /** VMREAD/VMWRITE from/to unsupported VMCS component. */
  UnsupportedComponent: 12,
  /** VMWRITE to read-only VMCS component. */
  ReadOnlyComponent: 13,
  /** VMXON executed in VMX root operation. */
  VmxonInRoot: 15,
  /** VM entry with invalid executive-VMCS pointer. */
  EntryInvalidExecutivePointer: 16,
  /** VM entry with non-launched executive VMCS. */
  EntryNonLaunchedExecutive: 17,
  /** VM entry with executive-VMCS pointer not VMXON pointer. */
  EntryExecutiveNotVmxon: 18,
  /** VMCALL with non-clear VMCS. */
  VmcallNonClear: 19,
  /** VMCALL with invalid VM-exit control fields. */
  VmcallInvalidExitControls: 20,
  /** VMCALL with incorrect MSEG revision identifier. */
  VmcallBadMsegRevision: 22,
  /** VMXOFF under dual-monitor treatment of SMIs and SMM. */
  VmxoffDualMonitor: 23,
  /** VMCALL with invalid SMM-monitor features. */
  VmcallInvalidSmmFeatures: 24,
  /** VM entry with invalid VM-execution control fields in executive VMCS. */
  EntryInvalidExecutiveControls: 25,
  /** VM entry with events blocked by MOV SS. */
  EntryEventsBlockedByMovSs: 26,
  /** Invalid operand to INVEPT/INVVPID. */
  InvalidInveptInvvpidOperand: 28,
} as const;
/** One of the {@link VmInstructionError} values. */
export type VmInstructionError = (typeof VmInstructionError)[keyof typeof VmInstructionError];
