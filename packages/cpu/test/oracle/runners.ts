/**
 * How each oracle form is replayed on our implementation: name → a function that runs the
 * operation on a state whose flags were loaded from the case, and reports results like the
 * native runner did (r = main result, d = second result, fault = 1 for #DE).
 */

import type { CpuState, OperandSize } from "../../src/index.js";
import * as cpu from "../../src/index.js";
import type { FixtureCase } from "./fixture-file.js";

export interface Outcome {
  rLo: number;
  rHi: number;
  dLo: number;
  dHi: number;
  fault: number;
}

export type Runner = (s: CpuState, size: OperandSize, c: FixtureCase, o: Outcome) => void;

function main(s: CpuState, o: Outcome): void {
  o.rLo = s.out[0]!;
  o.rHi = s.out[1]!;
}
function both(s: CpuState, o: Outcome): void {
  o.rLo = s.out[0]!;
  o.rHi = s.out[1]!;
  o.dLo = s.out[2]!;
  o.dHi = s.out[3]!;
}

type Binary = (s: CpuState, size: OperandSize, aLo: number, aHi: number, bLo: number, bHi: number) => void;
type Unary = (s: CpuState, size: OperandSize, aLo: number, aHi: number) => void;
type Counted = (s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number) => void;

const binary =
  (f: Binary): Runner =>
  (s, size, c, o) => {
    f(s, size, c.aLo, c.aHi, c.bLo, c.bHi);
    main(s, o);
  };
/** Operations that write no result: the destination stays a. */
const compareLike =
  (f: Binary): Runner =>
  (s, size, c, o) => {
    f(s, size, c.aLo, c.aHi, c.bLo, c.bHi);
    o.rLo = c.aLo;
    o.rHi = c.aHi;
  };
const unary =
  (f: Unary): Runner =>
  (s, size, c, o) => {
    f(s, size, c.aLo, c.aHi);
    main(s, o);
  };
const counted =
  (f: Counted): Runner =>
  (s, size, c, o) => {
    f(s, size, c.aLo, c.aHi, c.cLo);
    main(s, o);
  };
const countedByB =
  (f: Counted): Runner =>
  (s, size, c, o) => {
    f(s, size, c.aLo, c.aHi, c.bLo);
    main(s, o);
  };
const bitTest =
  (op: cpu.BitOp): Runner =>
  (s, size, c, o) => {
    cpu.bitTest(s, size, op, c.aLo, c.aHi, c.bLo);
    main(s, o);
  };
const scan =
  (f: (s: CpuState, size: OperandSize, sl: number, sh: number, dl: number, dh: number) => void): Runner =>
  (s, size, c, o) => {
    f(s, size, c.bLo, c.bHi, c.aLo, c.aHi);
    main(s, o);
  };
const fromB =
  (f: Unary): Runner =>
  (s, size, c, o) => {
    f(s, size, c.bLo, c.bHi);
    main(s, o);
  };
const mul1 =
  (f: Binary): Runner =>
  (s, size, c, o) => {
    f(s, size, c.aLo, c.aHi, c.bLo, c.bHi);
    both(s, o);
  };
const divide =
  (f: typeof cpu.div): Runner =>
  (s, size, c, o) => {
    const v = f(s, size, c.aLo, c.aHi, c.bLo, c.bHi, c.cLo, c.cHi);
    if (v === cpu.VECTOR_DE) o.fault = 1;
    else both(s, o);
  };
const bmi2Vex =
  (f: (s: CpuState, size: OperandSize, aLo: number, aHi: number, n: number) => void): Runner =>
  (s, size, c, o) => {
    f(s, size, c.aLo, c.aHi, c.bLo);
    main(s, o);
  };

function bySize(prefix: string, sizes: readonly number[], r: Runner, into: Map<string, Runner>): void {
  for (const n of sizes) into.set(`${prefix}${n}`, r);
}

const ALL = [8, 16, 32, 64] as const;
const WIDE = [16, 32, 64] as const;
const VEX = [32, 64] as const;

export const RUNNERS = new Map<string, Runner>();
const R = RUNNERS;
bySize("add", ALL, binary(cpu.add), R);
bySize("adc", ALL, binary(cpu.adc), R);
bySize("sub", ALL, binary(cpu.sub), R);
bySize("sbb", ALL, binary(cpu.sbb), R);
bySize("cmp", ALL, compareLike(cpu.cmp), R);
bySize("and", ALL, binary(cpu.and), R);
bySize("or", ALL, binary(cpu.or), R);
bySize("xor", ALL, binary(cpu.xor), R);
bySize("test", ALL, compareLike(cpu.test), R);
bySize("inc", ALL, unary(cpu.inc), R);
bySize("dec", ALL, unary(cpu.dec), R);
bySize("neg", ALL, unary(cpu.neg), R);
bySize("not", ALL, unary(cpu.not), R);
bySize("shl", ALL, counted(cpu.shl), R);
bySize("shr", ALL, counted(cpu.shr), R);
bySize("sar", ALL, counted(cpu.sar), R);
bySize("rol", ALL, counted(cpu.rol), R);
bySize("ror", ALL, counted(cpu.ror), R);
bySize("rcl", ALL, counted(cpu.rcl), R);
bySize("rcr", ALL, counted(cpu.rcr), R);
bySize(
  "shld",
  WIDE,
  (s, size, c, o) => {
    cpu.shld(s, size, c.aLo, c.aHi, c.bLo, c.bHi, c.cLo);
    main(s, o);
  },
  R,
);
bySize(
  "shrd",
  WIDE,
  (s, size, c, o) => {
    cpu.shrd(s, size, c.aLo, c.aHi, c.bLo, c.bHi, c.cLo);
    main(s, o);
  },
  R,
);
bySize("mul", ALL, mul1(cpu.mul), R);
bySize("imul1_", ALL, mul1(cpu.imul), R);
bySize("imul2_", WIDE, binary(cpu.imul), R);
bySize(
  "imul3_",
  WIDE,
  (s, size, c, o) => {
    // The immediate (sign-extended by the encoding) is recorded as a.
    cpu.imul(s, size, c.bLo, c.bHi, c.aLo, c.aHi);
    main(s, o);
  },
  R,
);
bySize("div", ALL, divide(cpu.div), R);
bySize("idiv", ALL, divide(cpu.idiv), R);
bySize("bt", WIDE, bitTest(cpu.BitOp.Test), R);
bySize("bts", WIDE, bitTest(cpu.BitOp.Set), R);
bySize("btr", WIDE, bitTest(cpu.BitOp.Reset), R);
bySize("btc", WIDE, bitTest(cpu.BitOp.Complement), R);
bySize("bsf", WIDE, scan(cpu.bsf), R);
bySize("bsr", WIDE, scan(cpu.bsr), R);
bySize("popcnt", WIDE, fromB(cpu.popcnt), R);
bySize("lzcnt", WIDE, fromB(cpu.lzcnt), R);
bySize("tzcnt", WIDE, fromB(cpu.tzcnt), R);
bySize("andn", VEX, binary(cpu.andn), R);
bySize("bextr", VEX, bmi2Vex(cpu.bextr), R);
bySize("blsi", VEX, unary(cpu.blsi), R);
bySize("blsmsk", VEX, unary(cpu.blsmsk), R);
bySize("blsr", VEX, unary(cpu.blsr), R);
bySize("bzhi", VEX, bmi2Vex(cpu.bzhi), R);
bySize("pdep", VEX, binary(cpu.pdep), R);
bySize("pext", VEX, binary(cpu.pext), R);
bySize("mulx", VEX, mul1(cpu.mulx), R);
bySize("rorx", VEX, countedByB(cpu.rorx), R);
bySize("sarx", VEX, countedByB(cpu.sarx), R);
bySize("shlx", VEX, countedByB(cpu.shlx), R);
bySize("shrx", VEX, countedByB(cpu.shrx), R);
bySize("adcx", VEX, binary(cpu.adcx), R);
bySize("adox", VEX, binary(cpu.adox), R);
bySize("bswap", VEX, unary(cpu.byteSwap), R);
bySize("movbe", WIDE, fromB(cpu.byteSwap), R);
bySize(
  "cmpxchg",
  ALL,
  (s, size, c, o) => {
    cpu.cmpxchg(s, size, c.cLo, c.cHi, c.aLo, c.aHi, c.bLo, c.bHi);
    both(s, o);
  },
  R,
);
bySize("xadd", ALL, mul1(cpu.xadd), R);
bySize(
  "crc32",
  ALL,
  (s, size, c, o) => {
    cpu.crc32(s, size, c.aLo, c.bLo, c.bHi);
    main(s, o);
  },
  R,
);
const widen =
  (n: OperandSize): Runner =>
  (s, _size, c, o) => {
    cpu.cbw(s, n, c.aLo);
    main(s, o);
    o.dLo = n === 64 ? c.bLo : c.bLo & cpu.sizeMask(n);
    o.dHi = n === 64 ? c.bHi : 0;
  };
const fill =
  (n: OperandSize): Runner =>
  (s, _size, c, o) => {
    cpu.cwd(s, n, c.aLo, c.aHi);
    o.dLo = s.out[0]!;
    o.dHi = s.out[1]!;
    o.rLo = n === 64 ? c.aLo : c.aLo & cpu.sizeMask(n);
    o.rHi = n === 64 ? c.aHi : 0;
  };
R.set("cbw", widen(16));
R.set("cwde", widen(32));
R.set("cdqe", widen(64));
R.set("cwd", fill(16));
R.set("cdq", fill(32));
R.set("cqo", fill(64));
R.set("daa", (s, _n, c, o) => {
  cpu.daa(s, c.aLo & 0xff);
  o.rLo = s.out[0]!;
});
R.set("das", (s, _n, c, o) => {
  cpu.das(s, c.aLo & 0xff);
  o.rLo = s.out[0]!;
});
R.set("aaa", (s, _n, c, o) => {
  cpu.aaa(s, c.aLo);
  o.rLo = s.out[0]!;
});
R.set("aas", (s, _n, c, o) => {
  cpu.aas(s, c.aLo);
  o.rLo = s.out[0]!;
});
R.set("aam", (s, _n, c, o) => {
  if (cpu.aam(s, c.aLo, c.bLo) === cpu.VECTOR_DE) o.fault = 1;
  else o.rLo = s.out[0]!;
});
R.set("aad", (s, _n, c, o) => {
  cpu.aad(s, c.aLo, c.bLo);
  o.rLo = s.out[0]!;
});
R.set("setcc", (s, _n, _c, o) => {
  let mask = 0;
  for (let cc = 0; cc < 16; cc++) if (cpu.condition(s.flags, cc)) mask |= 1 << cc;
  o.rLo = mask;
});

// Chains (see tools/oracle/runners.h): the same instruction sequences, flags kept lazily
// between steps exactly as a dispatcher would.
type Reg = "a" | "b" | "c";
function chain(steps: readonly (readonly [string, Reg, (Reg | undefined)?, (number | "cl")?])[]): Runner {
  return (s, size, c, o) => {
    const lo = { a: c.aLo, b: c.bLo, c: c.cLo };
    const hi = { a: c.aHi, b: c.bHi, c: c.cHi };
    for (const [op, x, y, imm] of steps) {
      // [op, dst, src] for two-operand forms (dst = dst op src); [op, dst, undefined, imm] for counts.
      const binaries: Record<string, Binary> = {
        add: cpu.add,
        adc: cpu.adc,
        sub: cpu.sub,
        sbb: cpu.sbb,
        and: cpu.and,
        xor: cpu.xor,
        cmp: cpu.cmp,
        test: cpu.test,
      };
      const counts: Record<string, Counted> = {
        rcl: cpu.rcl,
        rcr: cpu.rcr,
        rol: cpu.rol,
        shr: cpu.shr,
        shl: cpu.shl,
      };
      const unaries: Record<string, Unary> = { inc: cpu.inc, dec: cpu.dec, neg: cpu.neg };
      const n = imm === "cl" ? lo.b & 0xff : imm;
      if (op === "btc") cpu.bitTest(s, size, cpu.BitOp.Complement, lo[x], hi[x], n!);
      else if (y !== undefined) binaries[op]!(s, size, lo[x], hi[x], lo[y], hi[y]);
      else if (n !== undefined) counts[op]!(s, size, lo[x], hi[x], n);
      else unaries[op]!(s, size, lo[x], hi[x]);
      if (op !== "cmp" && op !== "test") {
        lo[x] = s.out[0]!;
        hi[x] = s.out[1]!;
      }
    }
    o.rLo = lo.a;
    o.rHi = hi.a;
    o.dLo = lo.c;
    o.dHi = hi.c;
  };
}
const CHAINS = {
  chain1_: chain([
    ["add", "a", "b"],
    ["adc", "c", "a"],
    ["inc", "b"],
    ["sbb", "a", "c"],
    ["dec", "c"],
    ["adc", "c", "b"],
  ]),
  chain2_: chain([
    ["sub", "a", "b"],
    ["rcl", "c", undefined, 1],
    ["neg", "b"],
    ["adc", "a", "b"],
    ["dec", "a"],
    ["rcr", "c", undefined, 3],
    ["sbb", "c", "b"],
  ]),
  chain3_: chain([
    ["and", "a", "b"],
    ["adc", "a", "c"],
    ["xor", "c", "b"],
    ["inc", "c"],
    ["adc", "a", "a"],
    ["cmp", "c", "a"],
    ["sbb", "c", "a"],
  ]),
  chain4_: chain([
    ["test", "a", "b"],
    ["btc", "a", undefined, 7],
    ["sbb", "b", "c"],
    ["rol", "b", undefined, 1],
    ["adc", "a", "b"],
    ["shr", "c", undefined, 1],
    ["adc", "c", "b"],
  ]),
};
const CHAIN5 = chain([
  ["add", "a", "b"],
  ["shl", "c", undefined, "cl"],
  ["adc", "c", "a"],
  ["rcr", "a", undefined, "cl"],
  ["sbb", "a", "c"],
  ["rol", "c", undefined, "cl"],
  ["adc", "c", "a"],
]);
bySize("chain5_", VEX, CHAIN5, R);
for (const [prefix, run] of Object.entries(CHAINS)) bySize(prefix, VEX, run, R);

/** The SDM mnemonic of a form name (for the undefined-flags table): `imul3_16` → `imul`. */
export function mnemonicOf(name: string, size: number): string {
  let m = size !== 0 && name.endsWith(String(size)) ? name.slice(0, -String(size).length) : name;
  m = m.replace(/[123]_$/, "");
  return m;
}

/** The count operand a form's flag definedness depends on (shifts and rotates), else 0. */
export function countOf(name: string, c: FixtureCase): number {
  return /^(shl|shr|sar|rol|ror|rcl|rcr|shld|shrd)\d/.test(name) ? c.cLo : 0;
}
