#!/usr/bin/env bash
# Regenerates package-lock.json from the workspace's package.json files in a scratch copy, so that
# the working tree's node_modules is left alone (other work may be running tests on it), then
# completes it for other platforms (scripts/complete-lockfile.mjs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$root"
for f in package.json packages/*/package.json examples/*/package.json bench/package.json; do
  [ -f "$f" ] || continue
  mkdir -p "$scratch/$(dirname "$f")"
  cp "$f" "$scratch/$f"
done
mkdir -p "$scratch/scripts"
cp scripts/complete-lockfile.mjs "$scratch/scripts/"
cp package-lock.json "$scratch/" 2>/dev/null || true
(cd "$scratch" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund >/dev/null && node scripts/complete-lockfile.mjs)
cp "$scratch/package-lock.json" "$root/package-lock.json"
echo "regen-lockfile: package-lock.json updated"
