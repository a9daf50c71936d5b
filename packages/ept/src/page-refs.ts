import type { ShadowStats } from "./shadow-tables.js";

/**
 * Reference counts of tracked guest pages shared by several shadows (one per address space or
 * EPTP): a page is reported tracked when the first shadow depends on it and untracked when the
 * last one stops. Internal to the shadow caches.
 */
export class PageRefCounts {
  private readonly refs = new Map<number, number>();

  constructor(
    private readonly onTrack: ((page: number) => void) | undefined,
    private readonly onUntrack: ((page: number) => void) | undefined,
  ) {}

  /** Number of distinct tracked pages. */
  get size(): number {
    return this.refs.size;
  }

  /** Whether the 4 KiB page holding `addr` is tracked. */
  has(addr: number): boolean {
    return this.refs.has(addr - (addr % 4096));
  }

  /** One more shadow depends on `page`. */
  track(page: number): void {
    const n = this.refs.get(page) ?? 0;
    this.refs.set(page, n + 1);
    if (n === 0) this.onTrack?.(page);
  }

  /** One shadow fewer depends on `page`. */
  untrack(page: number): void {
    const n = (this.refs.get(page) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(page, n);
      return;
    }
    this.refs.delete(page);
    this.onUntrack?.(page);
  }
}

/** The counters of several shadows summed; `trackedPages` counts shared pages once. */
export function sumShadowStats(
  shadows: Iterable<{ stats(): ShadowStats }>,
  trackedPages: number,
): ShadowStats {
  const sum: ShadowStats = {
    tablePages: 0,
    bytes: 0,
    leaves: 0,
    trackedEntries: 0,
    trackedPages,
    fills: 0,
    evictions: 0,
    drops: 0,
  };
  for (const shadow of shadows) {
    const s = shadow.stats();
    sum.tablePages += s.tablePages;
    sum.bytes += s.bytes;
    sum.leaves += s.leaves;
    sum.trackedEntries += s.trackedEntries;
    sum.fills += s.fills;
    sum.evictions += s.evictions;
    sum.drops += s.drops;
  }
  return sum;
}
