import { EXIT_REASON_LIMIT } from "./exit-reason.js";

/**
 * What crosses each step of nested operation — the figures nested performance is judged by.
 * Plain counters, updated without allocation.
 */
export class NestedCounters {
  /** Exits of L2 that reached L0, by basic exit reason. */
  readonly l2ExitsByReason = new Float64Array(EXIT_REASON_LIMIT);
  /** Exits of L2 reflected to L1, by basic exit reason. */
  readonly reflectedByReason = new Float64Array(EXIT_REASON_LIMIT);
  /** Exits of L1 (under VMCS01) that the engine handled, by basic exit reason. */
  readonly l1ExitsByReason = new Float64Array(EXIT_REASON_LIMIT);
  /** L2 exits handled in L0 without running L1. */
  handledInL0 = 0;
  /** L2 exits reflected to L1. */
  reflected = 0;
  /** L1 VMREADs that exited to L0 and were emulated. */
  emulatedVmreads = 0;
  /** L1 VMWRITEs that exited to L0 and were emulated. */
  emulatedVmwrites = 0;
  /** L2 VMREAD/VMWRITEs served by L0 from L1's shadow VMCS (VMCS shadowing offered to L1). */
  l2ShadowAccesses = 0;
  /** VMCS02 builds that merged every control. */
  fullMerges = 0;
  /** VM entries to L2 where VMCS12's controls were unchanged, so only the guest state was refreshed. */
  partialRefreshes = 0;

  /** Total exits of L2. */
  get l2Exits(): number {
    return this.handledInL0 + this.reflected;
  }

  /** Resets every counter to zero. */
  reset(): void {
    this.l2ExitsByReason.fill(0);
    this.reflectedByReason.fill(0);
    this.l1ExitsByReason.fill(0);
    this.handledInL0 = 0;
    this.reflected = 0;
    this.emulatedVmreads = 0;
    this.emulatedVmwrites = 0;
    this.l2ShadowAccesses = 0;
    this.fullMerges = 0;
    this.partialRefreshes = 0;
  }
}
