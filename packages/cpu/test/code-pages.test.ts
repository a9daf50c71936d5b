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

  it("blocks dropped by self-modifying code keep nothing alive (no chain of stale successors)", () => {
    const m = createMachine("long");
    // Called from the page below (a block that stays valid and links into the loop's page), the
    // same self-modifying loop, 3000 passes, then RET: each pass drops the page's blocks and
    // builds new ones.
    m.load(L.CODE - 0x1000, Uint8Array.from([0xe8, 0xfb, 0x0f, 0, 0, 0xf4])); // call L.CODE; hlt
    m.load(
      L.CODE,
      Uint8Array.from([
        0xb9, 0xb8, 0x0b, 0, 0, 0xb8, 0, 0, 0, 0, 0x01, 0xc3, 0x89, 0x0d, 0xf4, 0xff, 0xff, 0xff, 0xff, 0xc9,
        0x75, 0xef, 0xc3,
      ]),
    );
    m.cpu.state.rip = L.CODE - 0x1000;
    expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
    expect(m.cpu.blocksDecoded).toBeGreaterThanOrEqual(3000);
    // Every block reachable from the cache through successor links: stale ones must be few.
    interface Linked {
      valid: boolean;
      link0: Linked | null;
      link1: Linked | null;
    }
    const cache = (m.cpu as unknown as { cache: { blocks: Map<number, Linked> } }).cache;
    const seen = new Set<Linked>();
    const todo = [...cache.blocks.values()];
    while (todo.length > 0) {
      const b = todo.pop()!;
      if (seen.has(b)) continue;
      seen.add(b);
      if (b.link0 !== null) todo.push(b.link0);
      if (b.link1 !== null) todo.push(b.link1);
    }
    const stale = [...seen].filter((b) => !b.valid).length;
    expect(stale).toBeLessThanOrEqual(2);
  });
});
