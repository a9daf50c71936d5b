/**
 * Operand access shared by the handlers: registers by number and size (AH-BH through a shift),
 * and the "E" operand (register `d` or the memory operand) of ModRM forms.
 */
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";

/** Reads register `r` at `size` bits (8-bit: `sh` = 8 selects AH-BH). The low half; 64-bit callers read the high half themselves. */
export function getReg(g: Uint32Array, r: number, sh: number, size: number): number {
  const v = g[2 * r]!;
  if (size === 32 || size === 64) return v;
  if (size === 16) return v & 0xffff;
  return (v >>> sh) & 0xff;
}

/** Writes register `r` at `size` bits: 8/16 merge, 32 zero-extends, 64 writes both halves. */
export function setReg(g: Uint32Array, r: number, sh: number, size: number, lo: number, hi: number): void {
  const k = 2 * r;
  if (size === 32) {
    g[k] = lo;
    g[k + 1] = 0;
  } else if (size === 64) {
    g[k] = lo;
    g[k + 1] = hi;
  } else if (size === 16) {
    g[k] = (g[k]! & 0xffff0000) | (lo & 0xffff);
  } else {
    g[k] = (g[k]! & ~(0xff << sh)) | ((lo & 0xff) << sh);
  }
}

/** The linear address of the memory operand of `i` (size from `i.size`), checked for a read or a write. */
export function memLin(c: Cpu, i: Insn, write: boolean): number {
  return c.lin(i.seg, c.ea(i), i.size >>> 3, write);
}

/**
 * Reads the E operand (register `i.d` when `i.base`... see `isMem`), at `i.size`; a 64-bit value
 * leaves its high half in `c.mhi`.
 */
export function readE(c: Cpu, i: Insn, isMem: boolean): number {
  if (isMem) return c.rdSized(memLin(c, i, false), i.size >>> 3);
  const g = c.s.gpr;
  c.mhi = g[2 * i.d + 1]!;
  return getReg(g, i.d, i.dh, i.size);
}

/** Writes the E operand at `i.size` (memory at the linear address `la` when it is memory). */
export function writeE(c: Cpu, i: Insn, la: number, lo: number, hi: number): void {
  if (!Number.isNaN(la)) c.wrSized(la, i.size >>> 3, lo, hi);
  else setReg(c.s.gpr, i.d, i.dh, i.size, lo, hi);
}

/** Marks "the operand is a register" for {@link writeE}. */
export const NO_LA = Number.NaN;

/** Sign-extends the low `bits` of `v` to 32 bits. */
export function sext(v: number, bits: number): number {
  const sh = 32 - bits;
  return (v << sh) >> sh;
}

/** Masks a branch target to the operand size: 16 → 16 bits, 32 → 32 bits, 64 → as is. */
export function maskIp(v: number, size: number): number {
  return size === 64 ? v : size === 32 ? v >>> 0 : v & 0xffff;
}

/** A 64-bit value as a number from halves (signed interpretation, exact for canonical addresses). */
export function toNum(lo: number, hi: number): number {
  return (hi | 0) * 4294967296 + (lo >>> 0);
}
