import { AccessKind } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { MemoryType, PcMemoryLayout } from "./layout.js";

const MiB = 0x10_0000;

describe("PcMemoryLayout", () => {
  it("describes 64 MiB as low RAM, EBDA, BIOS area and extended RAM", () => {
    const layout = new PcMemoryLayout({ ramSize: 64 * MiB });
    expect(layout.e820()).toEqual([
      { base: 0, length: 0x9fc00, type: MemoryType.Ram },
      { base: 0x9fc00, length: 0x400, type: MemoryType.Reserved },
      { base: 0xe0000, length: 0x20000, type: MemoryType.Reserved },
      { base: MiB, length: 63 * MiB, type: MemoryType.Ram },
    ]);
    expect(layout.memLowerKiB).toBe(639);
    expect(layout.memUpperKiB).toBe(63 * 1024);
    expect(layout.above4g).toBe(0);
  });

  it("puts RAM beyond the PCI hole above 4 GiB", () => {
    const layout = new PcMemoryLayout({ ramSize: 48 * MiB, pciHoleStart: 32 * MiB });
    const map = layout.e820();
    expect(map.at(-1)).toEqual({ base: 2 ** 32, length: 16 * MiB, type: MemoryType.Ram });
    expect(map.at(-2)).toEqual({ base: MiB, length: 31 * MiB, type: MemoryType.Ram });
    expect(layout.memUpperKiB).toBe(31 * 1024);
    const { space, ram } = layout.createSpace();
    space.write32(2 ** 32 + 8, 0xdeadbeef, AccessKind.Write);
    expect(ram.view.getUint32(32 * MiB + 8, true)).toBe(0xdeadbeef);
    space.write32(0x1000, 0x1234, AccessKind.Write);
    expect(ram.view.getUint32(0x1000, true)).toBe(0x1234);
    // The VGA window and the PCI hole are not RAM.
    expect(space.read32(0xa0000, AccessKind.Read)).toBe(0xffffffff);
    expect(space.read32(32 * MiB, AccessKind.Read)).toBe(0xffffffff);
    expect(layout.isRam(0xb0000, 4)).toBe(false);
    expect(layout.isRam(0xe0000, 4)).toBe(true);
    expect(layout.isUsableRam(0xe0000, 4)).toBe(false);
    expect(layout.isRam(2 ** 32 + 16 * MiB - 4, 8)).toBe(false);
  });

  it("lists extra reserved ranges in order and rejects ones over RAM", () => {
    const ecam = { base: 0xe000_0000, length: 0x1000_0000, type: MemoryType.Reserved };
    const layout = new PcMemoryLayout({ ramSize: 16 * MiB, reserved: [ecam] });
    expect(layout.e820().at(-1)).toEqual(ecam);
    expect(
      () => new PcMemoryLayout({ ramSize: 16 * MiB, reserved: [{ base: 0x200000, length: 4096, type: 2 }] }),
    ).toThrow(/overlaps RAM/);
    const other = { base: 0xe800_0000, length: 4096, type: MemoryType.Reserved };
    expect(() => new PcMemoryLayout({ ramSize: 16 * MiB, reserved: [ecam, other] })).toThrow(/overlaps/);
    const bios = { base: 0xf8000, length: 4096, type: MemoryType.Reserved };
    expect(() => new PcMemoryLayout({ ramSize: 16 * MiB, reserved: [bios] })).toThrow(/overlaps/);
  });

  it("rejects sizes that are not whole MiB", () => {
    expect(() => new PcMemoryLayout({ ramSize: 3 * MiB + 1 })).toThrow(RangeError);
    expect(() => new PcMemoryLayout({ ramSize: 8 * MiB, pciHoleStart: 0xff00_0000 })).toThrow(RangeError);
  });

  it("e820 entries never overlap and are sorted (any RAM size and hole)", () => {
    for (const ramMiB of [2, 3, 100, 3072, 5000]) {
      for (const hole of [0xc000_0000, 0xe000_0000, 64 * MiB]) {
        const map = new PcMemoryLayout({ ramSize: ramMiB * MiB, pciHoleStart: hole }).e820();
        for (let i = 1; i < map.length; i++)
          expect(map[i]!.base).toBeGreaterThanOrEqual(map[i - 1]!.base + map[i - 1]!.length);
        const ram = map.filter((r) => r.type === MemoryType.Ram).reduce((n, r) => n + r.length, 0);
        expect(ram).toBe(ramMiB * MiB - 0x400 - 0x60000); // minus EBDA, VGA window and BIOS area
      }
    }
  });
});

import { utf8 } from "./image.js";

describe("utf8", () => {
  it("encodes like TextEncoder", () => {
    for (const s of ["", "abc", "é", "€uro", "😀 x"]) expect(utf8(s)).toEqual(new TextEncoder().encode(s));
  });
});
