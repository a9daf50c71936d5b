import type { HostPagePool } from "./page-pool.js";
import { tableIndex } from "./table-index.js";

const TWO32 = 2 ** 32;

interface TableInfo {
  level: number;
  /** Host address of the entry that points at this table, or -1 for the root. */
  parent: number;
}

/** Counters of a shadow structure (EPT02 or a shadow page table). */
export interface ShadowStats {
  /** Table pages held, root included. */
  tablePages: number;
  /** Bytes of host memory those pages occupy. */
  bytes: number;
  /** Leaf entries installed. */
  leaves: number;
  /** Guest table entries whose writes drop shadow entries (reverse-map keys). */
  trackedEntries: number;
  /** Guest pages holding such entries (what a hypervisor write-protects). */
  trackedPages: number;
  /** Fills since creation. */
  fills: number;
  /** Table pages evicted to stay under the cap. */
  evictions: number;
  /** Leaf entries dropped by invalidation (INVEPT/INVLPG/CR3/writes). */
  drops: number;
}

/**
 * The machinery shared by the shadow EPT and the shadow page tables: a real 64-bit-entry radix
 * tree in pool pages, installed one leaf at a time, with reverse maps from the guest entries each
 * leaf was derived from, and a cap on table pages enforced by evicting the table least recently
 * filled through (with everything below it).
 * Internal: entries we write are never zero, so "non-zero" means present.
 */
export class ShadowTables {
  readonly root: number;
  fills = 0;
  evictions = 0;
  drops = 0;
  private readonly tables = new Map<number, TableInfo>();
  private readonly leafDeps = new Map<number, number[]>();
  private readonly rmap = new Map<number, Set<number>>();
  private readonly pageRefs = new Map<number, number>();
  private readonly groups = new Map<string, Set<number>>();
  private readonly leafGroup = new Map<number, string>();
  /** Tables on the path of the install in progress: never evicted by it. */
  private readonly pinned = new Float64Array(5);
  private pinnedCount = 0;

  constructor(
    private readonly pool: HostPagePool,
    readonly levels: number,
    private readonly nonLeafLo: number,
    readonly maxTablePages: number,
    private readonly onTrack: ((page: number) => void) | undefined,
    private readonly onUntrack: ((page: number) => void) | undefined,
  ) {
    if (maxTablePages < levels) throw new RangeError(`maxTablePages must be at least ${levels}`);
    const root = pool.alloc();
    if (root < 0) throw new RangeError("shadow tables: the page pool is empty");
    this.root = root;
    this.tables.set(root, { level: levels, parent: -1 });
  }

  stats(): ShadowStats {
    return {
      tablePages: this.tables.size,
      bytes: this.tables.size * 4096,
      leaves: this.leafDeps.size,
      trackedEntries: this.rmap.size,
      trackedPages: this.pageRefs.size,
      fills: this.fills,
      evictions: this.evictions,
      drops: this.drops,
    };
  }

  isTracked(addr: number): boolean {
    return this.pageRefs.has(addr - (addr % 4096));
  }

  trackedPages(): number[] {
    return [...this.pageRefs.keys()];
  }

  /**
   * Installs a leaf at `leafLevel` for the address `hi:lo` (hi signed or unsigned), derived from
   * the guest entries `deps[0..depCount)`. Returns false when no page could be found.
   */
  install(
    hi: number,
    lo: number,
    leafLevel: number,
    entryLo: number,
    entryHi: number,
    deps: Float64Array,
    depCount: number,
    group: string | null,
  ): boolean {
    // Dry run: which tables of the path exist (they become most recently used and may not be
    // evicted), and how many must be allocated.
    let table = this.root;
    let needed = 0;
    this.pinnedCount = 0;
    for (let level = this.levels; level > leafLevel; level--) {
      const ea = table + tableIndex(hi, lo, level) * 8;
      const elo = this.pool.lo(ea);
      if ((elo === 0 && this.pool.hi(ea) === 0) || (elo & 0x80) !== 0) {
        needed = level - leafLevel;
        break;
      }
      table = childOf(elo, this.pool.hi(ea));
      const info = this.tables.get(table);
      if (info !== undefined) {
        this.tables.delete(table);
        this.tables.set(table, info);
      }
      this.pinned[this.pinnedCount++] = table;
    }
    if (!this.makeRoom(needed)) return false;
    table = this.root;
    for (let level = this.levels; level > leafLevel; level--) {
      const ea = table + tableIndex(hi, lo, level) * 8;
      const elo = this.pool.lo(ea);
      const ehi = this.pool.hi(ea);
      if (elo !== 0 || ehi !== 0) {
        if ((elo & 0x80) === 0) {
          table = childOf(elo, ehi);
          continue;
        }
        this.dropLeaf(ea);
      }
      const child = this.pool.alloc();
      if (child < 0) return false;
      this.tables.set(child, { level: level - 1, parent: ea });
      this.pool.set(ea, (child % TWO32) | this.nonLeafLo, Math.floor(child / TWO32));
      table = child;
    }
    const ea = table + tableIndex(hi, lo, leafLevel) * 8;
    const old = this.pool.lo(ea);
    if (old !== 0 || this.pool.hi(ea) !== 0) {
      if (leafLevel > 1 && (old & 0x80) === 0) this.dropTable(childOf(old, this.pool.hi(ea)), ea);
      else this.dropLeaf(ea);
    }
    this.pool.set(ea, entryLo, entryHi);
    const list: number[] = [];
    for (let i = 0; i < depCount; i++) {
      const dep = deps[i]!;
      list.push(dep);
      let set = this.rmap.get(dep);
      if (set === undefined) {
        set = new Set();
        this.rmap.set(dep, set);
        const page = dep - (dep % 4096);
        const refs = this.pageRefs.get(page) ?? 0;
        this.pageRefs.set(page, refs + 1);
        if (refs === 0) this.onTrack?.(page);
      }
      set.add(ea);
    }
    this.leafDeps.set(ea, list);
    if (group !== null) {
      let g = this.groups.get(group);
      if (g === undefined) {
        g = new Set();
        this.groups.set(group, g);
      }
      g.add(ea);
      this.leafGroup.set(ea, group);
    }
    this.fills++;
    return true;
  }

  /** Host address of the leaf that maps `hi:lo`, or -1. */
  leafAt(hi: number, lo: number): number {
    let table = this.root;
    for (let level = this.levels; level >= 1; level--) {
      const ea = table + tableIndex(hi, lo, level) * 8;
      const elo = this.pool.lo(ea);
      const ehi = this.pool.hi(ea);
      if (elo === 0 && ehi === 0) return -1;
      if (level === 1 || (elo & 0x80) !== 0) return ea;
      table = childOf(elo, ehi);
    }
    return -1;
  }

  /** Drops every leaf derived from a guest entry overlapping `[addr, addr + length)`. */
  dropDependents(addr: number, length: number): number {
    let dropped = 0;
    const end = addr + Math.max(length, 1);
    for (let a = addr - (addr % 8); a < end; a += 8) {
      const set = this.rmap.get(a);
      if (set === undefined) continue;
      for (const leaf of [...set]) {
        this.dropLeaf(leaf);
        dropped++;
      }
    }
    return dropped;
  }

  /** Drops every leaf of the group (a guest large page shadowed by small pages). */
  dropGroup(group: string): number {
    const g = this.groups.get(group);
    if (g === undefined) return 0;
    let dropped = 0;
    for (const leaf of [...g]) {
      this.dropLeaf(leaf);
      dropped++;
    }
    return dropped;
  }

  /** Drops everything below the root. */
  reset(): void {
    this.dropTableContents(this.root, this.levels);
  }

  /** Drops everything and returns the root to the pool; the structure is unusable afterwards. */
  destroy(): void {
    this.reset();
    this.tables.delete(this.root);
    this.pool.free(this.root);
  }

  dropLeaf(ea: number): void {
    this.pool.set(ea, 0, 0);
    const deps = this.leafDeps.get(ea);
    if (deps === undefined) return;
    this.leafDeps.delete(ea);
    this.drops++;
    for (const dep of deps) {
      const set = this.rmap.get(dep);
      if (set === undefined) continue;
      set.delete(ea);
      if (set.size === 0) {
        this.rmap.delete(dep);
        const page = dep - (dep % 4096);
        const refs = (this.pageRefs.get(page) ?? 1) - 1;
        if (refs === 0) {
          this.pageRefs.delete(page);
          this.onUntrack?.(page);
        } else this.pageRefs.set(page, refs);
      }
    }
    const group = this.leafGroup.get(ea);
    if (group !== undefined) {
      this.leafGroup.delete(ea);
      const g = this.groups.get(group);
      g?.delete(ea);
      if (g?.size === 0) this.groups.delete(group);
    }
  }

  private dropTable(table: number, parentEntry: number): void {
    const info = this.tables.get(table);
    if (info === undefined) return;
    this.dropTableContents(table, info.level);
    this.tables.delete(table);
    this.pool.free(table);
    if (parentEntry >= 0) this.pool.set(parentEntry, 0, 0);
  }

  private dropTableContents(table: number, level: number): void {
    for (let i = 0; i < 512; i++) {
      const ea = table + i * 8;
      const elo = this.pool.lo(ea);
      const ehi = this.pool.hi(ea);
      if (elo === 0 && ehi === 0) continue;
      if (level > 1 && (elo & 0x80) === 0) this.dropTable(childOf(elo, ehi), ea);
      else this.dropLeaf(ea);
    }
  }

  /** Evicts the least recently filled tables until `pages` more fit under the cap and in the pool. */
  private makeRoom(pages: number): boolean {
    while (this.tables.size + pages > this.maxTablePages || this.pool.available < pages) {
      let victim = -1;
      for (const [hpa, info] of this.tables) {
        if (info.parent >= 0 && !this.isPinned(hpa)) {
          victim = hpa;
          break;
        }
      }
      if (victim < 0) return false;
      this.dropTable(victim, this.tables.get(victim)!.parent);
      this.evictions++;
    }
    return true;
  }

  private isPinned(hpa: number): boolean {
    for (let i = 0; i < this.pinnedCount; i++) if (this.pinned[i] === hpa) return true;
    return false;
  }
}

function childOf(lo: number, hi: number): number {
  return (hi & 0xf_ffff) * TWO32 + ((lo & 0xffff_f000) >>> 0);
}
