// Keeps the README's `turtles` command examples true: each `$ npm run turtles -- ...` line of its
// console block runs (through the same invocation as the root script), printing what follows it.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, turtles } from "./turtles-command.js";

const INVOCATION = "node --conditions=@turtles/source --import tsx packages/machine/src/cli/main.ts";
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const block = /```console\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";

interface Example {
  args: string[];
  stdout: string;
  status: number | undefined;
}

/** The block's `$ npm run turtles -- ...` commands, the lines they print, and the `$ echo $?` after them. */
function examples(): Example[] {
  const out: Example[] = [];
  let expectStatus = false;
  for (const line of block.split("\n")) {
    const last = out.at(-1);
    if (line.startsWith("$ npm run turtles -- ")) {
      out.push({
        args: line.slice("$ npm run turtles -- ".length).split(" "),
        stdout: "",
        status: undefined,
      });
    } else if (line === "$ echo $?") {
      expectStatus = true;
    } else if (expectStatus && last !== undefined) {
      last.status = Number(line);
      expectStatus = false;
    } else if (line !== "" && last !== undefined) {
      last.stdout += `${line}\n`;
    }
  }
  return out;
}

describe("README: the turtles command", () => {
  it("documents the workspace invocation, which is the root `turtles` script", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.turtles).toBe(INVOCATION);
    expect(readme).toContain(INVOCATION);
    expect(examples().length).toBeGreaterThanOrEqual(2);
  });

  for (const [i, example] of examples().entries()) {
    it(`example ${i + 1} prints what the README shows`, () => {
      const r = turtles(example.args);
      expect(r.stdout).toBe(example.stdout);
      if (example.status !== undefined) expect(r.status).toBe(example.status);
      else expect(r.stdout).toContain("PASS");
    }, 60_000);
  }

  it("`npm run --silent turtles -- ...` runs the command from the root", () => {
    const [first] = examples();
    const r = spawnSync("npm", ["run", "--silent", "turtles", "--", ...(first?.args ?? [])], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.stdout).toBe(first?.stdout);
    expect(r.status).toBe(first?.status);
  }, 60_000);
});
