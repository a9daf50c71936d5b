// Prints, per fixture family, how many forms and cases the host CPU recorded and how many of
// them our implementation reproduces. Run from the repository root:
//   node --conditions=@turtles/source --import tsx packages/cpu/tools/oracle/report.ts
import { existsSync } from "node:fs";
import { FAMILIES, fixturePath } from "../../test/oracle/families.js";
import { readFixture } from "../../test/oracle/fixture-file.js";
import { replayForm } from "../../test/oracle/replay.js";

let totalCases = 0;
let totalAgree = 0;
let totalUndefined = 0;
let totalForms = 0;
console.log(
  `${"family".padEnd(9)} ${"forms".padStart(5)} ${"cases".padStart(6)} ${"undef".padStart(6)} ${"agree".padStart(6)}  agreement`,
);
for (const family of FAMILIES) {
  const path = fixturePath(family);
  if (!existsSync(path)) {
    console.log(`${family.padEnd(9)} (no fixture: host lacked the feature when generating)`);
    continue;
  }
  let cases = 0;
  let agree = 0;
  let undef = 0;
  const forms = readFixture(path);
  const bad: string[] = [];
  for (const form of forms) {
    const r = replayForm(form, true);
    cases += r.cases;
    agree += r.agree;
    undef += r.undefinedResult;
    bad.push(...r.mismatches.slice(0, 2));
  }
  const compared = cases - undef;
  console.log(
    `${family.padEnd(9)} ${String(forms.length).padStart(5)} ${String(cases).padStart(6)} ${String(undef).padStart(6)} ${String(agree).padStart(6)}  ${((100 * agree) / compared).toFixed(2)}%`,
  );
  for (const b of bad) console.log(`  mismatch: ${b}`);
  totalCases += cases;
  totalAgree += agree;
  totalUndefined += undef;
  totalForms += forms.length;
}
console.log(
  `${"total".padEnd(9)} ${String(totalForms).padStart(5)} ${String(totalCases).padStart(6)} ${String(totalUndefined).padStart(6)} ${String(totalAgree).padStart(6)}  ${((100 * totalAgree) / (totalCases - totalUndefined)).toFixed(2)}%`,
);
console.log(
  "undef = cases whose result the SDM leaves undefined (SHLD/SHRD 16-bit with count > 16), not compared",
);
