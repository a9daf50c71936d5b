import { AccessKind, type PhysicalAddressSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { buildElf, concat, dwords } from "../../test/elf-builder.js";
import { BootMode } from "./entry.js";
import { MemoryType, PcMemoryLayout } from "./layout.js";
import {
  findMultibootHeader,
  loadMultiboot,
  MULTIBOOT,
  moduleFileName,
  splitModuleList,
} from "./multiboot.js";

const MiB = 0x10_0000;

/** An independent reader of the multiboot information structure (spec 0.6.96 §3.3). */
function readInfo(space: PhysicalAddressSpace, addr: number) {
  const u32 = (a: number) => space.read32(a, AccessKind.Read);
  const str = (a: number) => {
    let s = "";
    for (let c = space.read8(a, AccessKind.Read); c !== 0; c = space.read8(++a, AccessKind.Read))
      s += String.fromCharCode(c);
    return s;
  };
  const flags = u32(addr);
  const mods = [];
  for (let i = 0; i < u32(addr + 20); i++) {
    const m = u32(addr + 24) + 16 * i;
    mods.push({ start: u32(m), end: u32(m + 4), string: str(u32(m + 8)) });
  }
  const mmap = [];
  const mmapAddr = u32(addr + 48);
  for (let p = mmapAddr; p < mmapAddr + u32(addr + 44); p += u32(p) + 4) {
    mmap.push({
      size: u32(p),
      base: u32(p + 4) + u32(p + 8) * 2 ** 32,
      length: u32(p + 12) + u32(p + 16) * 2 ** 32,
      type: u32(p + 20),
    });
  }
  return {
    flags,
    memLower: u32(addr + 4),
    memUpper: u32(addr + 8),
    bootDevice: u32(addr + 12),
    cmdline: str(u32(addr + 16)),
    mods,
    mmap,
    loader: str(u32(addr + 64)),
  };
}

/** A multiboot header; with `aout` the address fields follow. */
function header(flags: number, aout?: number[]): Uint8Array {
  return dwords(MULTIBOOT.headerMagic, flags, -(MULTIBOOT.headerMagic + flags), ...(aout ?? []));
}

describe("multiboot v1", () => {
  it("finds the header only when magic and checksum agree, 4-byte aligned, in the first 8 KiB", () => {
    const img = new Uint8Array(9000);
    img.set(header(3), 4096);
    expect(findMultibootHeader(img)).toEqual({ offset: 4096, flags: 3 });
    const bad = new Uint8Array(9000);
    bad.set(dwords(MULTIBOOT.headerMagic, 3, 0), 16);
    expect(findMultibootHeader(bad)).toBeUndefined();
    const late = new Uint8Array(9000);
    late.set(header(3), 8192);
    expect(findMultibootHeader(late)).toBeUndefined();
    const odd = new Uint8Array(9000);
    odd.set(header(3), 18);
    expect(findMultibootHeader(odd)).toBeUndefined();
  });

  it("loads an ELF32 kernel and builds the info structure as QEMU does", () => {
    const layout = new PcMemoryLayout({ ramSize: 32 * MiB });
    const { space } = layout.createSpace();
    const kernel = buildElf(
      32,
      3,
      0x100020,
      [
        { paddr: 0x100000, data: new Uint8Array(0x30).fill(0x90) },
        { paddr: 0x101000, data: new Uint8Array(0), memSize: 0x2000 },
      ],
      header(0x7), // video flag: ignored
    );
    const modA = new Uint8Array(5000).fill(0xa1);
    const modB = new Uint8Array([1, 2, 3]);
    const entry = loadMultiboot(space, layout, kernel, {
      kernelName: "/boot/kernel.elf",
      cmdline: "console=ttyS0 x=1",
      modules: [
        { data: modA, cmdline: "a.bin arg1" },
        { data: modB, cmdline: "b.bin" },
      ],
    });
    expect(entry.mode).toBe(BootMode.Protected32);
    expect(entry.rip).toBe(0x100020);
    expect(entry.registers.rax).toBe(0x2badb002);
    expect(entry.registers.rbx).toBe(0x9500);
    expect(entry.cs.access & 0x4000).toBe(0x4000); // 32-bit code
    for (const s of [entry.ds, entry.es, entry.fs, entry.gs, entry.ss])
      expect(s).toMatchObject({ base: 0, limit: 0xffffffff, selector: 0x18 });
    expect(entry.rflags & 0x200).toBe(0); // IF clear

    const info = readInfo(space, 0x9500);
    expect(info.flags).toBe(0x24f);
    expect(info.memLower).toBe(639);
    expect(info.memUpper).toBe(31 * 1024);
    expect(info.bootDevice).toBe(0x8000ffff);
    expect(info.cmdline).toBe("/boot/kernel.elf console=ttyS0 x=1");
    expect(info.loader).toBe("turtles");
    // The kernel spans 0x100000-0x103000; its page-aligned end holds the list, then the modules.
    expect(space.read32(0x9500 + 24, AccessKind.Read)).toBe(0x103000);
    expect(info.mods).toEqual([
      { start: 0x104000, end: 0x104000 + 5000, string: "a.bin arg1" },
      { start: 0x106000, end: 0x106003, string: "b.bin" },
    ]);
    expect(space.read8(0x104000 + 4999, AccessKind.Read)).toBe(0xa1);
    expect(space.read8(0x106002, AccessKind.Read)).toBe(3);
    expect(info.mmap).toEqual(layout.e820().map((r) => ({ size: 20, ...r })));
    expect(info.mmap[0]).toEqual({ size: 20, base: 0, length: 0x9fc00, type: MemoryType.Ram });
    // bss of the second segment zeroed.
    expect(space.read32(0x102ffc, AccessKind.Read)).toBe(0);
  });

  it("gives the kernel name followed by a space when the command line is empty", () => {
    const layout = new PcMemoryLayout({ ramSize: 8 * MiB });
    const { space } = layout.createSpace();
    loadMultiboot(
      space,
      layout,
      buildElf(32, 3, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(4) }], header(0)),
      {
        kernelName: "k",
      },
    );
    const info = readInfo(space, 0x9500);
    expect(info.cmdline).toBe("k ");
    expect(info.mods).toEqual([]);
  });

  it("loads by the a.out kludge: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr", () => {
    const layout = new PcMemoryLayout({ ramSize: 8 * MiB });
    const { space } = layout.createSpace();
    space.writeBytes(0x200000, new Uint8Array(0x3000).fill(0xee), AccessKind.Write);
    // File: 16 bytes of code, then the header at offset 16 (header_addr = 0x200010).
    const code = new Uint8Array(16).fill(0xcc);
    const img = concat(
      code,
      header(0x10002, [0x200010, 0x200000, 0x200040, 0x202000, 0x200004]),
      new Uint8Array(64).fill(0x77),
    );
    const entry = loadMultiboot(space, layout, img);
    expect(entry.rip).toBe(0x200004);
    expect(space.read8(0x200000, AccessKind.Read)).toBe(0xcc);
    expect(space.read32(0x200010, AccessKind.Read)).toBe(MULTIBOOT.headerMagic);
    expect(space.read8(0x20003f, AccessKind.Read)).toBe(0x77); // load_end_addr is exclusive
    expect(space.read8(0x200040, AccessKind.Read)).toBe(0); // bss
    expect(space.read8(0x201fff, AccessKind.Read)).toBe(0);
    expect(space.read32(0x9500 + 24, AccessKind.Read)).toBe(0x202000);
  });

  it("loads to the end of the file when load_end_addr is 0, with no bss when bss_end_addr is 0", () => {
    const layout = new PcMemoryLayout({ ramSize: 8 * MiB });
    const { space } = layout.createSpace();
    const img = concat(header(0x10000, [0x300000, 0x300000, 0, 0, 0x300020]), new Uint8Array([5, 6, 7]));
    loadMultiboot(space, layout, img);
    expect(space.read8(0x300022, AccessKind.Read)).toBe(7);
    expect(space.read32(0x9500 + 24, AccessKind.Read)).toBe(0x301000);
  });

  it("throws clear errors for bad kernels", () => {
    const layout = new PcMemoryLayout({ ramSize: 4 * MiB });
    const { space } = layout.createSpace();
    expect(() => loadMultiboot(space, layout, new Uint8Array(100))).toThrow(
      /^multiboot: no multiboot header in the first 8192 bytes$/,
    );
    expect(() => loadMultiboot(space, layout, concat(header(0), new Uint8Array(32)))).toThrow(/not ELF/);
    expect(() =>
      loadMultiboot(
        space,
        layout,
        buildElf(64, 62, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(4) }], header(0)),
      ),
    ).toThrow(/ELF64/);
    expect(() =>
      loadMultiboot(space, layout, header(0x10000, [0x100000, 0x100000, 0x100100, 0, 0x100000])),
    ).toThrow(/truncated/);
    expect(() => loadMultiboot(space, layout, header(0x10000, [0x100000, 0x100010, 0, 0, 0]))).toThrow(
      /header_addr .* is below load_addr/,
    );
    expect(() =>
      loadMultiboot(
        space,
        layout,
        concat(header(0x10000, [0x3ff000, 0x3ff000, 0, 0x500000, 0x3ff000]), new Uint8Array(4)),
      ),
    ).toThrow(/kernel at 0x3ff000-0x500000 does not fit in RAM/);
    expect(() =>
      loadMultiboot(
        space,
        layout,
        concat(header(0x10000, [0x9000, 0x9000, 0, 0, 0x9000]), new Uint8Array(16)),
      ),
    ).toThrow(/overlaps the multiboot information at 0x9000-0x9600/);
    const k = buildElf(32, 3, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(4) }], header(0));
    expect(() =>
      loadMultiboot(space, layout, k, { modules: [{ data: new Uint8Array(4 * MiB), cmdline: "big" }] }),
    ).toThrow(/module 0 .* does not fit/);
  });

  it("splits -initrd lists on commas, with ,, for a literal comma", () => {
    expect(splitModuleList("a.bin x=1,b.bin")).toEqual(["a.bin x=1", "b.bin"]);
    expect(splitModuleList("a,,b,c")).toEqual(["a,b", "c"]);
    expect(splitModuleList("one")).toEqual(["one"]);
    expect(splitModuleList("a.bin x=1,b.bin").map(moduleFileName)).toEqual(["a.bin", "b.bin"]);
  });
});
