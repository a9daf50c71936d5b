// The workload images, their sources, their manifest entries and their checksum models agree.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ITERATIONS_OFFSET, parseReport, workloads } from "./manifest.js";
import * as models from "./models.js";

const here = dirname(fileURLToPath(import.meta.url));
const hasNasm = spawnSync("nasm", ["-v"]).status === 0;

function defines(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of source.matchAll(/^%define (\w+) (.+?)\s*$/gm)) out[m[1]!] = m[2]!;
  return out;
}

describe.each(workloads.map((w) => [w.name, w] as const))("workload %s", (name, w) => {
  const source = readFileSync(join(here, `${name}.asm`), "utf8");
  const image = readFileSync(join(here, "images", `${name}.img`));

  it("has the manifest's numbers in its source", () => {
    const d = defines(source);
    expect(d.WORKLOAD_NAME).toBe(`"${name}"`);
    expect(Number(d.MODE)).toBe(w.mode);
    expect(Number(d.DEFAULT_ITERATIONS)).toBe(w.defaultIterations);
    // INSNS_PER_ITERATION may be an expression like (16384 * 4 + 5).
    expect(Function(`return ${d.INSNS_PER_ITERATION}`)()).toBe(w.insnsPerIteration);
  });

  it("is a boot sector followed by the payload with its magic and parameter block", () => {
    expect(image.readUInt16LE(510)).toBe(0xaa55);
    expect(image.toString("latin1", 512, 520)).toBe("Turtles:");
    expect(image.readUInt32LE(ITERATIONS_OFFSET)).toBe(w.defaultIterations);
    expect(image.length).toBeLessThanOrEqual(512 + 62 * 512);
  });

  it.skipIf(!hasNasm)("matches its source (rebuilt with nasm)", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-nasm-"));
    try {
      const out = join(dir, `${name}.img`);
      const r = spawnSync("nasm", ["-f", "bin", "-o", out, `${name}.asm`], { cwd: here, encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(readFileSync(out).equals(image)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("checksum models", () => {
  // Checksums printed by the images under QEMU 7.2 (TCG) and Bochs 2.7, recorded as oracle values.
  it("reproduce what the intloop images print on real emulators", () => {
    expect(models.intloop64(1)).toBe(0xef372fe94f82b3c7n);
    expect(models.intloop64(1000)).toBe(0x16bf6a45cc91fac9n);
    expect(models.intloop64(65537)).toBe(0x2951c4190fd2033bn);
    expect(models.intloop32(1)).toBe(0x9e3779b8ef3733c7n);
    expect(models.intloop32(1000)).toBe(0x2aaa06d25bbcb7fcn);
    expect(models.intloop32(65537)).toBe(0x65575a61aaa8933en);
  });

  it("agree with brute force where they use closed forms", () => {
    for (const n of [1, 2, 255, 256, 257, 1000, 70000]) {
      let low = 0n;
      let sum = 0n;
      for (let i = 1; i <= n; i++) {
        low += BigInt(i & 0xff);
        sum += BigInt(i);
      }
      expect(models.lowByteSum(n)).toBe(low);
      expect(models.smc(n)).toBe(sum);
      expect(models.syscall(n)).toBe(sum + 4n * BigInt(n));
    }
    expect(models.memwalk(40)).toBe(0x13ffb0000n);
  });
});

describe("parseReport", () => {
  it("reads the line an image prints, and nothing else", () => {
    expect(parseReport("junk\nturtles-bench pio iterations=001e8480 checksum=000000000f32de40\n")).toEqual({
      name: "pio",
      iterations: 2_000_000,
      checksum: 0xf32de40n,
    });
    expect(parseReport("turtles-bench pio iterations=1 checksum=2")).toBeUndefined();
  });
});
