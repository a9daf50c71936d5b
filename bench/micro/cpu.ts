// @turtles/cpu: integer semantics per operation on the register file, with lazily kept flags.
// "lazy" rows record the flags without computing them; "+ read" rows compute RFLAGS each time;
// "+ Jcc" evaluates one condition from the lazy state, as a compare-and-branch does.
// Run: npm run bench -- cpu
import {
  add,
  Cond,
  CpuState,
  cmp,
  condition,
  div,
  Gpr,
  mul,
  restore,
  shl,
  snapshot,
  sub,
} from "@turtles/cpu";
import { measure, printTable } from "./_harness.js";

const N = 4_000_000;
const s = new CpuState();
let sink = 0;

const rows = [
  measure("add32 (lazy flags)", N, () => {
    for (let i = 0; i < N; i++) {
      add(s, 32, s.gpr[0]!, 0, i, 0);
      s.gpr[0] = s.out[0]!;
    }
  }),
  measure("add64 (lazy flags)", N, () => {
    for (let i = 0; i < N; i++) {
      add(s, 64, s.gpr[0]!, s.gpr[1]!, i, 0);
      s.set64(Gpr.RAX, s.out[0]!, s.out[1]!);
    }
  }),
  measure("add64 + read RFLAGS", N, () => {
    for (let i = 0; i < N; i++) {
      add(s, 64, s.gpr[0]!, s.gpr[1]!, i, 0);
      s.set64(Gpr.RAX, s.out[0]!, s.out[1]!);
      sink ^= s.flags.read();
    }
  }),
  measure("cmp32 + Jcc (JB)", N, () => {
    for (let i = 0; i < N; i++) {
      cmp(s, 32, i, 0, 1000, 0);
      if (condition(s.flags, Cond.B)) sink++;
    }
  }),
  measure("sub64 + Jcc (JLE)", N, () => {
    for (let i = 0; i < N; i++) {
      sub(s, 64, i, 0, 1000, 0);
      if (condition(s.flags, Cond.LE)) sink++;
    }
  }),
  measure("shl64 by CL (eager flags)", N, () => {
    for (let i = 0; i < N; i++) {
      shl(s, 64, s.gpr[0]!, s.gpr[1]!, i);
      sink ^= s.out[0]!;
    }
  }),
  measure("mul64 (128-bit product)", N, () => {
    for (let i = 0; i < N; i++) {
      mul(s, 64, i, 0x12345, 0x9abcdef, i);
      sink ^= s.out[3]!;
    }
  }),
  measure("div64 (divisor < 2^32)", N / 4, () => {
    for (let i = 0; i < N / 4; i++) {
      div(s, 64, i, 0x1234, 7, 0, 0x10001 + i, 0);
      sink ^= s.out[0]!;
    }
  }),
  measure("div64 (divisor >= 2^32)", N / 16, () => {
    for (let i = 0; i < N / 16; i++) {
      div(s, 64, i, 0x1234, 7, 0, i, 0x10001);
      sink ^= s.out[0]!;
    }
  }),
  measure("snapshot + restore", 20_000, () => {
    for (let i = 0; i < 20_000; i++) restore(snapshot(s), s);
  }),
];
printTable(rows);
if (sink === 0.5) console.log(sink);
