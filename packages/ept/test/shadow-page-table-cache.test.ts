import { createRamSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  HostPagePool,
  PagingMode,
  ShadowPageTableCache,
  ShadowResult,
  WalkResult,
} from "../src/index.js";

const MiB = 0x10_0000;

/** A guest with two processes whose page tables share the PDPT of the kernel half. */
function setup(maxContexts = 4) {
  const { space, ram } = createRamSpace(16 * MiB);
  const alloc = new BumpAllocator(space, 4 * MiB, 8 * MiB);
  const a = new GuestPageTableBuilder(space, PagingMode.Level4, alloc);
  const b = new GuestPageTableBuilder(space, PagingMode.Level4, alloc);
  a.map(0x40_0000, 0x1000, 4096); // process A's user page
  b.map(0x40_0000, 0x2000, 4096); // process B's user page
  a.map(-(2 ** 31), 0x3000, 4096, { user: false }); // the kernel, mapped in A...
  // ... and shared with B: B's PML4 entry for the kernel half points at A's PDPT.
  const kernelPml4e = a.entryAddress(-(2 ** 31), 4);
  space.write64(
    b.entryAddress(-(2 ** 31), 4),
    space.read32(kernelPml4e, 0),
    space.read32(kernelPml4e + 4, 0),
    0,
  );
  const tracked = new Set<number>();
  const cache = new ShadowPageTableCache({
    pool: new HostPagePool(ram, 0, 12 * MiB, 1024),
    physical: null,
    maxContexts,
    onTrackPage: (p) => tracked.add(p),
    onUntrackPage: (p) => tracked.delete(p),
  });
  const guest = new GuestPagingWalker();
  return { space, a, b, cache, guest, tracked, out: new WalkResult() };
}

describe("shadow page tables per address space", () => {
  it("keeps each process's shadow across CR3 switches", () => {
    const s = setup();
    s.guest.cr3 = s.a.root;
    const shA = s.cache.select(s.guest);
    expect(shA.translate(s.space, s.space, 0x40_0010, GuestAccess.User, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.address).toBe(0x1010);
    s.guest.cr3 = s.b.root;
    const shB = s.cache.select(s.guest);
    expect(shB).not.toBe(shA);
    expect(shB.translate(s.space, s.space, 0x40_0010, GuestAccess.User, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.address).toBe(0x2010);
    s.guest.cr3 = s.a.root;
    expect(s.cache.select(s.guest)).toBe(shA);
    const fills = s.cache.stats().fills;
    expect(shA.translate(s.space, s.space, 0x40_0010, GuestAccess.User, s.out)).toBe(ShadowResult.Ok);
    expect(s.cache.stats().fills).toBe(fills); // no #PF: the shadow was still there
  });

  it("a write to a shared guest table drops the leaves of every address space using it", () => {
    const s = setup();
    for (const root of [s.a.root, s.b.root]) {
      s.guest.cr3 = root;
      expect(s.cache.select(s.guest).translate(s.space, s.space, -(2 ** 31), 0, s.out)).toBe(ShadowResult.Ok);
    }
    expect(s.cache.stats().leaves).toBe(2);
    const kernelPte = s.a.entryAddress(-(2 ** 31), 1);
    expect(s.cache.isTracked(kernelPte)).toBe(true);
    expect(s.cache.notifyGuestWrite(kernelPte, 8)).toBe(2);
    expect(s.cache.stats().leaves).toBe(0);
    expect(s.tracked.size).toBe(0);
  });

  it("destroys the least recently used shadow beyond the limit", () => {
    const s = setup(1);
    s.guest.cr3 = s.a.root;
    s.cache.select(s.guest).translate(s.space, s.space, 0x40_0000, GuestAccess.User, s.out);
    s.guest.cr3 = s.b.root;
    s.cache.select(s.guest).translate(s.space, s.space, 0x40_0000, GuestAccess.User, s.out);
    expect(s.cache.size).toBe(1);
    expect(s.cache.stats().tablePages).toBe(4);
    expect(s.cache.isTracked(s.a.entryAddress(0x40_0000, 1))).toBe(false);
    expect(s.cache.isTracked(s.b.entryAddress(0x40_0000, 1))).toBe(true);
  });

  it("INVLPG and reset reach every address space", () => {
    const s = setup();
    for (const root of [s.a.root, s.b.root]) {
      s.guest.cr3 = root;
      s.cache.select(s.guest).translate(s.space, s.space, 0x40_0000, GuestAccess.User, s.out);
    }
    expect(s.cache.invlpg(0x40_0000)).toBe(2);
    s.cache.select(s.guest).translate(s.space, s.space, 0x40_0000, GuestAccess.User, s.out);
    s.cache.reset();
    expect(s.cache.stats().leaves).toBe(0);
  });
});
