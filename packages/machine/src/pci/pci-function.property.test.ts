import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PciBar, type PciBarChange, PciFunction } from "./pci-function.js";

const handler = { read: () => 0, write: () => {} };

const barArb: fc.Arbitrary<PciBar> = fc.oneof(
  fc.integer({ min: 2, max: 8 }).map((k) => ({ kind: "io" as const, size: 2 ** k, handler })),
  fc
    .record({ k: fc.integer({ min: 4, max: 31 }), p: fc.boolean() })
    .map(({ k, p }) => ({ kind: "mem32" as const, size: 2 ** k, prefetchable: p, handler })),
  fc
    .record({ k: fc.integer({ min: 4, max: 40 }), p: fc.boolean() })
    .map(({ k, p }) => ({ kind: "mem64" as const, size: 2 ** k, prefetchable: p, handler })),
);

describe("PCI BARs (laws)", () => {
  it("a size probe reads back the size and type; an address reads back aligned; the listener sees exactly the decoded window", () => {
    fc.assert(
      fc.property(barArb, fc.nat(0xffff_ffff), fc.nat(0xffff_ffff), fc.boolean(), (bar, lo, hi, decode) => {
        const changes: PciBarChange[] = [];
        const fn = new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0 }, [bar]);
        fn.setBarListener((c) => changes.push(c));
        const typeBits = bar.kind === "io" ? 1 : (bar.kind === "mem64" ? 4 : 0) | (bar.prefetchable ? 8 : 0);
        fn.writeConfig(0x10, 4, 0xffff_ffff);
        if (bar.kind === "mem64") fn.writeConfig(0x14, 4, 0xffff_ffff);
        const probedLo = fn.readConfig(0x10, 4);
        const probedHi = bar.kind === "mem64" ? fn.readConfig(0x14, 4) : 0xffff_ffff;
        const lowMask = bar.kind === "io" ? 3 : 15;
        // Size = two's complement of the probed address bits (64-bit BARs across both dwords).
        const loBits = (probedLo & ~lowMask) >>> 0;
        const size = loBits !== 0 ? 2 ** 32 - loBits : (2 ** 32 - probedHi) * 2 ** 32;
        if (loBits !== 0) expect(probedHi).toBe(0xffff_ffff);
        expect(size).toBe(bar.size);
        expect(probedLo & lowMask).toBe(typeBits);
        fn.writeConfig(0x10, 4, lo);
        if (bar.kind === "mem64") fn.writeConfig(0x14, 4, hi);
        const readLo = fn.readConfig(0x10, 4);
        expect(readLo & lowMask).toBe(typeBits);
        const base =
          (bar.kind === "mem64" ? fn.readConfig(0x14, 4) * 2 ** 32 : 0) + ((readLo & ~lowMask) >>> 0);
        expect(base % bar.size).toBe(0);
        changes.length = 0;
        fn.writeConfig(4, 2, decode ? 3 : 0);
        const limit = bar.kind === "io" ? 0x1_0000 : bar.kind === "mem32" ? 2 ** 32 : 2 ** 52;
        const mapped = decode && base !== 0 && base + bar.size < limit;
        expect(fn.barAddress(0)).toBe(mapped ? base : undefined);
        expect(changes.map((c) => c.newBase)).toEqual(mapped ? [base] : []);
      }),
      { numRuns: 300 },
    );
  });
});
