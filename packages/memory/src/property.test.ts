import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AccessKind } from "./access.js";
import { createRamSpace, PhysicalAddressSpace } from "./physical-address-space.js";
import { Ram } from "./ram.js";

const SIZE = 0x2000;
const { space } = createRamSpace(SIZE);
const out = new Uint32Array(2);

describe("properties of RAM", () => {
  it("a write then a read returns the value, for every size and alignment inside RAM", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4, 8),
        fc.nat(SIZE - 8),
        fc.nat(0xffff_ffff),
        fc.nat(0xffff_ffff),
        (size, addr, lo, hi) => {
          const W = AccessKind.Write;
          const R = AccessKind.Read;
          if (size === 1) {
            space.write8(addr, lo, W);
            expect(space.read8(addr, R)).toBe(lo & 0xff);
          } else if (size === 2) {
            space.write16(addr, lo, W);
            expect(space.read16(addr, R)).toBe(lo & 0xffff);
          } else if (size === 4) {
            space.write32(addr, lo, W);
            expect(space.read32(addr, R)).toBe(lo);
          } else {
            space.write64(addr, lo, hi, W);
            space.read64(addr, R, out, 0);
            expect([out[0], out[1]]).toEqual([lo, hi]);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("scalar accesses agree with byte-range accesses (little-endian)", () => {
    fc.assert(
      fc.property(fc.nat(SIZE - 8), fc.uint8Array({ minLength: 8, maxLength: 8 }), (addr, bytes) => {
        space.writeBytes(addr, bytes, AccessKind.Write);
        const dv = new DataView(bytes.buffer);
        expect(space.read16(addr, AccessKind.Read)).toBe(dv.getUint16(0, true));
        expect(space.read32(addr, AccessKind.Read)).toBe(dv.getUint32(0, true));
        space.read64(addr, AccessKind.Read, out, 0);
        expect([out[0], out[1]]).toEqual([dv.getUint32(0, true), dv.getUint32(4, true)]);
        const back = new Uint8Array(8);
        space.readBytes(addr, back, AccessKind.Read);
        expect(back).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("a split map (two RAM regions side by side) behaves exactly like one region", () => {
    const one = createRamSpace(64).space;
    const split = new PhysicalAddressSpace();
    split.mapRam(0, new Ram(32));
    split.mapRam(32, new Ram(32));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 2, 4, 8), fc.nat(56), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff))),
        (ops) => {
          for (const [size, addr, lo, hi] of ops) {
            for (const s of [one, split]) {
              if (size === 8) s.write64(addr, lo, hi, AccessKind.Write);
              else if (size === 4) s.write32(addr, lo, AccessKind.Write);
              else if (size === 2) s.write16(addr, lo, AccessKind.Write);
              else s.write8(addr, lo, AccessKind.Write);
            }
          }
          const a = new Uint8Array(64);
          const b = new Uint8Array(64);
          one.readBytes(0, a, AccessKind.Read);
          split.readBytes(0, b, AccessKind.Read);
          expect(b).toEqual(a);
          for (let addr = 0; addr <= 60; addr++) {
            expect(split.read32(addr, AccessKind.Read)).toBe(one.read32(addr, AccessKind.Read));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
