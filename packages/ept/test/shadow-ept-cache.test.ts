import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  EptAccess,
  EptBuilder,
  InveptType,
  ShadowEptCache,
  ShadowResult,
  WalkResult,
} from "../src/index.js";
import { nestedSetup, RWX } from "./nested-setup.js";

function setup(maxContexts = 4) {
  const s = nestedSetup();
  const tracked = new Set<number>();
  const cache = new ShadowEptCache({
    pool: s.pool,
    ept01: s.ept01Walker,
    maxContexts,
    onTrackPage: (p) => tracked.add(p),
    onUntrackPage: (p) => tracked.delete(p),
  });
  // A second EPT12 of L1, sharing nothing with the first but its memory.
  const other = new EptBuilder(s.l1Memory, new BumpAllocator(s.l1Memory, 0x30_0000, 0x40_0000));
  s.ept12.map(0x1000, 0x10_1000, 4096, RWX);
  other.map(0x1000, 0x10_2000, 4096, RWX);
  return { ...s, cache, other, tracked, out: new WalkResult() };
}

describe("shadow EPT cache (one EPT02 per EPTP12)", () => {
  it("selects one EPT02 per EPTP and refuses invalid EPTPs", () => {
    const s = setup();
    const a = s.cache.select(s.ept12.eptp());
    const b = s.cache.select(s.other.eptp());
    expect(a).not.toBeNull();
    expect(b).not.toBe(a);
    expect(s.cache.select(s.ept12.eptp())).toBe(a);
    expect(s.cache.select(s.ept12.root + 1)).toBeNull();
    expect(s.cache.fill(s.ept12.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out)).toBe(
      ShadowResult.Ok,
    );
    expect(s.cache.fill(s.other.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out)).toBe(
      ShadowResult.Ok,
    );
    expect(s.cache.stats().leaves).toBe(2);
  });

  it("INVEPT single-context drops only the matching EPT02; global drops all", () => {
    const s = setup();
    s.cache.fill(s.ept12.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out);
    s.cache.fill(s.other.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out);
    expect(s.cache.invept(InveptType.SingleContext, s.other.eptp())).toBe(1);
    expect(s.cache.stats().leaves).toBe(1);
    expect(s.cache.select(s.ept12.eptp())!.stats().leaves).toBe(1);
    s.cache.fill(s.other.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out);
    expect(s.cache.invept(InveptType.Global)).toBe(2);
    expect(s.cache.stats().leaves).toBe(0);
    expect(s.tracked.size).toBe(0);
  });

  it("keeps tracking shared: a page stays tracked while any EPT02 depends on it", () => {
    const s = setup();
    s.cache.fill(s.ept12.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out);
    s.cache.fill(s.other.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out);
    const pte = s.ept12.entryAddress(0x1000, 1);
    expect(s.cache.isTracked(pte)).toBe(true);
    expect(s.tracked.size).toBe(8);
    expect(s.cache.notifyL1Write(pte, 8)).toBe(1);
    expect(s.cache.isTracked(pte)).toBe(false);
    expect(s.cache.isTracked(s.other.entryAddress(0x1000, 1))).toBe(true);
  });

  it("destroys the least recently used context beyond the limit and returns its pages", () => {
    const s = setup(1);
    const before = s.pool.used; // the setup's own ShadowEpt holds its root
    s.cache.fill(s.ept12.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out);
    expect(s.pool.used).toBe(before + 4);
    s.cache.fill(s.other.eptp(), s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, s.out);
    expect(s.cache.size).toBe(1);
    expect(s.pool.used).toBe(before + 4);
    expect(s.tracked.size).toBe(4);
  });
});
