import { PortIoSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ISA_DEBUG_EXIT_PORTS, IsaDebugExit, type IsaDebugExitState } from "./isa-debug-exit.js";

describe("IsaDebugExit", () => {
  it("maps a written value v to exit status (v << 1) | 1 at any width and offset", () => {
    const statuses: number[] = [];
    const io = new PortIoSpace();
    const dev = new IsaDebugExit((s) => statuses.push(s));
    io.register(ISA_DEBUG_EXIT_PORTS.base, ISA_DEBUG_EXIT_PORTS.size, dev, "isa-debug-exit");
    io.write(0xf4, 1, 0);
    io.write(0xf4, 1, 0x10);
    io.write(0xf6, 2, 0x7f);
    io.write(0xf4, 4, 0xffff_ffff);
    expect(statuses).toEqual([1, 0x21, 0xff, 0x1_ffff_ffff]);
    expect(dev.requestedStatus).toBe(0x1_ffff_ffff);
    expect(io.read(0xf4, 1)).toBe(0);
  });

  it("state()/fromState() round-trips (property)", () => {
    checkRoundTrip<IsaDebugExitState, number>(
      (start) => {
        const log: unknown[] = [];
        const dev = new IsaDebugExit((s) => log.push(s));
        return {
          log,
          nowNs: () => start,
          state: () => dev.state(),
          fromState: (s) => dev.fromState(s),
          apply(v) {
            if (v < 0) log.push(dev.requestedStatus);
            else dev.write(0, 1, v);
          },
        };
      },
      fc.integer({ min: -1, max: 255 }),
    );
  });
});
