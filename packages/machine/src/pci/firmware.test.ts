import { AccessKind, PhysicalAddressSpace, PortIoSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { assignPciResources } from "./firmware.js";
import { PciHostBridge } from "./host-bridge.js";
import { mapBarsInto, PciBus } from "./pci-bus.js";
import { PciFunction } from "./pci-function.js";
import { PciTestdev } from "./pci-testdev.js";

const handler = { read: () => 0x1234, write: () => {} };

describe("assignPciResources (what firmware does before boot)", () => {
  it("sizes, places, maps and enables every BAR; sets the interrupt line", () => {
    const space = new PhysicalAddressSpace();
    const io = new PortIoSpace();
    const bus = new PciBus(mapBarsInto(space, io));
    bus.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge());
    bus.plug({ bus: 0, device: 1, fn: 0 }, new PciTestdev());
    const big = new PciFunction(
      { vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000, interruptPin: 1 },
      [
        { kind: "io", size: 32, handler },
        { kind: "mem32", size: 0x1000, handler },
        undefined,
        undefined,
        { kind: "mem64", size: 0x4000, prefetchable: true, handler },
      ],
    );
    bus.plug({ bus: 0, device: 2, fn: 0 }, big);
    const assigned = assignPciResources(bus, { interruptLine: (a, pin) => 10 + ((a.device + pin - 1) % 2) });
    expect(assigned.map((a) => [a.address.device, a.bar, a.base, a.size])).toEqual([
      [1, 0, 0xc000_4000, 0x1000],
      [1, 1, 0xc000, 0x100],
      [2, 0, 0xc100, 0x20],
      [2, 1, 0xc000_5000, 0x1000],
      [2, 4, 0xc000_0000, 0x4000],
    ]);
    for (const a of assigned) expect(a.base % a.size).toBe(0);
    expect(big.readConfig(0x04, 2) & 0x7).toBe(0x7);
    expect(big.readConfig(0x3c, 1)).toBe(10 + (2 % 2));
    expect(big.readConfig(0x20, 4)).toBe(0xc000_000c); // 64-bit prefetchable
    expect(big.readConfig(0x24, 4)).toBe(0);
    // The BARs are live in the address spaces.
    expect(space.read32(0xc000_5000, AccessKind.Read)).toBe(0x1234);
    expect(io.read(0xc100, 2)).toBe(0x1234);
    space.write8(0xc000_4000, 0, AccessKind.Write); // pci-testdev: select mmio-no-eventfd
    expect(space.read8(0xc000_4010, AccessKind.Read)).toBe("m".charCodeAt(0));
    // The host bridge is left alone.
    expect(bus.at({ bus: 0, device: 0, fn: 0 })!.readConfig(0x04, 2)).toBe(0);
  });

  it("refuses windows that are too small", () => {
    const bus = new PciBus();
    bus.plug({ bus: 0, device: 1, fn: 0 }, new PciTestdev());
    expect(() => assignPciResources(bus, { memory: { start: 0xfe00_0000, end: 0xfe00_0800 } })).toThrow(
      /no room for a 4096-byte memory BAR/,
    );
  });
});
