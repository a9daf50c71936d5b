import type { Ram } from "@turtles/memory";

/**
 * Host pages for shadow structures (EPT02, shadow page tables): a free list over a `Ram` that the
 * host maps at `ramBase`, so the tables built here are real tables any walker — the emulated
 * hardware — can walk through the host memory. Entries are written straight into the RAM.
 */
export class HostPagePool {
  /** Number of pages the pool manages. */
  readonly capacity: number;
  private readonly view: DataView;
  private readonly freeList: number[] = [];
  private readonly first: number;

  /**
   * @param ram the RAM block the pages come from.
   * @param ramBase host-physical address at which byte 0 of `ram` is mapped.
   * @param offset first byte of `ram` the pool may use (4-KByte aligned).
   * @param pages how many pages from `offset` (default: to the end of `ram`).
   * @throws RangeError when the range is unaligned or outside `ram`.
   */
  constructor(
    readonly ram: Ram,
    readonly ramBase: number,
    offset = 0,
    pages = Math.floor((ram.size - offset) / 4096),
  ) {
    if (offset % 4096 !== 0 || ramBase % 4096 !== 0) throw new RangeError("HostPagePool: unaligned range");
    if (pages <= 0 || offset + pages * 4096 > ram.size)
      throw new RangeError("HostPagePool: range outside the RAM");
    this.view = ram.view;
    this.capacity = pages;
    this.first = ramBase + offset;
    for (let i = pages - 1; i >= 0; i--) this.freeList.push(this.first + i * 4096);
  }

  /** Pages currently handed out. */
  get used(): number {
    return this.capacity - this.freeList.length;
  }

  /** Pages still free. */
  get available(): number {
    return this.freeList.length;
  }

  /** Takes a zeroed page; returns its host-physical address, or -1 when the pool is empty. */
  alloc(): number {
    const page = this.freeList.pop();
    if (page === undefined) return -1;
    this.ram.bytes.fill(0, page - this.ramBase, page - this.ramBase + 4096);
    return page;
  }

  /** Returns a page to the pool. @throws RangeError for an address the pool does not own. */
  free(hpa: number): void {
    if (hpa < this.first || hpa >= this.first + this.capacity * 4096 || hpa % 4096 !== 0) {
      throw new RangeError(`HostPagePool: not a pool page: ${hpa}`);
    }
    this.freeList.push(hpa);
  }

  /** Low half of the 64-bit entry at `hpa`. */
  lo(hpa: number): number {
    return this.view.getUint32(hpa - this.ramBase, true);
  }

  /** High half of the 64-bit entry at `hpa`. */
  hi(hpa: number): number {
    return this.view.getUint32(hpa - this.ramBase + 4, true);
  }

  /** Writes the 64-bit entry `hi:lo` at `hpa`. */
  set(hpa: number, lo: number, hi: number): void {
    this.view.setUint32(hpa - this.ramBase, lo >>> 0, true);
    this.view.setUint32(hpa - this.ramBase + 4, hi >>> 0, true);
  }
}
