import { describe, expect, it } from "vitest";
import { sweep } from "./sweep.js";

/** Agreement floors reached so far (fractions); the test fails on a regression. */
const FLOOR = { 16: 0.99995, 32: 0.99995, 64: 0.99995 };

describe("opcode-map sweep against iced-x86", () => {
  it("XOP (64-bit): maps 8, 9, 0Ah with every W and L", () => {
    const r = sweep(64, "xop");
    expect(r.agreed / r.total).toBeGreaterThanOrEqual(0.9999);
  });

  it("EVEX (64-bit): every map, pp, W and vector length with a few ModRM bytes", () => {
    const r = sweep(64, true);
    // Covered: the common AVX-512 F/BW/DQ/CD/VBMI/VBMI2/IFMA/VNNI/BITALG forms (see README).
    expect(r.agreed / r.total).toBeGreaterThanOrEqual(0.9985);
  });

  for (const bits of [16, 32, 64] as const) {
    it(`${bits}-bit: every map entry with representative prefixes and ModRM`, () => {
      const r = sweep(bits);
      if (r.mismatches.length > 0) {
        console.log(
          `${bits}-bit sweep: ${r.agreed}/${r.total}; first mismatches:\n${r.mismatches
            .slice(0, 10)
            .map((m) => `  ${m.kind} ${m.hex} iced="${m.iced}" ours="${m.ours}"`)
            .join("\n")}`,
        );
      }
      expect(r.agreed / r.total).toBeGreaterThanOrEqual(FLOOR[bits]);
    });
  }
});
