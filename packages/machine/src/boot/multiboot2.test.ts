import { AccessKind, type PhysicalAddressSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { buildElf, concat, dwords } from "../../test/elf-builder.js";
import { PcMemoryLayout } from "./layout.js";
import { findMultiboot2Header, loadMultiboot2, MULTIBOOT2 } from "./multiboot2.js";

const MiB = 0x10_0000;

/** A Multiboot2 header with the given tags (each already padded to 8 bytes). */
function header(...tags: Uint8Array[]): Uint8Array {
  const end = dwords(0, 8);
  const len = 16 + tags.reduce((n, t) => n + t.byteLength, 0) + end.byteLength;
  return concat(dwords(MULTIBOOT2.headerMagic, 0, len, -(MULTIBOOT2.headerMagic + len)), ...tags, end);
}
const tag = (type: number, flags: number, ...body: number[]) => {
  const size = 8 + 4 * body.length;
  const padded = concat(dwords(type | (flags << 16), size, ...body), new Uint8Array((8 - (size % 8)) % 8));
  return padded;
};

/** An independent reader of the boot information tags (Multiboot2 spec §3.6). */
function readTags(space: PhysicalAddressSpace, addr: number) {
  const u32 = (a: number) => space.read32(a, AccessKind.Read);
  const str = (a: number) => {
    let s = "";
    for (let c = space.read8(a, AccessKind.Read); c !== 0; c = space.read8(++a, AccessKind.Read))
      s += String.fromCharCode(c);
    return s;
  };
  const total = u32(addr);
  const tags: { type: number; size: number; at: number }[] = [];
  for (let p = addr + 8; p < addr + total; p += Math.ceil(u32(p + 4) / 8) * 8) {
    tags.push({ type: u32(p), size: u32(p + 4), at: p });
    if (u32(p) === 0) break;
  }
  return { total, tags, u32, str };
}

describe("multiboot2", () => {
  it("finds the header 8-byte aligned in the first 32 KiB", () => {
    const img = new Uint8Array(40000);
    img.set(header(), 32760 - 8);
    expect(findMultiboot2Header(img)).toBe(32752);
    const late = new Uint8Array(40000);
    late.set(header(), 32768);
    expect(findMultiboot2Header(late)).toBeUndefined();
  });

  it("loads an ELF and writes cmdline, loader name, modules, meminfo, mmap and the RSDP", () => {
    const layout = new PcMemoryLayout({ ramSize: 32 * MiB });
    const { space } = layout.createSpace();
    const k = buildElf(
      32,
      3,
      0x100100,
      [{ paddr: 0x100000, data: new Uint8Array(0x200), memSize: 0x1800 }],
      header(tag(1, 0, 1, 6, 4)),
    );
    const rsdp = new Uint8Array(36);
    rsdp.set([0x52, 0x53, 0x44, 0x20]);
    rsdp[15] = 2;
    const entry = loadMultiboot2(space, layout, k, {
      cmdline: "root=/dev/vda",
      modules: [{ data: new Uint8Array(10).fill(7), cmdline: "initrd" }],
      rsdp,
    });
    expect(entry.registers.rax).toBe(0x36d76289);
    expect(entry.registers.rbx).toBe(0x102000);
    expect(entry.rip).toBe(0x100100);
    const { tags, u32, str, total } = readTags(space, 0x102000);
    expect(total % 8).toBe(0);
    expect(tags.map((t) => t.type)).toEqual([1, 2, 3, 4, 6, 15, 0]);
    const t = (type: number) => tags.find((x) => x.type === type)!;
    expect(str(t(1).at + 8)).toBe("root=/dev/vda");
    expect(str(t(2).at + 8)).toBe("turtles");
    const modStart = u32(t(3).at + 8);
    expect(modStart % 4096).toBe(0);
    expect(modStart).toBeGreaterThan(0x102000);
    expect(u32(t(3).at + 12)).toBe(modStart + 10);
    expect(str(t(3).at + 16)).toBe("initrd");
    expect(space.read8(modStart + 9, AccessKind.Read)).toBe(7);
    expect([u32(t(4).at + 8), u32(t(4).at + 12)]).toEqual([639, 31 * 1024]);
    const mm = t(6);
    expect([u32(mm.at + 8), u32(mm.at + 12)]).toEqual([24, 0]);
    const n = (mm.size - 16) / 24;
    const entries = [];
    for (let i = 0; i < n; i++) {
      const p = mm.at + 16 + 24 * i;
      entries.push({
        base: u32(p) + u32(p + 4) * 2 ** 32,
        length: u32(p + 8) + u32(p + 12) * 2 ** 32,
        type: u32(p + 16),
      });
    }
    expect(entries).toEqual(layout.e820());
    expect(t(15).size).toBe(44);
    expect(u32(t(15).at + 8)).toBe(0x20445352);
    expect(t(0).size).toBe(8);
  });

  it("loads by the address tag and honours the entry address tag", () => {
    const layout = new PcMemoryLayout({ ramSize: 8 * MiB });
    const { space } = layout.createSpace();
    const h = header(tag(2, 0, 0x200000, 0x200000, 0, 0x204000), tag(3, 0, 0x200040));
    const entry = loadMultiboot2(space, layout, concat(h, new Uint8Array([0xab])));
    expect(entry.rip).toBe(0x200040);
    expect(space.read8(0x200000 + h.byteLength, AccessKind.Read)).toBe(0xab);
    expect(entry.registers.rbx).toBe(0x204000);
  });

  it("refuses what it cannot provide, unless optional", () => {
    const layout = new PcMemoryLayout({ ramSize: 8 * MiB });
    const { space } = layout.createSpace();
    const elf = (h: Uint8Array) =>
      buildElf(32, 3, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(4) }], h);
    expect(() => loadMultiboot2(space, layout, elf(header(tag(1, 0, 8))))).toThrow(
      /requires information tag 8/,
    );
    expect(() => loadMultiboot2(space, layout, elf(header(tag(5, 0, 1024, 768, 32))))).toThrow(
      /requires header tag 5/,
    );
    expect(() =>
      loadMultiboot2(space, layout, elf(header(tag(5, 1, 1024, 768, 32), tag(1, 1, 8)))),
    ).not.toThrow();
    expect(() => loadMultiboot2(space, layout, new Uint8Array(64))).toThrow(
      /^multiboot2: no multiboot2 header/,
    );
    const mips = concat(
      dwords(MULTIBOOT2.headerMagic, 4, 24, -(MULTIBOOT2.headerMagic + 4 + 24)),
      dwords(0, 8),
    );
    expect(() => loadMultiboot2(space, layout, mips)).toThrow(/architecture 4/);
    expect(() => loadMultiboot2(space, layout, header(tag(2, 0, 0x200000, 0x200000, 0, 0)))).toThrow(
      /entry address tag/,
    );
  });
});
