import type { PhysicalMemory } from "@turtles/memory";
import { EptAccess, type EptWalker } from "./ept-walker.js";
import { GuestAccess, GuestPagingWalker, PagingMode } from "./guest-paging.js";
import type { HostPagePool } from "./page-pool.js";
import { ShadowResult } from "./shadow-ept.js";
import { type ShadowStats, ShadowTables } from "./shadow-tables.js";
import { FaultKind, Permission, WalkResult } from "./walk-result.js";

const TWO32 = 2 ** 32;

/** Options of a {@link ShadowPageTable}. */
export interface ShadowPageTableOptions {
  /** Where the shadow table pages come from. */
  readonly pool: HostPagePool;
  /** The guest's paging state (mode, CR3, CR0.WP, CR4 bits, EFER.NXE): the tables being shadowed. */
  readonly guest: GuestPagingWalker;
  /**
   * The guest-physical to host map, expressed as an EPT (for shadow-on-shadow: L0's map of L1;
   * for a plain shadow: the guest's memory map); `null` when guest-physical is host-physical.
   */
  readonly physical: EptWalker | null;
  /** Cap on table pages, root included (default: the whole pool). */
  readonly maxTablePages?: number;
  /** Called when a guest page starts holding entries the shadow depends on (write-protect it). */
  readonly onTrackPage?: (gpa: number) => void;
  /** Called when a guest page no longer holds such entries. */
  readonly onUntrackPage?: (gpa: number) => void;
}

/**
 * Shadow paging for guests without EPT (the baselines of the Turtles paper: shadow-on-EPT and
 * shadow-on-shadow): a real 4-level (or, for a 5-level guest, 5-level) page table in host pages
 * that maps guest-virtual addresses straight to host-physical ones, filled one #PF at a time from
 * the guest's tables and the guest-physical map. Every shadow leaf is a 4-KByte page (guest large
 * pages are split; INVLPG of any address in one drops all its pieces).
 *
 * Rights: writable only when the guest entry is writable, its dirty flag is set (or the access is
 * a write) and the host map allows writes; execute-disable when the guest says so or the host map
 * forbids fetches; U/S and the protection key as the guest has them. Invalidation follows the
 * architecture: {@link ShadowPageTable.invlpg}, {@link ShadowPageTable.writeCr3} (drops everything:
 * no per-CR3 caching, global pages included), and writes to tracked guest tables.
 * Limitation: supervisor writes with CR0.WP = 0 to read-only pages are not emulated.
 */
export class ShadowPageTable {
  /**
   * The "hardware" walker of the shadow: 4/5-level paging over host memory with CR3 = the shadow
   * root and the guest's WP/SMEP/SMAP/PKE (copied by {@link ShadowPageTable.translate}).
   */
  readonly hardware = new GuestPagingWalker();
  /** The guest paging state this shadow follows (the walker given in the options). */
  readonly guest: GuestPagingWalker;
  private readonly core: ShadowTables;
  private readonly physical: EptWalker | null;
  private readonly rGuest = new WalkResult();
  private readonly rHost = new WalkResult();
  private readonly deps = new Float64Array(5);

  /** @param options see {@link ShadowPageTableOptions}. */
  constructor(options: ShadowPageTableOptions) {
    this.guest = options.guest;
    this.physical = options.physical;
    const levels = options.guest.mode === PagingMode.Level5 ? 5 : 4;
    this.core = new ShadowTables(
      options.pool,
      levels,
      0x27,
      options.maxTablePages ?? options.pool.capacity,
      options.onTrackPage,
      options.onUntrackPage,
    );
    this.hardware.mode = levels === 5 ? PagingMode.Level5 : PagingMode.Level4;
    this.hardware.cr3 = this.core.root;
    this.hardware.nxe = true;
  }

  /** The value of CR3 the hardware runs the guest with. */
  get root(): number {
    return this.core.root;
  }

  /**
   * Handles a #PF the hardware took on the shadow at `gva` for `access`: walks the guest's tables
   * over `guestMemory` (guest-physical memory; the guest's accessed/dirty flags are set as the
   * hardware would), then the host map over `hostMemory`, and installs a 4-KByte shadow leaf.
   * {@link ShadowResult.L1Fault} means the guest's own #PF (in `out`) must be injected;
   * {@link ShadowResult.L0Fault} means the host map refused the access (in `out`).
   */
  fill(
    guestMemory: PhysicalMemory,
    hostMemory: PhysicalMemory,
    gva: number,
    access: GuestAccess,
    out: WalkResult,
  ): ShadowResult {
    const g = this.rGuest;
    if (!this.guest.walk(guestMemory, gva, access, g)) {
      out.copyFrom(g);
      return ShadowResult.L1Fault;
    }
    const n = this.guest.entryCount;
    for (let i = 0; i < n; i++) this.deps[i] = this.guest.entryAddresses[i]!;
    const gpa = g.address;
    let hpa = gpa;
    let hostPerms = Permission.Read | Permission.Write | Permission.Execute;
    let refs = g.references;
    if (this.physical !== null) {
      const h = this.rHost;
      const isFetch = (access & GuestAccess.Fetch) !== 0;
      const isWrite = (access & GuestAccess.Write) !== 0;
      const eptAccess = isFetch ? EptAccess.Fetch : isWrite ? EptAccess.Write : EptAccess.Read;
      if (!this.physical.walk(hostMemory, gpa, eptAccess, h)) {
        out.copyFrom(h);
        out.references += refs;
        return ShadowResult.L0Fault;
      }
      hpa = h.address;
      hostPerms = h.permissions;
      refs += h.references;
    }
    const page = hpa - (hpa % 4096);
    const dirty = (this.guest.leafEntryLo & 0x40) !== 0;
    const writable =
      (g.permissions & Permission.Write) !== 0 && dirty && (hostPerms & Permission.Write) !== 0;
    const nx = (g.permissions & Permission.Execute) === 0 || (hostPerms & Permission.Execute) === 0;
    const lo =
      ((page % TWO32) | 0x21 | (writable ? 0x42 : 0) | ((g.permissions & Permission.User) !== 0 ? 4 : 0)) >>>
      0;
    const hi = (Math.floor(page / TWO32) | (g.protectionKey << 27) | (nx ? 0x8000_0000 : 0)) >>> 0;
    const gvaHi = Math.floor(gva / TWO32) | 0;
    const gvaLo = gva >>> 0;
    const group = g.pageSize > 4096 ? `${g.pageSize}:${Math.floor(gva / g.pageSize)}` : null;
    if (!this.core.install(gvaHi, gvaLo, 1, lo, hi, this.deps, n, group)) return ShadowResult.OutOfMemory;
    out.reset();
    out.ok = true;
    out.address = hpa;
    out.guestPhysical = gpa;
    out.pageSize = 4096;
    out.level = 1;
    out.permissions =
      Permission.Read |
      (writable ? Permission.Write : 0) |
      (nx ? 0 : Permission.Execute) |
      (g.permissions & Permission.User);
    out.protectionKey = g.protectionKey;
    out.references = refs;
    return ShadowResult.Ok;
  }

  /**
   * What the hardware plus the hypervisor do for one guest access: walk the shadow over
   * `hostMemory` (which must map the pool's RAM); on a #PF, {@link ShadowPageTable.fill} and walk
   * again. `out` ends with the shadow translation or the fault to deliver.
   */
  translate(
    guestMemory: PhysicalMemory,
    hostMemory: PhysicalMemory,
    gva: number,
    access: GuestAccess,
    out: WalkResult,
  ): ShadowResult {
    const hw = this.hardware;
    hw.wp = this.guest.wp;
    hw.smep = this.guest.smep;
    hw.smap = this.guest.smap;
    hw.pke = this.guest.pke;
    hw.pks = this.guest.pks;
    hw.pkru = this.guest.pkru;
    hw.pkrs = this.guest.pkrs;
    if (hw.walk(hostMemory, gva, access, out)) return ShadowResult.Ok;
    if (out.fault !== FaultKind.PageFault) return ShadowResult.L0Fault;
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = this.fill(guestMemory, hostMemory, gva, access, out);
      if (result !== ShadowResult.Ok) return result;
      if (hw.walk(hostMemory, gva, access, out)) return ShadowResult.Ok;
    }
    return ShadowResult.L0Fault;
  }

  /** INVLPG: drops the shadow of `gva`, and every piece of the guest large page holding it. */
  invlpg(gva: number): number {
    let dropped = 0;
    const leaf = this.core.leafAt(Math.floor(gva / TWO32) | 0, gva >>> 0);
    if (leaf >= 0) {
      this.core.dropLeaf(leaf);
      dropped++;
    }
    for (const size of [0x20_0000, 0x40_0000, 0x4000_0000]) {
      dropped += this.core.dropGroup(`${size}:${Math.floor(gva / size)}`);
    }
    return dropped;
  }

  /** Drops everything and returns every page, root included, to the pool (the object is then unusable). */
  destroy(): void {
    this.core.destroy();
  }

  /** A guest write to CR3 (or a paging-mode change): drops the whole shadow. */
  writeCr3(): void {
    this.core.reset();
  }

  /** Reports a guest write to `[gpa, gpa + length)`: drops the shadow leaves derived from entries there. */
  notifyGuestWrite(gpa: number, length: number): number {
    return this.core.dropDependents(gpa, length);
  }

  /** True when the guest page holding `gpa` holds entries the shadow depends on. */
  isTracked(gpa: number): boolean {
    return this.core.isTracked(gpa);
  }

  /** Memory held and work done (see {@link ShadowStats}). */
  stats(): ShadowStats {
    return this.core.stats();
  }
}
