// Runs every micro-benchmark in bench/micro/ (or those named on the command line) one after the
// other, each in its own Node process so that one cannot warm up or pollute another's JIT state.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const microDir = join(here, "micro");
const wanted = process.argv.slice(2);
const all = readdirSync(microDir)
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .map((f) => basename(f, ".ts"))
  .sort();
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`bench: no micro-benchmark named ${unknown.join(", ")} (have: ${all.join(", ")})`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n== ${name} ==`);
  const run = spawnSync(
    process.execPath,
    ["--conditions=@turtles/source", "--import", "tsx", join(microDir, `${name}.ts`)],
    { stdio: "inherit" },
  );
  if (run.status !== 0) {
    console.error(`bench: ${name} exited with status ${run.status}`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
