// @turtles/cpu debug architecture: what armed debug registers cost. Boots the intloop64 and
// memwalk bench images (long mode with paging) with DR7 clear, with an instruction breakpoint on
// an address never executed (every instruction then runs alone, in one-instruction blocks, and
// is checked), and with a data breakpoint on a page never touched (same mode, plus the TLB check
// of watched pages). The first row is the fast path that must not be slowed down: DR7 clear,
// TF clear, one flag test per block. Median of three timed boots each (process CPU time).
// Run: node --conditions=@turtles/source --import tsx bench/micro/cpu-debug.ts
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { StopReason } from "@turtles/cpu";
import { createBareMetal, loadBootImage } from "../../packages/cpu/test/bare-metal.js";
import { ITERATIONS_OFFSET, parseReport, workloads } from "../workloads/manifest.js";

const here = dirname(fileURLToPath(import.meta.url));

type Setup = "DR7 clear" | "exec breakpoint armed" | "data breakpoint armed";

function boot(
  name: string,
  iterations: number,
  setup: Setup,
): { instructions: number; cpuSeconds: number; ok: boolean } {
  const image = new Uint8Array(readFileSync(join(here, "..", "workloads", "images", `${name}.img`)));
  new DataView(image.buffer).setUint32(ITERATIONS_OFFSET, iterations, true);
  const m = createBareMetal();
  loadBootImage(m, image);
  const dr = m.cpu.state.dr;
  if (setup !== "DR7 clear") {
    dr[0] = 0x7ff0_0000; // a linear address the workloads never execute nor touch
    dr[14] = setup === "exec breakpoint armed" ? 0x401 : 0x400 | 1 | (3 << 16) | (3 << 18);
  }
  const c0 = process.cpuUsage();
  const reason = m.cpu.run(1e12);
  const used = process.cpuUsage(c0);
  const report = parseReport(m.serial());
  const model = workloads.find((w) => w.name === name)!;
  const ok = reason === StopReason.Stopped && report?.checksum === model.checksum(iterations);
  return { instructions: m.cpu.instructions, cpuSeconds: (used.user + used.system) / 1e6, ok };
}

const rows: string[] = [];
for (const [name, iterations] of [
  ["intloop64", 300_000],
  ["memwalk", 4],
] as const) {
  for (const setup of ["DR7 clear", "exec breakpoint armed", "data breakpoint armed"] as const) {
    boot(name, Math.max(1, Math.floor(iterations / 10)), setup);
    const runs = [0, 1, 2]
      .map(() => boot(name, iterations, setup))
      .sort((a, b) => a.cpuSeconds - b.cpuSeconds);
    const r = runs[1]!;
    const mips = r.instructions / r.cpuSeconds / 1e6;
    rows.push(
      `${`${name} x${iterations}`.padEnd(18)}  ${setup.padEnd(22)}  ${(r.instructions / 1e6).toFixed(1).padStart(7)}  ${mips.toFixed(1).padStart(8)}  ${((r.cpuSeconds * 1e9) / r.instructions).toFixed(1).padStart(7)}  ${runs.every((x) => x.ok) ? "ok" : "WRONG"}`,
    );
  }
}
console.log(
  `${"workload".padEnd(18)}  ${"debug registers".padEnd(22)}  ${"Minsns".padStart(7)}  ${"MIPS/cpu".padStart(8)}  ${"ns/insn".padStart(7)}  checksum`,
);
for (const row of rows) console.log(row);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
