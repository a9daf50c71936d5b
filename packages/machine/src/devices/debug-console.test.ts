import { PortIoSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { DEBUG_CONSOLE_PORT, DebugConsole, type DebugConsoleState } from "./debug-console.js";

describe("DebugConsole", () => {
  it("appends written bytes to the sink and reads back 0xE9", () => {
    const bytes: number[] = [];
    const io = new PortIoSpace();
    io.register(DEBUG_CONSOLE_PORT, 1, new DebugConsole((b) => bytes.push(b)), "debugcon");
    for (const c of "ok") io.write(0xe9, 1, c.charCodeAt(0));
    expect(String.fromCharCode(...bytes)).toBe("ok");
    expect(io.read(0xe9, 1)).toBe(0xe9);
    const wide = new DebugConsole((b) => bytes.push(b), 0x42);
    wide.write(0, 2, 0x0a21);
    expect(bytes.slice(2)).toEqual([0x21, 0x0a]);
    expect(wide.read(0, 2)).toBe(0x4242);
  });

  it("state()/fromState() round-trips (property)", () => {
    checkRoundTrip<DebugConsoleState, number>(
      (start) => {
        const log: unknown[] = [];
        const dev = new DebugConsole((b) => log.push(b));
        return {
          log,
          nowNs: () => start,
          state: () => dev.state(),
          fromState: (s) => dev.fromState(s),
          apply: (v) => (v < 0 ? log.push(dev.read(0, 1)) : dev.write(0, 1, v)),
        };
      },
      fc.integer({ min: -1, max: 255 }),
    );
  });
});
