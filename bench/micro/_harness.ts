// A tiny timing harness for micro-benchmarks: warm-up, then the median of several timed runs.

/** One row of a benchmark table. */
export interface BenchRow {
  name: string;
  /** Operations per timed run. */
  ops: number;
  /** Median seconds per timed run. */
  seconds: number;
}

/** Times `fn` (which performs `ops` operations) `runs` times after `warmup` runs; returns the median. */
export function measure(name: string, ops: number, fn: () => void, runs = 7, warmup = 3): BenchRow {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return { name, ops, seconds: times[Math.floor(times.length / 2)]! };
}

/** Prints rows as a table: operations per second and nanoseconds per operation. */
export function printTable(rows: BenchRow[]): void {
  const width = Math.max(...rows.map((r) => r.name.length), 9);
  console.log(`${"operation".padEnd(width)}  ${"Mops/s".padStart(9)}  ${"ns/op".padStart(8)}`);
  for (const r of rows) {
    const perSecond = r.ops / r.seconds;
    console.log(
      `${r.name.padEnd(width)}  ${(perSecond / 1e6).toFixed(1).padStart(9)}  ${((r.seconds * 1e9) / r.ops).toFixed(2).padStart(8)}`,
    );
  }
}
