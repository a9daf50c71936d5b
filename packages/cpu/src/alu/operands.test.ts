// Laws about operand representation: below 64 bits only the low `size` bits of an operand
// matter (callers may pass whole register halves), and a 64-bit half may be given signed or
// unsigned (Int32 or Uint32 view of the same bits).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";
import { adcx, adox } from "./adx.js";
import { adc, add, and, cmp, dec, inc, neg, not, or, sbb, sub, test, xor } from "./arith.js";
import { lzcnt, popcnt, tzcnt } from "./bit-count.js";
import { andn, blsi, blsmsk, blsr, pdep, pext } from "./bmi.js";
import { byteSwap } from "./byte-swap.js";
import { imul, mul } from "./muldiv.js";
import { rcl, rcr, rol, ror } from "./rotate.js";
import { sar, shl, shr } from "./shift.js";

type Bin = (s: CpuState, size: OperandSize, aLo: number, aHi: number, bLo: number, bHi: number) => void;
type Un = (s: CpuState, size: OperandSize, aLo: number, aHi: number) => void;
type Cnt = (s: CpuState, size: OperandSize, aLo: number, aHi: number, c: number) => void;

const ALL: OperandSize[] = [8, 16, 32];
const BIN: [string, Bin, OperandSize[]][] = [
  ["add", add, ALL],
  ["adc", adc, ALL],
  ["sub", sub, ALL],
  ["sbb", sbb, ALL],
  ["cmp", cmp, ALL],
  ["and", and, ALL],
  ["or", or, ALL],
  ["xor", xor, ALL],
  ["test", test, ALL],
  ["mul", mul, ALL],
  ["imul", imul, ALL],
  ["andn", andn, [32]],
  ["pdep", pdep, [32]],
  ["pext", pext, [32]],
  ["adcx", adcx, [32]],
  ["adox", adox, [32]],
];
const UN: [string, Un, OperandSize[]][] = [
  ["inc", inc, ALL],
  ["dec", dec, ALL],
  ["neg", neg, ALL],
  ["not", not, ALL],
  ["popcnt", popcnt, [16, 32]],
  ["lzcnt", lzcnt, [16, 32]],
  ["tzcnt", tzcnt, [16, 32]],
  ["blsi", blsi, [32]],
  ["blsmsk", blsmsk, [32]],
  ["blsr", blsr, [32]],
  ["byteSwap", byteSwap, [16, 32]],
];
const CNT: [string, Cnt][] = [
  ["shl", shl],
  ["shr", shr],
  ["sar", sar],
  ["rol", rol],
  ["ror", ror],
  ["rcl", rcl],
  ["rcr", rcr],
];

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const flagsIn = fc.integer({ min: 0, max: 0x8d5 });

function outcome(s: CpuState): number[] {
  return [...s.out, s.flags.read()];
}

function run(f: (s: CpuState) => void, flags: number): number[] {
  const s = new CpuState();
  s.flags.write(flags);
  f(s);
  return outcome(s);
}

const mask = (size: OperandSize, v: number) => (size === 32 ? v >>> 0 : v & ((1 << size) - 1));

describe("narrow operands: only the low size bits count", () => {
  it.each(BIN)("%s", (_n, f, sizes) => {
    fc.assert(
      fc.property(fc.constantFrom(...sizes), u32, u32, u32, u32, flagsIn, (size, a, b, ga, gb, fl) => {
        const clean = run((s) => f(s, size, mask(size, a), 0, mask(size, b), 0), fl);
        expect(run((s) => f(s, size, a, ga, b, gb), fl)).toEqual(clean);
      }),
    );
  });
  it.each(UN)("%s", (_n, f, sizes) => {
    fc.assert(
      fc.property(fc.constantFrom(...sizes), u32, u32, flagsIn, (size, a, ga, fl) => {
        const clean = run((s) => f(s, size, mask(size, a), 0), fl);
        expect(run((s) => f(s, size, a, ga), fl)).toEqual(clean);
      }),
    );
  });
  it.each(CNT)("%s", (_n, f) => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL),
        u32,
        u32,
        fc.integer({ min: 0, max: 255 }),
        flagsIn,
        (size, a, ga, c, fl) => {
          const clean = run((s) => f(s, size, mask(size, a), 0, c), fl);
          expect(run((s) => f(s, size, a, ga, c), fl)).toEqual(clean);
        },
      ),
    );
  });
});

describe("64-bit halves: signed and unsigned views are the same operand", () => {
  it.each(BIN)("%s", (_n, f) => {
    fc.assert(
      fc.property(u32, u32, u32, u32, flagsIn, (al, ah, bl, bh, fl) => {
        const unsigned = run((s) => f(s, 64, al, ah, bl, bh), fl);
        expect(run((s) => f(s, 64, al | 0, ah | 0, bl | 0, bh | 0), fl)).toEqual(unsigned);
      }),
    );
  });
  it.each(UN)("%s", (_n, f) => {
    fc.assert(
      fc.property(u32, u32, flagsIn, (al, ah, fl) => {
        const unsigned = run((s) => f(s, 64, al, ah), fl);
        expect(run((s) => f(s, 64, al | 0, ah | 0), fl)).toEqual(unsigned);
      }),
    );
  });
  it.each(CNT)("%s", (_n, f) => {
    fc.assert(
      fc.property(u32, u32, fc.integer({ min: 0, max: 255 }), flagsIn, (al, ah, c, fl) => {
        const unsigned = run((s) => f(s, 64, al, ah, c), fl);
        expect(run((s) => f(s, 64, al | 0, ah | 0, c), fl)).toEqual(unsigned);
      }),
    );
  });
});
