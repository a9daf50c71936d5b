#!/usr/bin/env node
// Fails when a package's src/ changed since its last release without a pending changeset naming it.
//
// "Since its last release" = since the last commit that touched the package's CHANGELOG.md
// (`changeset version` writes it), or since the beginning for a package never released.
// Set CHANGESET_BASE (e.g. origin/main) to compare against a branch point instead. Changes to
// tests (*.test.ts) and uncommitted changes in the working tree count as well as commits.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const git = (...args) => execFileSync("git", args, { encoding: "utf8" }).trim();
const lines = (text) => text.split("\n").filter((l) => l.length > 0);

const pending = new Set();
for (const file of readdirSync(".changeset")) {
  if (!file.endsWith(".md") || file === "README.md") continue;
  const text = readFileSync(join(".changeset", file), "utf8");
  const front = /^---\n([\s\S]*?)\n---/.exec(text);
  if (!front) continue;
  for (const m of front[1].matchAll(/^\s*["']?([^"':\s]+)["']?\s*:/gm)) pending.add(m[1]);
}

const missing = [];
for (const dir of readdirSync("packages")) {
  const pkgFile = join("packages", dir, "package.json");
  if (!existsSync(pkgFile)) continue;
  const { name, private: isPrivate } = JSON.parse(readFileSync(pkgFile, "utf8"));
  if (isPrivate) continue;
  const src = `packages/${dir}/src`;
  let base = process.env.CHANGESET_BASE ?? "";
  if (base === "") base = git("log", "-1", "--format=%H", "--", `packages/${dir}/CHANGELOG.md`);
  const range = base === "" ? ["HEAD"] : [`${base}..HEAD`];
  const committed = lines(git("log", "--format=", "--name-only", ...range, "--", src));
  const uncommitted = lines(git("status", "--porcelain", "--", src));
  const changed = [...committed, ...uncommitted].filter((f) => !/\.test\.ts$/.test(f));
  if (changed.length > 0 && !pending.has(name))
    missing.push(`${name} (${changed.length} changed source files)`);
}

if (missing.length > 0) {
  console.error("check-changesets: these packages changed without a changeset (run `npx changeset`):");
  for (const m of missing) console.error(`  - ${m}`);
  process.exit(1);
}
console.log(`check-changesets: ok (${pending.size} packages with pending changesets)`);
