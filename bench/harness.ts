// Runs the workload images on every available emulator: medians of N runs after a warm-up, with
// start-up time (the same image at 1 iteration) measured separately and subtracted, each
// checksum checked against the workload's model.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Emulator } from "./emulators.js";
import { DISK_SIZE, ITERATIONS_OFFSET, parseReport, type Workload } from "./workloads/manifest.js";

const here = dirname(fileURLToPath(import.meta.url));

/** One workload on one emulator. */
export interface WorkloadResult {
  workload: string;
  emulator: string;
  /** Why it did not run or did not pass (missing emulator, wrong checksum, timeout...). */
  status: "ok" | "missing" | "failed";
  message?: string;
  iterations: number;
  instructions: number;
  wallSeconds?: number;
  startupSeconds?: number;
  mips?: number;
  nsPerOp?: number;
  opName?: string;
  peakMiB?: number;
}

/** Options of {@link runWorkloads}. */
export interface HarnessOptions {
  runs: number;
  timeoutSeconds: number;
  log: (line: string) => void;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function diskFor(workload: Workload, iterations: number, dir: string): string {
  const image = readFileSync(join(here, "workloads", "images", `${workload.name}.img`));
  const disk = Buffer.alloc(DISK_SIZE);
  image.copy(disk);
  disk.writeUInt32LE(iterations, ITERATIONS_OFFSET);
  const path = join(dir, `${workload.name}-${iterations}.disk`);
  writeFileSync(path, disk);
  return path;
}

/** Runs each workload on each emulator and returns one result per pair. */
export function runWorkloads(
  workloads: readonly Workload[],
  emulators: readonly Emulator[],
  options: HarnessOptions,
): WorkloadResult[] {
  const results: WorkloadResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), "turtles-bench-"));
  try {
    for (const w of workloads) {
      const iterations = w.defaultIterations;
      const instructions = (iterations - 1) * w.insnsPerIteration;
      const expected = w.checksum(iterations);
      const expectedStartup = w.checksum(1);
      const full = diskFor(w, iterations, dir);
      const startup = diskFor(w, 1, dir);
      for (const emu of emulators) {
        const base = { workload: w.name, emulator: emu.name, iterations, instructions };
        const why = emu.unavailable();
        if (why !== undefined) {
          results.push({ ...base, status: "missing", message: why });
          options.log(`${w.name} on ${emu.name}: missing (${why})`);
          continue;
        }
        const fullTimes: number[] = [];
        const startTimes: number[] = [];
        let peak = 0;
        let failure: string | undefined;
        for (let i = 0; i <= options.runs && failure === undefined; i++) {
          for (const [disk, want, times] of [
            [full, expected, fullTimes],
            [startup, expectedStartup, startTimes],
          ] as const) {
            const out = emu.run(disk, dir, options.timeoutSeconds);
            const report = parseReport(out.serial);
            if (out.error !== undefined) failure = out.error;
            else if (report === undefined)
              failure = `no report on COM1 (got ${JSON.stringify(out.serial.slice(0, 80))})`;
            else if (report.checksum !== want)
              failure = `checksum ${report.checksum.toString(16)}, expected ${want.toString(16)}`;
            if (failure !== undefined) break;
            if (i > 0) times.push(out.seconds); // run 0 is the warm-up
            peak = Math.max(peak, out.maxRssKiB ?? 0);
          }
        }
        if (failure !== undefined) {
          results.push({ ...base, status: "failed", message: failure });
          options.log(`${w.name} on ${emu.name}: FAILED (${failure})`);
          continue;
        }
        const wall = median(fullTimes);
        const start = median(startTimes);
        const net = Math.max(wall - start, 1e-9);
        const result: WorkloadResult = {
          ...base,
          status: "ok",
          wallSeconds: wall,
          startupSeconds: start,
          mips: instructions / net / 1e6,
        };
        if (w.op !== undefined) {
          result.opName = w.op.name;
          result.nsPerOp = (net * 1e9) / ((iterations - 1) * w.op.perIteration);
        }
        if (peak > 0) result.peakMiB = peak / 1024;
        results.push(result);
        options.log(`${w.name} on ${emu.name}: ${result.mips!.toFixed(1)} MIPS`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** Formats results as a table, with ours/peer ratios where both ran. */
export function formatTable(results: readonly WorkloadResult[]): string {
  const head = [
    "workload",
    "emulator",
    "instructions",
    "wall s",
    "startup s",
    "MIPS",
    "ns/op",
    "op",
    "peak MiB",
    "ours/peer",
  ];
  const rows: string[][] = [head];
  for (const r of results) {
    const ours = results.find(
      (o) => o.workload === r.workload && o.emulator === "turtles" && o.status === "ok",
    );
    const ratio =
      r.emulator !== "turtles" && ours?.mips !== undefined && r.mips !== undefined
        ? (ours.mips / r.mips).toFixed(2)
        : "";
    rows.push(
      r.status !== "ok"
        ? [
            r.workload,
            r.emulator,
            String(r.instructions),
            r.status.toUpperCase(),
            r.message ?? "",
            "",
            "",
            "",
            "",
            "",
          ]
        : [
            r.workload,
            r.emulator,
            String(r.instructions),
            r.wallSeconds!.toFixed(3),
            r.startupSeconds!.toFixed(3),
            r.mips!.toFixed(1),
            r.nsPerOp === undefined ? "" : r.nsPerOp.toFixed(1),
            r.opName ?? "",
            r.peakMiB === undefined ? "" : r.peakMiB.toFixed(0),
            ratio,
          ],
    );
  }
  const widths = head.map((_, c) =>
    Math.max(...rows.filter((row) => row[4]!.length < 40 || c !== 4).map((row) => row[c]!.length)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, c) =>
          c >= 2 && c !== 7 && row[3] !== "MISSING" && row[3] !== "FAILED"
            ? cell.padStart(widths[c]!)
            : cell.padEnd(widths[c]!),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Writes results as JSON into bench/results/ and returns the file's path. */
export function saveResults(results: readonly WorkloadResult[], extra: Record<string, unknown>): string {
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify({ ...extra, results }, null, 2)}\n`);
  return file;
}

/** Compares two saved result files (e.g. two revisions of ours): MIPS of b / MIPS of a per pair. */
export function compareResults(a: { results: WorkloadResult[] }, b: { results: WorkloadResult[] }): string {
  const lines = ["workload  emulator  MIPS a  MIPS b  b/a"];
  for (const rb of b.results) {
    const ra = a.results.find((r) => r.workload === rb.workload && r.emulator === rb.emulator);
    if (ra?.mips === undefined || rb.mips === undefined) continue;
    lines.push(
      `${rb.workload}  ${rb.emulator}  ${ra.mips.toFixed(1)}  ${rb.mips.toFixed(1)}  ${(rb.mips / ra.mips).toFixed(2)}`,
    );
  }
  return lines.join("\n");
}
