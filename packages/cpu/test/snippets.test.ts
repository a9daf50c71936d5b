import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
