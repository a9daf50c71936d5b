// Devices read time only from the injected Clock: no host clock anywhere in the sources.
import { readdirSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("no source file reads host time", () => {
  const dir = new URL("../src/devices/", import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  expect(files.length).toBeGreaterThan(10);
  for (const f of files) {
    const text = readFileSync(new URL(f, dir), "utf8");
    expect(text, f).not.toMatch(
      /Date\.now\(|performance\.now\(|new Date\(\)|process\.hrtime|setTimeout|setInterval/,
    );
  }
});
