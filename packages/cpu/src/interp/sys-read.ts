/**
 * Implicit supervisor reads of several consecutive dwords (descriptors, IDT gates, TSS fields):
 * one translation when they lie in one page, as the dword-by-dword reads would all use it.
 */
import { AccessKind } from "@turtles/memory";
import type { Cpu } from "./cpu.js";

/**
 * Reads `n` dwords at linear `la` into `out[at..at+n-1]` as supervisor accesses (SDM vol. 3,
 * 4.6: implicit accesses to system structures), in address order. With a data breakpoint armed,
 * or across a page boundary, each dword is read (and checked) on its own.
 */
export function sysReadDwords(c: Cpu, la: number, n: number, out: Uint32Array, at: number): void {
  if ((la & 0xfff) + 4 * n <= 4096 && !c.dataWatch) {
    const pa = c.xlateSystem(la, false, 4 * n);
    const m = c.memory;
    let k = 0;
    for (; k + 1 < n; k += 2) m.read64(pa + 4 * k, AccessKind.Read, out, at + k);
    if (k < n) out[at + k] = m.read32(pa + 4 * k, AccessKind.Read);
    return;
  }
  for (let k = 0; k < n; k++) out[at + k] = c.sysRd32(la + 4 * k);
}
