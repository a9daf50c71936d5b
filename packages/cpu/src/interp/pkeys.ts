/**
 * Protection keys for user-mode pages (SDM vol. 3A, 4.6.2): the PKRU register and RDPKRU/WRPKRU
 * (vol. 2B). The access-disable/write-disable checks themselves are made by the page walker
 * (`@turtles/ept`), which reports a violation with bit 5 (PK) of the #PF error code; the TLB caches
 * their outcome, so a change of PKRU drops the data translations of user-mode pages.
 */
import type { Cpu } from "./cpu.js";
import { CR4_PKE } from "./cr4.js";
import { NO_ERROR, V } from "./fault.js";
import type { Insn } from "./insn.js";

/** Loads PKRU with `value` and drops the TLB entries whose permission check used the old value. */
export function setPkru(c: Cpu, value: number): void {
  const v = value >>> 0;
  if (c.s.pkru === v && c.walker.pkru === v) return;
  c.s.pkru = v;
  c.walker.pkru = v;
  for (const t of c.tlbs.all()) if (t.anyKeyed) t.clearData();
}

/** RDPKRU: EAX = PKRU, EDX = 0 (upper halves cleared). #UD without CR4.PKE; #GP(0) when ECX ≠ 0. */
export function rdpkru(c: Cpu, _i: Insn): void {
  const s = c.s;
  if ((s.cr[8]! & CR4_PKE) === 0) c.fault(V.UD, NO_ERROR);
  const g = s.gpr;
  if (g[2] !== 0) c.fault(V.GP, 0);
  g[0] = s.pkru;
  g[1] = 0;
  g[4] = 0;
  g[5] = 0;
}

/** WRPKRU: PKRU = EAX. #UD without CR4.PKE; #GP(0) when ECX ≠ 0 or EDX ≠ 0. */
export function wrpkru(c: Cpu, _i: Insn): void {
  const s = c.s;
  if ((s.cr[8]! & CR4_PKE) === 0) c.fault(V.UD, NO_ERROR);
  const g = s.gpr;
  if (g[2] !== 0 || g[4] !== 0) c.fault(V.GP, 0);
  setPkru(c, g[0]!);
}
