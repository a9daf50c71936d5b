/** Outcome of a VMX instruction, for the processor that executes it. */
export const VmxStatus = {
  /** VMsucceed: CF = ZF = 0 (flags already set). */
  Succeed: 0,
  /** VMfailInvalid: CF = 1 (flags already set). */
  FailInvalid: 1,
  /** VMfailValid: ZF = 1, error number in the current VMCS (flags already set). */
  FailValid: 2,
  /** Raise #UD. */
  UndefinedOpcode: 3,
  /** Raise #GP(0). */
  GeneralProtection: 4,
  /** The memory operand access faulted; the processor has raised the fault already. */
  OperandFault: 5,
  /** In VMX non-root operation: the instruction causes a VM exit (its basic exit reason). */
  VmExit: 6,
  /** VMLAUNCH/VMRESUME passed every check and loaded the guest: run the guest now. */
  EnterGuest: 7,
  /**
   * VMLAUNCH/VMRESUME failed after the guest-state checks began (SDM 27.8): the exit reason
   * (33 or 34, bit 31 set) and qualification are in the VMCS; load the host state as on a VM exit.
   */
  EntryFailed: 8,
} as const;
/** One of the {@link VmxStatus} values. */
export type VmxStatus = (typeof VmxStatus)[keyof typeof VmxStatus];
