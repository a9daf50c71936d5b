import type { EptWalker } from "./ept-walker.js";
import { GuestPagingWalker } from "./guest-paging.js";
import type { HostPagePool } from "./page-pool.js";
import { PageRefCounts, sumShadowStats } from "./page-refs.js";
import { ShadowPageTable } from "./shadow-page-table.js";
import type { ShadowStats } from "./shadow-tables.js";

/** Options of a {@link ShadowPageTableCache}. */
export interface ShadowPageTableCacheOptions {
  /** Where every shadow's pages come from. */
  readonly pool: HostPagePool;
  /** The guest-physical to host map (see {@link ShadowPageTableOptions.physical}). */
  readonly physical: EptWalker | null;
  /** How many guest address spaces (CR3 values) to keep shadows for (default 4; LRU beyond). */
  readonly maxContexts?: number;
  /** Cap on table pages per shadow (default: the whole pool). */
  readonly maxTablePages?: number;
  /** Called when a guest page starts holding entries some shadow depends on (write-protect it). */
  readonly onTrackPage?: (gpa: number) => void;
  /** Called when no shadow depends on entries in that guest page any more. */
  readonly onUntrackPage?: (gpa: number) => void;
}

/**
 * Shadow page tables kept per guest address space, so that a guest's CR3 switches find their
 * shadow already built — what a shadow-paging hypervisor does for every process switch of its
 * guest. Keeping shadows across CR3 loads is only right when every guest write to a tracked
 * page is reported ({@link ShadowPageTableCache.notifyGuestWrite}): a guest may edit its tables
 * and rely on the CR3 load alone to flush them. Without write tracking, use a single
 * {@link ShadowPageTable} and call `writeCr3` on each load.
 */
export class ShadowPageTableCache {
  private readonly contexts = new Map<string, ShadowPageTable>();
  private readonly pageRefs: PageRefCounts;
  private readonly maxContexts: number;

  /** @param options see {@link ShadowPageTableCacheOptions}. */
  constructor(private readonly options: ShadowPageTableCacheOptions) {
    this.maxContexts = options.maxContexts ?? 4;
    this.pageRefs = new PageRefCounts(options.onTrackPage, options.onUntrackPage);
    if (this.maxContexts < 1) throw new RangeError("ShadowPageTableCache: maxContexts must be at least 1");
  }

  /**
   * The shadow for the guest's current paging state (mode and CR3; the other fields of `guest`
   * are copied into the shadow's own walker on every call). Creates it on first use and destroys
   * the least recently used shadow beyond the limit.
   */
  select(guest: GuestPagingWalker): ShadowPageTable {
    const key = `${guest.mode}:${guest.cr3}`;
    let shadow = this.contexts.get(key);
    if (shadow !== undefined) {
      this.contexts.delete(key);
    } else {
      while (this.contexts.size >= this.maxContexts) {
        const [oldest, victim] = this.contexts.entries().next().value as [string, ShadowPageTable];
        victim.destroy();
        this.contexts.delete(oldest);
      }
      const own = new GuestPagingWalker();
      own.mode = guest.mode;
      shadow = new ShadowPageTable({
        pool: this.options.pool,
        guest: own,
        physical: this.options.physical,
        ...(this.options.maxTablePages === undefined ? {} : { maxTablePages: this.options.maxTablePages }),
        onTrackPage: (page) => this.pageRefs.track(page),
        onUntrackPage: (page) => this.pageRefs.untrack(page),
      });
    }
    this.contexts.set(key, shadow);
    copyPagingState(guest, shadow.guest);
    return shadow;
  }

  /** INVLPG: drops the shadows of `gva` in every address space (guest tables may be shared). */
  invlpg(gva: number): number {
    let dropped = 0;
    for (const shadow of this.contexts.values()) dropped += shadow.invlpg(gva);
    return dropped;
  }

  /** Reports a guest write: every shadow drops the leaves derived from entries in the range. */
  notifyGuestWrite(gpa: number, length: number): number {
    let dropped = 0;
    for (const shadow of this.contexts.values()) dropped += shadow.notifyGuestWrite(gpa, length);
    return dropped;
  }

  /** True when some shadow depends on entries in the guest page holding `gpa`. */
  isTracked(gpa: number): boolean {
    return this.pageRefs.has(gpa);
  }

  /** Drops every shadow's contents (a change of CR0.WP, CR4 or EFER, or of the host map). */
  reset(): void {
    for (const shadow of this.contexts.values()) shadow.writeCr3();
  }

  /** Number of address spaces with a shadow. */
  get size(): number {
    return this.contexts.size;
  }

  /** The counters of every shadow, summed (tracked pages counted once). */
  stats(): ShadowStats {
    return sumShadowStats(this.contexts.values(), this.pageRefs.size);
  }
}

function copyPagingState(from: GuestPagingWalker, to: GuestPagingWalker): void {
  to.mode = from.mode;
  to.cr3 = from.cr3;
  to.wp = from.wp;
  to.pse = from.pse;
  to.nxe = from.nxe;
  to.smep = from.smep;
  to.smap = from.smap;
  to.pke = from.pke;
  to.pks = from.pks;
  to.pkru = from.pkru;
  to.pkrs = from.pkrs;
  to.pages1G = from.pages1G;
  to.maxPhysAddr = from.maxPhysAddr;
  to.pdptes.set(from.pdptes);
}
