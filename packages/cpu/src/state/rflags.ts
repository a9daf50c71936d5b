/**
 * RFLAGS bit positions (Intel SDM vol. 1, 3.4.3 "EFLAGS Register").
 */
export const Rflags = {
  CF: 0x1,
  /** Bit 1 is reserved and always reads as 1. */
  FIXED1: 0x2,
  PF: 0x4,
  AF: 0x10,
  ZF: 0x40,
  SF: 0x80,
  TF: 0x100,
  IF: 0x200,
  DF: 0x400,
  OF: 0x800,
  IOPL: 0x3000,
  NT: 0x4000,
  RF: 0x10000,
  VM: 0x20000,
  AC: 0x40000,
  VIF: 0x80000,
  VIP: 0x100000,
  ID: 0x200000,
} as const;

/** The six status flags that arithmetic writes: CF, PF, AF, ZF, SF and OF. */
export const ARITH_FLAGS = 0x8d5;

/** Every RFLAGS bit software can hold (bits 22-63 and 3, 5, 15 are reserved, bit 1 is fixed). */
export const RFLAGS_DEFINED = 0x3f7fd7;
