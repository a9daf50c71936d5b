// The new platform devices wired together as the machine will wire them: HPET and PIT through the
// I/O APIC to the local APIC, EOIs back, the 8259A through LINT0, and PCI BARs in the address space.
import { AccessKind, PhysicalAddressSpace, PortIoSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import {
  fanOut,
  HPET_MMIO,
  Hpet,
  IOAPIC_MMIO,
  IoApic,
  LOCAL_APIC_MMIO,
  LocalApic,
  ManualClock,
  mapBarsInto,
  PciBus,
  PciTestdev,
  PicPair,
  Pit8254,
  type TimedDevice,
} from "../src/index.js";

function platform() {
  const clock = new ManualClock();
  const space = new PhysicalAddressSpace();
  const io = new PortIoSpace();
  let lapic: LocalApic | undefined;
  const ioapic = new IoApic({ deliver: (...m) => lapic?.deliver(...m) });
  const pic = new PicPair({ set: (l) => lapic?.lint0Line.set(l) });
  lapic = new LocalApic({ clock, eoiBroadcast: (v) => ioapic.eoi(v), extInt: pic });
  const hpet = new Hpet({
    clock,
    ioapicLine: (pin) => ioapic.irqLine(pin),
    legacyIrq0: fanOut(pic.irqLine(0), ioapic.irqLine(2)),
    legacyIrq8: fanOut(pic.irqLine(8), ioapic.irqLine(8)),
  });
  const pit = new Pit8254(clock, fanOut(pic.irqLine(0), ioapic.irqLine(2)));
  space.mapMmio(IOAPIC_MMIO.base, IOAPIC_MMIO.size, ioapic, "ioapic");
  space.mapMmio(LOCAL_APIC_MMIO.base, LOCAL_APIC_MMIO.size, lapic, "lapic");
  space.mapMmio(HPET_MMIO.base, HPET_MMIO.size, hpet, "hpet");
  io.register(0x40, 4, pit.ports, "pit");
  io.register(0x20, 2, pic.masterPorts, "pic1");
  io.register(0xa0, 2, pic.slavePorts, "pic2");
  const timed: TimedDevice[] = [lapic, hpet, pit];
  const w32 = (a: number, v: number) => space.write32(a, v, AccessKind.Write);
  const r32 = (a: number) => space.read32(a, AccessKind.Read);
  const redirect = (pin: number, lo: number) => {
    w32(IOAPIC_MMIO.base, 0x10 + 2 * pin);
    w32(IOAPIC_MMIO.base + 0x10, lo);
  };
  /** The machine's loop: advance to the next deadline, poll, take interrupts. */
  const run = (ns: number, taken: number[]) => {
    const end = clock.nowNs() + ns;
    for (;;) {
      const next = Math.min(...timed.map((d) => d.nextDeadlineNs()));
      if (next > end) break;
      clock.set(Math.max(next, clock.nowNs()));
      for (const d of timed) if (d.nextDeadlineNs() <= clock.nowNs()) d.poll();
      while (lapic.hasInterrupt()) {
        const v = lapic.acknowledge();
        taken.push(v);
        if (v >= 0x30 && v < 0x40) r32(HPET_MMIO.base + 0x20) && w32(HPET_MMIO.base + 0x20, 7); // handler clears HPET status
        if (v >= 0x20 && v < 0x30) io.write(0x20, 1, 0x20); // PIC EOI
        w32(LOCAL_APIC_MMIO.base + 0xb0, 0);
      }
    }
    clock.set(end);
  };
  return { clock, space, io, lapic, ioapic, pic, hpet, pit, w32, r32, redirect, run };
}

describe("platform wiring", () => {
  it("a level-triggered HPET timer through the I/O APIC to the local APIC, EOI broadcast back", () => {
    const p = platform();
    p.w32(LOCAL_APIC_MMIO.base + 0xf0, 0x1ff);
    p.w32(LOCAL_APIC_MMIO.base + 0x350, 0x1_0700); // LINT0 masked: APIC mode only
    p.redirect(20, 0x8000 | 0x34); // level, active high
    p.w32(HPET_MMIO.base + 0x100, 0x4 | 0x2 | 0x8 | 0x40 | 0x100 | (20 << 9)); // periodic level 32-bit
    p.w32(HPET_MMIO.base + 0x108, 1000);
    p.w32(HPET_MMIO.base + 0x108, 1000);
    p.w32(HPET_MMIO.base + 0x10, 1);
    const taken: number[] = [];
    p.run(100_000, taken); // 10 periods of 10 us
    expect(taken).toEqual(new Array(10).fill(0x34));
    p.w32(IOAPIC_MMIO.base, 0x10 + 40);
    expect(p.r32(IOAPIC_MMIO.base + 0x10) & 0x4000).toBe(0); // Remote IRR cleared by the EOIs
  });

  it("the PIT through the 8259A and LINT0 (virtual wire), then through the I/O APIC pin 2", () => {
    const p = platform();
    for (const [port, v] of [
      [0x20, 0x11],
      [0x21, 0x20],
      [0x21, 0x04],
      [0x21, 0x01],
      [0x21, 0xfe], // only IRQ0
    ] as const)
      p.io.write(port, 1, v);
    p.io.write(0x43, 1, 0x34); // counter 0, mode 2
    p.io.write(0x40, 1, 0xa9); // 1193 -> ~1 ms
    p.io.write(0x40, 1, 0x04);
    const taken: number[] = [];
    p.run(5_000_000, taken);
    // One interrupt per ~1 ms period (plus the edge of the initial count load).
    expect(taken.length).toBeGreaterThanOrEqual(5);
    expect(taken.length).toBeLessThanOrEqual(6);
    expect(new Set(taken)).toEqual(new Set([0x20]));
    // Switch to the I/O APIC: mask the PIC and LINT0, route pin 2 (IRQ0 override) to 0x31.
    p.io.write(0x21, 1, 0xff);
    p.w32(LOCAL_APIC_MMIO.base + 0xf0, 0x1ff);
    p.w32(LOCAL_APIC_MMIO.base + 0x350, 0x1_0700);
    p.redirect(2, 0x31);
    taken.length = 0;
    p.run(3_000_000, taken);
    expect(taken).toEqual([0x31, 0x31, 0x31]);
  });

  it("PCI BARs appear in the address space when the guest enables decoding", () => {
    const space = new PhysicalAddressSpace();
    const io = new PortIoSpace();
    const bus = new PciBus(mapBarsInto(space, io));
    const dev = new PciTestdev();
    bus.plug({ bus: 0, device: 4, fn: 0 }, dev);
    dev.writeConfig(0x10, 4, 0xfe80_0000);
    dev.writeConfig(0x04, 2, 0x2);
    space.write8(0xfe80_0000, 1, AccessKind.Write); // select mmio-wildcard-eventfd
    space.write8(0xfe80_0000 + 2049, 0x55, AccessKind.Write);
    expect(space.read32(0xfe80_000c, AccessKind.Read)).toBe(1);
  });
});
