// The page walker's paging-structure cache (SDM 4.10.3) is flushed with the TLB: after INVLPG or
// a CR3 write, a walk in a region whose PDE changed uses the new PDE.
import { describe, expect, it } from "vitest";
import { Gpr, StopReason } from "../src/index.js";
import { createMachine, L } from "./modes.js";
import { le32 } from "./snippet.js";

const REGION = 0x80_0000; // PD[4]: 4-KByte pages through a page table
const PT_A = 0x31_0000;
const PT_B = 0x31_1000;

function run(flush: number[]): bigint {
  const m = createMachine("long");
  m.write64(L.PD + 8 * 4, BigInt(PT_A | 7));
  m.write64(PT_A, BigInt(0x32_0000 | 7));
  m.write64(PT_A + 8, BigInt(0x32_1000 | 7));
  m.write64(PT_B + 8, BigInt(0x32_2000 | 7));
  m.write64(0x32_0000, 0x11n);
  m.write64(0x32_1000, 0x22n);
  m.write64(0x32_2000, 0x33n);
  m.load(L.CODE, [
    ...[0x48, 0x8b, 0x04, 0x25, ...le32(REGION)], // mov rax, [REGION]: the walk caches PML4E/PDPTE/PDE
    ...[0xc7, 0x04, 0x25, ...le32(L.PD + 8 * 4), ...le32(PT_B | 7)], // PD[4] = PT_B
    ...flush,
    ...[0x48, 0x8b, 0x1c, 0x25, ...le32(REGION + 0x1000)], // mov rbx, [REGION + 4K]: a TLB miss
    0xf4,
  ]);
  expect(m.cpu.run(100)).toBe(StopReason.Halted);
  return BigInt(m.cpu.state.lo(Gpr.RBX));
}

describe("paging-structure cache invalidation", () => {
  it("INVLPG drops the cached PDE", () => {
    expect(run([0x0f, 0x01, 0x3c, 0x25, ...le32(REGION)])).toBe(0x33n); // invlpg [REGION]
  });

  it("a CR3 write drops the cached PDE", () => {
    expect(run([0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8])).toBe(0x33n); // mov rax, cr3; mov cr3, rax
  });

  it("without an invalidation the cached PDE may still be used, as on hardware (SDM 4.10.3)", () => {
    expect(run([0x90])).toBe(0x22n);
  });
});
