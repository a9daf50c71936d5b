import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ManualClock, ticksToNs } from "./clock.js";
import { PIT_HZ, Pit8254, type Pit8254State } from "./pit8254.js";

function setup() {
  const clock = new ManualClock();
  const levels: boolean[] = [];
  let rises = 0;
  let level = false;
  const pit = new Pit8254(clock, {
    set: (l) => {
      if (l && !level) rises++;
      level = l;
      levels.push(l);
    },
  });
  const at = (tick: number) => {
    clock.set(ticksToNs(tick, PIT_HZ));
    pit.poll();
  };
  const w = (port: number, v: number) => pit.ports.write(port, 1, v);
  const r = (port: number) => pit.ports.read(port, 1);
  return { clock, pit, at, w, r, rises: () => rises, level: () => level, levels };
}

/** OUT of counter `n` sampled at ticks 0..`ticks` - 1 relative to `start`. */
function waveform(s: ReturnType<typeof setup>, n: number, start: number, ticks: number): string {
  let wave = "";
  for (let t = 0; t < ticks; t++) {
    s.at(start + t);
    wave += s.pit.out(n) ? "1" : "0";
  }
  return wave;
}

describe("Pit8254", () => {
  it("mode 0: OUT low after the count is written, high at terminal count, IRQ0 rises once", () => {
    const s = setup();
    s.w(3, 0x30); // counter 0, LSB then MSB, mode 0
    s.w(0, 5);
    s.w(0, 0);
    expect(waveform(s, 0, 0, 8)).toBe("00000111");
    expect(s.rises()).toBe(1);
    s.at(100_000);
    expect(s.rises()).toBe(1);
  });

  it("mode 2: rate generator, one low tick per period and one IRQ0 edge per period", () => {
    const s = setup();
    s.w(3, 0x34);
    s.w(0, 4);
    s.w(0, 0);
    expect(waveform(s, 0, 0, 12)).toBe("111011101110");
    // The control word sets OUT high (one edge), then OUT rises again at ticks 4 and 8.
    expect(s.rises()).toBe(3);
    expect(s.pit.nextDeadlineNs()).toBe(ticksToNs(12, PIT_HZ));
    s.at(13);
    expect(s.pit.nextDeadlineNs()).toBe(ticksToNs(15, PIT_HZ));
  });

  it("keeps a reached deadline (in the past) until polled", () => {
    const s = setup();
    s.w(3, 0x34);
    s.w(0, 4);
    s.w(0, 0);
    const due = s.pit.nextDeadlineNs();
    expect(due).toBe(ticksToNs(3, PIT_HZ));
    s.clock.set(ticksToNs(1000, PIT_HZ));
    expect(s.pit.nextDeadlineNs()).toBe(due);
    s.pit.poll();
    expect(s.pit.nextDeadlineNs()).toBe(ticksToNs(1003, PIT_HZ));
  });

  it("mode 3: square wave, high ceil(N/2) and low floor(N/2)", () => {
    const s = setup();
    s.w(3, 0x36);
    s.w(0, 6);
    s.w(0, 0);
    expect(waveform(s, 0, 0, 12)).toBe("111000111000");
    s.at(12);
    s.w(3, 0x36);
    s.w(0, 7);
    s.w(0, 0);
    expect(waveform(s, 0, 12, 14)).toBe("11110001111000");
  });

  it("coalesces periods missed between polls into one IRQ0 pulse", () => {
    const s = setup();
    s.w(3, 0x34);
    s.w(0, 10);
    s.w(0, 0);
    expect(s.rises()).toBe(1); // the control word set OUT high
    s.at(1_000);
    expect(s.rises()).toBe(2);
    expect(s.level()).toBe(true);
  });

  it("mode 4: a one-tick strobe at terminal count", () => {
    const s = setup();
    s.w(3, 0x38);
    s.w(0, 3);
    s.w(0, 0);
    expect(waveform(s, 0, 0, 7)).toBe("1110111");
  });

  it("mode 1 and mode 5 wait for a gate trigger (channel 2 through port 0x61)", () => {
    const s = setup();
    s.w(3, 0xb2); // counter 2, LSB/MSB, mode 1
    s.w(2, 3);
    s.w(2, 0);
    expect(waveform(s, 2, 0, 3)).toBe("111");
    s.pit.portBPorts.write(0, 1, 0x01); // gate rises at tick 2: trigger
    expect(waveform(s, 2, 2, 5)).toBe("00011");
    expect(s.pit.portBPorts.read(0, 1) & 0x21).toBe(0x21); // OUT2 and gate readback
    s.w(3, 0xba); // mode 5
    s.w(2, 2);
    s.w(2, 0);
    s.pit.portBPorts.write(0, 1, 0x00);
    expect(waveform(s, 2, 7, 3)).toBe("111");
    s.pit.portBPorts.write(0, 1, 0x01); // trigger at 9
    expect(waveform(s, 2, 9, 4)).toBe("1101");
  });

  it("gate low pauses mode 0 and forces OUT high in mode 2", () => {
    const s = setup();
    s.pit.portBPorts.write(0, 1, 0x01);
    s.w(3, 0xb0); // counter 2 mode 0
    s.w(2, 4);
    s.w(2, 0);
    s.at(2);
    s.pit.portBPorts.write(0, 1, 0x00);
    expect(waveform(s, 2, 2, 5)).toBe("00000");
    s.pit.portBPorts.write(0, 1, 0x01); // resume at 6 with two ticks left
    expect(waveform(s, 2, 7, 3)).toBe("011");
    s.w(3, 0xb4); // mode 2
    s.w(2, 3);
    s.w(2, 0);
    expect(waveform(s, 2, 9, 3)).toBe("110");
    s.at(11);
    s.pit.portBPorts.write(0, 1, 0x00);
    expect(waveform(s, 2, 13, 3)).toBe("111");
  });

  it("reads the counting element live, LSB then MSB", () => {
    const s = setup();
    s.w(3, 0x30);
    s.w(0, 0x34);
    s.w(0, 0x12);
    s.at(0x10);
    expect(s.r(0)).toBe(0x24);
    expect(s.r(0)).toBe(0x12);
    s.w(3, 0x10); // LSB only
    s.w(0, 0x80);
    s.at(0x20);
    expect(s.r(0)).toBe(0x70);
    expect(s.r(0)).toBe(0x70);
    s.w(3, 0x20); // MSB only
    s.w(0, 0x02);
    s.at(0x21);
    expect(s.r(0)).toBe(0x01);
  });

  it("counter latch holds the value until both bytes are read", () => {
    const s = setup();
    s.w(3, 0x34);
    s.w(0, 0x00);
    s.w(0, 0x10); // 0x1000
    s.at(0x100);
    s.w(3, 0x00); // latch counter 0
    s.at(0x180);
    s.w(3, 0x00); // a second latch before reading is ignored
    expect(s.r(0)).toBe(0x00);
    expect(s.r(0)).toBe(0x0f);
    expect(s.r(0)).toBe(0x80); // live again
    expect(s.r(0)).toBe(0x0e);
  });

  it("read-back latches status (OUT, null count, access, mode, BCD) and count", () => {
    const s = setup();
    s.w(3, 0x76); // counter 1, LSB/MSB, mode 3
    s.w(3, 0xc4); // read-back count+status of counter 1
    expect(s.r(1)).toBe(0x40 | 0x80 | 0x30 | 0x06); // null count before the count is written
    s.r(1);
    s.r(1);
    s.w(1, 10);
    s.w(1, 0);
    s.at(5);
    s.w(3, 0xe4); // status only
    expect(s.r(1)).toBe(0x36); // OUT low in the second half, count loaded
    s.w(3, 0xd4); // count only
    s.at(7);
    expect(s.r(1)).toBe(10);
    expect(s.r(1)).toBe(0);
  });

  it("counts in BCD and treats a zero count as the maximum", () => {
    const s = setup();
    s.w(3, 0x31); // mode 0, BCD
    s.w(0, 0x00);
    s.w(0, 0x10); // 1000 decimal
    s.at(1);
    expect(s.r(0)).toBe(0x99);
    expect(s.r(0)).toBe(0x09);
    s.at(1000);
    expect(s.pit.out(0)).toBe(true);
    s.w(3, 0x34);
    s.w(0, 0);
    s.w(0, 0); // 65536
    s.at(1000 + 65535);
    expect(s.pit.out(0)).toBe(false);
    s.at(1000 + 65536);
    expect(s.pit.out(0)).toBe(true);
    expect(s.rises()).toBe(2); // terminal count (OUT stays high into mode 2), end of the period
  });

  it("matches a clock-by-clock model of the counting element in modes 0, 2, 3 and 4 (property)", () => {
    // The datasheet's counting element, stepped one CLK at a time from the count write.
    function model(mode: number, n: number, ticks: number): { out: boolean[]; ce: number[] } {
      let ce = n;
      let out = mode !== 0;
      const outs: boolean[] = [];
      const ces: number[] = [];
      for (let d = 0; d < ticks; d++) {
        if (d > 0) {
          if (mode === 0 || mode === 4) {
            ce = (ce - 1) & 0xffff;
            if (mode === 0 && ce === 0) out = true;
          } else if (mode === 2) {
            ce = ce === 1 ? n : ce - 1;
          } else {
            // Mode 3: odd counts lose 1 first in the high half and 3 in the low half.
            const first = ce === n;
            ce -= first && n % 2 === 1 ? (out ? 1 : 3) : 2;
            if (ce <= 0) {
              out = !out;
              ce = n;
            }
          }
        }
        if (mode === 2) out = ce !== 1;
        if (mode === 4) out = !(d === n);
        outs.push(out);
        ces.push(ce);
      }
      return { out: outs, ce: ces };
    }
    fc.assert(
      fc.property(fc.constantFrom(0, 2, 3, 4), fc.integer({ min: 2, max: 200 }), (mode, n) => {
        const s = setup();
        s.w(3, 0x30 | (mode << 1));
        s.w(0, n & 0xff);
        s.w(0, n >> 8);
        const want = model(mode, n, 3 * n + 2);
        for (let d = 0; d < want.out.length; d++) {
          s.at(d);
          expect(s.pit.out(0)).toBe(want.out[d]);
          s.w(3, 0x00);
          expect(s.r(0) | (s.r(0) << 8)).toBe(want.ce[d]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op =
      | { k: "w"; port: number; v: number }
      | { k: "r"; port: number }
      | { k: "t"; ticks: number }
      | { k: "b"; v: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        k: fc.constant("w" as const),
        port: fc.integer({ min: 0, max: 3 }),
        v: fc.oneof(
          fc.integer({ min: 0, max: 255 }),
          fc
            .integer({ min: 0, max: 2 })
            .chain((c) => fc.integer({ min: 0, max: 63 }).map((low) => (c << 6) | low)),
        ),
      }),
      fc.record({ k: fc.constant("r" as const), port: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ k: fc.constant("t" as const), ticks: fc.integer({ min: 0, max: 5000 }) }),
      fc.record({ k: fc.constant("b" as const), v: fc.integer({ min: 0, max: 255 }) }),
    );
    checkRoundTrip<Pit8254State, Op>((start) => {
      const clock = new ManualClock(start);
      const log: unknown[] = [];
      const pit = new Pit8254(clock, { set: (l) => log.push(["irq", l]) });
      return {
        log,
        nowNs: () => clock.nowNs(),
        state: () => pit.state(),
        fromState: (st) => pit.fromState(st),
        apply(o) {
          if (o.k === "w") pit.ports.write(o.port, 1, o.v);
          else if (o.k === "r") log.push(pit.ports.read(o.port, 1), pit.portBPorts.read(0, 1));
          else if (o.k === "b") pit.portBPorts.write(0, 1, o.v);
          else {
            clock.advance(o.ticks * 838);
            pit.poll();
            log.push(pit.nextDeadlineNs());
          }
        },
      };
    }, op);
  });
});
