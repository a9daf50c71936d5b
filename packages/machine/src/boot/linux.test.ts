import { AccessKind } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { BootMode } from "./entry.js";
import { PcMemoryLayout } from "./layout.js";
import { loadLinux, parseBzImage } from "./linux.js";

const MiB = 0x10_0000;

/** A fake bzImage: `setupSects` setup sectors with a setup header, then a protected-mode kernel. */
function fakeBzImage(
  o: {
    version?: number;
    xloadflags?: number;
    loadflags?: number;
    setupSects?: number;
    kernel?: Uint8Array;
    initSize?: number;
    cmdlineSize?: number;
    initrdMax?: number;
  } = {},
) {
  const setupSects = o.setupSects ?? 4;
  const kernel = o.kernel ?? new Uint8Array(0x400).fill(0x90);
  const sects = setupSects === 0 ? 4 : setupSects;
  const img = new Uint8Array((sects + 1) * 512 + kernel.byteLength);
  const v = new DataView(img.buffer);
  v.setUint8(0x1f1, setupSects);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint8(0x200, 0xeb); // jmp short
  v.setUint8(0x201, 0x66); // header ends at 0x202 + 0x66 = 0x268
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, o.version ?? 0x20f, true);
  v.setUint8(0x211, o.loadflags ?? 0x01);
  v.setUint32(0x214, 0x100000, true);
  v.setUint32(0x22c, o.initrdMax ?? 0x7fffffff, true);
  v.setUint32(0x230, 0x200000, true);
  v.setUint8(0x234, 1);
  v.setUint16(0x236, o.xloadflags ?? 0x3, true);
  v.setUint32(0x238, o.cmdlineSize ?? 2047, true);
  v.setUint32(0x260, o.initSize ?? 0x10000, true);
  v.setUint32(0x264, 0x12345678, true); // handover_offset: copied with the header
  img.set(kernel, (sects + 1) * 512);
  return img;
}

describe("Linux boot protocol", () => {
  it("parses the setup header", () => {
    const info = parseBzImage(fakeBzImage({ setupSects: 0 }));
    expect(info).toMatchObject({
      version: 0x20f,
      setupSects: 4,
      kernelOffset: 5 * 512,
      xloadflags: 3,
      cmdlineSize: 2047,
      initSize: 0x10000,
    });
  });

  it("loads for the 64-bit entry with boot_params, cmdline, initrd and e820", () => {
    const layout = new PcMemoryLayout({ ramSize: 64 * MiB });
    const { space } = layout.createSpace();
    const kernel = new Uint8Array(0x400);
    kernel[0x200] = 0x48; // startup_64 lives at +0x200
    const initrd = new Uint8Array(10000).fill(0x5a);
    const entry = loadLinux(space, layout, fakeBzImage({ kernel }), {
      cmdline: "console=ttyS0 earlyprintk",
      initrd,
    });
    expect(entry.mode).toBe(BootMode.Long64);
    expect(entry.rip).toBe(0x100200);
    expect(entry.registers.rsi).toBe(0x7000);
    expect(entry.cs.selector).toBe(0x10);
    expect(entry.ds.selector).toBe(0x18);
    expect(space.read8(0x100200, AccessKind.Read)).toBe(0x48);
    const bp = 0x7000;
    const u8 = (o: number) => space.read8(bp + o, AccessKind.Read);
    const u16 = (o: number) => space.read16(bp + o, AccessKind.Read);
    const u32 = (o: number) => space.read32(bp + o, AccessKind.Read);
    expect(u32(0x202)).toBe(0x53726448); // header copied
    expect(u32(0x264)).toBe(0x12345678);
    expect(u16(0x206)).toBe(0x20f);
    expect(u8(0x210)).toBe(0xff); // type_of_loader
    expect(u8(0x211)).toBe(0x81); // LOADED_HIGH | CAN_USE_HEAP
    expect(u16(0x224)).toBe(0xfe00);
    expect(u32(0x228)).toBe(0x20000);
    let cmd = "";
    for (let a = 0x20000; space.read8(a, AccessKind.Read) !== 0; a++)
      cmd += String.fromCharCode(space.read8(a, AccessKind.Read));
    expect(cmd).toBe("console=ttyS0 earlyprintk");
    const rdAddr = u32(0x218);
    expect(u32(0x21c)).toBe(10000);
    expect(rdAddr % 4096).toBe(0);
    expect(rdAddr + 10000).toBeLessThanOrEqual(64 * MiB);
    expect(rdAddr).toBeGreaterThan(64 * MiB - 4 * 4096);
    expect(space.read8(rdAddr + 9999, AccessKind.Read)).toBe(0x5a);
    const map = layout.e820();
    expect(u8(0x1e8)).toBe(map.length);
    map.forEach((e, i) => {
      const at = 0x2d0 + 20 * i;
      expect([u32(at), u32(at + 4), u32(at + 8), u32(at + 12), u32(at + 16)]).toEqual([
        e.base,
        0,
        e.length,
        0,
        e.type,
      ]);
    });
    expect(u32(0x00)).toBe(0); // outside the header: zeroed
  });

  it("keeps the initrd below initrd_addr_max unless the kernel takes it anywhere below 4 GiB", () => {
    const layout = new PcMemoryLayout({ ramSize: 64 * MiB });
    const { space } = layout.createSpace();
    loadLinux(space, layout, fakeBzImage({ initrdMax: 0x1ffffff, xloadflags: 1 }), {
      initrd: new Uint8Array(4096),
    });
    expect(space.read32(0x7218, AccessKind.Read)).toBe(0x1ffe000); // (max - size) & ~0xfff, as QEMU
    loadLinux(space, layout, fakeBzImage({ initrdMax: 0x1ffffff, xloadflags: 3 }), {
      initrd: new Uint8Array(4096),
    });
    expect(space.read32(0x7218, AccessKind.Read)).toBe(64 * MiB - 0x2000); // XLF_CAN_BE_LOADED_ABOVE_4G
  });

  it("uses the 32-bit entry when asked", () => {
    const layout = new PcMemoryLayout({ ramSize: 16 * MiB });
    const { space } = layout.createSpace();
    const entry = loadLinux(space, layout, fakeBzImage({ version: 0x206, xloadflags: 0 }), { entry: "32" });
    expect(entry.mode).toBe(BootMode.Protected32);
    expect(entry.rip).toBe(0x100000);
    expect(entry.registers.rsi).toBe(0x7000);
  });

  it("rejects bad kernels with one-line errors", () => {
    const layout = new PcMemoryLayout({ ramSize: 8 * MiB });
    const { space } = layout.createSpace();
    const notLinux = fakeBzImage();
    notLinux[0x202] = 0;
    expect(() => loadLinux(space, layout, notLinux)).toThrow(/^bzImage: no "HdrS" magic/);
    expect(() => loadLinux(space, layout, fakeBzImage().subarray(0, 0x200))).toThrow(/truncated/);
    expect(() => loadLinux(space, layout, fakeBzImage({ version: 0x204 }))).toThrow(/2\.04 is too old/);
    expect(() => loadLinux(space, layout, fakeBzImage({ loadflags: 0 }))).toThrow(/not loaded high/);
    expect(() => loadLinux(space, layout, fakeBzImage({ xloadflags: 2 }))).toThrow(/no 64-bit entry point/);
    expect(() => loadLinux(space, layout, fakeBzImage({ initSize: 16 * MiB }))).toThrow(
      /kernel \(with init_size\) .* does not fit in RAM/,
    );
    expect(() => loadLinux(space, layout, fakeBzImage({ cmdlineSize: 4 }), { cmdline: "hello" })).toThrow(
      /longer than the kernel's 4/,
    );
    expect(() => loadLinux(space, layout, fakeBzImage(), { initrd: new Uint8Array(7 * MiB) })).toThrow(
      /initrd of/,
    );
  });
});
