// Catches stale fixtures: with TURTLES_REGEN_ORACLE=1 (and gcc on an x86-64 Linux host), builds
// the oracle, regenerates every family into a temporary directory and compares with the
// committed files. Inputs must be identical; outputs must match except where the SDM leaves them
// undefined (another processor model may legitimately differ there).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARITH_FLAGS, type OperandSize, RESULT_UNDEFINED, undefinedFlags } from "../src/index.js";
import { FAMILIES, fixturePath, ORACLE_DIR } from "./oracle/families.js";
import { type FixtureCase, readFixture } from "./oracle/fixture-file.js";
import { countOf, mnemonicOf } from "./oracle/runners.js";

const wanted = process.env.TURTLES_REGEN_ORACLE === "1";
const hasGcc = wanted && spawnSync("gcc", ["--version"]).status === 0;

function sameInputs(a: FixtureCase, b: FixtureCase): boolean {
  return (
    a.aLo === b.aLo &&
    a.aHi === b.aHi &&
    a.bLo === b.bLo &&
    a.bHi === b.bHi &&
    a.cLo === b.cLo &&
    a.cHi === b.cHi &&
    a.flagsIn === b.flagsIn
  );
}

describe.skipIf(!hasGcc)("regen: committed fixtures equal a fresh oracle run", () => {
  it("regenerates and compares every family", () => {
    const out = mkdtempSync(join(tmpdir(), "turtles-oracle-"));
    try {
      execFileSync("make", ["-s", "-C", ORACLE_DIR, `OUT=${out}`], { stdio: "pipe" });
      const problems: string[] = [];
      for (const family of FAMILIES) {
        const fresh = fixturePath(family, out);
        if (!existsSync(fresh)) continue; // skipped: the host lacks the feature (the oracle said so)
        const old = readFixture(fixturePath(family));
        const now = readFixture(fresh);
        expect(now.map((f) => f.name)).toEqual(old.map((f) => f.name));
        for (const [i, form] of now.entries()) {
          const prev = old[i]!;
          const size = (form.size === 0 ? 64 : form.size) as OperandSize;
          const mnemonic = mnemonicOf(form.name, form.size);
          if (prev.cases.length !== form.cases.length) problems.push(`${form.name}: case count`);
          for (const [k, c] of form.cases.entries()) {
            const p = prev.cases[k];
            if (p === undefined || !sameInputs(c, p)) {
              problems.push(`${form.name}#${k}: inputs differ (generator changed?)`);
              break;
            }
            const undef = undefinedFlags(mnemonic, size, countOf(form.name, c));
            if (undef === RESULT_UNDEFINED || c.fault !== p.fault) {
              if (c.fault !== p.fault) problems.push(`${form.name}#${k}: fault`);
              continue;
            }
            const mask = ARITH_FLAGS & ~undef;
            if (c.rLo !== p.rLo || c.rHi !== p.rHi || c.dLo !== p.dLo || c.dHi !== p.dHi) {
              problems.push(`${form.name}#${k}: result`);
            } else if ((c.flagsOut & mask) !== (p.flagsOut & mask)) {
              problems.push(`${form.name}#${k}: flags`);
            }
          }
        }
      }
      expect(problems.slice(0, 20)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
