import { CPUID_FEATURES, FLOW_KINDS, MNEMONICS } from "./generated/opcodes.js";
import { OK } from "./generated/operand-kind-ids.js";
import {
  ENTRY_ACCESS,
  ENTRY_CPUID,
  ENTRY_FLAGS,
  ENTRY_FLOW,
  ENTRY_MNEMONIC,
  ENTRY_OPS,
  ENTRY_RFLAGS,
} from "./generated/tables.js";
import { OperandReader } from "./operand-reader.js";
import { EntryFlag } from "./table-format.js";

const EMPTY = new Uint8Array(0);

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
  /** @internal Backing field of {@link Instruction.opCount}. */
  _opCount: number = 0;
  /** @internal Backing field of {@link Instruction.opType}. */
  readonly _opType: Uint8Array = new Uint8Array(5);
  /** @internal Backing field of {@link Instruction.opReg}. */
  readonly _opReg: Uint16Array = new Uint16Array(5);
  /** @internal Backing field of {@link Instruction.memBase}. */
  _memBase: number = 0;
  /** @internal Backing field of {@link Instruction.memIndex}. */
  _memIndex: number = 0;
  /** @internal Backing field of {@link Instruction.memScale}. */
  _memScale: number = 1;
  /** @internal Backing field of {@link Instruction.memDisp}. */
  _memDisp: number = 0;
  /** @internal Backing field of {@link Instruction.memDispHi}. */
  _memDispHi: number = 0;
  /** @internal Backing field of {@link Instruction.memDispSize}. */
  _memDispSize: number = 0;
  /** @internal Backing field of {@link Instruction.memSize}. */
  _memSize: number = 0;
  /** @internal Backing field of {@link Instruction.memSegment}. */
  _memSegment: number = 0;
  /** @internal Backing field of {@link Instruction.memRipRelative}. */
  _memRipRelative: boolean = false;
  /** @internal Backing field of {@link Instruction.immLo}. */
  _immLo: number = 0;
  /** @internal Backing field of {@link Instruction.immHi}. */
  _immHi: number = 0;
  /** @internal Backing field of {@link Instruction.immSize}. */
  _immSize: number = 0;
  /** @internal Backing field of {@link Instruction.imm2}. */
  _imm2: number = 0;
  /** @internal Backing field of {@link Instruction.targetLo}. */
  _targetLo: number = 0;
  /** @internal Backing field of {@link Instruction.targetHi}. */
  _targetHi: number = 0;
  /** @internal Backing field of {@link Instruction.farSelector}. */
  _farSelector: number = 0;
  /** @internal Backing field of {@link Instruction.farOffset}. */
  _farOffset: number = 0;
  /** EVEX opmask register number (0 = none); meaningful only with {@link Prefix.Evex}. */
  opmask = 0;
  /** EVEX zeroing-masking; meaningful only with {@link Prefix.Evex}. */
  zeroing = false;
  /** EVEX broadcast; meaningful only with {@link Prefix.Evex}. */
  broadcast = false;
  /**
   * EVEX embedded rounding / SAE of a register form with EVEX.b: 0 none, 1 round to nearest even,
   * 2 down, 3 up, 4 toward zero (all with SAE), 5 SAE only. Meaningful only with {@link Prefix.Evex}.
   */
  rounding = 0;

  /** @internal The ModRM byte (-1: none). */
  _modrm = -1;

  /** True when the instruction has a ModRM byte that encodes memory (mod != 11). */
  get modrmIsMemory(): boolean {
    return this._modrm >= 0 && this._modrm < 0xc0;
  }

  /** @internal Operands not decoded yet (they are decoded on first access). */
  _lazy = false;
  /** @internal The bytes the instruction was decoded from (for the operands). */
  _data: Uint8Array = EMPTY;
  /** @internal Offset of the instruction in {@link Instruction._data}. */
  _start = 0;
  /** @internal Offset just after the opcode byte (of the ModRM byte when there is one). */
  _opStart = 0;
  /**
   * @internal Saved decoder state: REX/VEX R (bits 0-1), X (2-3), B (4), W (5), REX present (6),
   * prefix kind 0 legacy/1 VEX/2 EVEX/3 XOP (7-8), vector length (9-10), vvvv (11-15).
   */
  _rexBits = 0;
  private reader: OperandReader | undefined;

  /** Decodes the operands now (normally done on first access to an operand field). */
  materialize(): void {
    this._lazy = false;
    if (this.reader === undefined) this.reader = new OperandReader();
    this.reader.materialize(this);
  }

  /** {@link OperandType} per operand. */
  get opType(): Uint8Array {
    if (this._lazy) this.materialize();
    return this._opType;
  }
  /** Register id per register operand (see {@link REGISTER_NAMES}). */
  get opReg(): Uint16Array {
    if (this._lazy) this.materialize();
    return this._opReg;
  }
  /** Number of operands. */
  get opCount(): number {
    if (this._lazy) this.materialize();
    return this._opCount;
  }
  /** Memory base register id (0 = none). */
  get memBase(): number {
    if (this._lazy) this.materialize();
    return this._memBase;
  }
  /** Memory index register id (0 = none). */
  get memIndex(): number {
    if (this._lazy) this.materialize();
    return this._memIndex;
  }
  /** Index scale: 1, 2, 4 or 8. */
  get memScale(): number {
    if (this._lazy) this.materialize();
    return this._memScale;
  }
  /** Displacement (signed, sign-extended to the address size), low 32 bits as a signed number. */
  get memDisp(): number {
    if (this._lazy) this.materialize();
    return this._memDisp;
  }
  /** High 32 bits of a 64-bit displacement (only moffs64 and sign extension). */
  get memDispHi(): number {
    if (this._lazy) this.materialize();
    return this._memDispHi;
  }
  /** Displacement size in bytes (0, 1, 2, 4, 8). */
  get memDispSize(): number {
    if (this._lazy) this.materialize();
    return this._memDispSize;
  }
  /** Size in bytes of the memory operand (0 = unsized). */
  get memSize(): number {
    if (this._lazy) this.materialize();
    return this._memSize;
  }
  /** Effective segment register id of the memory operand. */
  get memSegment(): number {
    if (this._lazy) this.materialize();
    return this._memSegment;
  }
  /** True when the memory operand is RIP/EIP-relative. */
  get memRipRelative(): boolean {
    if (this._lazy) this.materialize();
    return this._memRipRelative;
  }
  /** Immediate, low 32 bits (sign-extended to {@link Instruction.immSize}). */
  get immLo(): number {
    if (this._lazy) this.materialize();
    return this._immLo;
  }
  /** Immediate, high 32 bits. */
  get immHi(): number {
    if (this._lazy) this.materialize();
    return this._immHi;
  }
  /** Immediate size in bytes as shown (1, 2, 4, 8). */
  get immSize(): number {
    if (this._lazy) this.materialize();
    return this._immSize;
  }
  /** Second immediate (ENTER's nesting level, EXTRQ's index). */
  get imm2(): number {
    if (this._lazy) this.materialize();
    return this._imm2;
  }
  /** Branch target, low 32 bits. */
  get targetLo(): number {
    if (this._lazy) this.materialize();
    return this._targetLo;
  }
  /** Branch target, high 32 bits. */
  get targetHi(): number {
    if (this._lazy) this.materialize();
    return this._targetHi;
  }
  /** Far pointer selector. */
  get farSelector(): number {
    if (this._lazy) this.materialize();
    return this._farSelector;
  }
  /** Far pointer offset. */
  get farOffset(): number {
    if (this._lazy) this.materialize();
    return this._farOffset;
  }

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
    return this.countIsZero() ? 0 : rflagBits((ENTRY_RFLAGS[this.opcode] ?? 0) & 0x1ff);
  }

  /** RFLAGS bits written ({@link RFlag}). */
  get flagsWritten(): number {
    return this.countIsZero() ? 0 : rflagBits(((ENTRY_RFLAGS[this.opcode] ?? 0) >>> 9) & 0x1ff);
  }

  /** RFLAGS bits left undefined ({@link RFlag}). */
  get flagsUndefined(): number {
    return this.countIsZero() ? 0 : rflagBits(((ENTRY_RFLAGS[this.opcode] ?? 0) >>> 18) & 0x1ff);
  }

  /** A shift or rotate by an immediate count that is 0 after masking (SDM: flags unaffected). */
  private countIsZero(): boolean {
    if (!((ENTRY_FLAGS[this.opcode] ?? 0) & EntryFlag.CountImm)) return false;
    const width = ENTRY_OPS[this.opcode * 5] === OK.Eb ? 8 : this.operandSize;
    let count = this.immLo & (width === 64 ? 63 : 31);
    const m = this.mnemonic;
    if (m === "rcl" || m === "rcr") {
      // RCL/RCR rotate through CF: 9 positions for bytes, 17 for words.
      if (width === 8) count %= 9;
      else if (width === 16) count %= 17;
    }
    return count === 0;
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
