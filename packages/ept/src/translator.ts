import type { PhysicalMemory } from "@turtles/memory";
import type { WalkResult } from "./walk-result.js";

/**
 * The hook that makes a one-dimensional walker two-dimensional: every guest-physical address the
 * guest walker touches (each paging-structure entry, each accessed/dirty update, and the final
 * address) is passed through `translate`. Without a translator the guest walker reads its tables
 * at their guest-physical addresses (1-D); with an {@link EptTranslator} each access goes through
 * an EPT as silicon does (2-D); a translator whose EPT walker reads memory that is itself
 * translated gives the 3-D walk of a nested guest.
 */
export interface GuestPhysicalTranslator {
  /**
   * Translates `gpa` for an access of kind `access` ({@link EptQualification} bits 0..2: read,
   * write, fetch). `linear` holds the exit-qualification bits 7..11 that describe the linear
   * address (valid, translation vs paging-structure access, its U/S, R/W and XD).
   *
   * @returns the host-physical address; or -1 after storing the fault (kind, qualification,
   * fault address, level, suppress-#VE) into `out`. Either way the memory references made are
   * added to `out.references`.
   */
  translate(mem: PhysicalMemory, gpa: number, access: number, linear: number, out: WalkResult): number;
  /** Page size of the last successful translation. */
  readonly pageSize: number;
  /** Memory type of the last successful translation (-1 when it has none). */
  readonly memoryType: number;
  /** Ignore-PAT bit of the last successful translation. */
  readonly ignorePat: boolean;
}
