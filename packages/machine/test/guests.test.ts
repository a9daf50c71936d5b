// The committed guest images must match their sources: rebuilt where GNU as/ld exist.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessKind } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { BootMode, loadMultiboot, PcMemoryLayout } from "../src/index.js";

const dir = new URL("./guests/", import.meta.url);
const image = new Uint8Array(readFileSync(new URL("multiboot-hello.elf", dir)));

function haveTools(): boolean {
  try {
    execFileSync("as", ["--version"], { stdio: "ignore" });
    execFileSync("ld", ["-m", "elf_i386", "--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("guest images", () => {
  it.skipIf(!haveTools())("multiboot-hello.elf is built from multiboot-hello.S", () => {
    const out = mkdtempSync(join(tmpdir(), "turtles-guest-"));
    execFileSync("sh", [new URL("build.sh", dir).pathname, out]);
    expect(Buffer.compare(readFileSync(join(out, "multiboot-hello.elf")), Buffer.from(image))).toBe(0);
  });

  it("multiboot-hello.elf loads as QEMU would load it", () => {
    const layout = new PcMemoryLayout({ ramSize: 16 * 0x10_0000 });
    const { space } = layout.createSpace();
    const entry = loadMultiboot(space, layout, image, { kernelName: "multiboot-hello.elf" });
    expect(entry.mode).toBe(BootMode.Protected32);
    expect(entry.rip).toBe(0x10000c);
    expect(entry.registers.rax).toBe(0x2badb002);
    // First instruction: cmp eax, 0x2BADB002 (3D imm32).
    expect(space.read8(0x10000c, AccessKind.Read)).toBe(0x3d);
    expect(space.read32(0x10000d, AccessKind.Read)).toBe(0x2badb002);
  });
});
