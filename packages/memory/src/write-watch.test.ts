import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AccessKind } from "./access.js";
import { IdentityDma } from "./dma.js";
import { createRamSpace, PhysicalAddressSpace } from "./physical-address-space.js";
import type { WriteListener } from "./physical-memory.js";
import { Ram } from "./ram.js";

const W = AccessKind.Write;

function recorder(): { listener: WriteListener; seen: string[] } {
  const seen: string[] = [];
  return { seen, listener: (addr, size, kind) => seen.push(`${addr.toString(16)}/${size}/${kind}`) };
}

describe("write watching", () => {
  it("reports writes of every size to the watched page only, after the bytes changed", () => {
    const { space, ram } = createRamSpace(0x4000);
    const valuesSeen: number[] = [];
    const { listener, seen } = recorder();
    space.watchPage(0x1234, listener);
    space.watchPage(0x1000, (addr) => {
      valuesSeen.push(ram.bytes[addr]!);
    });
    space.write8(0x1000, 0x5a, W);
    space.write16(0x1ffe, 1, W);
    space.write32(0x1800, 1, AccessKind.PageWalk);
    space.write64(0x1008, 1, 2, W);
    space.write32(0x2000, 1, W); // next page: not watched
    space.write32(0x0ffc, 1, W); // previous page: not watched
    expect(seen).toEqual(["1000/1/1", "1ffe/2/1", "1800/4/3", "1008/8/1"]);
    expect(valuesSeen[0]).toBe(0x5a);
    expect(space.watchedPageCount).toBe(1);
  });

  it("reports a write that straddles into a watched page", () => {
    const { space } = createRamSpace(0x4000);
    const { listener, seen } = recorder();
    space.watchPage(0x2000, listener);
    space.write32(0x1ffe, 0xffffffff, W);
    space.write64(0x1ffc, 0, 0, W);
    expect(seen).toEqual(["1ffe/4/1", "1ffc/8/1"]);
  });

  it("reports byte-range and DMA writes, once per watched page they touch", () => {
    const { space } = createRamSpace(0x4000);
    const { listener, seen } = recorder();
    space.watchPage(0x1000, listener);
    space.watchPage(0x2000, listener);
    space.writeBytes(0x0ff0, new Uint8Array(0x1020), W);
    new IdentityDma(space).write(0x1100, new Uint8Array(4));
    expect(seen).toEqual(["ff0/4128/1", "ff0/4128/1", "1100/4/4"]);
  });

  it("does not report reads, ROM writes, or writes after unwatching", () => {
    const space = new PhysicalAddressSpace();
    space.mapRam(0, new Ram(0x2000));
    space.mapRom(0x2000, new Uint8Array(0x1000));
    const { listener, seen } = recorder();
    space.watchPage(0x0000, listener);
    space.watchPage(0x2000, listener);
    space.read32(0x10, AccessKind.Read);
    space.write32(0x2000, 1, W);
    space.unwatchPage(0x0fff, listener);
    space.write32(0x10, 1, W);
    expect(seen).toEqual([]);
    expect(() => space.unwatchPage(0x0, listener)).toThrow(/does not watch/);
    expect(space.watchedPageCount).toBe(1);
  });

  it("keeps watches across unmap and map of RAM at the page", () => {
    const space = new PhysicalAddressSpace();
    const { listener, seen } = recorder();
    space.watchPage(0x5000, listener);
    space.mapRam(0x4000, new Ram(0x4000));
    space.write8(0x5001, 1, W);
    space.unmap(0x4000);
    space.write8(0x5001, 1, W); // unmapped: nothing changed
    space.mapRam(0x5000, new Ram(0x1000));
    space.write8(0x5002, 1, W);
    expect(seen).toEqual(["5001/1/1", "5002/1/1"]);
  });

  it("lets a listener unwatch itself while being notified, and counts registrations", () => {
    const { space } = createRamSpace(0x2000);
    let calls = 0;
    const once: WriteListener = (addr) => {
      calls++;
      space.unwatchPage(addr, once);
    };
    space.watchPage(0x100, once);
    space.watchPage(0x100, once);
    space.write8(0x100, 1, W);
    space.write8(0x100, 1, W);
    space.write8(0x100, 1, W);
    // Both registrations were present when the first write happened: both are called, each
    // removes one, and later writes are not reported.
    expect(calls).toBe(2);
    expect(space.watchedPageCount).toBe(0);
  });

  it("reports exactly the writes that touch watched pages (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(7), { maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(8 * 4096 - 8), fc.constantFrom(1, 2, 4, 8)), { maxLength: 40 }),
        (pages, writes) => {
          const { space } = createRamSpace(8 * 4096);
          let reported = 0;
          for (const p of pages) space.watchPage(p * 4096, () => reported++);
          let expected = 0;
          for (const [addr, size] of writes) {
            if (size === 8) space.write64(addr, 1, 2, W);
            else if (size === 4) space.write32(addr, 1, W);
            else if (size === 2) space.write16(addr, 1, W);
            else space.write8(addr, 1, W);
            const first = Math.floor(addr / 4096);
            const last = Math.floor((addr + size - 1) / 4096);
            for (let p = first; p <= last; p++) if (pages.includes(p)) expected++;
          }
          expect(reported).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
