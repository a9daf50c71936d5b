/**
 * The format of the generated tables, shared by the generator and the decoder.
 * @internal
 */

/** Dimensions a definition can be selected on, in the order the decoding tree tests them. */
export const Dim = {
  Mode: 0,
  Pfx: 1,
  RexB: 2,
  W: 3,
  L: 4,
  Mod: 5,
  Reg: 6,
  Rm: 7,
  Osz: 8,
  Asz: 9,
  Count: 10,
} as const;

/** Number of values of each dimension: mode 16/32/64, prefix none/66/F3/F2, mod mem/reg, ... */
export const DIM_SIZES: readonly number[] = [3, 4, 2, 2, 4, 2, 8, 8, 3, 3];

/** Node kinds of the decoding tree (low 4 bits of a node). */
export const NodeKind = {
  /** No instruction; no ModRM byte is consumed. */
  Invalid: 0,
  /** No instruction; a ModRM byte is consumed (if not read yet). */
  InvalidModRM: 1,
  /** An instruction: payload is the opcode id. */
  Leaf: 2,
  /** No instruction; ModRM and one more byte are consumed (iced-x86's length for some x87 holes). */
  InvalidExtra: 3,
  /** Switch on dimension (kind - SwitchBase): payload is the offset of the children. */
  SwitchBase: 4,
} as const;

/** Opcode maps: index = map id of the tables. */
export const MAP_NAMES = [
  "LEGACY",
  "0F",
  "0F38",
  "0F3A",
  "0F0F",
  "VEX.0F",
  "VEX.0F38",
  "VEX.0F3A",
  "EVEX.0F",
  "EVEX.0F38",
  "EVEX.0F3A",
  "EVEX.MAP5",
  "EVEX.MAP6",
  "XOP.8",
  "XOP.9",
  "XOP.A",
] as const;

/** Map ids. */
export const MapId = {
  Legacy: 0,
  M0F: 1,
  M0F38: 2,
  M0F3A: 3,
  M3DNow: 4,
  Vex0F: 5,
  Vex0F38: 6,
  Vex0F3A: 7,
  Evex0F: 8,
  Evex0F38: 9,
  Evex0F3A: 10,
  EvexMap5: 11,
  EvexMap6: 12,
  Xop8: 13,
  Xop9: 14,
  XopA: 15,
} as const;

/** Bits of ENTRY_FLAGS. */
export const EntryFlag = {
  ModRM: 1 << 0,
  Lock: 1 << 1,
  Rep: 1 << 2,
  Repe: 1 << 3,
  D64: 1 << 4,
  F64: 1 << 5,
  ShowSize: 1 << 6,
  Privileged: 1 << 7,
  Mandatory66: 1 << 8,
  MandatoryF2F3: 1 << 9,
  /** Intel syntax shows data16/data32/data64 when the operand size is not the default. */
  DataSize: 1 << 10,
  /** x87: the operands are omitted when the register operand is st(1). */
  St1Short: 1 << 11,
  /** Intel syntax shows addr16/addr32/addr64 when the address size is not the default. */
  AddrSize: 1 << 12,
  /** F2 is shown as BND. */
  Bnd: 1 << 13,
  /** F2/F3 are XACQUIRE/XRELEASE even without LOCK (XCHG with memory). */
  Hle: 1 << 14,
  /** F3 is XRELEASE with a memory destination (MOV). */
  XRelease: 1 << 15,
  /** Operands 0 and 1 are printed once when they are the same register (IMUL r, r/m, imm). */
  Dup01: 1 << 16,
  /** No segment override is printed (LEA). */
  NoSegment: 1 << 17,
  /** Decoded in full, then invalid (e.g. MOV to CS). */
  Bad: 1 << 18,
  /** An operand comes from VEX.vvvv (else vvvv must be 1111b). */
  UsesVvvv: 1 << 19,
  /** The last immediate selects a comparison predicate shown in the mnemonic. */
  CmpPredicate: 1 << 20,
  /** Operands are decoded at once (they decide validity), not on first use. */
  Eager: 1 << 21,
  /** Shift/rotate by an immediate: no flag is touched when the masked count is 0. */
  CountImm: 1 << 22,
  /** EVEX half-width conversions: the memory size is shown below 512 bits (xmm destination). */
  ShowSizeBelow512: 1 << 23,
} as const;
