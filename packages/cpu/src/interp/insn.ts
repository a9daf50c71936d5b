import type { OperandSize } from "../state/operand-size.js";
import type { Cpu } from "./cpu.js";

/** A handler: executes one decoded instruction. */
export type Handler = (c: Cpu, i: Insn) => void;

/**
 * One decoded instruction in the compact form the interpreter runs: created once when its block is
 * decoded and executed many times. Every field has a fixed type so handlers stay monomorphic.
 * Register operands are general-purpose register numbers (0-15); an 8-bit register also has a
 * shift (8 for AH, CH, DH, BH, else 0).
 */
export class Insn {
  /** The handler. */
  fn: Handler;
  /** Opcode (`Opcode` of the decoder). */
  opcode = 0;
  /** Address of the instruction (offset in CS, as `CpuState.rip` holds it). */
  rip = 0;
  /** Address of the next instruction. */
  next = 0;
  /** Length in bytes. */
  len = 0;
  /** Operand size in bits (8, 16, 32, 64). */
  size: OperandSize = 32;
  /** Address size in bits (16, 32, 64). */
  asz = 32;
  /** First register operand (destination), or -1. */
  d = -1;
  /** Shift of the first register operand when it is AH-BH (8), else 0. */
  dh = 0;
  /** Second register operand (source), or -1. */
  s = -1;
  /** Shift of the second register operand when it is AH-BH (8), else 0. */
  sh = 0;
  /** Register of operand 1 by position (-1 when operand 1 is not a general register). */
  r1 = -1;
  /** Register of operand 2 by position (-1 when operand 2 is not a general register). */
  r2 = -1;
  /** Memory operand: base register, or -1. */
  base = -1;
  /** Memory operand: index register, or -1. */
  index = -1;
  /** Memory operand: scale (1, 2, 4, 8). */
  scale = 1;
  /** Memory operand: displacement low half (unsigned); for RIP-relative operands the absolute address. */
  dispLo = 0;
  /** Memory operand: displacement high half (sign extension). */
  dispHi = 0;
  /** Memory operand: segment register (`Seg`). */
  seg = 3;
  /** Memory operand size in bytes (0 when none). */
  msize = 0;
  /** Whether the ModRM operand (E) is memory. */
  mem = false;
  /** Immediate, low half. */
  immLo = 0;
  /** Immediate, high half (sign extension to 64 bits). */
  immHi = 0;
  /** Second immediate (ENTER's level) or far-pointer selector. */
  imm2 = 0;
  /** Branch target (same representation as `rip`). */
  target = 0;
  /** Handler-specific: ALU operation, condition code, segment, control register number, ... */
  aux = 0;
  /** Prefix bits (`Prefix` of the decoder). */
  prefixes = 0;
  /** True when this instruction ends its block (branches, mode changes, ...). */
  ends = false;
  /** Guest instructions this record stands for (2 when two were fused). */
  count = 1;
  /** Guest instructions of the block up to and including this record. */
  seqEnd = 0;

  constructor(fn: Handler) {
    this.fn = fn;
  }
}
