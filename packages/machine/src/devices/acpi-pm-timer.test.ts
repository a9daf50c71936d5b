import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ACPI_PM_TIMER_HZ, AcpiPmTimer, type AcpiPmTimerState } from "./acpi-pm-timer.js";
import { ManualClock } from "./clock.js";

describe("AcpiPmTimer", () => {
  it("counts at 3.579545 MHz and wraps at 24 or 32 bits", () => {
    const clock = new ManualClock();
    const t24 = new AcpiPmTimer({ clock });
    const t32 = new AcpiPmTimer({ clock, width: 32 });
    clock.set(1_000_000_000);
    expect(t24.read(0, 4)).toBe(ACPI_PM_TIMER_HZ);
    clock.set(5_000_000_000); // 17,897,725 ticks: past 2^24
    expect(t24.read(0, 4)).toBe(17_897_725 - 0x100_0000);
    expect(t32.read(0, 4)).toBe(17_897_725);
    expect(t32.read(2, 2)).toBe(17_897_725 >>> 16);
    clock.set(1_300_000_000_000); // 4,653,408,500 ticks: past 2^32
    expect(t32.read(0, 4)).toBe(4_653_408_500 - 0x1_0000_0000);
    t32.write(0, 4, 0);
    expect(t32.value).toBe(4_653_408_500 - 0x1_0000_0000);
  });

  it("state()/fromState() round-trips (property)", () => {
    checkRoundTrip<AcpiPmTimerState, number>(
      (start) => {
        const clock = new ManualClock(start);
        const log: unknown[] = [];
        const timer = new AcpiPmTimer({ clock, width: 32 });
        return {
          log,
          nowNs: () => clock.nowNs(),
          state: () => timer.state(),
          fromState: (s) => timer.fromState(s),
          apply(ns) {
            clock.advance(ns);
            log.push(timer.read(0, 4));
          },
        };
      },
      fc.integer({ min: 0, max: 10_000_000_000 }),
    );
  });
});
