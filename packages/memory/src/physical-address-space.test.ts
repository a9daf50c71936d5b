import { describe, expect, it } from "vitest";
import { AccessKind } from "./access.js";
import { createRamSpace, PhysicalAddressSpace } from "./physical-address-space.js";
import type { MmioHandler } from "./physical-memory.js";
import { Ram } from "./ram.js";

/** An MMIO device that records every access and reads back `0xA0 + offset` (per byte lane). */
class RecordingDevice implements MmioHandler {
  readonly log: string[] = [];
  read(offset: number, size: 1 | 2 | 4): number {
    this.log.push(`r${size}@${offset}`);
    let v = 0;
    for (let k = 0; k < size; k++) v |= ((0xa0 + offset + k) & 0xff) << (8 * k);
    return v >>> 0;
  }
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    this.log.push(`w${size}@${offset}=${value.toString(16)}`);
  }
}

const R = AccessKind.Read;
const W = AccessKind.Write;

describe("PhysicalAddressSpace: RAM", () => {
  it("reads back what was written, little-endian, at every size", () => {
    const { space, ram } = createRamSpace(0x1000);
    space.write32(0x10, 0x11223344, W);
    expect(Array.from(ram.bytes.subarray(0x10, 0x14))).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(space.read8(0x10, R)).toBe(0x44);
    expect(space.read16(0x11, R)).toBe(0x2233);
    expect(space.read32(0x10, R)).toBe(0x11223344);
    space.write64(0x20, 0x89abcdef, 0x01234567, W);
    const out = new Uint32Array(2);
    space.read64(0x20, R, out, 0);
    expect([out[0], out[1]]).toEqual([0x89abcdef, 0x01234567]);
    expect(space.read32(0x24, R)).toBe(0x01234567);
  });

  it("returns unsigned 32-bit values and truncates written values to the access size", () => {
    const { space } = createRamSpace(0x100);
    space.write32(0, -1, W);
    expect(space.read32(0, R)).toBe(0xffffffff);
    space.write8(8, 0x1ff, W);
    space.write16(10, 0x12345, W);
    expect(space.read8(8, R)).toBe(0xff);
    expect(space.read8(9, R)).toBe(0);
    expect(space.read16(10, R)).toBe(0x2345);
  });

  it("handles unaligned accesses inside RAM as ordinary little-endian accesses", () => {
    const { space } = createRamSpace(0x2000);
    space.write32(0xffe, 0xa1b2c3d4, W); // straddles a 4 KiB boundary: physical memory has no pages
    expect(space.read32(0xffe, R)).toBe(0xa1b2c3d4);
    expect(space.read16(0x1000, R)).toBe(0xa1b2);
    space.write64(0x1ffb - 4, 0x01020304, 0x05060708, W);
    const out = new Uint32Array(3);
    space.read64(0x1ffb - 4, R, out, 1);
    expect([out[1], out[2]]).toEqual([0x01020304, 0x05060708]);
  });

  it("maps a slice of a Ram block, and aliases of one block share their bytes", () => {
    const space = new PhysicalAddressSpace();
    const ram = new Ram(0x3000);
    space.mapRam(0x10000, ram, { offset: 0x1000, size: 0x1000, name: "low" });
    space.mapRam(0x20000, ram, { offset: 0x1000, size: 0x1000, name: "alias" });
    space.write32(0x10004, 0xcafef00d, W);
    expect(space.read32(0x20004, R)).toBe(0xcafef00d);
    expect(ram.view.getUint32(0x1004, true)).toBe(0xcafef00d);
    expect(space.read8(0x11000, R)).toBe(0xff); // past the slice: unmapped
  });

  it("switches between RAM regions correctly behind the one-entry caches", () => {
    const space = new PhysicalAddressSpace();
    const a = new Ram(0x1000);
    const b = new Ram(0x1000);
    space.mapRam(0, a);
    space.mapRam(0x100000, b);
    for (let i = 0; i < 4; i++) {
      space.write32(0x10, 0xaaaa0000 + i, W);
      space.write32(0x100010, 0xbbbb0000 + i, W);
      expect(space.read32(0x10, R)).toBe(0xaaaa0000 + i);
      expect(space.read32(0x100010, R)).toBe(0xbbbb0000 + i);
    }
    expect(a.view.getUint32(0x10, true)).toBe(0xaaaa0003);
    expect(b.view.getUint32(0x10, true)).toBe(0xbbbb0003);
  });
});

describe("PhysicalAddressSpace: the map", () => {
  it("rejects overlapping regions with a message naming both", () => {
    const space = new PhysicalAddressSpace();
    space.mapRam(0x1000, new Ram(0x1000), { name: "first" });
    expect(() => space.mapMmio(0x1fff, 2, new RecordingDevice(), "dev")).toThrow(/dev.*overlaps first/);
    expect(() => space.mapMmio(0x0800, 0x1000, new RecordingDevice(), "dev")).toThrow(/overlaps first/);
    expect(() => space.mapRom(0x1800, new Uint8Array(16))).toThrow(RangeError);
    space.mapMmio(0x2000, 0x10, new RecordingDevice()); // adjacent is fine
    space.mapMmio(0x0ff0, 0x10, new RecordingDevice());
    expect(space.regions().map((r) => r.base)).toEqual([0x0ff0, 0x1000, 0x2000]);
  });

  it("rejects empty, negative, fractional and out-of-range regions", () => {
    const space = new PhysicalAddressSpace();
    expect(() => space.mapMmio(0, 0, new RecordingDevice())).toThrow(RangeError);
    expect(() => space.mapMmio(-4096, 16, new RecordingDevice())).toThrow(RangeError);
    expect(() => space.mapMmio(1.5, 16, new RecordingDevice())).toThrow(RangeError);
    expect(() => space.mapMmio(2 ** 52 - 8, 16, new RecordingDevice())).toThrow(/2\^52/);
    expect(() => space.mapRam(0, new Ram(16), { offset: 8, size: 16 })).toThrow(/exceeds/);
  });

  it("finds the region of an address among many (binary search)", () => {
    const space = new PhysicalAddressSpace();
    for (let i = 99; i >= 0; i--) space.mapRom(i * 0x10000, new Uint8Array(0x100).fill(i), `rom${i}`);
    for (let i = 0; i < 100; i++) {
      expect(space.regionAt(i * 0x10000 + 0x80)?.name).toBe(`rom${i}`);
      expect(space.read8(i * 0x10000 + 0xff, R)).toBe(i);
      expect(space.regionAt(i * 0x10000 + 0x100)).toBeUndefined();
    }
  });

  it("unmaps a region, bumps mapVersion, and drops cached views", () => {
    const space = new PhysicalAddressSpace();
    space.mapRam(0, new Ram(0x1000));
    const before = space.mapVersion;
    space.write32(0, 0x12345678, W);
    expect(space.read32(0, R)).toBe(0x12345678);
    space.unmap(0);
    expect(space.mapVersion).toBe(before + 1);
    expect(space.read32(0, R)).toBe(0xffffffff);
    space.write32(0, 1, W); // must not reach the old RAM through a stale cache
    expect(space.unresolved.unmappedWrites).toBe(1);
    expect(() => space.unmap(0)).toThrow(/no region/);
  });

  it("gives direct views of RAM only where one region holds the whole range", () => {
    const space = new PhysicalAddressSpace();
    const ram = new Ram(0x1000);
    space.mapRam(0x1000, ram);
    space.mapRom(0x2000, new Uint8Array([1, 2, 3, 4]));
    const view = space.ramView(0x1010, 4)!;
    view[0] = 0x5a;
    expect(ram.bytes[0x10]).toBe(0x5a);
    expect(space.ramView(0x1ffe, 4)).toBeUndefined(); // crosses into ROM
    expect(space.ramView(0x2000, 4)).toBeUndefined();
    expect(Array.from(space.ramView(0x2000, 4, true)!)).toEqual([1, 2, 3, 4]);
    expect(space.isMapped(0x1000, 0x1004)).toBe(true);
    expect(space.isMapped(0x1000, 0x1005)).toBe(false);
  });
});

describe("PhysicalAddressSpace: ROM", () => {
  it("reads like RAM and drops writes, reporting them", () => {
    const space = new PhysicalAddressSpace();
    const rom = new Uint8Array([0xea, 0x5b, 0xe0, 0x00, 0xf0, 0x00, 0x00, 0x00]);
    const seen: string[] = [];
    space.observer = { romWrite: (addr, size) => seen.push(`${addr.toString(16)}/${size}`) };
    space.mapRom(0xffff0, rom, "bios");
    expect(space.read32(0xffff0, R)).toBe(0x00e05bea);
    space.write32(0xffff0, 0, W);
    space.write64(0xffff0, 0, 0, W);
    space.writeBytes(0xffff4, new Uint8Array(2), W);
    expect(space.read32(0xffff0, R)).toBe(0x00e05bea);
    expect(seen).toEqual(["ffff0/4", "ffff0/8", "ffff4/2"]);
    expect(space.unresolved.romWrites).toBe(3);
  });
});

describe("PhysicalAddressSpace: MMIO", () => {
  it("delivers offset, size and value to the device window", () => {
    const space = new PhysicalAddressSpace();
    const dev = new RecordingDevice();
    space.mapMmio(0xfee00000, 0x1000, dev);
    expect(space.read32(0xfee00020, R)).toBe(0xc3c2c1c0);
    space.write16(0xfee000b0, 0x1234, W);
    space.write8(0xfee000b2, 0x1ff, W);
    expect(dev.log).toEqual(["r4@32", "w2@176=1234", "w1@178=ff"]);
  });

  it("splits 64-bit accesses into two 32-bit accesses, low address first", () => {
    const space = new PhysicalAddressSpace();
    const dev = new RecordingDevice();
    space.mapMmio(0x1000, 0x100, dev);
    const out = new Uint32Array(2);
    space.read64(0x1008, R, out, 0);
    space.write64(0x1010, 0x11111111, 0x22222222, W);
    expect(dev.log).toEqual(["r4@8", "r4@12", "w4@16=11111111", "w4@20=22222222"]);
    expect(out[0]).toBe(((0xab << 24) | (0xaa << 16) | (0xa9 << 8) | 0xa8) >>> 0);
    expect(out[1]).toBe(((0xaf << 24) | (0xae << 16) | (0xad << 8) | 0xac) >>> 0);
  });

  it("splits byte ranges into single-byte device accesses", () => {
    const space = new PhysicalAddressSpace();
    const dev = new RecordingDevice();
    space.mapMmio(0x1000, 0x100, dev);
    const dest = new Uint8Array(3);
    space.readBytes(0x1004, dest, R);
    space.writeBytes(0x1000, new Uint8Array([7, 8]), W);
    expect(Array.from(dest)).toEqual([0xa4, 0xa5, 0xa6]);
    expect(dev.log).toEqual(["r1@4", "r1@5", "r1@6", "w1@0=7", "w1@1=8"]);
  });
});

describe("PhysicalAddressSpace: unmapped addresses", () => {
  it("read as all-ones, drop writes, and are counted and reported", () => {
    const space = new PhysicalAddressSpace();
    const events: string[] = [];
    space.observer = {
      unmapped: (addr, size, kind, isWrite) =>
        events.push(`${isWrite ? "w" : "r"}${size}@${addr.toString(16)}:${kind}`),
    };
    expect(space.read8(0x500, R)).toBe(0xff);
    expect(space.read16(0x500, R)).toBe(0xffff);
    expect(space.read32(0x500, AccessKind.Fetch)).toBe(0xffffffff);
    const out = new Uint32Array(2);
    space.read64(0x500, AccessKind.PageWalk, out, 0);
    expect([out[0], out[1]]).toEqual([0xffffffff, 0xffffffff]);
    space.write32(0x600, 5, W);
    space.write64(0x600, 5, 6, W);
    expect(events).toEqual(["r1@500:0", "r2@500:0", "r4@500:2", "r8@500:3", "w4@600:1", "w8@600:1"]);
    expect(space.unresolved).toEqual({ unmappedReads: 4, unmappedWrites: 2, romWrites: 0 });
  });

  it("treats addresses at or above 2^52 as unmapped", () => {
    const { space } = createRamSpace(0x1000);
    expect(space.read32(2 ** 52, R)).toBe(0xffffffff);
    expect(space.read32(2 ** 53 - 8, R)).toBe(0xffffffff);
  });

  it("throws on negative, fractional and non-numeric addresses (caller bugs)", () => {
    const { space } = createRamSpace(0x1000);
    expect(() => space.read32(-4, R)).toThrow(RangeError);
    expect(() => space.read8(Number.NaN, R)).toThrow(RangeError);
    expect(() => space.write16(-1, 0, W)).toThrow(RangeError);
    expect(() => space.readBytes(-1, new Uint8Array(1), R)).toThrow(RangeError);
    // Fractional addresses inside a cached RAM range are not checked on the fast path, but never
    // reach a cache miss silently:
    const fresh = new PhysicalAddressSpace();
    fresh.mapRam(0, new Ram(16));
    expect(() => fresh.read32(0.5, R)).toThrow(RangeError);
  });
});

describe("PhysicalAddressSpace: accesses that cross a region boundary", () => {
  it("go byte by byte, each byte to its own region or the unmapped default", () => {
    const space = new PhysicalAddressSpace();
    const ram = new Ram(0x1000);
    const dev = new RecordingDevice();
    space.mapRam(0, ram);
    space.mapMmio(0x1000, 0x100, dev);
    ram.bytes.set([0x11, 0x22], 0xffe);
    expect(space.read32(0xffe, R)).toBe(((0xa1 << 24) | (0xa0 << 16) | 0x2211) >>> 0);
    expect(dev.log).toEqual(["r1@0", "r1@1"]);
    space.write32(0xffe, 0x44332211, W);
    expect(Array.from(ram.bytes.subarray(0xffe))).toEqual([0x11, 0x22]);
    expect(dev.log.slice(2)).toEqual(["w1@0=33", "w1@1=44"]);
    // RAM then nothing: the mapped bytes are read, the rest read as 0xff.
    ram.bytes.set([0xaa, 0xbb], 0xffe);
    space.unmap(0x1000);
    expect(space.read32(0xffe, R)).toBe(0xffffbbaa);
    const out = new Uint32Array(2);
    space.read64(0xffc, R, out, 0);
    expect(out[1]).toBe(0xffffffff);
    space.write16(0xfff, 0x7777, W);
    expect(ram.bytes[0xfff]).toBe(0x77);
    expect(space.unresolved.unmappedWrites).toBe(1);
  });

  it("byte ranges fill unmapped gaps with 0xff and report each gap once", () => {
    const space = new PhysicalAddressSpace();
    space.mapRam(0x10, Ram.fromBytes(new Uint8Array([1, 2, 3, 4])));
    space.mapRam(0x18, Ram.fromBytes(new Uint8Array([5, 6])));
    const gaps: string[] = [];
    space.observer = { unmapped: (a, n) => gaps.push(`${a.toString(16)}+${n}`) };
    const dest = new Uint8Array(16);
    space.readBytes(0x0e, dest, R);
    expect(Array.from(dest)).toEqual([255, 255, 1, 2, 3, 4, 255, 255, 255, 255, 5, 6, 255, 255, 255, 255]);
    expect(gaps).toEqual(["e+2", "14+4", "1a+4"]);
    space.writeBytes(0x12, new Uint8Array([9, 9, 9, 9, 9, 9, 9]), W);
    expect(space.read32(0x10, R)).toBe(0x09090201);
    expect(space.read16(0x18, R)).toBe(0x0609); // 0x12..0x18 written: only 0x18 of the second block
  });
});

describe("PhysicalAddressSpace: zero-length accesses", () => {
  it("touch nothing and report nothing", () => {
    const space = new PhysicalAddressSpace();
    const dev = new RecordingDevice();
    space.mapMmio(0, 16, dev);
    let reports = 0;
    space.observer = { unmapped: () => reports++, romWrite: () => reports++ };
    space.readBytes(0, new Uint8Array(0), R);
    space.writeBytes(0, new Uint8Array(0), W);
    space.readBytes(0x1000, new Uint8Array(0), R);
    expect(dev.log).toEqual([]);
    expect(reports).toBe(0);
  });
});
