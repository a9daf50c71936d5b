import type { PhysicalMemory } from "@turtles/memory";
import { EptAccess, type EptWalker } from "./ept-walker.js";
import type { GuestPhysicalTranslator } from "./translator.js";
import { EptQualification, WalkResult } from "./walk-result.js";

/**
 * A {@link GuestPhysicalTranslator} that sends every guest-physical access of a guest walk through
 * an {@link EptWalker}: the two-dimensional walk of SDM 29.3.2. Guest paging-structure accesses
 * are treated as writes when the EPTP enables accessed/dirty flags (SDM 29.3.3.2), so their
 * violations set qualification bits 0 and 1.
 *
 * The EPT tables are read from `tableMemory` when given (e.g. an {@link EptTranslatedMemory} for
 * an EPT that lives in a guest's memory), otherwise from the memory passed to `translate`.
 */
export class EptTranslator implements GuestPhysicalTranslator {
  /** @inheritDoc GuestPhysicalTranslator.pageSize */
  pageSize = 0;
  /** @inheritDoc GuestPhysicalTranslator.memoryType */
  memoryType = -1;
  /** @inheritDoc GuestPhysicalTranslator.ignorePat */
  ignorePat = false;
  private readonly scratch = new WalkResult();

  /**
   * @param ept the EPT walker (with its EPTP loaded).
   * @param tableMemory where the EPT's own tables are read; defaults to the memory of each call.
   */
  constructor(
    readonly ept: EptWalker,
    readonly tableMemory: PhysicalMemory | null = null,
  ) {}

  /** @inheritDoc GuestPhysicalTranslator.translate */
  translate(mem: PhysicalMemory, gpa: number, access: number, linear: number, out: WalkResult): number {
    let acc = access;
    if (
      this.ept.adEnabled &&
      (linear & (EptQualification.LinearValid | EptQualification.LinearTranslation)) ===
        EptQualification.LinearValid
    ) {
      acc |= EptAccess.Read | EptAccess.Write;
    }
    const r = this.scratch;
    const ok = this.ept.walk(this.tableMemory ?? mem, gpa, acc, r, linear);
    out.references += r.references;
    if (!ok) {
      out.fault = r.fault;
      out.qualification = r.qualification;
      out.faultAddress = gpa;
      out.level = r.level;
      out.suppressVe = r.suppressVe;
      return -1;
    }
    this.pageSize = r.pageSize;
    this.memoryType = r.memoryType;
    this.ignorePat = r.ignorePat;
    return r.address;
  }
}

/**
 * A {@link GuestPhysicalTranslator} that applies two translators in turn (e.g. EPT12 then EPT01):
 * the 3-D walk of a nested guest, where both EPTs are walked separately on every access. A fault
 * of either is reported as is; {@link ChainedTranslator.faultedStage} says which (1 or 2).
 */
export class ChainedTranslator implements GuestPhysicalTranslator {
  /** @inheritDoc GuestPhysicalTranslator.pageSize */
  pageSize = 0;
  /** @inheritDoc GuestPhysicalTranslator.memoryType */
  memoryType = -1;
  /** @inheritDoc GuestPhysicalTranslator.ignorePat */
  ignorePat = false;
  /** After a failed translation: 1 when the first translator faulted, 2 when the second did. */
  faultedStage = 0;

  /**
   * @param first translates the guest's physical addresses into the middle space.
   * @param second translates middle-space addresses into host addresses.
   */
  constructor(
    readonly first: GuestPhysicalTranslator,
    readonly second: GuestPhysicalTranslator,
  ) {}

  /** @inheritDoc GuestPhysicalTranslator.translate */
  translate(mem: PhysicalMemory, gpa: number, access: number, linear: number, out: WalkResult): number {
    this.faultedStage = 0;
    const mid = this.first.translate(mem, gpa, access, linear, out);
    if (mid < 0) {
      this.faultedStage = 1;
      return -1;
    }
    const hpa = this.second.translate(mem, mid, access, linear, out);
    if (hpa < 0) {
      this.faultedStage = 2;
      return -1;
    }
    this.pageSize = Math.min(this.first.pageSize, this.second.pageSize);
    this.memoryType = this.second.memoryType;
    this.ignorePat = this.second.ignorePat;
    return hpa;
  }
}
