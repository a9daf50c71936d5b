// The Turtles row of the harness boots real images through bench/turtles-run.ts (the machine
// package's UART, isa-debug-exit and I/O APIC on @turtles/cpu) and prints each model's checksum.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { turtles } from "./emulators.js";
import { DISK_SIZE, ITERATIONS_OFFSET, parseReport, workloads } from "./workloads/manifest.js";

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "turtles-emu-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the turtles emulator adapter", () => {
  it.each(["intloop64", "pio", "mmio"])(
    "boots %s and prints the model's checksum",
    (name) => {
      const w = workloads.find((x) => x.name === name)!;
      const disk = Buffer.alloc(DISK_SIZE);
      readFileSync(join(here, "workloads", "images", `${name}.img`)).copy(disk);
      disk.writeUInt32LE(300, ITERATIONS_OFFSET);
      const path = join(dir, `${name}.disk`);
      writeFileSync(path, disk);
      expect(turtles.unavailable()).toBeUndefined();
      const out = turtles.run(path, dir, 120);
      expect(out.error).toBeUndefined();
      const report = parseReport(out.serial);
      expect(report?.name).toBe(name);
      expect(report?.iterations).toBe(300);
      expect(report?.checksum).toBe(w.checksum(300));
    },
    120_000,
  );
});
