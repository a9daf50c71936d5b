import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ITERATIONS_OFFSET, parseReport, workloads } from "../../../bench/workloads/manifest.js";
import { StopReason } from "../src/index.js";
import { createBareMetal, loadBootImage } from "./bare-metal.js";

const here = dirname(fileURLToPath(import.meta.url));
const imageDir = join(here, "..", "..", "..", "bench", "workloads", "images");

/** Small iteration counts: enough to exercise every path, quick to run. */
const ITERATIONS: Record<string, number> = {
  intloop64: 3000,
  intloop32: 3000,
  memwalk: 2,
  pio: 1000,
  mmio: 1000,
  syscall: 500,
  smc: 1000,
};

describe("bench workload images boot and print their model's checksum", () => {
  const runs = [
    ...workloads.map((w) => ({ w, compile: true })),
    ...workloads.filter((w) => w.name !== "memwalk").map((w) => ({ w, compile: false })),
  ];
  for (const { w, compile } of runs) {
    it(`${w.name}${compile ? "" : " (interpreter only)"}`, () => {
      const iterations = ITERATIONS[w.name] ?? 100;
      const image = new Uint8Array(readFileSync(join(imageDir, `${w.name}.img`)));
      new DataView(image.buffer).setUint32(ITERATIONS_OFFSET, iterations, true);
      const m = createBareMetal();
      loadBootImage(m, image);
      m.cpu.compile = compile;
      const reason = m.cpu.run(50_000_000);
      const report = parseReport(m.serial());
      expect({ reason, unimplemented: m.cpu.unimplemented, text: m.serial() }).toMatchObject({
        reason: StopReason.Stopped,
      });
      expect(m.exited()).toBe(true);
      expect(report).toBeDefined();
      expect(report?.name).toBe(w.name);
      expect(report?.iterations).toBe(iterations);
      expect(report?.checksum).toBe(w.checksum(iterations));
    });
  }
});
