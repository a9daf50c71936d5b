// The guest kit's committed images match their sources (rebuilt where gcc/as/ld exist), and each
// image gives the same serial output under QEMU as under Turtles (where QEMU is installed): a
// Multiboot v1 image written for QEMU boots unchanged.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KIT_FLAGS, KIT_IMAGES, kitDir, turtles } from "./turtles-command.js";

function have(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const haveTools =
  have("gcc", ["-m32", "--version"]) &&
  have("ld", ["-m", "elf_i386", "--version"]) &&
  have("make", ["--version"]);
const haveQemu = have("qemu-system-x86_64", ["--version"]);

describe("guest kit images", () => {
  if (!haveTools) console.warn("guest-kit: gcc, ld or make missing: not rebuilding the images");
  it.skipIf(!haveTools)(
    "are built from their sources (make -C packages/machine/test/guests/kit)",
    () => {
      const out = mkdtempSync(join(tmpdir(), "turtles-kit-"));
      execFileSync("make", ["-s", "-C", kitDir, `OUT=${out}`], { stdio: "pipe" });
      for (const name of KIT_IMAGES) {
        const built = readFileSync(join(out, `${name}.elf`));
        const committed = readFileSync(join(kitDir, `${name}.elf`));
        expect(Buffer.compare(built, committed), `${name}.elf`).toBe(0);
      }
    },
    60_000,
  );
});

describe("guest kit under QEMU and under Turtles", () => {
  if (!haveQemu) console.warn("guest-kit: qemu-system-x86_64 not installed: not comparing with QEMU");
  for (const name of KIT_IMAGES) {
    const test = haveQemu ? it : it.skip;
    test(`${name}.elf prints the same and exits the same`, () => {
      const kernel = join(kitDir, `${name}.elf`);
      const q = spawnSync("qemu-system-x86_64", ["-kernel", kernel, ...KIT_FLAGS], {
        cwd: kitDir,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(q.stdout).toContain("PASS\n");
      const t = turtles(["-kernel", kernel, ...KIT_FLAGS, "--timeout", "60"]);
      expect(t.stdout).toBe(q.stdout);
      expect(t.status).toBe(q.status);
    }, 120_000);
  }
});
