/**
 * The paging-related rules of MOV to CR4 (SDM vol. 2B "MOV—Move to/from Control Registers";
 * vol. 3A, 4.1.1, 4.10.4.1): which bits the model lets software set, the #GP conditions of
 * CR4.LA57 and CR4.PCIDE, and which changes must empty the TLB.
 */
import { CR4_LA57 } from "./canonical.js";
import type { Cpu } from "./cpu.js";
import type { CpuModel } from "./cpu-model.js";

/** CR4.PSE (bit 4). */
export const CR4_PSE = 1 << 4;
/** CR4.PAE (bit 5). */
export const CR4_PAE = 1 << 5;
/** CR4.PGE (bit 7). */
export const CR4_PGE = 1 << 7;
/** CR4.PCIDE (bit 17). */
export const CR4_PCIDE = 1 << 17;
/** CR4.SMEP (bit 20). */
export const CR4_SMEP = 1 << 20;
/** CR4.SMAP (bit 21). */
export const CR4_SMAP = 1 << 21;
/** CR4.PKE (bit 22). */
export const CR4_PKE = 1 << 22;

/**
 * CR4 bits whose change invalidates cached translations. The SDM requires it for PGE, PCIDE
 * (1 to 0), PAE and SMEP (0 to 1); this TLB caches the outcome of permission checks, so changes of
 * PSE, SMEP, SMAP, PKE and LA57 in either direction drop every PCID's entries too (a processor is
 * always free to invalidate more, SDM 4.10.4.1).
 */
export const CR4_TRANSLATION_BITS =
  CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_LA57;

/** The CR4 bits the paging features of `model` make writable (beyond the base set). */
export function pagingCr4Bits(model: CpuModel): number {
  return (
    (model.la57 === true ? CR4_LA57 : 0) |
    (model.pcid !== false ? CR4_PCIDE : 0) |
    (model.pku !== false ? CR4_PKE : 0)
  );
}

/**
 * The #GP(0) conditions of MOV to CR4 that concern paging: LA57 may not change in IA-32e mode,
 * PCIDE may be set only in IA-32e mode with CR3[11:0] = 0. Returns true when the write faults.
 */
export function cr4PagingFault(c: Cpu, old: number, v: number): boolean {
  const s = c.s;
  const lma = (s.efer[0]! & 0x400) !== 0;
  if (lma && ((old ^ v) & CR4_LA57) !== 0) return true;
  if ((v & ~old & CR4_PCIDE) !== 0 && (!lma || (s.cr[6]! & 0xfff) !== 0)) return true;
  return false;
}

/**
 * Whether a MOV to CR4 from `old` to `v` reloads the PAE PDPTE registers (SDM vol. 3A, 4.4.1): with
 * PAE paging in use (CR0.PG = 1, IA32_EFER.LMA = 0), when it changes PGE, PAE, PSE or SMEP.
 */
export function cr4ReloadsPdptes(c: Cpu, old: number, v: number): boolean {
  const s = c.s;
  return (
    c.paging &&
    (s.efer[0]! & 0x400) === 0 &&
    (v & CR4_PAE) !== 0 &&
    ((old ^ v) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP)) !== 0
  );
}
