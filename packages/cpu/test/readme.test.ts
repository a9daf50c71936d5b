import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import * as example from "./readme-example.js";

const here = dirname(fileURLToPath(import.meta.url));

it("the README example is the tested one", () => {
  const readme = readFileSync(join(here, "..", "README.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  const source = readFileSync(join(here, "readme-example.ts"), "utf8");
  const body = /\/\/ README-BEGIN\n([\s\S]*?)\/\/ README-END\n/.exec(source)?.[1];
  expect(body).toBeDefined();
  expect(block?.trimEnd()).toBe(body?.trimEnd());
});

it("the README example computes what its comments say", () => {
  expect(example.rflags).toBe(0x896);
  expect(example.overflowed).toBe(true);
  expect(example.jo).toBe(true);
  expect(example.jl).toBe(false);
  expect(example.fault).toBe(example.VECTOR_DE);
  expect(example.fault).toBe(0);
  expect(example.raxHigh).toBe(0x80000000);
});
