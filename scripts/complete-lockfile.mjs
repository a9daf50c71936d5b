#!/usr/bin/env node
// Adds lockfile entries for optional dependencies that npm could not record because the registry
// this workplace reaches serves only this platform's builds (other platforms' binaries of biome,
// rollup, esbuild, turbo... answer 404). Without the entries, `npm ci` refuses the lockfile as out
// of sync. Each stub carries the platform fields parsed from the package's name, so npm never
// tries to install it here; on a platform where it is needed, npm fetches it as usual.
// Run after every `npm install` that changes package-lock.json: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from "node:fs";

const OS = [
  "android",
  "darwin",
  "freebsd",
  "linux",
  "win32",
  "openbsd",
  "netbsd",
  "sunos",
  "aix",
  "openharmony",
  "cygwin",
];
const CPU = {
  arm64: "arm64",
  x64: "x64",
  64: "x64",
  ia32: "ia32",
  32: "ia32",
  arm: "arm",
  loong64: "loong64",
  ppc64: "ppc64",
  riscv64: "riscv64",
  s390x: "s390x",
  mips64el: "mips64el",
  wasm32: "wasm32",
};

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path}/node_modules/${name}`;
    const top = `node_modules/${name}`;
    if (packages[nested] || packages[top]) continue;
    const tokens = name.split(/[/@-]/);
    const os = tokens.find((t) => OS.includes(t));
    const cpu = tokens.map((t) => CPU[t]).find((c) => c !== undefined);
    const stub = { version: spec, optional: true };
    if (entry.dev) stub.dev = true;
    if (os) stub.os = [os];
    if (cpu) stub.cpu = [cpu];
    if (tokens.includes("musl")) stub.libc = ["musl"];
    else if (tokens.includes("gnu") || tokens.includes("gnueabihf")) stub.libc = ["glibc"];
    packages[top] = stub;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: ${added} entries added`);
