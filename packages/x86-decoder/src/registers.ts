/**
 * Register identifiers. A register is a small integer: the class base plus the register number, so
 * a class test is a range test. The values are stable (append only).
 */

const GPR8 = [
  "al",
  "cl",
  "dl",
  "bl",
  "spl",
  "bpl",
  "sil",
  "dil",
  "r8b",
  "r9b",
  "r10b",
  "r11b",
  "r12b",
  "r13b",
  "r14b",
  "r15b",
  "ah",
  "ch",
  "dh",
  "bh",
];
const GPR16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const GPR32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const GPR64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"];

function numbered(prefix: string, count: number, suffix = ""): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}${suffix}`);
}

/** Register names in Intel syntax (lower case), indexed by register id. */
export const REGISTER_NAMES: readonly string[] = [
  "",
  ...GPR8, // 1..20
  ...GPR16,
  ...numbered("r", 8, "w").map((_, i) => `r${i + 8}w`), // 21..36
  ...GPR32,
  ...numbered("r", 8, "d").map((_, i) => `r${i + 8}d`), // 37..52
  ...GPR64,
  ...numbered("r", 8).map((_, i) => `r${i + 8}`), // 53..68
  "es",
  "cs",
  "ss",
  "ds",
  "fs",
  "gs",
  "seg6",
  "seg7", // 69..76
  ...numbered("cr", 16), // 77..92
  ...numbered("dr", 16), // 93..108
  ...numbered("tr", 8), // 109..116
  ...numbered("st(", 8, ")"), // 117..124
  ...numbered("mm", 8), // 125..132
  ...numbered("xmm", 32), // 133..164
  ...numbered("ymm", 32), // 165..196
  ...numbered("zmm", 32), // 197..228
  ...numbered("k", 8), // 229..236
  ...numbered("bnd", 4), // 237..240
  "rip",
  "eip", // 241, 242
  ...numbered("tmm", 8), // 243..250
];

/** First id of each register class (add the register number). */
export const Reg = {
  None: 0,
  GPR8: 1,
  /** AH, CH, DH, BH (encodings 4..7 without REX). */
  GPR8High: 17,
  GPR16: 21,
  GPR32: 37,
  GPR64: 53,
  ES: 69,
  CS: 70,
  SS: 71,
  DS: 72,
  FS: 73,
  GS: 74,
  Seg: 69,
  CR: 77,
  DR: 93,
  TR: 109,
  ST: 117,
  MM: 125,
  XMM: 133,
  YMM: 165,
  ZMM: 197,
  K: 229,
  BND: 237,
  RIP: 241,
  EIP: 242,
  TMM: 243,
} as const;

/** Number of register ids. */
export const REGISTER_COUNT = REGISTER_NAMES.length;

/** Size in bytes of a general-purpose register id (0 for other classes). */
export function gprSize(reg: number): number {
  if (reg >= Reg.GPR8 && reg < Reg.GPR16) return 1;
  if (reg >= Reg.GPR16 && reg < Reg.GPR32) return 2;
  if (reg >= Reg.GPR32 && reg < Reg.GPR64) return 4;
  if (reg >= Reg.GPR64 && reg < Reg.ES) return 8;
  return 0;
}
