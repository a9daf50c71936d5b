import { AccessKind } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { BootMode } from "./entry.js";
import { PcMemoryLayout } from "./layout.js";
import { loadRaw } from "./raw.js";

describe("raw images", () => {
  const layout = new PcMemoryLayout({ ramSize: 4 * 0x10_0000 });

  it("loads a boot sector entered in real mode at 0000:7C00", () => {
    const { space } = layout.createSpace();
    const sector = new Uint8Array(512);
    sector[0] = 0xf4;
    sector[510] = 0x55;
    sector[511] = 0xaa;
    const entry = loadRaw(space, layout, sector, {
      address: 0x7c00,
      entry: { mode: "real", cs: 0, ip: 0x7c00 },
    });
    expect(entry.mode).toBe(BootMode.Real);
    expect(entry.cs).toEqual({ selector: 0, base: 0, limit: 0xffff, access: 0x9b });
    expect(entry.rip).toBe(0x7c00);
    expect(entry.cr0 & 1).toBe(0);
    expect(space.read16(0x7dfe, AccessKind.Read)).toBe(0xaa55);
  });

  it("computes the CS base from the selector", () => {
    const { space } = layout.createSpace();
    const entry = loadRaw(space, layout, new Uint8Array([0xf4]), {
      address: 0x10000,
      entry: { mode: "real", cs: 0x1000, ip: 0 },
    });
    expect(entry.cs.base).toBe(0x10000);
    expect(entry.ds.selector).toBe(0x1000);
  });

  it("defaults to a protected-mode entry at the load address", () => {
    const { space } = layout.createSpace();
    const entry = loadRaw(space, layout, new Uint8Array([0xf4]), { address: 0x200000 });
    expect(entry.mode).toBe(BootMode.Protected32);
    expect(entry.rip).toBe(0x200000);
  });

  it("rejects images that do not fit and empty ones", () => {
    const { space } = layout.createSpace();
    expect(() => loadRaw(space, layout, new Uint8Array(16), { address: 0x3ffff8 })).toThrow(
      /^raw: image at 0x3ffff8-0x400008 does not fit in RAM/,
    );
    expect(() => loadRaw(space, layout, new Uint8Array(16), { address: 0xa0000 })).toThrow(/does not fit/);
    expect(() => loadRaw(space, layout, new Uint8Array(0), { address: 0 })).toThrow(/empty/);
  });
});
