// Property: whatever bytes the guest runs, `run` returns a StopReason and never throws (faults
// are delivered to the guest; unknown instructions stop with Unimplemented). Random code runs in
// each mode with an IDT whose every vector leads to a HLT, so faults are delivered and visible.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StopReason } from "../src/index.js";
import { createMachine, L } from "./modes.js";

const REASONS = new Set<number>(Object.values(StopReason));

describe("random code never throws out of run", () => {
  for (const mode of ["real", "protected", "long"] as const) {
    it(`${mode} mode`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 64 }),
          fc.integer({ min: 0, max: 0xffff }),
          (code, seed) => {
            const m = createMachine(mode);
            const at = mode === "real" ? 0x7c00 : L.CODE;
            m.load(at, code);
            m.load(L.HANDLER, [0xf4]);
            if (mode === "real") {
              for (let v = 0; v < 256; v++) m.write32(v * 4, 0x7e00);
              m.load(0x7e00, [0xf4]);
            } else {
              for (let v = 0; v < 256; v++)
                m.gate(v, L.HANDLER, { ist: mode === "long" && v % 2 === 0 ? 1 : 0 });
            }
            const st = m.cpu.state;
            for (let r = 0; r < 16; r++) st.set64(r, (seed * (r + 1) * 2654435761) >>> 0, r === 4 ? 0 : r);
            st.set64(4, mode === "real" ? 0x7000 : L.STACK, 0);
            const reason = m.cpu.run(500);
            expect(REASONS.has(reason)).toBe(true);
          },
        ),
        { numRuns: 300, seed: 42 },
      );
    }, 60_000);
  }
});
