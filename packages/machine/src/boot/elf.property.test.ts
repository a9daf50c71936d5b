import { AccessKind } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildElf } from "../../test/elf-builder.js";
import { loadElfKernel } from "./elf.js";
import { PcMemoryLayout } from "./layout.js";

const MiB = 0x10_0000;

describe("ELF loading (law)", () => {
  it("memory holds each segment's file bytes, then zeros to p_memsz, and nothing else changes", () => {
    const segment = fc.record({
      slot: fc.integer({ min: 0, max: 7 }),
      offset: fc.integer({ min: 0, max: 0x8000 }),
      data: fc.uint8Array({ minLength: 0, maxLength: 300 }),
      bss: fc.integer({ min: 0, max: 0x3000 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(segment, { minLength: 1, maxLength: 4, selector: (s) => s.slot }),
        fc.constantFrom(32 as const, 64 as const),
        (segs, bits) => {
          const layout = new PcMemoryLayout({ ramSize: 4 * MiB });
          const { space, ram } = layout.createSpace();
          ram.bytes.fill(0xcc);
          // Slots 64 KiB apart from 1 MiB: segments never overlap.
          const placed = segs.map((s) => ({
            paddr: MiB + s.slot * 0x1_0000 + s.offset,
            data: s.data,
            memSize: s.data.byteLength + s.bss,
          }));
          const loadable = placed.filter((p) => p.memSize > 0);
          if (loadable.length === 0) return;
          const image = buildElf(bits, bits === 64 ? 62 : 3, loadable[0]!.paddr, loadable);
          loadElfKernel(space, layout, image);
          const expected = new Uint8Array(ram.size).fill(0xcc);
          for (const p of loadable) {
            expected.set(p.data, p.paddr);
            expected.fill(0, p.paddr + p.data.byteLength, p.paddr + p.memSize);
          }
          // Compare the kernel area (the GDT and page tables below 1 MiB belong to the entry state).
          const end = MiB + 9 * 0x1_0000;
          const got = new Uint8Array(end - MiB);
          space.readBytes(MiB, got, AccessKind.Read);
          expect(Buffer.compare(got, expected.subarray(MiB, end))).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
