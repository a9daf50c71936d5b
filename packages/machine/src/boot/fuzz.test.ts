// Bad host input is reported, never crashed on: every loader, given any mutation of a valid
// image, either loads it or throws a BootLoadError with a one-line message.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildElf, concat, dwords } from "../../test/elf-builder.js";
import { loadElfKernel } from "./elf.js";
import { BootLoadError } from "./image.js";
import { PcMemoryLayout } from "./layout.js";
import { loadLinux } from "./linux.js";
import { loadMultiboot, MULTIBOOT } from "./multiboot.js";
import { loadMultiboot2, MULTIBOOT2 } from "./multiboot2.js";
import { loadRaw } from "./raw.js";

const layout = new PcMemoryLayout({ ramSize: 4 * 0x10_0000 });
const { space } = layout.createSpace();

const mb1 = buildElf(
  32,
  3,
  0x100000,
  [{ paddr: 0x100000, data: new Uint8Array(64), memSize: 128 }],
  dwords(MULTIBOOT.headerMagic, 3, -(MULTIBOOT.headerMagic + 3)),
);
const mb1aout = concat(
  dwords(
    MULTIBOOT.headerMagic,
    0x10000,
    -(MULTIBOOT.headerMagic + 0x10000),
    0x100000,
    0x100000,
    0x100040,
    0x100080,
    0x100000,
  ),
  new Uint8Array(32),
);
const mb2len = 16 + 24 + 16 + 8;
const mb2 = concat(
  dwords(MULTIBOOT2.headerMagic, 0, mb2len, -(MULTIBOOT2.headerMagic + mb2len)),
  dwords(2, 24, 0x100000, 0x100000, 0, 0x100100),
  dwords(3, 12, 0x100000, 0),
  dwords(0, 8),
  new Uint8Array(64),
);
const elf64 = buildElf(64, 62, 0x100000, [{ paddr: 0x100000, data: new Uint8Array(32) }]);
const bz = (() => {
  const img = new Uint8Array(5 * 512 + 256);
  const v = new DataView(img.buffer);
  v.setUint8(0x1f1, 4);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint8(0x201, 0x66);
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, 0x20f, true);
  v.setUint8(0x211, 1);
  v.setUint32(0x22c, 0x7fffffff, true);
  v.setUint16(0x236, 3, true);
  v.setUint32(0x238, 255, true);
  v.setUint32(0x260, 0x1000, true);
  return img;
})();

/** A mutation: overwrite some bytes, truncate, or both. */
function mutated(base: Uint8Array) {
  return fc
    .record({
      writes: fc.array(
        fc.record({
          at: fc.nat(base.byteLength - 1),
          value: fc.oneof(fc.nat(255), fc.constantFrom(0, 0xff)),
        }),
        { maxLength: 8 },
      ),
      dwordWrites: fc.array(
        fc.record({
          at: fc.nat(base.byteLength - 4),
          value: fc.oneof(
            fc.nat(0xffff_ffff),
            fc.constantFrom(0, 0xffff_ffff, 0x8000_0000, 0x100000, 0x3ffff0),
          ),
        }),
        { maxLength: 4 },
      ),
      length: fc.oneof(fc.constant(base.byteLength), fc.nat(base.byteLength)),
    })
    .map(({ writes, dwordWrites, length }) => {
      const img = base.slice(0, length);
      const v = new DataView(img.buffer);
      for (const w of writes) if (w.at < img.byteLength) img[w.at] = w.value;
      for (const w of dwordWrites) if (w.at + 4 <= img.byteLength) v.setUint32(w.at, w.value, true);
      return img;
    });
}

function loadsOrReports(load: () => unknown): void {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(BootLoadError);
    expect((e as Error).message).not.toMatch(/[\n\r]/);
    expect((e as Error).message.length).toBeLessThan(200);
  }
}

describe("loaders on mutated images", () => {
  const cases: [string, Uint8Array, (img: Uint8Array) => unknown][] = [
    [
      "multiboot (ELF)",
      mb1,
      (img) => loadMultiboot(space, layout, img, { modules: [{ data: new Uint8Array(8), cmdline: "m" }] }),
    ],
    ["multiboot (a.out)", mb1aout, (img) => loadMultiboot(space, layout, img)],
    [
      "multiboot2",
      mb2,
      (img) => loadMultiboot2(space, layout, img, { modules: [{ data: new Uint8Array(8), cmdline: "m" }] }),
    ],
    ["ELF64", elf64, (img) => loadElfKernel(space, layout, img)],
    ["bzImage", bz, (img) => loadLinux(space, layout, img, { cmdline: "x", initrd: new Uint8Array(100) })],
    ["raw", bz, (img) => loadRaw(space, layout, img, { address: 0x3ff000 })],
  ];
  it("the unmutated images load", () => {
    for (const [, base, load] of cases) expect(() => load(base)).not.toThrow();
  });
  for (const [name, base, load] of cases) {
    it(`${name}: loads or throws a one-line BootLoadError`, () => {
      fc.assert(
        fc.property(mutated(base), (img) => loadsOrReports(() => load(img))),
        { numRuns: 300 },
      );
    });
  }
});
