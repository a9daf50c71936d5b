// @turtles/cpu interpreter: guest MIPS on the intloop64 bench image (64-bit long mode with
// paging; 13 instructions per iteration), booted in-process on the tiny bare-metal harness of
// packages/cpu/test (128 MiB RAM, COM1 stub, isa-debug-exit). One warm-up boot, then the median of
// three timed boots of 2,000,000 iterations each; the whole boot is timed (the loop is >99.9%).
// Run: node --conditions=@turtles/source --import tsx bench/micro/cpu-interpreter.ts
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { StopReason } from "@turtles/cpu";
import { createBareMetal, loadBootImage } from "../../packages/cpu/test/bare-metal.js";
import { ITERATIONS_OFFSET, parseReport, workloads } from "../workloads/manifest.js";

const here = dirname(fileURLToPath(import.meta.url));

function boot(
  name: string,
  iterations: number,
): { instructions: number; seconds: number; cpuSeconds: number; ok: boolean } {
  const image = new Uint8Array(readFileSync(join(here, "..", "workloads", "images", `${name}.img`)));
  new DataView(image.buffer).setUint32(ITERATIONS_OFFSET, iterations, true);
  const m = createBareMetal();
  loadBootImage(m, image);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const reason = m.cpu.run(1e12);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = process.cpuUsage(c0);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const report = parseReport(m.serial());
  const model = workloads.find((w) => w.name === name)!;
  const ok = reason === StopReason.Stopped && report?.checksum === model.checksum(iterations);
  return { instructions: m.cpu.instructions, seconds, cpuSeconds, ok };
}

const rows: string[] = [];
function measure(name: string, iterations: number, runs: number): void {
  boot(name, Math.max(1, Math.floor(iterations / 10)));
  const results = Array.from({ length: runs }, () => boot(name, iterations));
  results.sort((a, b) => a.seconds - b.seconds);
  const r = results[Math.floor(runs / 2)]!;
  const mips = r.instructions / r.seconds / 1e6;
  const cpuMips = r.instructions / r.cpuSeconds / 1e6;
  rows.push(
    `${`${name} x${iterations}`.padEnd(26)}  ${(r.instructions / 1e6).toFixed(1).padStart(8)}  ${r.seconds.toFixed(3).padStart(7)}  ${mips.toFixed(1).padStart(6)}  ${cpuMips.toFixed(1).padStart(8)}  ${((r.seconds * 1e9) / r.instructions).toFixed(1).padStart(6)}  ${results.every((x) => x.ok) ? "ok" : "WRONG"}`,
  );
}

measure("intloop64", 2_000_000, 3);
measure("intloop32", 1_000_000, 1);
measure("memwalk", 20, 1);
measure("syscall", 100_000, 1);
console.log(
  `${"workload".padEnd(26)}  ${"Minsns".padStart(8)}  ${"seconds".padStart(7)}  ${"MIPS".padStart(6)}  ${"MIPS/cpu".padStart(8)}  ${"ns/in".padStart(6)}  checksum`,
);
for (const row of rows) console.log(row);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")} (MIPS/cpu: by process CPU time, less sensitive to a busy machine)`,
);
console.log("target: >= 50 MIPS on intloop64 (Bochs: ~90 MIPS on this machine when idle)");
