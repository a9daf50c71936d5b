import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OK } from "../src/generated/operand-kind-ids.js";

// The operand reader switches on numeric literals (so V8 builds a jump table); each carries the operand
// kind's name in a comment. This test keeps the numbers and the names in step.
describe("decoder source", () => {
  it("numeric case labels match their operand-kind names", () => {
    const src = readFileSync(join(import.meta.dirname, "..", "src", "operand-reader.ts"), "utf8");
    const labels = [...src.matchAll(/case (\d+) \/\* (\w+) \*\//g)];
    expect(labels.length).toBeGreaterThan(50);
    for (const [, num, name] of labels) {
      expect(OK[name as keyof typeof OK], name).toBe(Number(num));
    }
  });
});
