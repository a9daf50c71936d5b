import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ManualClock } from "./clock.js";
import { RtcRegister as R, RtcCmos, type RtcCmosState } from "./rtc-cmos.js";

const S = 1_000_000_000;

function setup(startTimeMs = Date.UTC(2024, 1, 29, 23, 59, 58)) {
  const clock = new ManualClock();
  let irq = false;
  let rises = 0;
  const nmi: boolean[] = [];
  const rtc = new RtcCmos({
    clock,
    startTimeMs,
    irq: {
      set: (l) => {
        if (l && !irq) rises++;
        irq = l;
      },
    },
    nmiMask: (m) => nmi.push(m),
  });
  const read = (i: number) => {
    rtc.ports.write(0, 1, i);
    return rtc.ports.read(1, 1);
  };
  const write = (i: number, v: number) => {
    rtc.ports.write(0, 1, i);
    rtc.ports.write(1, 1, v);
  };
  const time = () =>
    [R.Year, R.Month, R.DayOfMonth, R.DayOfWeek, R.Hours, R.Minutes, R.Seconds, R.Century].map(read);
  return { clock, rtc, read, write, time, irq: () => irq, rises: () => rises, nmi };
}

describe("RtcCmos (MC146818)", () => {
  it("starts at the configured date in 24-hour BCD and ticks with the virtual clock", () => {
    const s = setup();
    expect(s.time()).toEqual([0x24, 0x02, 0x29, 0x05, 0x23, 0x59, 0x58, 0x20]);
    s.clock.set(2 * S - 1);
    expect(s.read(R.Seconds)).toBe(0x59);
    s.clock.set(2 * S);
    expect(s.time()).toEqual([0x24, 0x03, 0x01, 0x06, 0x00, 0x00, 0x00, 0x20]);
    s.clock.set(2 * S + 86_400 * S * 100);
    expect(s.time()).toEqual([0x24, 0x06, 0x09, 0x01, 0x00, 0x00, 0x00, 0x20]);
  });

  it("switches to binary and 12-hour format", () => {
    const s = setup();
    s.write(R.B, 0x04); // binary, 12-hour
    expect(s.read(R.Hours)).toBe(0x80 | 11);
    expect(s.read(R.Minutes)).toBe(59);
    s.write(R.B, 0x06); // binary, 24-hour
    expect(s.read(R.Hours)).toBe(23);
    s.write(R.B, 0x00); // BCD 12-hour
    expect(s.read(R.Hours)).toBe(0x91);
  });

  it("lets the guest set the time with SET held, then runs from it", () => {
    const s = setup();
    s.write(R.B, 0x82);
    s.write(R.Hours, 0x12);
    s.write(R.Minutes, 0x34);
    s.write(R.Seconds, 0x56);
    s.write(R.Year, 0x99);
    s.write(R.Century, 0x19);
    s.write(R.Month, 0x12);
    s.write(R.DayOfMonth, 0x31);
    s.clock.set(5 * S); // frozen while SET
    expect(s.read(R.Seconds)).toBe(0x56);
    s.write(R.B, 0x02);
    s.clock.set(6 * S);
    expect(s.time()).toEqual([0x99, 0x12, 0x31, 0x06, 0x12, 0x34, 0x57, 0x19]);
  });

  it("keeps a century of 0 as written (years 0-99 are not 1900-1999)", () => {
    const s = setup();
    s.write(R.B, 0x82);
    s.write(R.Century, 0x00);
    s.write(R.Year, 0x50);
    s.write(R.B, 0x02);
    s.clock.set(2 * S);
    expect([s.read(R.Century), s.read(R.Year)]).toEqual([0x00, 0x50]);
  });

  it("sets UIP only in the 244 us before an update, and never with SET or a stopped divider", () => {
    const s = setup();
    s.clock.set(S - 244_001);
    expect(s.read(R.A)).toBe(0x26);
    s.clock.set(S - 244_000);
    expect(s.read(R.A)).toBe(0xa6);
    s.write(R.B, 0x82);
    expect(s.read(R.A)).toBe(0x26);
    s.write(R.B, 0x02);
    s.write(R.A, 0x76); // divider reset
    expect(s.read(R.A)).toBe(0x76);
    s.clock.set(10 * S);
    expect(s.read(R.Seconds)).toBe(0x58); // stopped before the first update
    s.write(R.A, 0x26); // released: first update 500 ms later
    s.clock.set(10 * S + S / 2 - 1);
    expect(s.read(R.Seconds)).toBe(0x58);
    s.clock.set(10 * S + S / 2);
    expect(s.read(R.Seconds)).toBe(0x59);
  });

  it.each([
    [0x03, 8192],
    [0x06, 1024],
    [0x01, 256],
    [0x02, 128],
    [0x0f, 2],
  ])("raises periodic interrupts at the RS = %i rate (%i Hz)", (rs, hz) => {
    const s = setup();
    s.write(R.A, 0x20 | rs);
    s.write(R.B, 0x42); // PIE
    let count = 0;
    for (;;) {
      const due = s.rtc.nextDeadlineNs();
      if (due > S) break;
      s.clock.set(due);
      s.rtc.poll();
      expect(s.irq()).toBe(true);
      expect(s.read(R.C) & 0xc0).toBe(0xc0); // IRQF | PF
      expect(s.irq()).toBe(false);
      count++;
    }
    expect(count).toBe(hz);
  });

  it("raises update-ended and alarm interrupts; reading C clears the flags and IRQ8", () => {
    const s = setup();
    s.write(R.A, 0x20); // no periodic flag (RS = 0): PF is set whatever PIE says
    s.write(R.B, 0x12); // UIE
    expect(s.rtc.nextDeadlineNs()).toBe(S);
    s.clock.set(S);
    s.rtc.poll();
    expect(s.irq()).toBe(true);
    expect(s.read(R.C)).toBe(0x90);
    expect(s.irq()).toBe(false);
    expect(s.read(R.C)).toBe(0x00);
    // Alarm at 00:00:01 of the next day (BCD), AIE only.
    s.write(R.B, 0x22);
    s.write(R.HoursAlarm, 0x00);
    s.write(R.MinutesAlarm, 0x00);
    s.write(R.SecondsAlarm, 0x01);
    s.clock.set(2 * S);
    s.rtc.poll();
    expect(s.irq()).toBe(false); // update flag only: UIE is off
    s.clock.set(3 * S);
    s.rtc.poll();
    expect(s.irq()).toBe(true);
    expect(s.read(R.C)).toBe(0xb0); // IRQF | AF | UF
    // Don't-care alarm bytes match every second.
    s.write(R.SecondsAlarm, 0xc0);
    s.write(R.HoursAlarm, 0xff);
    s.write(R.MinutesAlarm, 0xc5);
    s.clock.set(4 * S);
    s.rtc.poll();
    expect(s.read(R.C)).toBe(0xb0);
    expect(s.rises()).toBe(3);
  });

  it("keeps the NMI-disable bit of the index port and 128 bytes of CMOS RAM", () => {
    const s = setup();
    s.rtc.ports.write(0, 1, 0x80 | 0x40);
    expect(s.rtc.nmiDisabled).toBe(true);
    s.rtc.ports.write(1, 1, 0xab);
    s.rtc.ports.write(0, 1, 0x40);
    expect(s.rtc.nmiDisabled).toBe(false);
    expect(s.nmi).toEqual([true, false]);
    expect(s.rtc.ports.read(1, 1)).toBe(0xab);
    s.rtc.setCmos(0x34, 0x12);
    expect(s.read(0x34)).toBe(0x12);
    expect(s.read(R.D)).toBe(0x80);
    s.write(R.C, 0xff); // read-only
    expect(s.read(R.C)).toBe(0);
    expect(() => s.rtc.setCmos(0x05, 0)).toThrow(RangeError);
    expect(s.rtc.readCmos(R.Century)).toBe(0x20);
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op = { k: "w"; i: number; v: number } | { k: "r"; i: number } | { k: "t"; ns: number };
    const reg = fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x32, 0x40, 0x8a);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        k: fc.constant("w" as const),
        i: reg,
        v: fc.oneof(
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom(0x26, 0x23, 0x2f, 0x76, 0x02, 0x12, 0x42, 0x72, 0x86),
        ),
      }),
      fc.record({ k: fc.constant("r" as const), i: reg }),
      fc.record({ k: fc.constant("t" as const), ns: fc.integer({ min: 0, max: 3 * S }) }),
    );
    checkRoundTrip<RtcCmosState, Op>((start) => {
      const clock = new ManualClock(start);
      const log: unknown[] = [];
      const rtc = new RtcCmos({
        clock,
        irq: { set: (l) => log.push(["irq", l]) },
        startTimeMs: Date.UTC(2030, 5, 1),
      });
      return {
        log,
        nowNs: () => clock.nowNs(),
        state: () => rtc.state(),
        fromState: (st) => rtc.fromState(st),
        apply(o) {
          if (o.k === "w") {
            rtc.ports.write(0, 1, o.i);
            rtc.ports.write(1, 1, o.v);
          } else if (o.k === "r") {
            rtc.ports.write(0, 1, o.i);
            log.push(rtc.ports.read(1, 1));
          } else {
            clock.advance(o.ns);
            rtc.poll();
            log.push(rtc.nextDeadlineNs());
          }
        },
      };
    }, op);
  });
});
