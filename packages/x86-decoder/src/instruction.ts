import { CPUID_FEATURES, FLOW_KINDS, MNEMONICS } from "./generated/opcodes.js";
import {
  ENTRY_ACCESS,
  ENTRY_CPUID,
  ENTRY_FLAGS,
  ENTRY_FLOW,
  ENTRY_MNEMONIC,
  ENTRY_RFLAGS,
} from "./generated/tables.js";
import { EntryFlag } from "./table-format.js";

/** What an operand is. */
export const OperandType = {
  /** No operand in this slot. */
  None: 0,
  /** A register ({@link Instruction.opReg}). */
  Register: 1,
  /** Memory (`mem*` fields of the instruction). */
  Memory: 2,
  /** An immediate ({@link Instruction.immLo} / {@link Instruction.immHi}, or `imm2`). */
  Immediate: 3,
  /** A relative branch target ({@link Instruction.targetLo} / {@link Instruction.targetHi}). */
  NearBranch: 4,
  /** A far pointer (selector:offset). */
  FarBranch: 5,
  /** The second immediate ({@link Instruction.imm2}). */
  Immediate2: 6,
} as const;
/** Values of {@link OperandType}. */
export type OperandType = (typeof OperandType)[keyof typeof OperandType];

/** Why an instruction is invalid. */
export const InvalidReason = {
  /** Valid instruction. */
  None: 0,
  /** No instruction has this encoding (in this mode, with these prefixes). */
  NoSuchOpcode: 1,
  /** LOCK is not allowed on this instruction or operand. */
  LockNotAllowed: 2,
  /** The encoding would be longer than 15 bytes. */
  TooLong: 3,
  /** The bytes end before the instruction does. */
  NeedMoreBytes: 4,
  /** A reserved bit or field of a VEX/EVEX/XOP prefix has a wrong value. */
  BadEncoding: 5,
} as const;
/** Values of {@link InvalidReason}. */
export type InvalidReason = (typeof InvalidReason)[keyof typeof InvalidReason];

/** Bits of {@link Instruction.prefixes}. */
export const Prefix = {
  /** F0 */
  Lock: 1,
  /** F3 */
  Rep: 2,
  /** F2 */
  Repne: 4,
  /** 66 */
  OperandSize: 8,
  /** 67 */
  AddressSize: 16,
  /** A segment override. */
  Segment: 32,
  /** REX (64-bit mode). */
  Rex: 64,
  /** Two- or three-byte VEX. */
  Vex: 128,
  /** EVEX. */
  Evex: 256,
  /** XOP. */
  Xop: 512,
} as const;

/** Operand access values of {@link Instruction.access}. */
export const Access = {
  /** Not accessed (e.g. the memory operand of LEA). */
  None: 0,
  /** Read. */
  Read: 1,
  /** Written. */
  Write: 2,
  /** Read and written. */
  ReadWrite: 3,
  /** Conditionally read. */
  CondRead: 4,
  /** Conditionally written. */
  CondWrite: 5,
  /** Read, conditionally written. */
  ReadCondWrite: 6,
} as const;

/** RFLAGS bits as used by {@link Instruction.flagsRead} and friends (O D I T S Z A P C). */
export const RFlag = {
  /** Carry */
  C: 1,
  /** Parity */
  P: 2,
  /** Auxiliary carry */
  A: 4,
  /** Zero */
  Z: 8,
  /** Sign */
  S: 16,
  /** Trap */
  T: 32,
  /** Interrupt enable */
  I: 64,
  /** Direction */
  D: 128,
  /** Overflow */
  O: 256,
} as const;

/**
 * One decoded instruction. A {@link Decoder} fills the same object again and again: copy out what
 * you need to keep. 64-bit values are split into low/high 32-bit halves (unsigned).
 */
export class Instruction {
  /** Length in bytes (also set for invalid instructions: the bytes to skip). */
  length = 0;
  /** Opcode identifier ({@link Opcode} value; 0 = invalid). */
  opcode = 0;
  /** Why the instruction is invalid ({@link InvalidReason.None} when valid). */
  invalidReason: InvalidReason = InvalidReason.None;
  /** Mode the instruction was decoded in: 16, 32 or 64. */
  bitness = 64;
  /** Effective operand size in bits: 16, 32 or 64. */
  operandSize = 32;
  /** Effective address size in bits: 16, 32 or 64. */
  addressSize = 64;
  /** {@link Prefix} bits seen. */
  prefixes = 0;
  /** The last of F2/F3 seen (0 = none): it decides REP vs REPNE and the mandatory prefix. */
  repPrefix = 0;
  /** The last segment-override byte seen (0x26, 0x2E, ...; 0 = none): branch hints, NOTRACK. */
  lastSegment = 0;
  /** Segment override register id (0 = none). */
  segmentPrefix = 0;
  /** REX byte (0 = none). */
  rex = 0;
  /** Vector length in bits (128, 256, 512); meaningful only with VEX/EVEX/XOP prefixes. */
  vectorLength = 0;
  /** Address of the instruction, low 32 bits. */
  ipLo = 0;
  /** Address of the instruction, high 32 bits. */
  ipHi = 0;
  /** Number of operands. */
  opCount = 0;
  /** {@link OperandType} per operand. */
  readonly opType: Uint8Array = new Uint8Array(5);
  /** Register id per register operand (see {@link REGISTER_NAMES}). */
  readonly opReg: Uint16Array = new Uint16Array(5);
  /** Memory base register id (0 = none). */
  memBase = 0;
  /** Memory index register id (0 = none). */
  memIndex = 0;
  /** Index scale: 1, 2, 4 or 8. */
  memScale = 1;
  /** Displacement (signed, sign-extended to the address size), low 32 bits as a signed number. */
  memDisp = 0;
  /** High 32 bits of a 64-bit displacement (only moffs64 and sign extension). */
  memDispHi = 0;
  /** Displacement size in bytes (0, 1, 2, 4, 8). */
  memDispSize = 0;
  /** Size in bytes of the memory operand (0 = unsized). */
  memSize = 0;
  /** Effective segment register id of the memory operand. */
  memSegment = 0;
  /** True when the memory operand is RIP/EIP-relative. */
  memRipRelative = false;
  /** Immediate, low 32 bits (sign-extended to {@link Instruction.immSize}). */
  immLo = 0;
  /** Immediate, high 32 bits. */
  immHi = 0;
  /** Immediate size in bytes as shown (1, 2, 4, 8). */
  immSize = 0;
  /** Second immediate (ENTER's nesting level, EXTRQ's index). */
  imm2 = 0;
  /** Branch target, low 32 bits. */
  targetLo = 0;
  /** Branch target, high 32 bits. */
  targetHi = 0;
  /** Far pointer selector. */
  farSelector = 0;
  /** Far pointer offset. */
  farOffset = 0;
  /** EVEX opmask register number (0 = none); meaningful only with {@link Prefix.Evex}. */
  opmask = 0;
  /** EVEX zeroing-masking; meaningful only with {@link Prefix.Evex}. */
  zeroing = false;
  /** EVEX broadcast; meaningful only with {@link Prefix.Evex}. */
  broadcast = false;

  /** True when the instruction has a ModRM byte that encodes memory (mod != 11). */
  modrmIsMemory = false;

  /** True when the bytes do not encode a valid instruction. */
  get invalid(): boolean {
    return this.invalidReason !== InvalidReason.None;
  }

  /** The mnemonic, lower case (`"invalid"` for an invalid instruction). */
  get mnemonic(): string {
    return MNEMONICS[ENTRY_MNEMONIC[this.opcode] ?? 0] ?? "invalid";
  }

  /** The CPUID feature that gates the instruction ("" when none is recorded). */
  get cpuidFeature(): string {
    return CPUID_FEATURES[ENTRY_CPUID[this.opcode] ?? 0] ?? "";
  }

  /** Control-flow kind: next, jmp, jmpind, jcc, call, callind, ret, int, iret, ... */
  get flowKind(): string {
    return FLOW_KINDS[ENTRY_FLOW[this.opcode] ?? 0] ?? "next";
  }

  /** True when the instruction can only run at CPL 0. */
  get privileged(): boolean {
    return ((ENTRY_FLAGS[this.opcode] ?? 0) & EntryFlag.Privileged) !== 0;
  }

  /** RFLAGS bits read ({@link RFlag}). */
  get flagsRead(): number {
    return rflagBits((ENTRY_RFLAGS[this.opcode] ?? 0) & 0x1ff);
  }

  /** RFLAGS bits written ({@link RFlag}). */
  get flagsWritten(): number {
    return rflagBits(((ENTRY_RFLAGS[this.opcode] ?? 0) >>> 9) & 0x1ff);
  }

  /** RFLAGS bits left undefined ({@link RFlag}). */
  get flagsUndefined(): number {
    return rflagBits(((ENTRY_RFLAGS[this.opcode] ?? 0) >>> 18) & 0x1ff);
  }

  /** Access ({@link Access}) of operand `i`. */
  access(i: number): number {
    return ((ENTRY_ACCESS[this.opcode] ?? 0) >>> (3 * i)) & 7;
  }
}

// Table bit i = letter i of "ODITSZAPC" counted from the right; RFlag uses the architectural order.
const LETTER_TO_RFLAG = [1, 2, 4, 8, 16, 32, 64, 128, 256]; // C P A Z S T I D O from bit 0
function rflagBits(x: number): number {
  let r = 0;
  for (let i = 0; i < 9; i++) if ((x >>> i) & 1) r |= LETTER_TO_RFLAG[i]!;
  return r;
}
