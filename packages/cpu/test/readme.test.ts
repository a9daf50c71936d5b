import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { StopReason } from "../src/index.js";
import * as example from "./readme-example.js";
import * as intercepts from "./readme-intercepts-example.js";
import * as interpreter from "./readme-interpreter-example.js";

const here = dirname(fileURLToPath(import.meta.url));

function body(file: string): string | undefined {
  const source = readFileSync(join(here, file), "utf8");
  return /\/\/ README-BEGIN\n([\s\S]*?)\/\/ README-END\n/.exec(source)?.[1];
}

it("the README examples are the tested ones", () => {
  const readme = readFileSync(join(here, "..", "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]?.trimEnd());
  expect(blocks[0]).toBe(body("readme-interpreter-example.ts")?.trimEnd());
  expect(blocks[1]).toBe(body("readme-intercepts-example.ts")?.trimEnd());
  expect(blocks[2]).toBe(body("readme-example.ts")?.trimEnd());
});

it("the README interpreter example computes what its comments say", () => {
  expect(interpreter.why).toBe(StopReason.Halted);
  expect(interpreter.halted).toBe(true);
  expect(interpreter.ax).toBe(42);
  expect(interpreter.retired).toBe(4);
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

it("the README intercepts example computes what its comments say", () => {
  expect(intercepts.why).toBe(StopReason.VmExit);
  expect(intercepts.exited).toBe(true);
  expect(intercepts.at).toBe(0x7c03);
  expect(intercepts.length).toBe(2);
  expect(intercepts.after).toBe(StopReason.Halted);
});
