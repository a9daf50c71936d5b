import { type AccessKind, allOnes, PHYSICAL_ADDRESS_LIMIT } from "./access.js";
import type { AccessObserver, MmioHandler, PhysicalMemory, WriteListener } from "./physical-memory.js";
import { Ram } from "./ram.js";

/** The kinds of region a {@link PhysicalAddressSpace} maps. Everything else is unmapped. */
export type RegionKind = "ram" | "rom" | "mmio";

/** A description of one mapped region (a snapshot: changing it changes nothing). */
export interface RegionInfo {
  /** First physical address of the region. */
  readonly base: number;
  /** Length in bytes. */
  readonly size: number;
  /** What the region is. */
  readonly kind: RegionKind;
  /** The name given when it was mapped (for messages and debugging). */
  readonly name: string;
}

/** Options of {@link PhysicalAddressSpace.mapRam}. */
export interface MapRamOptions {
  /** Offset inside the `Ram` of the region's first byte (default 0). */
  readonly offset?: number;
  /** Length of the region (default: the rest of the `Ram` after `offset`). */
  readonly size?: number;
  /** A name for messages (default `"ram"`). */
  readonly name?: string;
}

/** Counters of the accesses that found no target (slow path only). */
export interface UnresolvedAccessCounts {
  /** Reads (of any size or range) that touched an unmapped byte. */
  unmappedReads: number;
  /** Writes that touched an unmapped byte. */
  unmappedWrites: number;
  /** Writes to ROM (dropped). */
  romWrites: number;
}

interface Region {
  readonly base: number;
  /** Exclusive end. */
  readonly end: number;
  readonly kind: RegionKind;
  readonly name: string;
  /** For RAM and ROM: the backing bytes and a view; `delta` maps an address to a view index. */
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly delta: number;
  readonly handler: MmioHandler | null;
  /** Page number (address / 4096, rounded down) of `base`: index 0 of `watchBits`. */
  readonly page0: number;
  /** For RAM with watched pages: one flag per page of the region; `null` when none is watched. */
  watchBits: Uint8Array | null;
  /** How many of the region's pages are watched. */
  watchCount: number;
}

/** The granule of write watching. */
const PAGE = 4096;

const EMPTY = new Ram(1);
const NO_VIEW = EMPTY.view;

/**
 * A physical address space: a map of non-overlapping regions — RAM, ROM, MMIO — where every other
 * address is unmapped.
 *
 * Rules (each one tested):
 * - **RAM** accesses of any size and alignment are typed-array operations on the backing `Ram`.
 *   The last RAM region hit is cached separately for reads and for writes, so the common access
 *   costs two comparisons and a `DataView` call, with no allocation.
 * - **ROM** reads like RAM; writes are dropped and reported to the observer.
 * - **MMIO** accesses go to the region's {@link MmioHandler} with the offset inside the window;
 *   64-bit accesses are split into two 32-bit accesses (low address first); byte-range accesses
 *   are split into single bytes.
 * - **Unmapped** reads return all-ones (0xFF per byte); unmapped writes are dropped; both are
 *   counted in {@link PhysicalAddressSpace.unresolved} and reported to the observer.
 * - An access that **crosses a region boundary** (including into or out of unmapped space) is
 *   performed byte by byte in ascending address order, each byte routed on its own. Physical
 *   memory has no pages: page-boundary splitting belongs to the translating layers above.
 * - **Zero-length** byte-range accesses touch nothing and report nothing.
 * - Addresses are integers in `[0, 2^52)`; at or above 2^52 they read as unmapped. A negative,
 *   fractional or non-numeric address is an emulator bug and throws a `RangeError`.
 *
 * Lookups are a binary search over the sorted regions (O(log n)) behind the one-entry caches.
 */
export class PhysicalAddressSpace implements PhysicalMemory {
  /** Receives unmapped accesses and ROM writes; set or replace at any time. */
  observer: AccessObserver | undefined;
  /** Counts of the accesses that found no target. */
  readonly unresolved: UnresolvedAccessCounts = { unmappedReads: 0, unmappedWrites: 0, romWrites: 0 };

  private regionList: Region[] = [];
  private changes = 0;

  // One-entry caches of the last RAM/ROM region read and the last RAM region written. An empty
  // range (base 0, end 0) never matches, which keeps these fields monomorphic.
  private rBase = 0;
  private rEnd = 0;
  private rDelta = 0;
  private rView: DataView = NO_VIEW;
  private wBase = 0;
  private wEnd = 0;
  private wDelta = 0;
  private wView: DataView = NO_VIEW;
  // Watched-page flags of the cached write region (null: none watched there, the common case).
  private wBits: Uint8Array | null = null;
  private wPage0 = 0;
  private readonly watches = new Map<number, WriteListener[]>();

  /** Incremented by every map and unmap, so callers that cache direct RAM views can tell when to drop them. */
  get mapVersion(): number {
    return this.changes;
  }

  // ---------------------------------------------------------------------------------------------
  // The map

  /**
   * Maps `ram` (or a slice of it) at `base`.
   * @throws RangeError on overlap with an existing region, a slice outside `ram`, or an address outside `[0, 2^52)`.
   */
  mapRam(base: number, ram: Ram, options: MapRamOptions = {}): void {
    const offset = options.offset ?? 0;
    const size = options.size ?? ram.size - offset;
    checkSlice(offset, size, ram.size);
    this.insert(base, size, "ram", options.name ?? "ram", ram.view, ram.bytes, offset, null);
  }

  /**
   * Maps `data` read-only at `base` (no copy: the caller may change `data` later, as a flash
   * controller would). Writes are dropped and reported.
   */
  mapRom(base: number, data: Uint8Array, name = "rom"): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.insert(base, data.byteLength, "rom", name, view, data, 0, null);
  }

  /** Maps a device window of `size` bytes at `base`, served by `handler`. */
  mapMmio(base: number, size: number, handler: MmioHandler, name = "mmio"): void {
    this.insert(base, size, "mmio", name, NO_VIEW, EMPTY.bytes, 0, handler);
  }

  /**
   * Removes the region that starts at `base`.
   * @throws RangeError when no region starts there.
   */
  unmap(base: number): void {
    const i = this.indexOf(base);
    const region = i >= 0 ? this.regionList[i] : undefined;
    if (region === undefined || region.base !== base) {
      throw new RangeError(`unmap: no region starts at ${hex(base)}`);
    }
    this.regionList.splice(i, 1);
    this.changed();
  }

  /** The region containing `addr`, or `undefined` where it is unmapped. */
  regionAt(addr: number): RegionInfo | undefined {
    const region = this.find(addr);
    return region === undefined ? undefined : info(region);
  }

  /** Every region, in ascending address order. */
  regions(): RegionInfo[] {
    return this.regionList.map(info);
  }

  /** Whether every byte of `[addr, addr + length)` lies in some region (RAM, ROM or MMIO). */
  isMapped(addr: number, length: number): boolean {
    let at = addr;
    const end = addr + length;
    while (at < end) {
      const region = this.find(at);
      if (region === undefined) return false;
      at = region.end;
    }
    return true;
  }

  /**
   * The bytes of `[addr, addr + length)` as a view on the backing store, when the whole range lies
   * in one RAM region (ROM too when `allowRom`); otherwise `undefined`. Loaders and caches of
   * decoded code use it to reach RAM without per-byte calls; keep {@link mapVersion} alongside.
   */
  ramView(addr: number, length: number, allowRom = false): Uint8Array | undefined {
    const region = this.find(addr);
    if (region === undefined || addr + length > region.end) return undefined;
    if (region.kind === "mmio" || (region.kind === "rom" && !allowRom)) return undefined;
    const start = addr + region.delta;
    return region.bytes.subarray(start, start + length);
  }

  // ---------------------------------------------------------------------------------------------
  // Write watching

  /**
   * Calls `listener` after every write — by any path: scalar, byte range, DMA — that changes a
   * RAM byte of the 4 KiB page containing `addr`, so that caches derived from guest memory
   * (decoded instructions, shadow page tables, a shadow EPT built from EPT12) can drop what the
   * write made stale. A listener added twice is called twice. Writes through {@link ramView}
   * are not seen: that view is for reading and for loaders.
   *
   * Cost: writes to a RAM region with no watched page pay one extra field test; writes to a
   * region with watched pages also test the page's flag.
   */
  watchPage(addr: number, listener: WriteListener): void {
    checkAddress(addr);
    const page = Math.floor(addr / PAGE);
    const list = this.watches.get(page);
    if (list !== undefined) {
      list.push(listener);
      return;
    }
    this.watches.set(page, [listener]);
    this.setWatchFlags(page, 1);
  }

  /**
   * Removes one registration of `listener` for the page containing `addr`.
   * @throws RangeError when `listener` does not watch that page.
   */
  unwatchPage(addr: number, listener: WriteListener): void {
    const page = Math.floor(addr / PAGE);
    const list = this.watches.get(page);
    const at = list === undefined ? -1 : list.indexOf(listener);
    if (list === undefined || at < 0) {
      throw new RangeError(`unwatchPage: the listener does not watch page ${hex(page * PAGE)}`);
    }
    list.splice(at, 1);
    if (list.length > 0) return;
    this.watches.delete(page);
    this.setWatchFlags(page, 0);
  }

  /** The number of distinct watched pages. */
  get watchedPageCount(): number {
    return this.watches.size;
  }

  // ---------------------------------------------------------------------------------------------
  // Scalar accesses: a cached fast path, then the general one.

  /** @inheritDoc PhysicalMemory.read8 */
  read8(addr: number, kind: AccessKind): number {
    if (addr >= this.rBase && addr < this.rEnd) return this.rView.getUint8(addr + this.rDelta);
    return this.slowRead(addr, 1, kind);
  }

  /** @inheritDoc PhysicalMemory.read16 */
  read16(addr: number, kind: AccessKind): number {
    if (addr >= this.rBase && addr + 2 <= this.rEnd) return this.rView.getUint16(addr + this.rDelta, true);
    return this.slowRead(addr, 2, kind);
  }

  /** @inheritDoc PhysicalMemory.read32 */
  read32(addr: number, kind: AccessKind): number {
    if (addr >= this.rBase && addr + 4 <= this.rEnd) return this.rView.getUint32(addr + this.rDelta, true);
    return this.slowRead(addr, 4, kind);
  }

  /** @inheritDoc PhysicalMemory.read64 */
  read64(addr: number, kind: AccessKind, out: Uint32Array, index: number): void {
    if (addr >= this.rBase && addr + 8 <= this.rEnd) {
      const at = addr + this.rDelta;
      out[index] = this.rView.getUint32(at, true);
      out[index + 1] = this.rView.getUint32(at + 4, true);
      return;
    }
    const region = this.resolve(addr, 8);
    if (region === undefined && !this.touchesAny(addr, 8)) {
      this.reportUnmapped(addr, 8, kind, false);
      out[index] = 0xffff_ffff;
      out[index + 1] = 0xffff_ffff;
      return;
    }
    // Inside one MMIO region or across a boundary: two 32-bit halves, low address first, each
    // following the 32-bit rules (an MMIO handler sees two 4-byte reads).
    out[index] = this.read32(addr, kind);
    out[index + 1] = this.read32(addr + 4, kind);
  }

  /** @inheritDoc PhysicalMemory.write8 */
  write8(addr: number, value: number, kind: AccessKind): void {
    if (addr >= this.wBase && addr < this.wEnd) {
      this.wView.setUint8(addr + this.wDelta, value);
      if (this.wBits !== null) this.cachedWritten(addr, 1, kind);
      return;
    }
    this.slowWrite(addr, 1, value & 0xff, kind);
  }

  /** @inheritDoc PhysicalMemory.write16 */
  write16(addr: number, value: number, kind: AccessKind): void {
    if (addr >= this.wBase && addr + 2 <= this.wEnd) {
      this.wView.setUint16(addr + this.wDelta, value, true);
      if (this.wBits !== null) this.cachedWritten(addr, 2, kind);
      return;
    }
    this.slowWrite(addr, 2, value & 0xffff, kind);
  }

  /** @inheritDoc PhysicalMemory.write32 */
  write32(addr: number, value: number, kind: AccessKind): void {
    if (addr >= this.wBase && addr + 4 <= this.wEnd) {
      this.wView.setUint32(addr + this.wDelta, value, true);
      if (this.wBits !== null) this.cachedWritten(addr, 4, kind);
      return;
    }
    this.slowWrite(addr, 4, value >>> 0, kind);
  }

  /** @inheritDoc PhysicalMemory.write64 */
  write64(addr: number, lo: number, hi: number, kind: AccessKind): void {
    if (addr >= this.wBase && addr + 8 <= this.wEnd) {
      const at = addr + this.wDelta;
      this.wView.setUint32(at, lo, true);
      this.wView.setUint32(at + 4, hi, true);
      if (this.wBits !== null) this.cachedWritten(addr, 8, kind);
      return;
    }
    const region = this.resolve(addr, 8);
    if (region === undefined && !this.touchesAny(addr, 8)) {
      this.reportUnmapped(addr, 8, kind, true);
      return;
    }
    if (region !== undefined && region.kind === "rom") {
      this.reportRomWrite(addr, 8, kind);
      return;
    }
    if (region !== undefined && region.kind === "ram") {
      this.cacheForWrites(region);
      const at = addr + region.delta;
      region.view.setUint32(at, lo, true);
      region.view.setUint32(at + 4, hi, true);
      if (region.watchBits !== null) this.notifyWatchers(addr, 8, kind);
      return;
    }
    this.write32(addr, lo, kind);
    this.write32(addr + 4, hi, kind);
  }

  // ---------------------------------------------------------------------------------------------
  // Byte ranges

  /** @inheritDoc PhysicalMemory.readBytes */
  readBytes(addr: number, dest: Uint8Array, kind: AccessKind): void {
    const length = dest.byteLength;
    if (length === 0) return;
    checkAddress(addr);
    let done = 0;
    while (done < length) {
      const at = addr + done;
      const i = this.indexOf(at);
      const region = i >= 0 ? this.regionList[i] : undefined;
      if (region !== undefined && at < region.end) {
        const n = Math.min(region.end - at, length - done);
        if (region.handler === null) {
          const start = at + region.delta;
          dest.set(region.bytes.subarray(start, start + n), done);
        } else {
          for (let k = 0; k < n; k++) dest[done + k] = region.handler.read(at + k - region.base, 1) & 0xff;
        }
        done += n;
      } else {
        const next = this.regionList[i + 1];
        const gapEnd = next === undefined ? Number.POSITIVE_INFINITY : next.base;
        const n = Math.min(gapEnd - at, length - done);
        dest.fill(0xff, done, done + n);
        this.reportUnmapped(at, n, kind, false);
        done += n;
      }
    }
  }

  /** @inheritDoc PhysicalMemory.writeBytes */
  writeBytes(addr: number, src: Uint8Array, kind: AccessKind): void {
    const length = src.byteLength;
    if (length === 0) return;
    checkAddress(addr);
    let done = 0;
    while (done < length) {
      const at = addr + done;
      const i = this.indexOf(at);
      const region = i >= 0 ? this.regionList[i] : undefined;
      if (region !== undefined && at < region.end) {
        const n = Math.min(region.end - at, length - done);
        if (region.kind === "ram") {
          region.bytes.set(src.subarray(done, done + n), at + region.delta);
          if (region.watchBits !== null) this.notifyWatchers(at, n, kind);
        } else if (region.kind === "rom") {
          this.reportRomWrite(at, n, kind);
        } else {
          const handler = region.handler!;
          for (let k = 0; k < n; k++) handler.write(at + k - region.base, 1, src[done + k]!);
        }
        done += n;
      } else {
        const next = this.regionList[i + 1];
        const gapEnd = next === undefined ? Number.POSITIVE_INFINITY : next.base;
        const n = Math.min(gapEnd - at, length - done);
        this.reportUnmapped(at, n, kind, true);
        done += n;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private cacheForWrites(region: Region): void {
    this.wBase = region.base;
    this.wEnd = region.end;
    this.wDelta = region.delta;
    this.wView = region.view;
    this.wBits = region.watchBits;
    this.wPage0 = region.page0;
  }

  /** After a write through the write cache to a region with watched pages. */
  private cachedWritten(addr: number, size: number, kind: AccessKind): void {
    const bits = this.wBits!;
    const first = Math.floor(addr / PAGE) - this.wPage0;
    const last = Math.floor((addr + size - 1) / PAGE) - this.wPage0;
    if (bits[first] !== 0 || bits[last] !== 0) this.notifyWatchers(addr, size, kind);
  }

  private notifyWatchers(addr: number, size: number, kind: AccessKind): void {
    const last = Math.floor((addr + size - 1) / PAGE);
    for (let page = Math.floor(addr / PAGE); page <= last; page++) {
      const list = this.watches.get(page);
      if (list === undefined) continue;
      // A listener may unwatch while being notified: iterate over a copy when there are several
      // (one listener, the common case, is called without allocating).
      if (list.length === 1) list[0]!(addr, size, kind);
      else for (const listener of list.slice()) listener(addr, size, kind);
    }
  }

  private setWatchFlags(page: number, flag: 0 | 1): void {
    for (const region of this.regionList) if (region.kind === "ram") setWatchFlag(region, page, flag);
    // Drop the write cache so that the next write picks up the region's new flags.
    this.wBase = this.wEnd = 0;
    this.wBits = null;
  }

  private slowRead(addr: number, size: 1 | 2 | 4, kind: AccessKind): number {
    const region = this.resolve(addr, size);
    if (region !== undefined) {
      if (region.handler !== null)
        return (region.handler.read(addr - region.base, size) & allOnes(size)) >>> 0;
      this.rBase = region.base;
      this.rEnd = region.end;
      this.rDelta = region.delta;
      this.rView = region.view;
      const at = addr + region.delta;
      return size === 1
        ? region.view.getUint8(at)
        : size === 2
          ? region.view.getUint16(at, true)
          : region.view.getUint32(at, true);
    }
    if (!this.touchesAny(addr, size)) {
      this.reportUnmapped(addr, size, kind, false);
      return allOnes(size);
    }
    // Crosses a boundary: byte by byte, ascending.
    let value = 0;
    for (let k = 0; k < size; k++) value |= this.read8(addr + k, kind) << (8 * k);
    return value >>> 0;
  }

  private slowWrite(addr: number, size: 1 | 2 | 4, value: number, kind: AccessKind): void {
    const region = this.resolve(addr, size);
    if (region !== undefined) {
      if (region.kind === "ram") {
        this.cacheForWrites(region);
        const at = addr + region.delta;
        if (size === 1) region.view.setUint8(at, value);
        else if (size === 2) region.view.setUint16(at, value, true);
        else region.view.setUint32(at, value, true);
        if (region.watchBits !== null) this.notifyWatchers(addr, size, kind);
      } else if (region.kind === "rom") {
        this.reportRomWrite(addr, size, kind);
      } else {
        region.handler!.write(addr - region.base, size, value);
      }
      return;
    }
    if (!this.touchesAny(addr, size)) {
      this.reportUnmapped(addr, size, kind, true);
      return;
    }
    for (let k = 0; k < size; k++) this.write8(addr + k, (value >>> (8 * k)) & 0xff, kind);
  }

  /** The region holding all of `[addr, addr + size)`, if one does. Validates `addr`. */
  private resolve(addr: number, size: number): Region | undefined {
    checkAddress(addr);
    const region = this.find(addr);
    return region !== undefined && addr + size <= region.end ? region : undefined;
  }

  /** Whether any byte of `[addr, addr + size)` is mapped. */
  private touchesAny(addr: number, size: number): boolean {
    if (this.find(addr) !== undefined) return true;
    const next = this.regionList[this.indexOf(addr) + 1];
    return next !== undefined && next.base < addr + size;
  }

  private find(addr: number): Region | undefined {
    const region = this.regionList[this.indexOf(addr)];
    return region !== undefined && addr < region.end ? region : undefined;
  }

  /** Index of the last region whose base is `<= addr`, or -1. */
  private indexOf(addr: number): number {
    const list = this.regionList;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.base <= addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private insert(
    base: number,
    size: number,
    kind: RegionKind,
    name: string,
    view: DataView,
    bytes: Uint8Array,
    offset: number,
    handler: MmioHandler | null,
  ): void {
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`map ${name}: base ${base} and size ${size} must be integers, size > 0`);
    }
    if (base + size > PHYSICAL_ADDRESS_LIMIT) {
      throw new RangeError(
        `map ${name}: ${hex(base)}+${hex(size)} is beyond the 2^52 physical address limit`,
      );
    }
    const i = this.indexOf(base + size - 1);
    const before = this.regionList[i];
    if (before !== undefined && before.end > base) {
      throw new RangeError(
        `map ${name} at ${hex(base)}-${hex(base + size - 1)}: overlaps ${before.name} at ${hex(before.base)}-${hex(before.end - 1)}`,
      );
    }
    const region: Region = {
      base,
      end: base + size,
      kind,
      name,
      view,
      bytes,
      delta: offset - base,
      handler,
      page0: Math.floor(base / PAGE),
      watchBits: null,
      watchCount: 0,
    };
    this.regionList.splice(i + 1, 0, region);
    if (kind === "ram") for (const page of this.watches.keys()) setWatchFlag(region, page, 1);
    this.changed();
  }

  private changed(): void {
    this.changes++;
    this.rBase = this.rEnd = this.wBase = this.wEnd = 0;
    this.rView = this.wView = NO_VIEW;
    this.wBits = null;
  }

  private reportUnmapped(addr: number, size: number, kind: AccessKind, isWrite: boolean): void {
    if (isWrite) this.unresolved.unmappedWrites++;
    else this.unresolved.unmappedReads++;
    this.observer?.unmapped?.(addr, size, kind, isWrite);
  }

  private reportRomWrite(addr: number, size: number, kind: AccessKind): void {
    this.unresolved.romWrites++;
    this.observer?.romWrite?.(addr, size, kind);
  }
}

/** Sets or clears the watched flag of `page` in `region`, if the page overlaps it. */
function setWatchFlag(region: Region, page: number, flag: 0 | 1): void {
  const index = page - region.page0;
  if (page * PAGE >= region.end || (page + 1) * PAGE <= region.base) return;
  if (region.watchBits === null) {
    if (flag === 0) return;
    region.watchBits = new Uint8Array(Math.floor((region.end - 1) / PAGE) - region.page0 + 1);
  }
  if (region.watchBits[index] === flag) return;
  region.watchBits[index] = flag;
  region.watchCount += flag === 1 ? 1 : -1;
  if (region.watchCount === 0) region.watchBits = null;
}

function checkAddress(addr: number): void {
  if (!Number.isSafeInteger(addr) || addr < 0) {
    throw new RangeError(`physical address must be a non-negative integer, got ${addr}`);
  }
}

function checkSlice(offset: number, size: number, total: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(size) || size <= 0) {
    throw new RangeError(`mapRam: offset ${offset} and size ${size} must be integers, size > 0`);
  }
  if (offset + size > total) {
    throw new RangeError(`mapRam: slice ${offset}+${size} exceeds the RAM block of ${total} bytes`);
  }
}

function info(region: Region): RegionInfo {
  return { base: region.base, size: region.end - region.base, kind: region.kind, name: region.name };
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A space holding one RAM block of `size` bytes at physical address 0: the simplest memory for tests and tools. */
export function createRamSpace(size: number): { space: PhysicalAddressSpace; ram: Ram } {
  const space = new PhysicalAddressSpace();
  const ram = new Ram(size);
  space.mapRam(0, ram);
  return { space, ram };
}
