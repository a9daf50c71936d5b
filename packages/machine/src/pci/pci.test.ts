import { AccessKind, PhysicalAddressSpace, PortIoSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ResetControl } from "../devices/reset-control.js";
import { PciHostBridge } from "./host-bridge.js";
import { mapBarsInto, PciBus, PciConfigMechanism1, PciEcam } from "./pci-bus.js";
import { type PciBarChange, PciFunction } from "./pci-function.js";
import { PciTestdev, type PciTestdevState } from "./pci-testdev.js";

const nullMmio = { read: () => 0x11223344, write: () => {} };

function machine() {
  const space = new PhysicalAddressSpace();
  const io = new PortIoSpace();
  const changes: PciBarChange[] = [];
  const toSpaces = mapBarsInto(space, io);
  const bus = new PciBus((c) => {
    changes.push(c);
    toSpaces(c);
  });
  bus.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge());
  let resets = 0;
  const cf8 = new PciConfigMechanism1(bus, new ResetControl({ reset: () => resets++ }));
  io.register(0xcf8, 8, cf8, "pci-conf1");
  const ecam = new PciEcam(bus, 256);
  space.mapMmio(0xb000_0000, ecam.size, ecam, "ecam");
  const cfg = (b: number, d: number, f: number, reg: number) =>
    0x8000_0000 | (b << 16) | (d << 11) | (f << 8) | reg;
  const read = (b: number, d: number, f: number, reg: number, size: 1 | 2 | 4 = 4) => {
    io.write(0xcf8, 4, cfg(b, d, f, reg & 0xfc));
    return io.read(0xcfc + (reg & 3), size);
  };
  const write = (b: number, d: number, f: number, reg: number, size: 1 | 2 | 4, v: number) => {
    io.write(0xcf8, 4, cfg(b, d, f, reg & 0xfc));
    io.write(0xcfc + (reg & 3), size, v);
  };
  return { space, io, bus, changes, read, write, cf8, resets: () => resets };
}

describe("PCI configuration space", () => {
  it("mechanism #1 reads the host bridge and all-ones for absent functions", () => {
    const m = machine();
    expect(m.read(0, 0, 0, 0)).toBe(0x0008_1b36);
    expect(m.read(0, 0, 0, 8) >>> 8).toBe(0x060000);
    expect(m.read(0, 0, 0, 2, 2)).toBe(0x0008);
    expect(m.read(0, 0, 0, 1, 1)).toBe(0x1b);
    expect(m.read(0, 1, 0, 0)).toBe(0xffff_ffff);
    expect(m.read(0, 1, 0, 2, 2)).toBe(0xffff);
    expect(m.read(3, 0, 0, 0)).toBe(0xffff_ffff);
    expect(m.read(0, 0, 1, 0)).toBe(0xffff_ffff);
  });

  it("mechanism #1: enable bit, address read-back, reserved bits, 0xCF9 forwarding", () => {
    const m = machine();
    m.io.write(0xcf8, 4, 0x7fff_ffff); // enable clear
    expect(m.io.read(0xcf8, 4)).toBe(0x00ff_fffc);
    m.io.write(0xcf8, 4, 0x0000_0000);
    expect(m.io.read(0xcfc, 4)).toBe(0xffff_ffff);
    m.io.write(0xcfc, 2, 0x1234); // dropped
    m.io.write(0xcf8, 4, 0x8000_0000);
    expect(m.io.read(0xcfc, 4)).toBe(0x0008_1b36);
    expect(m.io.read(0xcfe, 2)).toBe(0x0008);
    m.io.write(0xcf9, 1, 0x06); // reset control, not CONFIG_ADDRESS
    expect(m.resets()).toBe(1);
    expect(m.io.read(0xcf8, 4)).toBe(0x8000_0000);
    m.io.write(0xcf8, 2, 0); // word access: not CONFIG_ADDRESS
    expect(m.io.read(0xcf8, 4)).toBe(0x8000_0000);
  });

  it("ECAM reaches the same functions; extended registers read 0; absent all-ones", () => {
    const m = machine();
    const at = (b: number, d: number, f: number, reg: number) =>
      0xb000_0000 + ((b << 20) | (d << 15) | (f << 12) | reg);
    expect(m.space.read32(at(0, 0, 0, 0), AccessKind.Read)).toBe(0x0008_1b36);
    expect(m.space.read16(at(0, 0, 0, 2), AccessKind.Read)).toBe(0x0008);
    expect(m.space.read32(at(0, 0, 0, 0x100), AccessKind.Read)).toBe(0);
    expect(m.space.read32(at(0, 2, 0, 0), AccessKind.Read)).toBe(0xffff_ffff);
    expect(m.space.read32(at(255, 31, 7, 0xffc), AccessKind.Read)).toBe(0xffff_ffff);
    m.space.write8(at(0, 0, 0, 0x3c), 0x0b, AccessKind.Write);
    expect(m.read(0, 0, 0, 0x3c, 1)).toBe(0x0b);
    expect(() => new PciEcam(m.bus, 2, 255)).toThrow(RangeError);
    const partial = new PciEcam(m.bus, 1, 0);
    expect(partial.size).toBe(0x10_0000);
  });

  it("masks writes: IDs and class read-only, command bits, status write-one-to-clear", () => {
    const fn = new PciFunction({ vendorId: 0x1234, deviceId: 0x5678, classCode: 0x020000, interruptPin: 1 });
    fn.writeConfig(0, 4, 0);
    expect(fn.readConfig(0, 4)).toBe(0x5678_1234);
    fn.writeConfig(4, 2, 0xffff);
    expect(fn.readConfig(4, 2)).toBe(0x0547);
    fn.writeConfig(8, 4, 0);
    expect(fn.readConfig(8, 4)).toBe(0x0200_0000);
    expect(fn.readConfig(0x3d, 1)).toBe(1);
    fn.writeConfig(0x3d, 1, 4);
    expect(fn.readConfig(0x3d, 1)).toBe(1);
    fn.writeConfig(0x3c, 1, 10);
    expect(fn.readConfig(0x3c, 1)).toBe(10);
    const s = fn.state();
    s.config[7] = 0xf9;
    fn.fromState(s);
    fn.writeConfig(6, 2, 0x0600); // read-only and non-status bits: no change
    expect(fn.readConfig(6, 2)).toBe(0xf900);
    fn.writeConfig(6, 2, 0x8000);
    expect(fn.readConfig(6, 2)).toBe(0x7900);
  });

  it("sizes BARs: all-ones reads back ~(size-1) with the type bits", () => {
    const fn = new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0 }, [
      { kind: "io", size: 32, handler: nullMmio },
      { kind: "mem32", size: 0x4000, prefetchable: true, handler: nullMmio },
      { kind: "mem64", size: 0x2_0000_0000, handler: nullMmio },
      undefined,
      { kind: "mem64", size: 0x10_0000, handler: nullMmio },
    ]);
    for (let i = 0; i < 6; i++) fn.writeConfig(0x10 + 4 * i, 4, 0xffff_ffff);
    expect(fn.readConfig(0x10, 4)).toBe(0xffff_ffe1);
    expect(fn.readConfig(0x14, 4)).toBe(0xffff_c008);
    expect(fn.readConfig(0x18, 4)).toBe(0x0000_0004);
    expect(fn.readConfig(0x1c, 4)).toBe(0xffff_fffe);
    expect(fn.readConfig(0x20, 4)).toBe(0xfff0_0004);
    expect(fn.readConfig(0x24, 4)).toBe(0xffff_ffff);
    expect(fn.readConfig(0x30, 4)).toBe(0); // no expansion ROM
    expect(
      () =>
        new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0 }, [
          { kind: "mem32", size: 100, handler: nullMmio },
        ]),
    ).toThrow(RangeError);
    expect(
      () =>
        new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0 }, [
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          { kind: "mem64", size: 16, handler: nullMmio },
        ]),
    ).toThrow(/next slot/);
  });

  it("maps BARs when decoding is on, moves and unmaps them, never at the probe value", () => {
    const m = machine();
    const testdev = new PciTestdev();
    m.bus.plug({ bus: 0, device: 3, fn: 0 }, testdev);
    m.write(0, 3, 0, 0x10, 4, 0xfebf_0000);
    m.write(0, 3, 0, 0x14, 4, 0xc000);
    expect(m.changes).toEqual([]); // decode off
    m.write(0, 3, 0, 0x04, 2, 0x3);
    expect(m.changes.map((c) => [c.bar, c.oldBase, c.newBase])).toEqual([
      [0, undefined, 0xfebf_0000],
      [1, undefined, 0xc000],
    ]);
    expect(m.space.regionAt(0xfebf_0000)?.name).toBe("pci-bar0");
    expect(m.io.windowAt(0xc0ff)?.name).toBe("pci-bar1");
    // Probing with decode on: the all-ones value is not a mapping.
    m.changes.length = 0;
    m.write(0, 3, 0, 0x10, 4, 0xffff_ffff);
    expect(m.read(0, 3, 0, 0x10)).toBe(0xffff_f000);
    expect(m.changes.map((c) => [c.bar, c.oldBase, c.newBase])).toEqual([[0, 0xfebf_0000, undefined]]);
    m.write(0, 3, 0, 0x10, 4, 0xfebe_0000);
    expect(testdev.barAddress(0)).toBe(0xfebe_0000);
    expect(m.space.regionAt(0xfebf_0000)).toBeUndefined();
    m.write(0, 3, 0, 0x04, 2, 0x2); // I/O decode off
    expect(m.io.windowAt(0xc000)).toBeUndefined();
    expect(testdev.barAddress(1)).toBeUndefined();
    expect(testdev.barAddress(0)).toBe(0xfebe_0000);
  });

  it("links capabilities and sets the status bit", () => {
    const fn = new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0 });
    expect(fn.readConfig(6, 2) & 0x10).toBe(0);
    const a = fn.addCapability(0x05, new Uint8Array(12), new Uint8Array([0xff, 0xff]));
    const b = fn.addCapability(0x09, new Uint8Array([1, 2, 3]));
    expect(fn.readConfig(6, 2) & 0x10).toBe(0x10);
    expect(fn.readConfig(0x34, 1)).toBe(a);
    const walk: number[] = [];
    for (let p = fn.readConfig(0x34, 1); p !== 0; p = fn.readConfig(p + 1, 1)) walk.push(fn.readConfig(p, 1));
    expect(walk).toEqual([5, 9]);
    expect(b % 4).toBe(0);
    fn.writeConfig(a + 2, 2, 0xabcd);
    expect(fn.readConfig(a + 2, 2)).toBe(0xabcd);
    fn.writeConfig(b + 2, 1, 0xff);
    expect(fn.readConfig(b + 2, 1)).toBe(1);
  });

  it("INTx follows the device unless disabled, and shows in the status register", () => {
    const fn = new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0, interruptPin: 1 });
    const levels: boolean[] = [];
    fn.setIrqLine({ set: (l) => levels.push(l) });
    fn.setIntx(true);
    expect(fn.readConfig(6, 2) & 0x8).toBe(0x8);
    fn.writeConfig(4, 2, 0x400);
    fn.writeConfig(4, 2, 0);
    fn.setIntx(false);
    expect(levels).toEqual([false, true, false, true, false]);
  });

  it("rejects invalid or taken addresses", () => {
    const m = machine();
    expect(() => m.bus.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge())).toThrow(/00:00.0 is taken/);
    expect(() => m.bus.plug({ bus: 0, device: 32, fn: 0 }, new PciHostBridge())).toThrow(RangeError);
    expect(m.bus.list().map((e) => e.address)).toEqual([{ bus: 0, device: 0, fn: 0 }]);
  });
});

describe("pci-testdev", () => {
  function setup() {
    const m = machine();
    const dev = new PciTestdev();
    m.bus.plug({ bus: 0, device: 2, fn: 0 }, dev);
    m.write(0, 2, 0, 0x10, 4, 0xfe00_0000);
    m.write(0, 2, 0, 0x14, 4, 0x1000);
    m.write(0, 2, 0, 0x04, 2, 3);
    return { ...m, dev };
  }
  const name = (read: (o: number) => number) => {
    let s = "";
    for (let o = 16, c = read(o); c !== 0; c = read(++o)) s += String.fromCharCode(c);
    return s;
  };

  it("has QEMU's identity and BARs", () => {
    const m = setup();
    expect(m.read(0, 2, 0, 0)).toBe(0x0005_1b36);
    expect(m.read(0, 2, 0, 8)).toBe(0xff00_0000);
    expect(m.read(0, 2, 0, 0x3d, 1)).toBe(0);
    m.write(0, 2, 0, 0x10, 4, 0xffff_ffff);
    m.write(0, 2, 0, 0x14, 4, 0xffff_ffff);
    expect(m.read(0, 2, 0, 0x10)).toBe(0xffff_f000);
    expect(m.read(0, 2, 0, 0x14)).toBe(0xffff_ff01);
  });

  it("runs the MMIO and port tests as kvm-unit-tests does", () => {
    const m = setup();
    const mmio = (o: number) => m.space.read8(0xfe00_0000 + o, AccessKind.Read);
    expect(mmio(0)).toBe(0); // nothing selected
    const seen: string[] = [];
    for (let t = 0; t < 3; t++) {
      m.space.write8(0xfe00_0000, t, AccessKind.Write);
      seen.push(name(mmio));
      expect(mmio(0)).toBe(t);
      expect(mmio(1)).toBe(1);
      const offset = m.space.read32(0xfe00_0004, AccessKind.Read);
      expect(offset).toBe(2048 + t);
      const data = mmio(8);
      expect(data).toBe(t === 1 ? 0xce : 0xfa);
      m.space.write8(0xfe00_0000 + offset, data, AccessKind.Write);
      m.space.write8(0xfe00_0000 + offset, data ^ 1, AccessKind.Write);
      m.space.write8(0xfe00_0000 + offset + 1, data, AccessKind.Write);
      expect(m.space.read32(0xfe00_000c, AccessKind.Read)).toBe(t === 1 ? 2 : 1);
    }
    expect(seen).toEqual(["mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd"]);
    const port = (o: number) => m.io.read(0x1000 + o, 1);
    m.io.write(0x1000, 1, 2);
    expect(name(port)).toBe("portio-datamatch-eventfd");
    const offset = m.io.read(0x1004, 4);
    expect(offset).toBe(128 + 5);
    m.io.write(0x1000 + offset, 1, 0xfa);
    m.io.write(0x1000 + offset, 4, 0x1234_56fa); // split into bytes: the first one matches
    expect(m.io.read(0x100c, 4)).toBe(2);
    expect(m.dev.count(5)).toBe(2);
    m.io.write(0x1000, 1, 3); // out of range: deselects
    expect(port(0)).toBe(0);
    expect(port(16)).toBe(0);
  });

  it("state()/fromState() round-trips", () => {
    type Op = { kind: "mem" | "io"; offset: number; value: number; write: boolean };
    const op = fc.record({
      kind: fc.constantFrom("mem" as const, "io" as const),
      offset: fc.oneof(fc.constantFrom(0, 4, 8, 12, 16, 2048, 2049, 2050, 128, 131, 133), fc.nat(255)),
      value: fc.oneof(fc.nat(3), fc.constantFrom(0xfa, 0xce), fc.nat(255)),
      write: fc.boolean(),
    });
    checkRoundTrip<PciTestdevState, Op>((startNs) => {
      const dev = new PciTestdev();
      const log: unknown[] = [];
      const bar = (k: "mem" | "io") => dev.bar(k === "mem" ? 0 : 1)!.handler;
      return {
        log,
        nowNs: () => startNs,
        apply(o) {
          const off = o.kind === "io" ? o.offset & 0xff : o.offset;
          if (o.write) bar(o.kind).write(off, 1, o.value);
          else log.push(bar(o.kind).read(off, 1));
        },
        state: () => dev.state(),
        fromState: (s) => dev.fromState(s),
      };
    }, op);
  });
});
