#!/usr/bin/env node
// Packaging checks on every built, publishable package: publint (package.json and files as
// published) and @arethetypeswrong/cli (types resolve for node10, node16 CJS/ESM and bundlers).
// Run after `npm run build`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let failed = 0;
let checked = 0;
for (const dir of readdirSync("packages").sort()) {
  const root = join("packages", dir);
  const pkgFile = join(root, "package.json");
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  if (pkg.private) continue;
  if (!existsSync(join(root, "dist"))) {
    console.error(`check-packages: ${pkg.name} has no dist/ (run npm run build first)`);
    failed++;
    continue;
  }
  checked++;
  for (const [tool, args] of [
    ["publint", ["publint", "--strict", root]],
    ["attw", ["attw", "--pack", root, "--format", "table-flipped"]],
  ]) {
    const run = spawnSync("npx", ["--no-install", ...args], { encoding: "utf8" });
    const output = `${run.stdout}${run.stderr}`
      .split("\n")
      .filter((l) => !l.includes("nodedir"))
      .join("\n");
    if (run.status !== 0) {
      console.error(`check-packages: ${tool} failed for ${pkg.name}:\n${output}`);
      failed++;
    } else {
      console.log(`check-packages: ${tool} ok for ${pkg.name}`);
    }
  }
}
console.log(`check-packages: ${checked} packages checked, ${failed} failures`);
process.exit(failed === 0 ? 0 : 1);
