/**
 * The software TLB's storage, tagged by PCID (SDM vol. 3A, 4.10.1 "Process-Context Identifiers"
 * and 4.10.2 "Translation Lookaside Buffers").
 *
 * One {@link TlbSet} holds the translations of one PCID: a direct-mapped table with a supervisor
 * half and a user half, and one array triple (tag, physical page, flags) per access kind (read,
 * write, fetch), because an entry caches the outcome of the permission check for that kind. The
 * processor keeps the arrays of the current PCID's set in its own fields, so a TLB hit costs what
 * it cost before PCIDs existed: switching PCID (MOV to CR3 with CR4.PCIDE = 1) swaps the array
 * references, it does not tag every lookup.
 *
 * A global entry is only looked up in the set it was filled in; that is a miss elsewhere (a walk),
 * never a wrong answer. Invalidations that reach global entries of every PCID (INVLPG, INVPCID
 * types 0 and 2, CR4.PGE changes) visit every set.
 */

/** Entries of each TLB half (a power of two). */
export const TLB_SIZE = 512;
/** Index mask of a TLB half. */
export const TLB_MASK = TLB_SIZE - 1;
/** How many PCIDs keep their translations at once (the least recently used set is recycled). */
export const TLB_SETS = 8;

/** Entry flag: the translation is global (G = 1 with CR4.PGE = 1). */
export const TLB_GLOBAL = 1;
/** Entry flags bits 7:1: log2(page size) - 12 of the page the 4-KByte entry was cut from. */
const SIZE_SHIFT = 1;

/** The TLB entries of one PCID. */
export class TlbSet {
  /** The PCID these entries belong to (-1: unused). */
  pcid = -1;
  /** Last time (a counter of selections) this set was made current. */
  lastUse = 0;
  /** Whether some entry is global (a non-global flush must then keep them). */
  anyGlobal = false;
  /** Whether some entry was cut from a page larger than 4 KBytes (INVLPG must then scan). */
  anyLarge = false;
  /** Whether some data entry maps a user-mode page under CR4.PKE (WRPKRU must drop them). */
  anyKeyed = false;
  /** Whether some supervisor data entry maps a user-mode page under SMAP (allowed by EFLAGS.AC = 1). */
  acDependent = false;
  /** Page-number tags of data-read entries (NaN = empty), supervisor half then user half. */
  readonly tagR = new Float64Array(2 * TLB_SIZE).fill(Number.NaN);
  /** Page-number tags of data-write entries. */
  readonly tagW = new Float64Array(2 * TLB_SIZE).fill(Number.NaN);
  /** Page-number tags of instruction-fetch entries. */
  readonly tagX = new Float64Array(2 * TLB_SIZE).fill(Number.NaN);
  /** Physical page addresses of data-read entries. */
  readonly physR = new Float64Array(2 * TLB_SIZE);
  /** Physical page addresses of data-write entries. */
  readonly physW = new Float64Array(2 * TLB_SIZE);
  /** Physical page addresses of instruction-fetch entries. */
  readonly physX = new Float64Array(2 * TLB_SIZE);
  /** Entry flags ({@link TLB_GLOBAL} and the page-size shift) of data-read entries. */
  readonly flagR = new Uint8Array(2 * TLB_SIZE);
  /** Entry flags of data-write entries. */
  readonly flagW = new Uint8Array(2 * TLB_SIZE);
  /** Entry flags of instruction-fetch entries. */
  readonly flagX = new Uint8Array(2 * TLB_SIZE);

  /** Drops every entry (globals too). */
  clear(): void {
    this.tagR.fill(Number.NaN);
    this.tagW.fill(Number.NaN);
    this.tagX.fill(Number.NaN);
    this.anyGlobal = false;
    this.anyLarge = false;
    this.anyKeyed = false;
    this.acDependent = false;
  }

  /** Drops every non-global entry. */
  clearNonGlobal(): void {
    if (!this.anyGlobal) {
      this.clear();
      return;
    }
    for (let k = 0; k < 2 * TLB_SIZE; k++) {
      if ((this.flagR[k]! & TLB_GLOBAL) === 0) this.tagR[k] = Number.NaN;
      if ((this.flagW[k]! & TLB_GLOBAL) === 0) this.tagW[k] = Number.NaN;
      if ((this.flagX[k]! & TLB_GLOBAL) === 0) this.tagX[k] = Number.NaN;
    }
  }

  /** Drops the supervisor half's data entries: what clearing EFLAGS.AC affects under SMAP. */
  clearSupervisorData(): void {
    this.tagR.fill(Number.NaN, 0, TLB_SIZE);
    this.tagW.fill(Number.NaN, 0, TLB_SIZE);
    this.acDependent = false;
  }

  /** Drops the data entries (reads and writes), keeping fetches: what a PKRU change affects. */
  clearData(): void {
    this.tagR.fill(Number.NaN);
    this.tagW.fill(Number.NaN);
    this.anyKeyed = false;
    this.acDependent = false;
  }

  /**
   * Drops the entries for page number `vpn` (and, for an entry cut from a larger page, every entry
   * of that larger page, SDM 4.10.4.1: INVLPG invalidates the whole translation). Global entries
   * are dropped only when `globals` is true; with `onlyGlobals` only they are.
   */
  dropPage(vpn: number, globals: boolean, onlyGlobals: boolean): void {
    for (const side of [0, TLB_SIZE]) {
      const idx = (vpn & TLB_MASK) + side;
      dropAt(this.tagR, this.flagR, idx, vpn, globals, onlyGlobals);
      dropAt(this.tagW, this.flagW, idx, vpn, globals, onlyGlobals);
      dropAt(this.tagX, this.flagX, idx, vpn, globals, onlyGlobals);
    }
    if (!this.anyLarge) return;
    dropLarge(this.tagR, this.flagR, vpn, globals, onlyGlobals);
    dropLarge(this.tagW, this.flagW, vpn, globals, onlyGlobals);
    dropLarge(this.tagX, this.flagX, vpn, globals, onlyGlobals);
  }
}

function keep(flag: number, globals: boolean, onlyGlobals: boolean): boolean {
  const global = (flag & TLB_GLOBAL) !== 0;
  return global ? !globals : onlyGlobals;
}

function dropAt(
  tag: Float64Array,
  flag: Uint8Array,
  idx: number,
  vpn: number,
  globals: boolean,
  onlyGlobals: boolean,
): void {
  if (tag[idx] === vpn && !keep(flag[idx]!, globals, onlyGlobals)) tag[idx] = Number.NaN;
}

function dropLarge(
  tag: Float64Array,
  flag: Uint8Array,
  vpn: number,
  globals: boolean,
  onlyGlobals: boolean,
): void {
  for (let k = 0; k < 2 * TLB_SIZE; k++) {
    const f = flag[k]!;
    const shift = f >>> SIZE_SHIFT;
    if (shift === 0) continue;
    const span = 2 ** shift;
    const t = tag[k]!;
    if (Math.floor(t / span) === Math.floor(vpn / span) && !keep(f, globals, onlyGlobals))
      tag[k] = Number.NaN;
  }
}

/** The entry flags for a translation: `global`, and the size of the page it was cut from. */
export function tlbEntryFlags(global: boolean, pageSize: number): number {
  const shift = pageSize <= 4096 ? 0 : Math.round(Math.log2(pageSize)) - 12;
  return (global ? TLB_GLOBAL : 0) | (shift << SIZE_SHIFT);
}

/** The sets of every cached PCID, with least-recently-used replacement. */
export class TlbSets {
  private readonly sets: TlbSet[] = [];
  private clock = 0;
  /** The set of the current PCID. */
  current: TlbSet;

  constructor() {
    this.current = this.select(0);
  }

  /** Every set in use. */
  all(): readonly TlbSet[] {
    return this.sets;
  }

  /** The set of `pcid` if it has one. */
  find(pcid: number): TlbSet | undefined {
    for (const t of this.sets) if (t.pcid === pcid) return t;
    return undefined;
  }

  /** Makes `pcid`'s set current (recycling the least recently used one when needed) and returns it. */
  select(pcid: number): TlbSet {
    let t = this.find(pcid);
    if (t === undefined) {
      if (this.sets.length < TLB_SETS) {
        t = new TlbSet();
        this.sets.push(t);
      } else {
        t = this.sets[0]!;
        for (const u of this.sets) if (u.lastUse < t.lastUse) t = u;
        t.clear();
      }
      t.pcid = pcid;
    }
    t.lastUse = ++this.clock;
    this.current = t;
    return t;
  }

  /** Drops everything, every PCID, globals included. */
  clearAll(): void {
    for (const t of this.sets) t.clear();
  }

  /** Drops the non-global entries of every PCID (INVPCID type 3). */
  clearNonGlobalAll(): void {
    for (const t of this.sets) t.clearNonGlobal();
  }

  /** INVLPG (SDM 4.10.4.1): the page's entries of the current PCID, and its global entries of every PCID. */
  invlpg(vpn: number): void {
    for (const t of this.sets) {
      if (t === this.current) t.dropPage(vpn, true, false);
      else if (t.anyGlobal) t.dropPage(vpn, true, true);
    }
  }
}
