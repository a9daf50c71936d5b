import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock, nsToTicks, ticksToNs } from "./clock.js";

describe("clock", () => {
  it("nsToTicks is floor(ns * hz / 1e9) and ticksToNs is its least inverse (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(1_193_182, 3_579_545, 32_768, 1),
        (fraction, hz) => {
          // Any tick count whose time stays below 2^53 ns (about 104 days).
          const ticks = Math.floor(fraction * hz * 9_000_000);
          const ns = ticksToNs(ticks, hz);
          expect(nsToTicks(ns, hz)).toBe(ticks);
          if (ns > 0) expect(nsToTicks(ns - 1, hz)).toBe(ticks - 1);
        },
      ),
    );
    expect(nsToTicks(1_000_000_000, 1_193_182)).toBe(1_193_182);
    expect(nsToTicks(999_999_999, 32_768)).toBe(32_767);
    expect(nsToTicks(2 ** 52, 1_193_182)).toBe(Number((2n ** 52n * 1_193_182n) / 1_000_000_000n));
  });

  it("ManualClock only moves forward", () => {
    const c = new ManualClock(5);
    c.advance(10);
    expect(c.nowNs()).toBe(15);
    expect(() => c.set(3)).toThrow(RangeError);
    expect(() => c.advance(-1)).toThrow(RangeError);
    c.set(20);
    expect(c.nowNs()).toBe(20);
  });
});
