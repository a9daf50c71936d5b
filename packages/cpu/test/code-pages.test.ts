// Pages that hold both code and data (SDM vol. 3, 11.6 "Self-Modifying Code"): a store next to
// cached instructions keeps them; a store into them is seen by the next execution.
import { describe, expect, it } from "vitest";
import { Gpr, StopReason } from "../src/index.js";
import { createMachine, L } from "./modes.js";

describe("writes to pages that hold decoded code", () => {
  for (const compile of [true, false]) {
    it(`a data store beside the code does not drop its blocks (compile=${compile})`, () => {
      const m = createMachine("long");
      m.cpu.compile = compile;
      // mov ecx, 1000; top: mov [rip + 0x800 - 11], ecx; dec ecx; jnz top; hlt
      m.load(
        L.CODE,
        Uint8Array.from([0xb9, 0xe8, 0x03, 0, 0, 0x89, 0x0d, 0xf5, 0x07, 0, 0, 0xff, 0xc9, 0x75, 0xf6, 0xf4]),
      );
      expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
      expect(m.read32(L.CODE + 0x800)).toBe(1);
      expect(m.cpu.state.lo(Gpr.RCX)).toBe(0);
      // The entry block, the loop, the HLT after it: no rebuild per store.
      expect(m.cpu.blocksDecoded).toBeLessThanOrEqual(3);
    });

    it(`a store into the block's own instructions is seen on the next pass (compile=${compile})`, () => {
      const m = createMachine("long");
      m.cpu.compile = compile;
      // mov ecx, 100; top: mov eax, imm32; add ebx, eax; mov [rip - 12], ecx (the imm32);
      // dec ecx; jnz top; hlt
      m.load(
        L.CODE,
        Uint8Array.from([
          0xb9, 100, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0x01, 0xc3, 0x89, 0x0d, 0xf4, 0xff, 0xff, 0xff, 0xff, 0xc9,
          0x75, 0xef, 0xf4,
        ]),
      );
      expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
      // Pass k adds what pass k-1 stored: 0 + 100 + 99 + ... + 2.
      expect(m.cpu.state.lo(Gpr.RBX)).toBe(5049);
      expect(m.cpu.blocksDecoded).toBeGreaterThanOrEqual(100);
    });
  }
});
