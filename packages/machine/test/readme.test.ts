// Keeps the README's example true: it must be the code of test/readme-example.ts, which runs here.
import { readFileSync } from "node:fs";
import { expect, it, vi } from "vitest";

it("README shows test/readme-example.ts verbatim", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("./readme-example.ts", import.meta.url), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block?.trim()).toBe(example.trim());
});

it("runs the README example", async () => {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
  try {
    await import("./readme-example.js");
  } finally {
    spy.mockRestore();
  }
  expect(lines).toEqual(["INTR true", "INTR false", "vector 24 byte 121", '"hello\\n" exit 33']);
});
