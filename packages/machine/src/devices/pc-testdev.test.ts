import { AccessKind, PhysicalAddressSpace, PortIoSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { PC_TESTDEV_MMIO, PC_TESTDEV_PORTS, PcTestdev, type PcTestdevState } from "./pc-testdev.js";

function wire() {
  const irqs: [number, boolean][] = [];
  const flushed: number[] = [];
  const dev = new PcTestdev({
    irq: (n) => (n < 16 ? { set: (l) => irqs.push([n, l]) } : undefined),
    flushPage: (a) => flushed.push(a),
  });
  const io = new PortIoSpace();
  io.register(PC_TESTDEV_PORTS.data, 4, dev.dataPorts, "testdev");
  io.register(PC_TESTDEV_PORTS.flushPage, 4, dev.flushPorts, "testdev-flush");
  io.register(PC_TESTDEV_PORTS.dataBytes, 4, dev.dataBytePorts, "testdev-bytes");
  io.register(PC_TESTDEV_PORTS.irq, PC_TESTDEV_PORTS.irqCount, dev.irqPorts, "testdev-irq");
  return { dev, io, irqs, flushed };
}

describe("PcTestdev", () => {
  it("keeps a 32-bit register readable at any width and byte offset", () => {
    const { io } = wire();
    io.write(0xe0, 4, 0x1234_5678);
    expect(io.read(0xe0, 4)).toBe(0x1234_5678);
    expect(io.read(0xe1, 1)).toBe(0x56);
    expect(io.read(0xe2, 2)).toBe(0x1234);
    io.write(0xe3, 1, 0xab);
    expect(io.read(0xe0, 4)).toBe(0xab34_5678);
    expect(io.read(0xe8, 4)).toBe(0xab34_5678); // the byte-wise alias
    io.write(0xe9, 2, 0xcdef);
    expect(io.read(0xe0, 4)).toBe(0xabcd_ef78);
  });

  it("sets IRQ n from a byte write to 0x2000 + n and flushes pages on 32-bit writes", () => {
    const { io, irqs, flushed, dev } = wire();
    io.write(0x2004, 1, 1);
    io.write(0x2004, 1, 0);
    io.write(0x200a, 1, 0x80);
    io.write(0x2017, 1, 1); // IRQ 23 is not connected here
    expect(irqs).toEqual([
      [4, true],
      [4, false],
      [10, true],
    ]);
    expect(dev.state().irqLevels).toBe((1 << 10) | (1 << 23));
    io.write(0xe4, 4, 0x0012_3abc);
    io.write(0xe4, 2, 0x1000); // not a 32-bit write: ignored
    expect(flushed).toEqual([0x0012_3000]);
  });

  it("keeps 64 KiB of scratch memory at 0xFF000000", () => {
    const dev = new PcTestdev();
    const space = new PhysicalAddressSpace();
    space.mapMmio(PC_TESTDEV_MMIO.base, PC_TESTDEV_MMIO.size, dev.mmio, "pc-testdev");
    space.write32(0xff00_1000, 0xcafe_f00d, AccessKind.Write);
    expect(space.read8(0xff00_1001, AccessKind.Read)).toBe(0xf0);
    expect(space.read16(0xff00_1002, AccessKind.Read)).toBe(0xcafe);
    space.write8(0xff00_ffff, 0x7e, AccessKind.Write);
    expect(space.read8(0xff00_ffff, AccessKind.Read)).toBe(0x7e);
    const restored = new PcTestdev();
    restored.fromState(JSON.parse(JSON.stringify(dev.state())));
    expect(restored.mmio.read(0x1000, 4)).toBe(0xcafe_f00d);
    expect(restored.mmio.read(0xffff, 1)).toBe(0x7e);
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op = { port: number; size: 1 | 2 | 4; v: number; read: boolean };
    const op = fc.record({
      port: fc.constantFrom(0xe0, 0xe1, 0xe2, 0xe3, 0xe8, 0xea, 0x2000, 0x2003, 0x2009, -0x10, -0xfffc),
      size: fc.constantFrom(1 as const, 2 as const, 4 as const),
      v: fc.integer({ min: 0, max: 0xffff_ffff }),
      read: fc.boolean(),
    });
    checkRoundTrip<PcTestdevState, Op>((start) => {
      const log: unknown[] = [];
      const dev = new PcTestdev({ irq: (n) => ({ set: (l) => log.push([n, l]) }) });
      const io = new PortIoSpace();
      io.register(0xe0, 4, dev.dataPorts);
      io.register(0xe8, 4, dev.dataBytePorts);
      io.register(0x2000, 24, dev.irqPorts);
      return {
        log,
        nowNs: () => start,
        state: () => dev.state(),
        fromState: (s) => dev.fromState(s),
        apply(o) {
          // Negative "ports" stand for offsets in the MMIO window.
          if (o.port < 0) {
            if (o.read) log.push(dev.mmio.read(-o.port, o.size));
            else dev.mmio.write(-o.port, o.size, o.v);
          } else if (o.read) log.push(io.read(o.port, o.size));
          else io.write(o.port, o.size, o.v);
        },
      };
    }, op);
  });
});
