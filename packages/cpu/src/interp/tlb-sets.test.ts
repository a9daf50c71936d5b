import { describe, expect, it } from "vitest";
import { TLB_GLOBAL, TLB_SETS, TLB_SIZE, TlbSet, TlbSets, tlbEntryFlags } from "./tlb-sets.js";

/** Puts a read entry for page `vpn` into `t` (supervisor half) with `flags`. */
function fill(t: TlbSet, vpn: number, flags: number): number {
  const idx = vpn & (TLB_SIZE - 1);
  t.tagR[idx] = vpn;
  t.physR[idx] = vpn * 4096;
  t.flagR[idx] = flags;
  if ((flags & TLB_GLOBAL) !== 0) t.anyGlobal = true;
  if (flags > 1) t.anyLarge = true;
  return idx;
}

describe("TlbSets", () => {
  it("keeps one set per PCID, recycles the least recently used, never the current one", () => {
    const sets = new TlbSets();
    const first = sets.current;
    fill(first, 5, 0);
    for (let p = 1; p < TLB_SETS; p++) sets.select(p);
    expect(sets.all().length).toBe(TLB_SETS);
    sets.select(0); // PCID 0 is used again: PCID 1 is now the oldest
    expect(sets.current).toBe(first);
    expect(first.tagR[5]).toBe(5);
    const recycled = sets.find(1)!;
    sets.select(99);
    expect(sets.current).toBe(recycled);
    expect(sets.find(1)).toBeUndefined();
    expect(sets.find(0)).toBe(first);
    expect(Number.isNaN(recycled.tagR[0]!)).toBe(true);
  });

  it("clearNonGlobal keeps global entries only; clear drops everything", () => {
    const t = new TlbSet();
    const g = fill(t, 7, TLB_GLOBAL);
    const n = fill(t, 8, 0);
    t.clearNonGlobal();
    expect(t.tagR[g]).toBe(7);
    expect(Number.isNaN(t.tagR[n]!)).toBe(true);
    t.clear();
    expect(Number.isNaN(t.tagR[g]!)).toBe(true);
    expect(t.anyGlobal).toBe(false);
  });

  it("dropPage: every 4-KByte piece of a large page goes, other pages stay; globals as asked", () => {
    const t = new TlbSet();
    const flags2m = tlbEntryFlags(false, 0x20_0000);
    const inside = [512, 513, 1023].map((v) => fill(t, v, flags2m));
    const outside = fill(t, 1024 + 3, flags2m);
    const global = fill(t, 100, TLB_GLOBAL);
    t.dropPage(600, false, false);
    for (const idx of inside) expect(Number.isNaN(t.tagR[idx]!)).toBe(true);
    expect(t.tagR[outside]).toBe(1027);
    t.dropPage(100, false, false);
    expect(t.tagR[global]).toBe(100); // globals kept unless asked
    t.dropPage(100, true, true);
    expect(Number.isNaN(t.tagR[global]!)).toBe(true);
  });

  it("INVLPG reaches the global entries of other PCIDs, not their non-global ones", () => {
    const sets = new TlbSets();
    const a = sets.current;
    const ga = fill(a, 40, TLB_GLOBAL);
    const na = fill(a, 41, 0);
    sets.select(2);
    sets.invlpg(41);
    expect(a.tagR[na]).toBe(41);
    sets.invlpg(40);
    expect(Number.isNaN(a.tagR[ga]!)).toBe(true);
  });

  it("entry flags encode the page size of 4K, 2M, 4M and 1G pages", () => {
    expect(tlbEntryFlags(false, 4096)).toBe(0);
    expect(tlbEntryFlags(true, 4096)).toBe(TLB_GLOBAL);
    expect(tlbEntryFlags(false, 0x20_0000) >>> 1).toBe(9);
    expect(tlbEntryFlags(false, 0x40_0000) >>> 1).toBe(10);
    expect(tlbEntryFlags(true, 0x4000_0000)).toBe(TLB_GLOBAL | (18 << 1));
  });
});
