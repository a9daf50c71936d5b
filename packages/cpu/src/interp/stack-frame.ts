/**
 * Reads a whole stack frame (IRETQ's five qwords) with one translation when it lies in one page,
 * instead of one segment check and translation per value.
 */
import { AccessKind } from "@turtles/memory";
import { Seg } from "../state/registers.js";
import type { Cpu } from "./cpu.js";

/**
 * In 64-bit mode, reads `count` qwords at the top of the stack into `out` (lo, hi pairs) and
 * returns true; returns false (nothing read, nothing raised) when the frame crosses a page, or
 * alignment checking or a data breakpoint needs each access checked on its own. The reads are
 * those the pops would make: the same canonical check and translation (one page, so one walk).
 */
export function peekQwords64(c: Cpu, count: number, out: Uint32Array): boolean {
  if (!c.mode64 || c.acActive || c.dataWatch) return false;
  const la = c.sp() + c.segBaseN[Seg.SS]!;
  const bytes = 8 * count;
  if ((la & 0xfff) + bytes > 4096) return false;
  // A page lies wholly on one side of the (page-aligned) canonical bounds: checking the frame is
  // checking its first qword.
  const pa = c.xlateRead(c.lin(Seg.SS, c.sp(), bytes, false), bytes);
  const m = c.memory;
  for (let k = 0; k < count; k++) m.read64(pa + 8 * k, AccessKind.Read, out, 2 * k);
  return true;
}
