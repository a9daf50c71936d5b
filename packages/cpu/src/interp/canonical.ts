/**
 * Canonical linear addresses (SDM vol. 1, 3.3.7.1; vol. 3A, 4.5): in 64-bit mode an address is
 * canonical when bits 63:47 (4-level paging) or 63:56 (CR4.LA57, 5-level paging) are all equal.
 * Every check shares the bound kept in `Cpu.canonBound`, recomputed when CR4 changes, and
 * {@link isCanonicalHi} for 64-bit values held as halves (MSRs, descriptor-table bases).
 *
 * Linear addresses are JS numbers (signed, exact below 2^53). With LA57 the architectural bound is
 * 2^56, but a number cannot hold such an address exactly, so the number checks use 2^53: a
 * canonical 57-bit address of magnitude 2^53 or more is treated as non-canonical (#GP/#SS) when
 * it is used. Checks on halves (WRMSR, LGDT, WRFSBASE...) are exact 57-bit checks.
 */
import type { Cpu } from "./cpu.js";

/** CR4.LA57 (bit 12). */
export const CR4_LA57 = 1 << 12;
/** The bound for 4-level paging: canonical addresses are [-2^47, 2^47). */
export const CANON_BOUND_48 = 2 ** 47;
/** The bound used with CR4.LA57: 2^53, the largest magnitude a number holds exactly (2^56 architecturally). */
export const CANON_BOUND_57 = 2 ** 53;

/** The canonical bound for CR4 value `cr4`. */
export function canonicalBound(cr4: number): number {
  return (cr4 & CR4_LA57) !== 0 ? CANON_BOUND_57 : CANON_BOUND_48;
}

/** Whether the linear address `la` (a signed number) is canonical for the current paging mode. */
export function isCanonical(c: Cpu, la: number): boolean {
  const b = c.canonBound;
  return la >= -b && la < b;
}

/** Whether a 64-bit address whose high half is `hi` is canonical (exact, 48 or 57 bits by CR4.LA57). */
export function isCanonicalHi(c: Cpu, hi: number): boolean {
  return (c.s.cr[8]! & CR4_LA57) !== 0 ? (hi << 7) >> 7 === (hi | 0) : (hi << 16) >> 16 === (hi | 0);
}
