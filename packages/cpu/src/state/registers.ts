/**
 * General-purpose register numbers, in instruction-encoding order (ModRM.reg/rm with REX.R/B).
 */
export const Gpr = {
  RAX: 0,
  RCX: 1,
  RDX: 2,
  RBX: 3,
  RSP: 4,
  RBP: 5,
  RSI: 6,
  RDI: 7,
  R8: 8,
  R9: 9,
  R10: 10,
  R11: 11,
  R12: 12,
  R13: 13,
  R14: 14,
  R15: 15,
} as const;

/** One of the {@link Gpr} numbers (0-15). */
export type Gpr = (typeof Gpr)[keyof typeof Gpr];

/** Segment register numbers: the six in encoding order (Sreg field), then LDTR and TR. */
export const Seg = {
  ES: 0,
  CS: 1,
  SS: 2,
  DS: 3,
  FS: 4,
  GS: 5,
  LDTR: 6,
  TR: 7,
} as const;

/** One of the {@link Seg} numbers (0-7). */
export type Seg = (typeof Seg)[keyof typeof Seg];

/** Control registers that exist (CR0, CR2, CR3, CR4, CR8); others raise #UD when accessed. */
export const CONTROL_REGISTERS: readonly number[] = [0, 2, 3, 4, 8];
