// @turtles/cpu intercept points: what `cpu.intercepts` costs. A 64-bit integer loop and an OUT
// loop, each with no hook (null) and with a hook that always declines; and the round trip of a
// VM exit (run -> CPUID exit -> RIP += length -> run), the hot path of a hypervisor on this CPU.
// Run: node --conditions=@turtles/source --import tsx bench/micro/cpu-intercepts.ts
import { loadavg } from "node:os";
import { type CpuExit, type CpuIntercepts, StopReason } from "@turtles/cpu";
import { createMachine, L, type TestMachine } from "../../packages/cpu/test/modes.js";
import { type BenchRow, measure, printTable } from "./_harness.js";

const HLT = 0xf4;
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

const decline: CpuIntercepts = { intercept: () => false };
const exitOnCpuid: CpuIntercepts = { intercept: (e: CpuExit) => e.reason === 10 };

function machine(code: number[], hook: CpuIntercepts | null): TestMachine {
  const m = createMachine("long");
  m.load(L.CODE, code);
  m.io.register(0x80, 1, { read: () => 0, write: () => {} });
  m.cpu.intercepts = hook;
  return m;
}

/** Runs `code` from the start to its HLT; returns the instructions retired. */
function runLoop(code: number[], hook: CpuIntercepts | null): () => void {
  const m = machine(code, hook);
  return () => {
    m.cpu.state.rip = L.CODE;
    m.cpu.halted = false;
    if (m.cpu.run(1e12) !== StopReason.Halted) throw new Error("loop did not halt");
  };
}

const N = 2_000_000;
// mov ecx, N; L: add eax, ecx; dec ecx; jnz L; hlt  (3 instructions per iteration)
const intLoop = [0xb9, ...le32(N), 0x01, 0xc8, 0xff, 0xc9, 0x75, 0xfa, HLT];
const M = 300_000;
// mov ecx, M; L: out 0x80, al; dec ecx; jnz L; hlt
const outLoop = [0xb9, ...le32(M), 0xe6, 0x80, 0xff, 0xc9, 0x75, 0xfa, HLT];

const rows: BenchRow[] = [
  measure("int loop, intercepts null (instructions)", 3 * N, runLoop(intLoop, null), 5, 2),
  measure("int loop, declining hook (instructions)", 3 * N, runLoop(intLoop, decline), 5, 2),
  measure("OUT loop, intercepts null (instructions)", 3 * M, runLoop(outLoop, null), 5, 2),
  measure("OUT loop, declining hook (instructions)", 3 * M, runLoop(outLoop, decline), 5, 2),
];

// L: cpuid; jmp L
const EXITS = 20_000;
const exitMachine = machine([0x0f, 0xa2, 0xeb, 0xfc], exitOnCpuid);
rows.push(
  measure(
    "CPUID VM exit round trip (exits)",
    EXITS,
    () => {
      const cpu = exitMachine.cpu;
      for (let k = 0; k < EXITS; k++) {
        if (cpu.run(1e9) !== StopReason.VmExit) throw new Error("no exit");
        cpu.state.rip += cpu.exit.instructionLength;
      }
    },
    3,
    1,
  ),
);
printTable(rows);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
