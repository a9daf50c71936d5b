import { AccessKind } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { buildElf } from "../../test/elf-builder.js";
import { loadElfKernel, parseElf } from "./elf.js";
import { BootMode } from "./entry.js";
import { PcMemoryLayout } from "./layout.js";

const MiB = 0x10_0000;

describe("ELF loader", () => {
  it("loads ELF32 segments at p_paddr and zeroes the bss", () => {
    const layout = new PcMemoryLayout({ ramSize: 16 * MiB });
    const { space } = layout.createSpace();
    space.writeBytes(0x200000, new Uint8Array(64).fill(0xaa), AccessKind.Write);
    const image = buildElf(32, 3, 0x100010, [
      { paddr: 0x100000, data: new Uint8Array([1, 2, 3, 4]) },
      { paddr: 0x200000, data: new Uint8Array([9]), memSize: 32 },
    ]);
    const entry = loadElfKernel(space, layout, image);
    expect(entry.mode).toBe(BootMode.Protected32);
    expect(entry.rip).toBe(0x100010);
    expect(space.read32(0x100000, AccessKind.Read)).toBe(0x04030201);
    expect(space.read8(0x200000, AccessKind.Read)).toBe(9);
    expect(space.read8(0x200001, AccessKind.Read)).toBe(0);
    expect(space.read8(0x20001f, AccessKind.Read)).toBe(0);
    expect(space.read8(0x200020, AccessKind.Read)).toBe(0xaa);
    // The flat GDT: code 0x10 and data 0x18.
    expect(entry.gdt).toEqual({ base: 0x500, limit: 0x1f });
    expect(space.read32(0x514, AccessKind.Read)).toBe(0x00cf9b00);
    expect(space.read32(0x51c, AccessKind.Read)).toBe(0x00cf9300);
    expect(entry.cs).toEqual({ selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc09b });
    expect(entry.ss.selector).toBe(0x18);
    expect(entry.cr0 & 0x80000001).toBe(1);
  });

  it("enters an ELF64 in long mode with an identity map", () => {
    const layout = new PcMemoryLayout({ ramSize: 16 * MiB });
    const { space } = layout.createSpace();
    const entry = loadElfKernel(
      space,
      layout,
      buildElf(64, 62, 0x100000, [{ paddr: 0x100000, data: new Uint8Array([0x90]) }]),
    );
    expect(entry.mode).toBe(BootMode.Long64);
    expect(entry.cs.access & 0x2000).toBe(0x2000); // L
    expect(entry.efer).toBe(0x500);
    expect(entry.cr4 & 0x20).toBe(0x20);
    // Walk the identity map for 0xC0201000 by hand: PML4[0] -> PDPT[3] -> PD[1] (2 MiB page).
    const pml4e = space.read32(entry.cr3, AccessKind.Read);
    const pdpte = space.read32((pml4e & ~0xfff) + 3 * 8, AccessKind.Read);
    const pde = space.read32((pdpte & ~0xfff) + 1 * 8, AccessKind.Read);
    expect(pde & 0x81).toBe(0x81);
    expect((pde & ~0x1fffff) >>> 0).toBe(0xc0200000);
  });

  it("throws one-line errors for bad images", () => {
    const layout = new PcMemoryLayout({ ramSize: 16 * MiB });
    const { space } = layout.createSpace();
    const good = buildElf(32, 3, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(64) }]);
    expect(() => loadElfKernel(space, layout, good.subarray(0, 40))).toThrow(/^elf: image is truncated/);
    expect(() => loadElfKernel(space, layout, good.subarray(0, good.byteLength - 8))).toThrow(
      /truncated: segment 0/,
    );
    expect(() =>
      loadElfKernel(space, layout, buildElf(32, 40, 0, [{ paddr: 0x100000, data: new Uint8Array(4) }])),
    ).toThrow(/machine 40, not 3/);
    expect(() =>
      loadElfKernel(
        space,
        layout,
        buildElf(32, 3, 0, [{ paddr: 0xf00000, data: new Uint8Array(4), memSize: 2 * MiB }]),
      ),
    ).toThrow(/does not fit in RAM \(16 MiB\)/);
    expect(() => parseElf(new Uint8Array(64))).toThrow(/not an ELF image/);
    expect(() =>
      loadElfKernel(space, layout, buildElf(32, 3, 0, [{ paddr: 0x400, data: new Uint8Array(0x200) }])),
    ).toThrow(/^elf: segment 0 at 0x400-0x600 overlaps the boot GDT at 0x500-0x520$/);
    expect(() =>
      loadElfKernel(space, layout, buildElf(64, 62, 0, [{ paddr: 0xa000, data: new Uint8Array(16) }])),
    ).toThrow(/overlaps the identity-map page tables/);
    expect(() =>
      loadElfKernel(space, layout, buildElf(32, 3, 0, [{ paddr: 0xa000, data: new Uint8Array(16) }])),
    ).not.toThrow();
    for (const bad of [good.subarray(0, 40), new Uint8Array(64)]) {
      try {
        loadElfKernel(space, layout, bad);
      } catch (e) {
        expect((e as Error).message).not.toContain("\n");
      }
    }
  });
});
