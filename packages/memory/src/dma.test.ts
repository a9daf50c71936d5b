import { describe, expect, it } from "vitest";
import { AccessKind } from "./access.js";
import { DmaStatus, IdentityDma } from "./dma.js";
import { PhysicalAddressSpace } from "./physical-address-space.js";
import { Ram } from "./ram.js";

describe("IdentityDma", () => {
  it("reads and writes guest-physical memory with the DMA access kind", () => {
    const space = new PhysicalAddressSpace();
    const ram = new Ram(0x2000);
    space.mapRam(0, ram);
    const kinds: number[] = [];
    space.mapMmio(0x2000, 0x10, { read: () => 0, write: () => {} });
    space.observer = { unmapped: (_a, _n, kind) => kinds.push(kind) };
    const dma = new IdentityDma(space);
    expect(dma.write(0x100, new Uint8Array([1, 2, 3]))).toBe(DmaStatus.Ok);
    expect(Array.from(ram.bytes.subarray(0x100, 0x103))).toEqual([1, 2, 3]);
    const dest = new Uint8Array(3);
    expect(dma.read(0x100, dest)).toBe(DmaStatus.Ok);
    expect(Array.from(dest)).toEqual([1, 2, 3]);
    expect(dma.read(0x3000, dest)).toBe(DmaStatus.Unmapped);
    expect(kinds).toEqual([AccessKind.Dma]);
  });

  it("reports a transfer that runs off mapped memory as Unmapped, keeping the mapped part", () => {
    const space = new PhysicalAddressSpace();
    const ram = new Ram(0x1000);
    space.mapRam(0, ram);
    const dma = new IdentityDma(space);
    expect(dma.write(0xffe, new Uint8Array([7, 8, 9, 10]))).toBe(DmaStatus.Unmapped);
    expect(Array.from(ram.bytes.subarray(0xffe))).toEqual([7, 8]);
    const dest = new Uint8Array(4);
    expect(dma.read(0xffe, dest)).toBe(DmaStatus.Unmapped);
    expect(Array.from(dest)).toEqual([7, 8, 0xff, 0xff]);
    expect(dma.read(0x5000, new Uint8Array(0))).toBe(DmaStatus.Ok);
  });
});
