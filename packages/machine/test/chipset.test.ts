// The devices wired together the way the machine will wire them, driven by a clock and an
// interrupt-acknowledge loop standing in for the CPU.
import {
  fanOut,
  I8042,
  IoApic,
  ManualClock,
  PIC_PORTS,
  PicPair,
  Pit8254,
  Port92,
  RTC_PORTS,
  RtcCmos,
  SharedIrqLine,
  type TimedDevice,
} from "@turtles/machine";
import { PortIoSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";

function chipset() {
  const clock = new ManualClock();
  const io = new PortIoSpace();
  const pic = new PicPair();
  const apicMessages: number[] = [];
  const ioapic = new IoApic({ deliver: (vector) => apicMessages.push(vector) });
  io.register(PIC_PORTS.master, 2, pic.masterPorts);
  io.register(PIC_PORTS.slave, 2, pic.slavePorts);
  const pit = new Pit8254(clock, fanOut(pic.irqLine(0), ioapic.irqLine(2)));
  io.register(0x40, 4, pit.ports);
  const rtc = new RtcCmos({ clock, irq: fanOut(pic.irqLine(8), ioapic.irqLine(8)) });
  io.register(RTC_PORTS.index, 2, rtc.ports);
  for (const [base, vectors, cascade] of [
    [0x20, 0x20, 0x04],
    [0xa0, 0x28, 0x02],
  ] as const) {
    io.write(base, 1, 0x11);
    io.write(base + 1, 1, vectors);
    io.write(base + 1, 1, cascade);
    io.write(base + 1, 1, 0x01);
  }
  const timed: TimedDevice[] = [pit, rtc];
  /** The run loop's job: advance to the next deadline (or `until`), poll, take interrupts. */
  const runUntil = (until: number, onVector: (v: number) => void) => {
    for (;;) {
      const next = Math.min(...timed.map((d) => d.nextDeadlineNs()));
      if (next > until) break;
      clock.set(Math.max(next, clock.nowNs()));
      for (const d of timed) if (d.nextDeadlineNs() <= clock.nowNs()) d.poll();
      while (pic.hasInterrupt()) onVector(pic.acknowledge());
    }
    clock.set(until);
  };
  return { clock, io, pic, pit, rtc, runUntil, apicMessages, ioapic };
}

describe("chipset wiring", () => {
  it("delivers 100 Hz PIT ticks and 2 Hz RTC periodic interrupts through the PIC cascade", () => {
    const c = chipset();
    c.io.write(0x43, 1, 0x34); // PIT counter 0, mode 2
    const divisor = Math.round(1_193_182 / 100);
    c.io.write(0x40, 1, divisor & 0xff);
    c.io.write(0x40, 1, divisor >> 8);
    c.io.write(0x70, 1, 0x0a);
    c.io.write(0x71, 1, 0x2f); // RS = 15: 2 Hz
    c.io.write(0x70, 1, 0x0b);
    c.io.write(0x71, 1, 0x42); // PIE
    const vectors = new Map<number, number>();
    c.runUntil(1_000_000_000, (v) => {
      vectors.set(v, (vectors.get(v) ?? 0) + 1);
      if (v === 0x28) {
        c.io.write(0x70, 1, 0x0c);
        c.io.read(0x71, 1); // acknowledge the RTC
        c.io.write(0xa0, 1, 0x20);
      }
      c.io.write(0x20, 1, 0x20);
    });
    // The control word raised OUT0 once; then one edge per full period of `divisor` ticks.
    expect(vectors.get(0x20)).toBe(1 + Math.floor(1_193_182 / divisor));
    expect(vectors.get(0x28)).toBe(2);
    expect([...vectors.keys()].sort()).toEqual([0x20, 0x28]);
  });

  it("routes the same PIT output to the I/O APIC when its entry is unmasked", () => {
    const c = chipset();
    c.ioapic.write(0, 4, 0x10 + 2 * 2);
    c.ioapic.write(0x10, 4, 0x30); // pin 2: vector 0x30, edge, unmasked
    c.io.write(0x43, 1, 0x34);
    c.io.write(0x40, 1, 0x00);
    c.io.write(0x40, 1, 0x10); // 4096 ticks: about 291 Hz
    c.runUntil(100_000_000, () => c.io.write(0x20, 1, 0x20));
    expect(c.apicMessages.length).toBe(1 + Math.floor((0.1 * 1_193_182) / 4096));
    expect(new Set(c.apicMessages)).toEqual(new Set([0x30]));
  });

  it("gates A20 with the OR of port 0x92 and the 8042 output port", () => {
    const a20: boolean[] = [];
    const gate = new SharedIrqLine({ set: (on) => a20.push(on) });
    const fast = gate.output();
    const kbc = gate.output();
    const port92 = new Port92({ a20: (on) => fast.set(on) });
    const i8042 = new I8042({ a20: (on) => kbc.set(on) });
    kbc.set(i8042.a20); // the 8042 starts with A20 on
    port92.write(0, 1, 0x02);
    i8042.commandPorts.write(0, 1, 0xdd); // 8042 A20 off: port 0x92 still holds it on
    port92.write(0, 1, 0x00);
    i8042.commandPorts.write(0, 1, 0xdf);
    expect(a20).toEqual([true, false, true]);
  });
});
