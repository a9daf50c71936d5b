import { existsSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FAMILIES, fixturePath } from "./oracle/families.js";
import { readFixture } from "./oracle/fixture-file.js";
import { replayForm } from "./oracle/replay.js";
import { RUNNERS } from "./oracle/runners.js";

describe("oracle fixtures", () => {
  it.each(FAMILIES)("%s.bin exists and is not empty", (family) => {
    const path = fixturePath(family);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).size).toBeGreaterThan(12);
    const forms = readFixture(path);
    expect(forms.length).toBeGreaterThan(0);
    for (const f of forms) expect(f.cases.length).toBeGreaterThan(0);
  });

  it("every form has a runner and every runner a form", () => {
    const names = new Set<string>();
    for (const family of FAMILIES) for (const f of readFixture(fixturePath(family))) names.add(f.name);
    expect([...names].filter((n) => !RUNNERS.has(n))).toEqual([]);
    expect([...RUNNERS.keys()].filter((n) => !names.has(n))).toEqual([]);
  });
});

describe.each(FAMILIES)("%s agrees with the host CPU", (family) => {
  const forms = existsSync(fixturePath(family)) ? readFixture(fixturePath(family)) : [];
  it.each(forms.map((f) => [f.name, f] as const))("%s", (_name, form) => {
    const report = replayForm(form, true);
    expect(report.mismatches).toEqual([]);
    expect(report.agree + report.undefinedResult).toBe(report.cases);
  });
});
