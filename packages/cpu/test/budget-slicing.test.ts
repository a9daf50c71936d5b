// A run cut into many small budgets must do exactly what one long run does: the machine's run
// loop slices `run()` at every device deadline, so a budget can stop a block anywhere — after a
// fused pair, after a jump the block builder followed, in the middle of a REP. Every bench image
// is run in slices of several sizes and must still print its model's checksum.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ITERATIONS_OFFSET, parseReport, workloads } from "../../../bench/workloads/manifest.js";
import { StopReason } from "../src/index.js";
import { createBareMetal, loadBootImage } from "./bare-metal.js";

const here = dirname(fileURLToPath(import.meta.url));
const imageDir = join(here, "..", "..", "..", "bench", "workloads", "images");
const ITERATIONS = 700;
const SLICES = [1, 3, 7, 13, 997];

describe("budget slicing gives the same result as one long run", () => {
  for (const w of workloads) {
    for (const slice of SLICES) {
      if (slice === 1 && w.name === "memwalk") continue; // 16384 page touches per round: too slow at 1
      it(`${w.name} in slices of ${slice}`, () => {
        const iterations = w.name === "memwalk" ? 1 : ITERATIONS;
        const image = new Uint8Array(readFileSync(join(imageDir, `${w.name}.img`)));
        new DataView(image.buffer).setUint32(ITERATIONS_OFFSET, iterations, true);
        const m = createBareMetal();
        loadBootImage(m, image);
        let reason: StopReason = StopReason.Budget;
        for (let i = 0; i < 10_000_000 && reason === StopReason.Budget; i++) reason = m.cpu.run(slice);
        expect(reason).toBe(StopReason.Stopped);
        expect(parseReport(m.serial())?.checksum).toBe(w.checksum(iterations));
      });
    }
  }
});
