import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { PagingMode } from "./guest-paging.js";
import { tableIndex } from "./table-index.js";
import { Permission } from "./walk-result.js";

const TWO32 = 2 ** 32;
const ZERO_PAGE = new Uint8Array(4096);

/** Hands out zeroed 4-KByte pages for paging structures. */
export interface PageAllocator {
  /** Returns the physical address of a zeroed, 4-KByte-aligned page. */
  alloc(): number;
}

/**
 * A {@link PageAllocator} that takes pages in order from `[base, limit)` of `mem` and zeroes them.
 * For building tables in tests, loaders and examples.
 */
export class BumpAllocator implements PageAllocator {
  private next: number;

  /**
   * @param mem the memory the pages are zeroed in.
   * @param base first page (4-KByte aligned).
   * @param limit end of the range (exclusive).
   */
  constructor(
    private readonly mem: PhysicalMemory,
    base: number,
    private readonly limit: number,
  ) {
    if (base % 4096 !== 0) throw new RangeError("BumpAllocator: base must be 4-KByte aligned");
    this.next = base;
  }

  /** @inheritDoc PageAllocator.alloc */
  alloc(): number {
    if (this.next + 4096 > this.limit) throw new RangeError("BumpAllocator: out of pages");
    const page = this.next;
    this.next += 4096;
    this.mem.writeBytes(page, ZERO_PAGE, AccessKind.Write);
    return page;
  }

  /** Pages handed out so far end below this address. */
  get top(): number {
    return this.next;
  }
}

/** Attributes of a guest mapping made by {@link GuestPageTableBuilder.map}. */
export interface GuestMapAttributes {
  /** R/W = 1 (default true). */
  readonly writable?: boolean;
  /** U/S = 1 (default true). */
  readonly user?: boolean;
  /** XD = 1 (PAE and 4/5-level paging only; default false). */
  readonly executeDisable?: boolean;
  /** Protection key, bits 62:59 (4/5-level paging only; default 0). */
  readonly protectionKey?: number;
  /** Accessed flag preset (default false). */
  readonly accessed?: boolean;
  /** Dirty flag preset (default false). */
  readonly dirty?: boolean;
}

function index(lo: number, hi: number, level: number, bits32: boolean): number {
  if (bits32) return level === 2 ? lo >>> 22 : (lo >>> 12) & 0x3ff;
  return tableIndex(hi, lo, level);
}

function levelOf(size: number, large: readonly number[]): number {
  if (size === 4096) return 1;
  const i = large.indexOf(size);
  if (i < 0) throw new RangeError(`unsupported page size ${size}`);
  return i + 2;
}

/**
 * Builds real guest page tables (32-bit, PAE, 4-level, 5-level) in a memory, for tests, loaders
 * and examples. Intermediate entries are made present, writable and user so that the leaf decides;
 * use {@link GuestPageTableBuilder.entryAddress} to edit any entry by hand. Mapping over a larger
 * page replaces it with a table (the builder does not preserve the rest of that page).
 */
export class GuestPageTableBuilder {
  /** The value for CR3 (for PAE: the 32-byte aligned PDPT, then load the PDPTEs with {@link loadPdptes}). */
  readonly root: number;
  private readonly e = new Uint32Array(2);

  /**
   * @param mem the guest-physical memory the tables are written in.
   * @param mode the paging mode whose format to build.
   * @param alloc where table pages come from.
   */
  constructor(
    private readonly mem: PhysicalMemory,
    readonly mode: PagingMode,
    private readonly alloc: PageAllocator,
  ) {
    this.root = alloc.alloc();
  }

  private get topLevel(): number {
    return this.mode === PagingMode.Bits32
      ? 2
      : this.mode === PagingMode.Pae
        ? 3
        : this.mode === PagingMode.Level4
          ? 4
          : 5;
  }

  private get entrySize(): number {
    return this.mode === PagingMode.Bits32 ? 4 : 8;
  }

  /**
   * Maps the page of `pageSize` bytes at `gva` (aligned, same linear-address convention as
   * {@link GuestPagingWalker}) to physical `pa`.
   */
  map(gva: number, pa: number, pageSize: number, attrs: GuestMapAttributes = {}): void {
    const bits32 = this.mode === PagingMode.Bits32;
    const leafLevel = levelOf(pageSize, bits32 ? [0x40_0000] : [0x20_0000, 0x4000_0000]);
    if (gva % pageSize !== 0 || pa % pageSize !== 0) throw new RangeError("map: unaligned address");
    const table = this.walkTo(gva, leafLevel, true);
    const ea = table + index(gva >>> 0, Math.floor(gva / TWO32) | 0, leafLevel, bits32) * this.entrySize;
    let lo =
      1 |
      ((attrs.writable ?? true) ? 2 : 0) |
      ((attrs.user ?? true) ? 4 : 0) |
      (attrs.accessed ? 0x20 : 0) |
      (attrs.dirty ? 0x40 : 0) |
      (leafLevel > 1 ? 0x80 : 0);
    let hi = Math.floor(pa / TWO32);
    if (bits32) {
      if (leafLevel === 2) lo |= (hi & 0xff) << 13;
      this.mem.write32(ea, (lo | (pa % TWO32)) >>> 0, AccessKind.Write);
      return;
    }
    hi |= (attrs.executeDisable ? 0x8000_0000 : 0) | ((attrs.protectionKey ?? 0) << 27);
    this.mem.write64(ea, (lo | (pa % TWO32)) >>> 0, hi >>> 0, AccessKind.Write);
  }

  /** Clears the leaf entry (of whatever size) that maps `gva`, if there is one. */
  unmap(gva: number): void {
    for (let level = 1; level <= this.topLevel; level++) {
      const ea = this.entryAddress(gva, level);
      if (ea < 0) continue;
      const lo = this.mem.read32(ea, AccessKind.Read);
      if ((lo & 1) !== 0 && (level === 1 || (lo & 0x80) !== 0)) {
        if (this.entrySize === 8) this.mem.write64(ea, 0, 0, AccessKind.Write);
        else this.mem.write32(ea, 0, AccessKind.Write);
        return;
      }
    }
  }

  /** Address of the entry at `level` (1 = PTE) on the path of `gva`, or -1 when the path stops above it. */
  entryAddress(gva: number, level: number): number {
    const table = this.walkTo(gva, level, false);
    if (table < 0) return -1;
    return (
      table +
      index(gva >>> 0, Math.floor(gva / TWO32) | 0, level, this.mode === PagingMode.Bits32) * this.entrySize
    );
  }

  /** Table holding the entry of `level` for `gva`; creates missing tables when `create`. */
  private walkTo(gva: number, level: number, create: boolean): number {
    const bits32 = this.mode === PagingMode.Bits32;
    const lo = gva >>> 0;
    const hi = Math.floor(gva / TWO32) | 0;
    let table = this.root;
    for (let l = this.topLevel; l > level; l--) {
      const ea = table + index(lo, hi, l, bits32) * this.entrySize;
      let elo: number;
      let ehi = 0;
      if (bits32) elo = this.mem.read32(ea, AccessKind.Read);
      else {
        this.mem.read64(ea, AccessKind.Read, this.e, 0);
        elo = this.e[0]!;
        ehi = this.e[1]!;
      }
      if ((elo & 1) !== 0 && (l === 3 && this.mode === PagingMode.Pae ? true : (elo & 0x80) === 0)) {
        table = (ehi & 0xf_ffff) * TWO32 + ((elo & 0xffff_f000) >>> 0);
        continue;
      }
      if (!create) return -1;
      const next = this.alloc.alloc();
      // PAE PDPTEs hold only P and the address (bits 2:1 and 8:5 are reserved there).
      const flags = l === 3 && this.mode === PagingMode.Pae ? 1 : 7;
      if (bits32) this.mem.write32(ea, (next | flags) >>> 0, AccessKind.Write);
      else this.mem.write64(ea, ((next % TWO32) | flags) >>> 0, Math.floor(next / TWO32), AccessKind.Write);
      table = next;
    }
    return table;
  }
}

/** Options of an EPT leaf made by {@link EptBuilder.map}. */
export interface EptMapOptions {
  /** Memory type, bits 5:3 (default 6, write-back). */
  readonly memoryType?: number;
  /** Ignore-PAT, bit 6 (default false). */
  readonly ignorePat?: boolean;
  /** Suppress #VE, bit 63 (default false). */
  readonly suppressVe?: boolean;
  /** Accessed flag preset, bit 8 (default false). */
  readonly accessed?: boolean;
  /** Dirty flag preset, bit 9 (default false). */
  readonly dirty?: boolean;
}

/**
 * Builds real EPT paging structures in a memory, for tests, loaders and hypervisors written in
 * TypeScript. Non-leaf entries allow read, write, execute and user-execute so that leaves decide.
 */
export class EptBuilder {
  /** Physical address of the top-level table. */
  readonly root: number;
  private readonly e = new Uint32Array(2);

  /**
   * @param mem the memory the tables are written in (host memory for EPT01, L1 memory for EPT12).
   * @param alloc where table pages come from.
   * @param levels page-walk length, 4 or 5.
   */
  constructor(
    private readonly mem: PhysicalMemory,
    private readonly alloc: PageAllocator,
    readonly levels: 4 | 5 = 4,
  ) {
    this.root = alloc.alloc();
  }

  /** An EPTP for these tables: write-back structures, this walk length, A/D flags as asked. */
  eptp(accessedDirty = false): number {
    return this.root + 6 + ((this.levels - 1) << 3) + (accessedDirty ? 0x40 : 0);
  }

  /**
   * Maps `gpa` (aligned to `pageSize`: 4 KiB, 2 MiB or 1 GiB) to `pa` with {@link Permission}
   * bits Read, Write, Execute and UserExecute (bit 10).
   */
  map(gpa: number, pa: number, pageSize: number, permissions: Permission, options: EptMapOptions = {}): void {
    const leafLevel = levelOf(pageSize, [0x20_0000, 0x4000_0000]);
    if (gpa % pageSize !== 0 || pa % pageSize !== 0) throw new RangeError("map: unaligned address");
    const table = this.walkTo(gpa, leafLevel, true);
    const ea = table + index(gpa >>> 0, Math.floor(gpa / TWO32), leafLevel, false) * 8;
    const lo =
      (permissions & 7) |
      ((permissions & Permission.UserExecute) !== 0 ? 0x400 : 0) |
      ((options.memoryType ?? 6) << 3) |
      (options.ignorePat ? 0x40 : 0) |
      (leafLevel > 1 ? 0x80 : 0) |
      (options.accessed ? 0x100 : 0) |
      (options.dirty ? 0x200 : 0);
    const hi = Math.floor(pa / TWO32) | (options.suppressVe ? 0x8000_0000 : 0);
    this.mem.write64(ea, (lo | (pa % TWO32)) >>> 0, hi >>> 0, AccessKind.Write);
  }

  /** Clears the leaf entry (of whatever size) that maps `gpa`, if there is one. */
  unmap(gpa: number): void {
    for (let level = 1; level <= this.levels; level++) {
      const ea = this.entryAddress(gpa, level);
      if (ea < 0) continue;
      const lo = this.mem.read32(ea, AccessKind.Read);
      if ((lo & 0x407) !== 0 && (level === 1 || (lo & 0x80) !== 0)) {
        this.mem.write64(ea, 0, 0, AccessKind.Write);
        return;
      }
    }
  }

  /** Address of the entry at `level` (1 = PTE) on the path of `gpa`, or -1 when the path stops above it. */
  entryAddress(gpa: number, level: number): number {
    const table = this.walkTo(gpa, level, false);
    return table < 0 ? -1 : table + index(gpa >>> 0, Math.floor(gpa / TWO32), level, false) * 8;
  }

  private walkTo(gpa: number, level: number, create: boolean): number {
    const lo = gpa >>> 0;
    const hi = Math.floor(gpa / TWO32);
    let table = this.root;
    for (let l = this.levels; l > level; l--) {
      const ea = table + index(lo, hi, l, false) * 8;
      this.mem.read64(ea, AccessKind.Read, this.e, 0);
      const elo = this.e[0]!;
      if ((elo & 0x407) !== 0 && (elo & 0x80) === 0) {
        table = (this.e[1]! & 0xf_ffff) * TWO32 + ((elo & 0xffff_f000) >>> 0);
        continue;
      }
      if (!create) return -1;
      const next = this.alloc.alloc();
      this.mem.write64(ea, ((next % TWO32) | 0x407) >>> 0, Math.floor(next / TWO32), AccessKind.Write);
      table = next;
    }
    return table;
  }
}
