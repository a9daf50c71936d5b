import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import type { GuestPagingWalker } from "./guest-paging.js";
import type { GuestPhysicalTranslator } from "./translator.js";
import { EptQualification, FaultKind, type WalkResult } from "./walk-result.js";

const scratch = new Uint32Array(8);

/**
 * Loads the four PAE PDPTE registers from the PDPT that `walker.cr3` (bits 31:5) points to, as MOV
 * to CR3 (and the other PAE-loading events of SDM 4.4.1) does. A present PDPTE with a reserved bit
 * (bits 2:1, 8:5, 63:MAXPHYADDR) makes the load fail with {@link FaultKind.GeneralProtection} and
 * leaves the registers unchanged. With a translator (EPT) the four reads are guest-physical reads
 * whose EPT violation has qualification bit 7 clear (SDM Table 28-7).
 * @returns true when the registers were loaded.
 */
export function loadPdptes(
  mem: PhysicalMemory,
  walker: GuestPagingWalker,
  out: WalkResult,
  translator: GuestPhysicalTranslator | null = null,
): boolean {
  out.reset();
  const base = (walker.cr3 & 0xffff_ffe0) >>> 0;
  const rsvdHi = ~(2 ** (walker.maxPhysAddr - 32) - 1);
  for (let i = 0; i < 4; i++) {
    const gpa = base + i * 8;
    let addr = gpa;
    if (translator !== null) {
      addr = translator.translate(mem, gpa, EptQualification.Read, 0, out);
      if (addr < 0) return false;
    }
    mem.read64(addr, AccessKind.PageWalk, scratch, i * 2);
    out.references++;
    const lo = scratch[i * 2]!;
    const hi = scratch[i * 2 + 1]!;
    if ((lo & 1) !== 0 && ((lo & 0x1e6) !== 0 || (hi & rsvdHi) !== 0)) {
      out.fault = FaultKind.GeneralProtection;
      out.faultAddress = gpa;
      out.level = 3;
      return false;
    }
  }
  walker.pdptes.set(scratch);
  out.ok = true;
  return true;
}
