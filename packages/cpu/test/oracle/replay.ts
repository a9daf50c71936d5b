/** Replays fixture forms on our implementation and compares with the host CPU's results. */

import type { OperandSize } from "../../src/index.js";
import { ARITH_FLAGS, CpuState, condition, RESULT_UNDEFINED, undefinedFlags } from "../../src/index.js";
import type { FixtureCase, FixtureForm } from "./fixture-file.js";
import { countOf, mnemonicOf, type Outcome, RUNNERS } from "./runners.js";

export interface FormReport {
  name: string;
  cases: number;
  /** Cases whose result the SDM leaves undefined (not compared). */
  undefinedResult: number;
  agree: number;
  mismatches: string[];
}

const hex = (lo: number, hi: number) =>
  `0x${(hi >>> 0).toString(16)}_${(lo >>> 0).toString(16).padStart(8, "0")}`;

/** Condition `cc` computed straight from RFLAGS bits (reference for the lazy evaluation). */
export function conditionFromBits(bits: number, cc: number): boolean {
  const cf = bits & 1;
  const pf = (bits >>> 2) & 1;
  const zf = (bits >>> 6) & 1;
  const sf = (bits >>> 7) & 1;
  const of = (bits >>> 11) & 1;
  const v = [of, cf, zf, cf | zf, sf, pf, sf ^ of, (sf ^ of) | zf][cc >>> 1]!;
  return (v ^ (cc & 1)) === 1;
}

export function replayForm(form: FixtureForm, checkConditions = false): FormReport {
  const run = RUNNERS.get(form.name);
  const report: FormReport = {
    name: form.name,
    cases: form.cases.length,
    undefinedResult: 0,
    agree: 0,
    mismatches: [],
  };
  if (run === undefined) {
    report.mismatches.push(`no runner for form ${form.name}`);
    return report;
  }
  const mnemonic = mnemonicOf(form.name, form.size);
  const size = (form.size === 0 ? 64 : form.size) as OperandSize;
  const s = new CpuState();
  const o: Outcome = { rLo: 0, rHi: 0, dLo: 0, dHi: 0, fault: 0 };
  for (const c of form.cases) {
    const undef = undefinedFlags(mnemonic, size, countOf(form.name, c));
    if (undef === RESULT_UNDEFINED) {
      report.undefinedResult++;
      continue;
    }
    s.flags.write(0x202 | (c.flagsIn & ARITH_FLAGS));
    o.rLo = o.rHi = o.dLo = o.dHi = o.fault = 0;
    run(s, size, c, o);
    const problem = compare(c, o, (s.flags.read() & ARITH_FLAGS) >>> 0, ARITH_FLAGS & ~undef);
    let condProblem = "";
    if (problem === "" && checkConditions && undef === 0 && c.fault === 0) {
      for (let cc = 0; cc < 16; cc++) {
        if (condition(s.flags, cc) !== conditionFromBits(c.flagsOut, cc))
          condProblem = `condition ${cc} differs`;
      }
    }
    if (problem === "" && condProblem === "") report.agree++;
    else if (report.mismatches.length < 8) {
      report.mismatches.push(
        `${form.name} a=${hex(c.aLo, c.aHi)} b=${hex(c.bLo, c.bHi)} c=${hex(c.cLo, c.cHi)} fin=0x${c.flagsIn.toString(16)}: ${problem}${condProblem}`,
      );
    }
  }
  return report;
}

function compare(c: FixtureCase, o: Outcome, flags: number, mask: number): string {
  if (c.fault !== o.fault) return `fault host=${c.fault} ours=${o.fault}`;
  if (c.fault !== 0) return "";
  const parts: string[] = [];
  if (c.rLo !== o.rLo >>> 0 || c.rHi !== o.rHi >>> 0)
    parts.push(`r host=${hex(c.rLo, c.rHi)} ours=${hex(o.rLo, o.rHi)}`);
  if (c.dLo !== o.dLo >>> 0 || c.dHi !== o.dHi >>> 0)
    parts.push(`d host=${hex(c.dLo, c.dHi)} ours=${hex(o.dLo, o.dHi)}`);
  if ((c.flagsOut & mask) !== (flags & mask)) {
    parts.push(
      `flags host=0x${(c.flagsOut & mask).toString(16)} ours=0x${(flags & mask).toString(16)} (mask 0x${mask.toString(16)})`,
    );
  }
  return parts.join("; ");
}
