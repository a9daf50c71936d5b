import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ResetControl, type ResetControlState } from "./reset-control.js";

describe("ResetControl (0xCF9)", () => {
  it("requests soft, hard and full resets through RST_CPU", () => {
    const kinds: string[] = [];
    const r = new ResetControl({ reset: (k) => kinds.push(k) });
    r.write(0, 1, 0x02); // SYS_RST alone: no reset yet
    expect(r.read(0, 1)).toBe(0x02);
    r.write(0, 1, 0x06);
    r.write(0, 1, 0x04);
    r.write(0, 1, 0x0e);
    r.write(0, 1, 0x0c); // FULL_RST without SYS_RST is a soft reset
    expect(kinds).toEqual(["hard", "soft", "full", "soft"]);
    expect(r.read(0, 1)).toBe(0x08);
  });

  it("state()/fromState() round-trips (property)", () => {
    checkRoundTrip<ResetControlState, number>(
      (start) => {
        const log: unknown[] = [];
        const r = new ResetControl({ reset: (k) => log.push(k) });
        return {
          log,
          nowNs: () => start,
          state: () => r.state(),
          fromState: (s) => r.fromState(s),
          apply: (v) => (v < 0 ? log.push(r.read(0, 1)) : r.write(0, 1, v)),
        };
      },
      fc.integer({ min: -1, max: 255 }),
    );
  });
});
