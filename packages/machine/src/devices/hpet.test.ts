import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ACPI_DEFAULTS } from "../acpi/tables.js";
import { ManualClock } from "./clock.js";
import { HPET_CAPABILITIES_LOW, HPET_MMIO, Hpet, type HpetState } from "./hpet.js";

function make() {
  const clock = new ManualClock();
  const events: string[] = [];
  const legacy: boolean[] = [];
  const line = (name: string) => ({ set: (l: boolean) => events.push(`${name}${l ? "+" : "-"}`) });
  const hpet = new Hpet({
    clock,
    ioapicLine: (pin) => line(`pin${pin}`),
    legacyIrq0: line("irq0"),
    legacyIrq8: line("irq8"),
    legacyChanged: (on) => legacy.push(on),
  });
  const r = (off: number) => hpet.read(off, 4);
  const w = (off: number, v: number) => hpet.write(off, 4, v);
  const run = (ns: number) => {
    const end = clock.nowNs() + ns;
    for (;;) {
      const d = hpet.nextDeadlineNs();
      if (d > end) break;
      clock.set(Math.max(d, clock.nowNs()));
      hpet.poll();
    }
    clock.set(end);
  };
  return { clock, hpet, events, legacy, r, w, run };
}

describe("HPET", () => {
  it("reports its capabilities and timer capabilities", () => {
    const { r } = make();
    expect(r(0x00)).toBe(0x8086_a201);
    expect(r(0x04)).toBe(10_000_000);
    for (let n = 0; n < 3; n++) {
      expect(r(0x100 + 0x20 * n) & 0x30).toBe(0x30); // periodic and 64-bit capable
      expect(r(0x104 + 0x20 * n)).toBe(0x00ff_0000);
    }
    expect(r(0x10)).toBe(0);
  });

  it("matches what the ACPI HPET table says about it", () => {
    expect(ACPI_DEFAULTS.hpet.blockId).toBe(HPET_CAPABILITIES_LOW);
    expect(ACPI_DEFAULTS.hpet.address).toBe(HPET_MMIO.base);
  });

  it("counts at 100 MHz only while enabled; the counter can be written while halted", () => {
    const m = make();
    m.clock.advance(1000);
    expect(m.r(0xf0)).toBe(0);
    m.w(0xf0, 0xffff_fffe);
    m.w(0xf4, 0x7);
    m.w(0x10, 1);
    m.clock.advance(35);
    expect([m.r(0xf0), m.r(0xf4)]).toEqual([1, 8]);
    m.w(0x10, 0);
    m.clock.advance(1000);
    expect([m.r(0xf0), m.r(0xf4)]).toEqual([1, 8]);
    expect(m.hpet.read(0xf1, 1)).toBe(0);
    expect(m.hpet.read(0xf4, 2)).toBe(8);
  });

  it("one-shot edge interrupt on an I/O APIC pin when the counter reaches the comparator", () => {
    const m = make();
    m.w(0x100, 0x4 | (20 << 9)); // edge, enabled, pin 20
    m.w(0x108, 100);
    m.w(0x10c, 0);
    m.w(0x10, 1);
    expect(m.hpet.nextDeadlineNs()).toBe(1000);
    m.run(999);
    expect(m.events).toEqual([]);
    m.run(1);
    expect(m.events).toEqual(["pin20+", "pin20-"]);
    m.run(100_000);
    expect(m.events.length).toBe(2); // 64-bit one-shot: once
    expect(m.r(0x20)).toBe(0); // edge: no status
  });

  it("keeps the old route when software asks for a pin the timer cannot drive", () => {
    const m = make();
    m.w(0x100, 17 << 9);
    expect((m.r(0x100) >> 9) & 0x1f).toBe(17);
    m.w(0x100, 5 << 9);
    expect((m.r(0x100) >> 9) & 0x1f).toBe(17);
  });

  it("level interrupts set the status bit and hold the line until it is cleared", () => {
    const m = make();
    m.w(0x120, 0x6 | (17 << 9)); // timer 1: level, enabled, pin 17
    m.w(0x128, 10);
    m.w(0x12c, 0);
    m.w(0x10, 1);
    m.run(100);
    expect(m.r(0x20)).toBe(2);
    expect(m.events).toEqual(["pin17+"]);
    m.w(0x20, 1); // wrong bit: nothing
    expect(m.events).toEqual(["pin17+"]);
    m.w(0x20, 2);
    expect(m.events).toEqual(["pin17+", "pin17-"]);
    expect(m.r(0x20)).toBe(0);
  });

  it("periodic mode programmed as Linux does (VAL_SET, then the period)", () => {
    const m = make();
    m.w(0x10, 1);
    m.clock.advance(500); // counter 50
    m.w(0x100, 0x4 | 0x8 | 0x40 | 0x100 | (21 << 9)); // enabled, periodic, VAL_SET, 32-bit
    m.w(0x108, m.r(0xf0) + 100);
    m.w(0x108, 100); // period
    m.run(1000);
    expect(m.events.filter((e) => e === "pin21+").length).toBe(1);
    expect(m.r(0x108)).toBe(250);
    m.run(3000);
    expect(m.events.filter((e) => e === "pin21+").length).toBe(4);
    // A long stall: missed periods coalesce into one interrupt, the comparator skips ahead.
    m.clock.advance(10_050);
    m.hpet.poll();
    expect(m.events.filter((e) => e === "pin21+").length).toBe(5);
    expect(m.r(0x108)).toBe(1550);
  });

  it("32-bit mode compares the low half and matches again after a wrap", () => {
    const m = make();
    m.w(0xf0, 0xffff_fff0);
    m.w(0x140, 0x4 | 0x100 | (22 << 9)); // timer 2: 32-bit
    m.w(0x148, 0x10);
    m.w(0x14c, 0x1234); // ignored in 32-bit mode
    expect(m.r(0x14c)).toBe(0);
    m.w(0x10, 1);
    expect(m.hpet.nextDeadlineNs()).toBe(0x20 * 10);
    m.run(0x20 * 10);
    expect(m.events).toEqual(["pin22+", "pin22-"]);
    expect(m.hpet.nextDeadlineNs()).toBe((0x20 + 2 ** 32) * 10);
  });

  it("64-bit comparators carry across the dwords", () => {
    const m = make();
    m.w(0xf0, 0xffff_fff0);
    m.w(0x100, 0x4 | (20 << 9));
    m.w(0x108, 0x10);
    m.w(0x10c, 1);
    m.w(0x10, 1);
    expect(m.hpet.nextDeadlineNs()).toBe(0x20 * 10);
    m.w(0x10c, 0); // now in the past: waits for a full 64-bit wrap
    expect(m.hpet.nextDeadlineNs()).toBe(Number.POSITIVE_INFINITY);
  });

  it("FSB delivery writes the timer's MSI message instead of driving a line", () => {
    const clock = new ManualClock();
    const messages: number[][] = [];
    const lines: string[] = [];
    const hpet = new Hpet({
      clock,
      msi: (a, d) => messages.push([a, d]),
      ioapicLine: (pin) => ({ set: (l) => lines.push(`${pin}${l}`) }),
    });
    expect(hpet.read(0x100, 4) & 0x8000).toBe(0x8000); // Tn_FSB_INT_DEL_CAP
    expect(make().r(0x100) & 0x8000).toBe(0); // not without a sink
    hpet.write(0x110, 4, 0x41); // Tn_FSB_INT_VAL
    hpet.write(0x114, 4, 0xfee0_0000); // Tn_FSB_INT_ADDR
    hpet.write(0x100, 4, 0x4 | 0x2 | 0x4000 | (20 << 9)); // enabled, level (ignored), FSB
    hpet.write(0x108, 4, 10);
    hpet.write(0x10c, 4, 0);
    hpet.write(0x10, 4, 1);
    expect([hpet.read(0x100, 4) & 0x4000, hpet.read(0x110, 4), hpet.read(0x114, 4)]).toEqual([
      0x4000, 0x41, 0xfee0_0000,
    ]);
    clock.advance(100);
    hpet.poll();
    expect(messages).toEqual([[0xfee0_0000, 0x41]]);
    expect(lines).toEqual([]);
    expect(hpet.read(0x20, 4)).toBe(0);
  });

  it("legacy replacement routes timer 0 to IRQ0 and timer 1 to IRQ8", () => {
    const m = make();
    m.w(0x100, 0x4);
    m.w(0x108, 5);
    m.w(0x10c, 0);
    m.w(0x120, 0x4);
    m.w(0x128, 7);
    m.w(0x12c, 0);
    m.w(0x10, 3);
    expect(m.legacy).toEqual([true]);
    expect(m.hpet.legacyReplacement).toBe(true);
    m.run(100);
    expect(m.events).toEqual(["irq0+", "irq0-", "irq8+", "irq8-"]);
    m.w(0x10, 1);
    expect(m.legacy).toEqual([true, false]);
  });

  it("state()/fromState() round-trips", () => {
    type Op = { k: "w"; off: number; v: number } | { k: "r"; off: number } | { k: "time"; ns: number };
    const offsets = [0x10, 0x20, 0xf0, 0xf4, 0x100, 0x108, 0x10c, 0x120, 0x128, 0x12c, 0x140, 0x148];
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        k: fc.constant("w" as const),
        off: fc.constantFrom(...offsets),
        v: fc.oneof(
          fc.nat(300),
          fc.constantFrom(1, 3, 0x4 | (20 << 9), 0x6 | (16 << 9), 0x4c | (18 << 9), 0x104, 0xffff_fff0),
        ),
      }),
      fc.record({ k: fc.constant("r" as const), off: fc.constantFrom(...offsets) }),
      fc.record({ k: fc.constant("time" as const), ns: fc.nat(3000) }),
    );
    checkRoundTrip<HpetState, Op>((startNs) => {
      const clock = new ManualClock(startNs);
      const log: unknown[] = [];
      const hpet = new Hpet({
        clock,
        ioapicLine: (pin) => ({ set: (l) => log.push([pin, l]) }),
        legacyIrq0: { set: (l) => log.push(["irq0", l]) },
        legacyIrq8: { set: (l) => log.push(["irq8", l]) },
      });
      return {
        log,
        nowNs: () => clock.nowNs(),
        apply(o) {
          if (o.k === "w") hpet.write(o.off, 4, o.v);
          else if (o.k === "r") log.push(hpet.read(o.off, 4));
          else {
            clock.advance(o.ns);
            if (clock.nowNs() >= hpet.nextDeadlineNs()) hpet.poll();
            log.push(hpet.nextDeadlineNs());
          }
        },
        state: () => hpet.state(),
        fromState: (s) => hpet.fromState(s),
      };
    }, op);
  });
});
