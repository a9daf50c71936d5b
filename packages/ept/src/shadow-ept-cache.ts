import type { PhysicalMemory } from "@turtles/memory";
import { type EptAccess, type EptCapabilities, EptWalker } from "./ept-walker.js";
import type { HostPagePool } from "./page-pool.js";
import { PageRefCounts, sumShadowStats } from "./page-refs.js";
import { type InveptType, ShadowEpt, type ShadowResult } from "./shadow-ept.js";
import type { ShadowStats } from "./shadow-tables.js";
import type { WalkResult } from "./walk-result.js";

/** Options of a {@link ShadowEptCache}. */
export interface ShadowEptCacheOptions {
  /** Where every EPT02's pages come from. */
  readonly pool: HostPagePool;
  /** L0's EPT (L1-physical to host). */
  readonly ept01: EptWalker;
  /** The EPT capabilities L0 offers L1 (what EPTP12 and EPT12 are checked against). */
  readonly capabilities?: Partial<EptCapabilities>;
  /** How many EPTP12 contexts to keep at once (default 4); the least recently used goes first. */
  readonly maxContexts?: number;
  /** Cap on table pages per EPT02 (default: the whole pool). */
  readonly maxTablePages?: number;
  /** Called when an L1 page starts holding EPT12 entries some EPT02 depends on. */
  readonly onTrackPage?: (l1pa: number) => void;
  /** Called when no EPT02 depends on entries in that L1 page any more. */
  readonly onUntrackPage?: (l1pa: number) => void;
}

/**
 * One shadow EPT02 per EPTP12 that L1 uses, as L0 keeps them: {@link ShadowEptCache.select} on
 * each VM entry to L2 gives the EPT02 for VMCS12's EPTP, INVEPT is dispatched by type, and write
 * tracking is shared (a page stays tracked while any EPT02 depends on it).
 */
export class ShadowEptCache {
  private readonly contexts = new Map<number, ShadowEpt>();
  private readonly pageRefs: PageRefCounts;
  private readonly maxContexts: number;

  /** @param options see {@link ShadowEptCacheOptions}. */
  constructor(private readonly options: ShadowEptCacheOptions) {
    this.maxContexts = options.maxContexts ?? 4;
    this.pageRefs = new PageRefCounts(options.onTrackPage, options.onUntrackPage);
    if (this.maxContexts < 1) throw new RangeError("ShadowEptCache: maxContexts must be at least 1");
  }

  /**
   * The EPT02 for `eptp12` (created on first use; the least recently used context is destroyed
   * beyond the limit). Returns null when `eptp12` is not a valid EPTP for the offered
   * capabilities (VM entry fails its checks, SDM 27.2.1.1).
   */
  select(eptp12: number): ShadowEpt | null {
    const key = eptp12;
    const existing = this.contexts.get(key);
    if (existing !== undefined) {
      this.contexts.delete(key);
      this.contexts.set(key, existing);
      return existing;
    }
    const ept12 = new EptWalker(this.options.capabilities);
    if (!ept12.setEptp(eptp12)) return null;
    while (this.contexts.size >= this.maxContexts) {
      const [oldest, shadow] = this.contexts.entries().next().value as [number, ShadowEpt];
      shadow.destroy();
      this.contexts.delete(oldest);
    }
    const shadow = new ShadowEpt({
      pool: this.options.pool,
      ept12,
      ept01: this.options.ept01,
      ...(this.options.maxTablePages === undefined ? {} : { maxTablePages: this.options.maxTablePages }),
      onTrackPage: (page) => this.pageRefs.track(page),
      onUntrackPage: (page) => this.pageRefs.untrack(page),
    });
    this.contexts.set(key, shadow);
    return shadow;
  }

  /**
   * Fills the EPT02 of `eptp12` after an EPT02 violation (see {@link ShadowEpt.fill}).
   * @throws RangeError when `eptp12` is invalid (select it first).
   */
  fill(
    eptp12: number,
    l1Memory: PhysicalMemory,
    hostMemory: PhysicalMemory,
    l2pa: number,
    access: EptAccess,
    linear: number,
    out: WalkResult,
  ): ShadowResult {
    const shadow = this.select(eptp12);
    if (shadow === null) throw new RangeError(`ShadowEptCache: invalid EPTP ${eptp12}`);
    return shadow.fill(l1Memory, hostMemory, l2pa, access, linear, out);
  }

  /**
   * Emulates L1's INVEPT: single-context drops the EPT02s built from EPTPs naming the same
   * EPT12 root as `eptp`; global drops them all. Returns how many were dropped.
   */
  invept(type: InveptType, eptp = 0): number {
    let dropped = 0;
    for (const shadow of this.contexts.values()) {
      if (shadow.invept(type, eptp)) dropped++;
    }
    return dropped;
  }

  /** Reports an L1 write: every EPT02 drops the leaves derived from EPT12 entries in the range. */
  notifyL1Write(l1pa: number, length: number): number {
    let dropped = 0;
    for (const shadow of this.contexts.values()) dropped += shadow.notifyL1Write(l1pa, length);
    return dropped;
  }

  /** True when some EPT02 depends on EPT12 entries in the L1 page holding `l1pa`. */
  isTracked(l1pa: number): boolean {
    return this.pageRefs.has(l1pa);
  }

  /** EPT01 changed (L0's own edit): drops every EPT02. */
  reset(): void {
    for (const shadow of this.contexts.values()) shadow.reset();
  }

  /** Number of EPTP12 contexts held. */
  get size(): number {
    return this.contexts.size;
  }

  /** The counters of every EPT02, summed. */
  stats(): ShadowStats {
    return sumShadowStats(this.contexts.values(), this.pageRefs.size);
  }
}
