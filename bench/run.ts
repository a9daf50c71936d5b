// `npm run bench`: the micro-benchmarks (bench/micro/*.ts, each in its own process), then the
// workload images on Turtles and its peers, as a table and as JSON in bench/results/.
//
//   npm run bench                        everything
//   npm run bench -- memory pio          only these micro-benchmarks / workloads
//   npm run bench -- --runs 3            medians of 3 runs (default 5)
//   npm run bench -- --micro-only | --workloads-only
//   npm run bench -- --compare a.json b.json   compare two saved runs
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emulators } from "./emulators.js";
import { compareResults, formatTable, runWorkloads, saveResults } from "./harness.js";
import { workloads } from "./workloads/manifest.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

let runs = 5;
let microOnly = false;
let workloadsOnly = false;
const names: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === "--runs") {
    runs = Number(args[++i]);
    if (!Number.isInteger(runs) || runs < 1) fail("--runs takes a positive whole number");
  } else if (a === "--micro-only") microOnly = true;
  else if (a === "--workloads-only") workloadsOnly = true;
  else if (a === "--compare") {
    const [fa, fb] = [args[i + 1], args[i + 2]];
    if (fa === undefined || fb === undefined) fail("--compare takes two result files");
    const load = (f: string) => {
      try {
        return JSON.parse(readFileSync(f, "utf8"));
      } catch (e) {
        fail(`cannot read ${f}: ${(e as Error).message}`);
      }
    };
    console.log(compareResults(load(fa), load(fb)));
    process.exit(0);
  } else if (a.startsWith("-")) fail(`unknown option ${a}`);
  else names.push(a);
}

const micro = readdirSync(join(here, "micro"))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .map((f) => basename(f, ".ts"))
  .sort();
const unknown = names.filter((n) => !micro.includes(n) && !workloads.some((w) => w.name === n));
if (unknown.length > 0) {
  fail(
    `unknown benchmark ${unknown.join(", ")} (micro: ${micro.join(", ")}; workloads: ${workloads.map((w) => w.name).join(", ")})`,
  );
}

let failed = 0;
const microToRun = workloadsOnly ? [] : names.length > 0 ? names.filter((n) => micro.includes(n)) : micro;
for (const name of microToRun) {
  console.log(`\n== micro: ${name} ==`);
  const run = spawnSync(
    process.execPath,
    ["--conditions=@turtles/source", "--import", "tsx", join(here, "micro", `${name}.ts`)],
    { stdio: "inherit" },
  );
  if (run.status !== 0) {
    console.error(`bench: ${name} exited with status ${run.status}`);
    failed++;
  }
}

const workloadsToRun = microOnly
  ? []
  : names.length > 0
    ? workloads.filter((w) => names.includes(w.name))
    : workloads;
if (workloadsToRun.length > 0) {
  console.log(`\n== workloads (median of ${runs} runs after a warm-up, start-up subtracted) ==`);
  const results = runWorkloads(workloadsToRun, emulators, {
    runs,
    timeoutSeconds: 600,
    log: (l) => console.log(`  ${l}`),
  });
  console.log(`\n${formatTable(results)}`);
  const file = saveResults(results, { date: new Date().toISOString(), runs, node: process.version });
  console.log(`\nresults: ${file}`);
  failed += results.filter((r) => r.status === "failed").length;
}
process.exit(failed === 0 ? 0 : 1);
