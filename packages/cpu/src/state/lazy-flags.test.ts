import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FlagOp, LazyFlags } from "./lazy-flags.js";
import { ARITH_FLAGS, Rflags } from "./rflags.js";

describe("LazyFlags", () => {
  it("computes 8-bit ADD flags: 0x7f + 1 overflows, 0xff + 1 carries to zero", () => {
    const f = new LazyFlags();
    f.set(FlagOp.Add, 8, 0x7f, 0, 1, 0, 0x80, 0);
    expect(f.read() & ARITH_FLAGS).toBe(Rflags.OF | Rflags.SF | Rflags.AF);
    f.set(FlagOp.Add, 8, 0xff, 0, 1, 0, 0, 0);
    expect(f.read() & ARITH_FLAGS).toBe(Rflags.CF | Rflags.ZF | Rflags.AF | Rflags.PF);
  });

  it("materialize keeps every flag and clears the lazy kind", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(8, 16, 32, 64),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 0, max: 1 }),
        (op, size, w, cin) => {
          const f = new LazyFlags();
          f.write(0x202);
          f.set(op as FlagOp, size as 8 | 16 | 32 | 64, w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!);
          f.cin = cin;
          const before = f.read();
          f.materialize();
          expect(f.op).toBe(FlagOp.Known);
          expect(f.read()).toBe(before);
        },
      ),
    );
  });

  it("write forces bit 1 and keeps system bits through arithmetic", () => {
    const f = new LazyFlags();
    f.write(Rflags.IF | Rflags.DF);
    expect(f.read()).toBe(Rflags.IF | Rflags.DF | Rflags.FIXED1);
    f.set(FlagOp.Logic, 32, 0, 0, 0, 0, 0, 0);
    expect(f.read()).toBe(Rflags.IF | Rflags.DF | Rflags.FIXED1 | Rflags.ZF | Rflags.PF);
  });

  it("merge replaces only the masked flags", () => {
    const f = new LazyFlags();
    f.set(FlagOp.Sub, 32, 0, 0, 1, 0, 0xffffffff, 0); // CF, SF, PF, AF set
    f.merge(Rflags.CF, 0);
    expect(f.read() & ARITH_FLAGS).toBe(Rflags.SF | Rflags.PF | Rflags.AF);
  });
});
