// Reference checks of the word-wise 64/128-bit arithmetic against BigInt (tests only: the
// implementation itself uses no BigInt).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CpuState } from "../state/cpu-state.js";
import { div, idiv, imul, mul, NO_FAULT, VECTOR_DE } from "./muldiv.js";
import { divU128, mulU32, mulU64, W } from "./wide.js";

const M32 = 0xffffffffn;
const M64 = (1n << 64n) - 1n;
const lo = (v: bigint) => Number(v & M32);
const hi = (v: bigint) => Number((v >> 32n) & M32);
const u64 = fc.bigInt({ min: 0n, max: M64 });
/** 64-bit values biased to edges and small magnitudes. */
const edgy64 = fc.oneof(
  u64,
  fc.constantFrom(0n, 1n, 2n, M64, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 1n << 32n, M32),
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.bigInt({ min: M64 - 1000n, max: M64 }),
);
const signed = (v: bigint, bits: bigint) => BigInt.asIntN(Number(bits), v);

describe("wide helpers", () => {
  it("mulU32 is the exact 64-bit product", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (a, b) => {
          mulU32(a, b);
          const p = BigInt(a) * BigInt(b);
          expect([W[0], W[1]]).toEqual([lo(p), hi(p)]);
        },
      ),
    );
  });

  it("mulU64 is the exact 128-bit product", () => {
    fc.assert(
      fc.property(edgy64, edgy64, (a, b) => {
        mulU64(lo(a), hi(a), lo(b), hi(b));
        const p = a * b;
        expect([W[0], W[1], W[2], W[3]]).toEqual([lo(p), hi(p), lo(p >> 64n), hi(p >> 64n)]);
      }),
    );
  });

  it("divU128 gives quotient and remainder when the quotient fits", () => {
    fc.assert(
      fc.property(edgy64, edgy64, edgy64, (d, nHiRaw, nLo) => {
        fc.pre(d !== 0n);
        const nHi = nHiRaw % d;
        const n = (nHi << 64n) | nLo;
        divU128(hi(nHi), lo(nHi), hi(nLo), lo(nLo), hi(d), lo(d));
        const q = n / d;
        const r = n % d;
        expect([W[0], W[1], W[2], W[3]]).toEqual([lo(q), hi(q), lo(r), hi(r)]);
      }),
    );
  });
});

describe("MUL/IMUL/DIV/IDIV at 32 and 64 bits against BigInt", () => {
  const s = new CpuState();
  const sizes = fc.constantFrom(32n, 64n);

  it("MUL and IMUL halves and CF/OF", () => {
    fc.assert(
      fc.property(sizes, edgy64, edgy64, (n, a0, b0) => {
        const m = (1n << n) - 1n;
        const a = a0 & m;
        const b = b0 & m;
        const size = Number(n) as 32 | 64;
        mul(s, size, lo(a), hi(a), lo(b), hi(b));
        const p = a * b;
        expect([...s.out]).toEqual([lo(p & m), hi(p & m), lo(p >> n), hi(p >> n)]);
        expect(s.flags.cf()).toBe(p >> n !== 0n ? 1 : 0);
        imul(s, size, lo(a), hi(a), lo(b), hi(b));
        const sp = signed(a, n) * signed(b, n);
        const sLow = sp & m;
        const sHigh = (sp >> n) & m;
        expect([...s.out]).toEqual([lo(sLow), hi(sLow), lo(sHigh), hi(sHigh)]);
        expect(s.flags.of()).toBe(signed(sLow, n) !== sp ? 1 : 0);
      }),
    );
  });

  it("DIV and IDIV quotients, remainders and #DE", () => {
    fc.assert(
      fc.property(sizes, edgy64, edgy64, edgy64, fc.boolean(), (n, x, y, d0, small) => {
        const m = (1n << n) - 1n;
        const d = d0 & m;
        const nLo = x & m;
        const nHi = small && d !== 0n ? (y & m) % d : y & m;
        const size = Number(n) as 32 | 64;
        // Unsigned.
        const num = (nHi << n) | nLo;
        const v = div(s, size, lo(nLo), hi(nLo), lo(nHi), hi(nHi), lo(d), hi(d));
        if (d === 0n || num / d > m) expect(v).toBe(VECTOR_DE);
        else {
          expect(v).toBe(NO_FAULT);
          const q = num / d;
          const r = num % d;
          expect([...s.out]).toEqual([lo(q), hi(q), lo(r), hi(r)]);
        }
        // Signed (BigInt division truncates toward zero, as IDIV does).
        const sn = signed(num, 2n * n);
        const sd = signed(d, n);
        const w = idiv(s, size, lo(nLo), hi(nLo), lo(nHi), hi(nHi), lo(d), hi(d));
        const limit = 1n << (n - 1n);
        if (sd === 0n || sn / sd >= limit || sn / sd < -limit) expect(w).toBe(VECTOR_DE);
        else {
          expect(w).toBe(NO_FAULT);
          const q = (sn / sd) & m;
          const r = (sn % sd) & m;
          expect([...s.out]).toEqual([lo(q), hi(q), lo(r), hi(r)]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
