import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { Port92, type Port92State } from "./port92.js";

describe("Port92", () => {
  it("drives A20 from bit 1 and requests a reset on a rising bit 0", () => {
    const events: unknown[] = [];
    const p = new Port92({ a20: (on) => events.push(["a20", on]), reset: (k) => events.push(["reset", k]) });
    p.write(0, 1, 0x02);
    expect(p.a20).toBe(true);
    expect(p.read(0, 1)).toBe(0x02);
    p.write(0, 1, 0x03);
    p.write(0, 1, 0x03); // still set: no new request
    p.write(0, 1, 0x00);
    expect(events).toEqual([
      ["a20", true],
      ["reset", "soft"],
      ["a20", false],
    ]);
  });

  it("state()/fromState() round-trips (property)", () => {
    checkRoundTrip<Port92State, number>(
      (start) => {
        const log: unknown[] = [];
        const p = new Port92({ a20: (on) => log.push(on), reset: (k) => log.push(k) });
        return {
          log,
          nowNs: () => start,
          state: () => p.state(),
          fromState: (s) => p.fromState(s),
          apply: (v) => (v < 0 ? log.push(p.read(0, 1)) : p.write(0, 1, v)),
        };
      },
      fc.integer({ min: -1, max: 255 }),
    );
  });
});
