import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { INTERPRETER_FORMS } from "./oracle/interpreter-forms.js";
import { SNIPPETS } from "./snippets.js";

function hasNasm(): boolean {
  try {
    execFileSync("nasm", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasNasm())("the committed snippet bytes are what nasm assembles from their source", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpu-snippets-"));
  for (const [name, s] of Object.entries(SNIPPETS)) {
    it(name, () => {
      const src = join(dir, `${name}.asm`);
      const bin = join(dir, `${name}.bin`);
      writeFileSync(src, `bits ${s.bits}\norg ${s.org}\n${s.src}`);
      execFileSync("nasm", ["-f", "bin", "-o", bin, src]);
      expect(readFileSync(bin).toString("hex")).toBe(s.hex);
    });
  }
});

describe.skipIf(!hasNasm())("the oracle replay's instruction bytes are what nasm assembles", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpu-forms-"));
  it("every form", () => {
    const src = join(dir, "forms.asm");
    const bin = join(dir, "forms.bin");
    const wrong: string[] = [];
    for (const [name, f] of Object.entries(INTERPRETER_FORMS)) {
      writeFileSync(src, `bits 64\n${f.asm}\n`);
      execFileSync("nasm", ["-f", "bin", "-o", bin, src]);
      if (readFileSync(bin).toString("hex") !== f.hex) wrong.push(name);
    }
    expect(wrong).toEqual([]);
  });
});
