import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { I8042, type I8042State } from "./i8042.js";

function setup() {
  const events: unknown[] = [];
  let irq = false;
  const kbc = new I8042(
    { a20: (on) => events.push(["a20", on]), reset: (k) => events.push(["reset", k]) },
    { set: (l) => (irq = l) },
  );
  const cmd = (v: number) => kbc.commandPorts.write(0, 1, v);
  const data = (v: number) => kbc.dataPorts.write(0, 1, v);
  const status = () => kbc.commandPorts.read(0, 1);
  const read = () => kbc.dataPorts.read(0, 1);
  return { kbc, events, cmd, data, status, read, irq: () => irq };
}

describe("I8042", () => {
  it("pulses the reset line on command 0xFE", () => {
    const s = setup();
    s.cmd(0xfe);
    s.cmd(0xff); // pulses nothing
    expect(s.events).toEqual([["reset", "soft"]]);
  });

  it("switches A20 through the output port (0xD1) and 0xDD/0xDF, and reads it back (0xD0)", () => {
    const s = setup();
    expect(s.kbc.a20).toBe(true);
    s.cmd(0xd1);
    s.data(0xcd); // A20 off, reset line high
    expect(s.kbc.a20).toBe(false);
    s.cmd(0xd0);
    expect(s.status() & 1).toBe(1);
    expect(s.read()).toBe(0xcd);
    s.cmd(0xdf);
    s.cmd(0xdd);
    s.cmd(0xd1);
    s.data(0xce); // reset line low: a reset request
    expect(s.events).toEqual([
      ["a20", false],
      ["a20", true],
      ["a20", false],
      ["a20", true],
      ["reset", "soft"],
    ]);
  });

  it("answers self tests, keeps the command byte and raises IRQ1 for output when enabled", () => {
    const s = setup();
    s.cmd(0xaa);
    expect(s.irq()).toBe(true);
    expect(s.read()).toBe(0x55);
    expect(s.irq()).toBe(false);
    expect(s.status() & 0x04).toBe(0x04); // system flag after the self test
    s.cmd(0x60);
    s.data(0x44); // interrupts off, translate, system flag
    s.cmd(0x20);
    expect(s.irq()).toBe(false);
    expect(s.read()).toBe(0x44);
    s.data(0xff); // keyboard reset
    expect([s.read(), s.read()]).toEqual([0xfa, 0xaa]);
    s.data(0xf0);
    s.data(0x00);
    expect([s.read(), s.read(), s.read()]).toEqual([0xfa, 0xfa, 0x02]);
    expect(s.status() & 1).toBe(0);
    expect(s.kbc.pushScancodes([0x1e, 0x9e])).toBe(2);
    expect([s.read(), s.read()]).toEqual([0x1e, 0x9e]);
    expect(s.kbc.pushScancodes(new Array(20).fill(0x1e))).toBe(16);
    for (let i = 0; i < 10; i++) s.data(0xff); // a guest that never reads: the buffer stays bounded
    expect(s.kbc.state().output.length).toBe(16);
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op = { port: "cmd" | "data"; v: number; read: boolean } | { keys: number[] };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        port: fc.constantFrom("cmd" as const, "data" as const),
        v: fc.oneof(
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom(0x20, 0x60, 0xaa, 0xd0, 0xd1, 0xdd, 0xdf, 0xfe, 0xf0, 0xed),
        ),
        read: fc.boolean(),
      }),
      fc.record({ keys: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }) }),
    );
    checkRoundTrip<I8042State, Op>((start) => {
      const log: unknown[] = [];
      const kbc = new I8042(
        { a20: (on) => log.push(["a20", on]), reset: (k) => log.push(k) },
        { set: (l) => log.push(l) },
      );
      return {
        log,
        nowNs: () => start,
        state: () => kbc.state(),
        fromState: (s) => kbc.fromState(s),
        apply(o) {
          if ("keys" in o) kbc.pushScancodes(o.keys);
          else {
            const h = o.port === "cmd" ? kbc.commandPorts : kbc.dataPorts;
            if (o.read) log.push(h.read(0, 1));
            else h.write(0, 1, o.v);
          }
        },
      };
    }, op);
  });
});
