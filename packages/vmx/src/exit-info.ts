// Encodings of the VM-exit information fields (Intel SDM vol. 3, 25.9 "VM-Exit Information
// Fields" and 28.2.1 "Basic VM-Exit Information", tables of exit qualifications).

/** Interruption types (bits 10:8 of interruption-information fields, SDM 25.8.3 / 25.9.2). */
export const InterruptionType = {
  /** External interrupt. */
  External: 0,
  /** Non-maskable interrupt. */
  Nmi: 2,
  /** Hardware exception. */
  HardwareException: 3,
  /** Software interrupt (INT n). */
  SoftwareInterrupt: 4,
  /** Privileged software exception (INT1). */
  PrivilegedSoftwareException: 5,
  /** Software exception (INT3, INTO). */
  SoftwareException: 6,
  /** Other event (injection only: pending MTF VM exit). */
  Other: 7,
} as const;
/** One of the {@link InterruptionType} values. */
export type InterruptionType = (typeof InterruptionType)[keyof typeof InterruptionType];

/** Bit 31 of an interruption-information field: valid. */
export const INTR_INFO_VALID = 0x8000_0000;
/** Bit 11 of an interruption-information field: an error code is delivered. */
export const INTR_INFO_ERROR_CODE = 0x800;
/** Bit 12 of an interruption-information field: NMI unblocking due to IRET. */
export const INTR_INFO_NMI_UNBLOCKING = 0x1000;

/** Builds a valid interruption-information value. */
export function encodeInterruptionInfo(
  vector: number,
  type: InterruptionType,
  hasErrorCode: boolean,
  nmiUnblocking = false,
): number {
  return (
    (INTR_INFO_VALID |
      (vector & 0xff) |
      (type << 8) |
      (hasErrorCode ? INTR_INFO_ERROR_CODE : 0) |
      (nmiUnblocking ? INTR_INFO_NMI_UNBLOCKING : 0)) >>>
    0
  );
}

/** Vector (bits 7:0) of an interruption-information value. */
export function interruptionVector(info: number): number {
  return info & 0xff;
}

/** Type (bits 10:8) of an interruption-information value. */
export function interruptionType(info: number): InterruptionType {
  return ((info >>> 8) & 7) as InterruptionType;
}

/** Access types of a control-register access (exit qualification bits 5:4, SDM table 28-3). */
export const CrAccessType = {
  /** MOV to CR. */
  MovToCr: 0,
  /** MOV from CR. */
  MovFromCr: 1,
  /** CLTS. */
  Clts: 2,
  /** LMSW. */
  Lmsw: 3,
} as const;
/** One of the {@link CrAccessType} values. */
export type CrAccessType = (typeof CrAccessType)[keyof typeof CrAccessType];

/**
 * Exit qualification of a control-register access: CR number (3:0), access type (5:4), LMSW
 * operand type (6, 1 = memory), general-purpose register (11:8), LMSW source data (31:16).
 */
export function encodeCrAccessQualification(
  cr: number,
  access: CrAccessType,
  gpr: number,
  lmswSource = 0,
  lmswMemory = false,
): number {
  return (
    ((cr & 0xf) |
      (access << 4) |
      (lmswMemory ? 0x40 : 0) |
      ((gpr & 0xf) << 8) |
      ((lmswSource & 0xffff) << 16)) >>>
    0
  );
}

/** Exit qualification of MOV DR: DR number (2:0), direction (4: 1 = MOV from DR), register (11:8). */
export function encodeMovDrQualification(dr: number, fromDr: boolean, gpr: number): number {
  return (dr & 7) | (fromDr ? 0x10 : 0) | ((gpr & 0xf) << 8);
}

/**
 * Exit qualification of an I/O instruction: size - 1 (2:0), direction (3: 1 = IN), string (4),
 * REP (5), operand encoding (6: 1 = immediate), port (31:16).
 */
export function encodeIoQualification(
  port: number,
  size: 1 | 2 | 4,
  isIn: boolean,
  isString: boolean,
  isRep: boolean,
  immediate: boolean,
): number {
  return (
    ((size - 1) |
      (isIn ? 8 : 0) |
      (isString ? 0x10 : 0) |
      (isRep ? 0x20 : 0) |
      (immediate ? 0x40 : 0) |
      ((port & 0xffff) << 16)) >>>
    0
  );
}

/** Bits of the EPT-violation exit qualification (SDM table 28-7). */
export const EptViolationQual = {
  /** The access was a data read. */
  Read: 1 << 0,
  /** The access was a data write. */
  Write: 1 << 1,
  /** The access was an instruction fetch. */
  Fetch: 1 << 2,
  /** The guest-physical address was readable. */
  Readable: 1 << 3,
  /** The guest-physical address was writeable. */
  Writeable: 1 << 4,
  /** The guest-physical address was executable. */
  Executable: 1 << 5,
  /** The guest-linear-address field is valid. */
  LinearValid: 1 << 7,
  /** The access was the translation of a linear address (not a paging-structure access). */
  LinearTranslation: 1 << 8,
  /** NMI unblocking due to IRET. */
  NmiUnblocking: 1 << 12,
} as const;

/** Sources of a task switch (exit qualification bits 31:30, SDM table 28-2). */
export const TaskSwitchSource = {
  /** CALL instruction. */
  Call: 0,
  /** IRET instruction. */
  Iret: 1,
  /** JMP instruction. */
  Jmp: 2,
  /** Task gate in the IDT. */
  IdtTaskGate: 3,
} as const;

/** Exit qualification of a task switch: TSS selector (15:0) and source (31:30). */
export function encodeTaskSwitchQualification(selector: number, source: number): number {
  return ((selector & 0xffff) | ((source & 3) << 30)) >>> 0;
}

/**
 * VM-exit instruction information of VMCLEAR, VMPTRLD, VMPTRST, VMXON, VMREAD, VMWRITE, INVEPT,
 * INVVPID, INVPCID (SDM tables 28-9, 28-13, 28-14): scaling (1:0), reg1 (6:3), address size
 * (9:7: 0 = 16, 1 = 32, 2 = 64), register operand (10), segment (17:15), index (21:18, 22 =
 * invalid), base (26:23, 27 = invalid), reg2 (31:28). Pass -1 for an absent index or base.
 */
export function encodeVmxInstructionInfo(
  scaling: number,
  reg1: number,
  addressSize: 0 | 1 | 2,
  registerOperand: boolean,
  segment: number,
  index: number,
  base: number,
  reg2: number,
): number {
  return (
    ((scaling & 3) |
      ((reg1 & 0xf) << 3) |
      (addressSize << 7) |
      (registerOperand ? 0x400 : 0) |
      ((segment & 7) << 15) |
      (index < 0 ? 1 << 22 : (index & 0xf) << 18) |
      (base < 0 ? 1 << 27 : (base & 0xf) << 23) |
      ((reg2 & 0xf) << 28)) >>>
    0
  );
}
