import type { PhysicalMemory } from "@turtles/memory";
import { EptAccess, EptWalker } from "./ept-walker.js";
import type { HostPagePool } from "./page-pool.js";
import { type ShadowStats, ShadowTables } from "./shadow-tables.js";
import { FaultKind, Permission, WalkResult } from "./walk-result.js";

const TWO32 = 2 ** 32;

/** The outcome of {@link ShadowEpt.fill} and {@link ShadowEpt.translate}. */
export const ShadowResult = {
  /** EPT02 now maps the address (or already did). */
  Ok: 0,
  /** EPT12 refused the access: reflect the EPT violation or misconfiguration in `out` to L1. */
  L1Fault: 1,
  /** EPT01 refused the access: L0's own EPT violation or misconfiguration, for L0 to handle. */
  L0Fault: 2,
  /** The page pool is exhausted even after eviction (other structures hold every page). */
  OutOfMemory: 3,
} as const;

/** One of the {@link ShadowResult} values. */
export type ShadowResult = (typeof ShadowResult)[keyof typeof ShadowResult];

/** INVEPT types (SDM vol. 3C, INVEPT instruction reference). */
export const InveptType = {
  /** Invalidate mappings derived from one EPTP. */
  SingleContext: 1,
  /** Invalidate mappings derived from every EPTP. */
  Global: 2,
} as const;

/** One of the {@link InveptType} values. */
export type InveptType = (typeof InveptType)[keyof typeof InveptType];

/** Options of a {@link ShadowEpt}. */
export interface ShadowEptOptions {
  /** Where EPT02's table pages come from. */
  readonly pool: HostPagePool;
  /** L1's EPT (EPTP12 loaded): L2-physical to L1-physical, read from L1 memory. */
  readonly ept12: EptWalker;
  /** L0's EPT: L1-physical to host-physical. */
  readonly ept01: EptWalker;
  /** Page-walk length of EPT02 (default 4). */
  readonly levels?: 4 | 5;
  /** Cap on EPT02 table pages, root included (default: the whole pool); older tables are evicted beyond it. */
  readonly maxTablePages?: number;
  /** Called when an L1 page starts holding EPT12 entries EPT02 depends on (write-protect it in EPT01). */
  readonly onTrackPage?: (l1pa: number) => void;
  /** Called when an L1 page no longer holds such entries. */
  readonly onUntrackPage?: (l1pa: number) => void;
}

/**
 * Multi-dimensional paging (the Turtles paper, section 3.3): a shadow EPT02 that maps L2-physical
 * addresses straight to host-physical ones, composed from EPT12 (L1's, in L1 memory) and EPT01
 * (L0's). It is a real EPT in host pages, walked by the hardware with {@link ShadowEpt.eptp02};
 * it starts empty and is filled one EPT02 violation at a time with the intersection of the two
 * permissions and the smaller of the two page sizes.
 *
 * Each leaf remembers the EPT12 entries it was derived from, so a write to one of them (reported
 * through {@link ShadowEpt.notifyL1Write}) drops exactly the dependent leaves; INVEPT drops all.
 * Changes to EPT01 are L0's own: call {@link ShadowEpt.reset}.
 *
 * Memory types of EPT02 leaves are EPT01's (L0 owns the host memory); EPT02 leaves set
 * suppress-#VE so that their violations always reach L0. With EPT12 A/D flags on, a leaf whose
 * EPT12 dirty flag is clear is installed read-only, so the first write comes back to set it.
 */
export class ShadowEpt {
  /** The "hardware" view of EPT02: an {@link EptWalker} loaded with {@link ShadowEpt.eptp02}. */
  readonly ept02: EptWalker;
  /** L1's EPT. */
  readonly ept12: EptWalker;
  /** L0's EPT. */
  readonly ept01: EptWalker;
  private readonly core: ShadowTables;
  private readonly r12 = new WalkResult();
  private readonly r01 = new WalkResult();
  private readonly deps = new Float64Array(5);

  /** @param options see {@link ShadowEptOptions}. */
  constructor(options: ShadowEptOptions) {
    this.ept12 = options.ept12;
    this.ept01 = options.ept01;
    const levels = options.levels ?? 4;
    this.core = new ShadowTables(
      options.pool,
      levels,
      0x407,
      options.maxTablePages ?? options.pool.capacity,
      options.onTrackPage,
      options.onUntrackPage,
    );
    this.ept02 = new EptWalker({
      executeOnly: true,
      pages2M: true,
      pages1G: true,
      fiveLevel: true,
      maxPhysAddr: 52,
    });
    if (!this.ept02.setEptp(this.eptp02)) throw new Error("ShadowEpt: cannot load EPTP02");
  }

  /** The EPTP for VMCS02: write-back, this walk length, A/D as EPT12 has them. */
  get eptp02(): number {
    return this.core.root + 6 + ((this.core.levels - 1) << 3) + (this.ept12.adEnabled ? 0x40 : 0);
  }

  /**
   * Handles an EPT02 violation at `l2pa` for `access` ({@link EptAccess} bits; `linear` is the
   * qualification bits 7..11 of that violation): walks EPT12 over `l1Memory` (L1-physical memory,
   * e.g. an {@link EptTranslatedMemory} over EPT01), then EPT01 over `hostMemory`, and installs the
   * composed leaf. On {@link ShadowResult.L1Fault} or {@link ShadowResult.L0Fault}, `out` holds the
   * EPT violation (with its qualification) or misconfiguration to deliver.
   */
  fill(
    l1Memory: PhysicalMemory,
    hostMemory: PhysicalMemory,
    l2pa: number,
    access: EptAccess,
    linear: number,
    out: WalkResult,
  ): ShadowResult {
    const r12 = this.r12;
    const r01 = this.r01;
    this.ept12.walk(l1Memory, l2pa, access, r12, linear);
    if (!r12.ok) {
      out.copyFrom(r12);
      return ShadowResult.L1Fault;
    }
    const n = this.ept12.entryCount;
    for (let i = 0; i < n; i++) this.deps[i] = this.ept12.entryAddresses[i]!;
    const leaf12Lo = this.ept12.lastEntryLo;
    const l1pa = r12.address;
    this.ept01.walk(hostMemory, l1pa, access, r01, linear);
    if (!r01.ok) {
      out.copyFrom(r01);
      out.references += r12.references;
      return ShadowResult.L0Fault;
    }
    const size = Math.min(r12.pageSize, r01.pageSize);
    // Mode-based execute control: a side without it allows user-mode fetches wherever it allows
    // fetches, so replicate its X into XU before intersecting; EPT02 uses it when either side does.
    const mbec = this.ept12.mbec || this.ept01.mbec;
    let p12 = r12.permissions;
    if (!this.ept12.mbec && (p12 & Permission.Execute) !== 0) p12 |= Permission.UserExecute;
    let p01 = r01.permissions;
    if (!this.ept01.mbec && (p01 & Permission.Execute) !== 0) p01 |= Permission.UserExecute;
    let perms = p12 & p01;
    if (!mbec) perms &= ~Permission.UserExecute;
    if (this.ept12.adEnabled && (leaf12Lo & 0x200) === 0) perms &= ~Permission.Write;
    const offset = l2pa % size;
    const hpa = r01.address - offset;
    const base = l2pa - offset;
    const level = size === 4096 ? 1 : size === 0x20_0000 ? 2 : 3;
    const lo =
      ((hpa % TWO32) |
        (perms & 7) |
        ((perms & Permission.UserExecute) !== 0 ? 0x400 : 0) |
        ((r01.memoryType & 7) << 3) |
        (r01.ignorePat ? 0x40 : 0) |
        (level > 1 ? 0x80 : 0)) >>>
      0;
    const hi = (Math.floor(hpa / TWO32) | 0x8000_0000) >>> 0;
    this.ept02.mbec = this.ept12.mbec || this.ept01.mbec;
    if (!this.core.install((base / TWO32) >>> 0, base >>> 0, level, lo, hi, this.deps, n, null)) {
      return ShadowResult.OutOfMemory;
    }
    out.reset();
    out.ok = true;
    out.address = r01.address;
    out.guestPhysical = l1pa;
    out.pageSize = size;
    out.level = level;
    out.permissions = perms;
    out.memoryType = r01.memoryType;
    out.references = r12.references + r01.references;
    return ShadowResult.Ok;
  }

  /**
   * What the hardware plus L0 do for one L2 access: walk EPT02 over `hostMemory` (which must map
   * the pool's RAM); on an EPT02 violation, {@link ShadowEpt.fill} and walk again. `out` ends with
   * the EPT02 translation, or the fault to deliver.
   */
  translate(
    l1Memory: PhysicalMemory,
    hostMemory: PhysicalMemory,
    l2pa: number,
    access: EptAccess,
    linear: number,
    out: WalkResult,
  ): ShadowResult {
    this.ept02.mbec = this.ept12.mbec || this.ept01.mbec;
    if (this.ept02.walk(hostMemory, l2pa, access, out, linear)) return ShadowResult.Ok;
    if (out.fault !== FaultKind.EptViolation) return ShadowResult.L0Fault;
    const result = this.fill(l1Memory, hostMemory, l2pa, access, linear, out);
    if (result !== ShadowResult.Ok) return result;
    if (this.ept02.walk(hostMemory, l2pa, access, out, linear)) return ShadowResult.Ok;
    // A leaf installed read-only for EPT12 dirty tracking: fill again as a write.
    if (out.fault === FaultKind.EptViolation) {
      const again = this.fill(l1Memory, hostMemory, l2pa, access | EptAccess.Write, linear, out);
      if (again !== ShadowResult.Ok) return again;
      if (this.ept02.walk(hostMemory, l2pa, access, out, linear)) return ShadowResult.Ok;
    }
    return ShadowResult.L0Fault;
  }

  /**
   * Emulates L1's INVEPT. Single-context drops EPT02 when `eptp` names this EPT12 (same PML4
   * address); global always drops it.
   * @returns true when EPT02 was dropped.
   */
  invept(type: InveptType, eptp = 0): boolean {
    if (type === InveptType.SingleContext && eptp - (eptp % 4096) !== this.ept12.root) return false;
    this.core.reset();
    return true;
  }

  /** Drops every EPT02 entry (EPT01 changed, or L1 loaded another EPTP12 into this shadow). */
  reset(): void {
    this.core.reset();
  }

  /** Drops everything and returns every page, root included, to the pool (the object is then unusable). */
  destroy(): void {
    this.core.destroy();
  }

  /**
   * Reports a write by L1 to `[l1pa, l1pa + length)`: drops exactly the EPT02 leaves derived from
   * an EPT12 entry in that range. Returns how many were dropped.
   */
  notifyL1Write(l1pa: number, length: number): number {
    return this.core.dropDependents(l1pa, length);
  }

  /** True when the L1 page holding `l1pa` holds EPT12 entries that EPT02 depends on. */
  isTracked(l1pa: number): boolean {
    return this.core.isTracked(l1pa);
  }

  /** The L1 pages currently write-tracked. */
  trackedPages(): number[] {
    return this.core.trackedPages();
  }

  /** Memory held and work done (see {@link ShadowStats}). */
  stats(): ShadowStats {
    return this.core.stats();
  }
}
