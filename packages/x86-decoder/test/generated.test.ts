import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFS_PATH, GENERATED_DIR, generate } from "../scripts/generate.js";

describe("generated tables", () => {
  it("are up to date with defs/instructions.txt (run scripts/generate.ts)", () => {
    const out = generate(readFileSync(DEFS_PATH, "utf8"));
    for (const [name, content] of out) {
      expect(readFileSync(join(GENERATED_DIR, name), "utf8"), name).toBe(content);
    }
  });
});
