/**
 * Legacy-mode instructions (invalid in 64-bit mode, where the decoder reports them as such):
 * the BCD adjustments DAA/DAS/AAA/AAS/AAM/AAD and PUSHA/POPA; plus STAC/CLAC (SMAP).
 */
import { aaa, aad, aam, aas, daa, das } from "../../alu/bcd.js";
import type { Cpu } from "../cpu.js";
import { NO_ERROR, V } from "../fault.js";
import type { Insn } from "../insn.js";
import { getReg, setReg } from "./operands.js";

/** DAA, DAS, AAA, AAS, AAM, AAD (aux 0-5). */
export function bcd(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const ax = g[0]! & 0xffff;
  switch (i.aux) {
    case 0:
      daa(s, ax & 0xff);
      setReg(g, 0, 0, 8, s.out[0]!, 0);
      return;
    case 1:
      das(s, ax & 0xff);
      setReg(g, 0, 0, 8, s.out[0]!, 0);
      return;
    case 2:
      aaa(s, ax);
      break;
    case 3:
      aas(s, ax);
      break;
    case 4:
      if (aam(s, ax, i.immLo) >= 0) c.fault(V.DE, NO_ERROR);
      break;
    default:
      aad(s, ax, i.immLo);
      break;
  }
  setReg(g, 0, 0, 16, s.out[0]!, 0);
}

/** PUSHA/POPA scratch: the eight values, reused (no allocation per instruction). */
const pushaValues = new Float64Array(8);

/** PUSHA/PUSHAD: AX, CX, DX, BX, the original SP, BP, SI, DI. */
export function pusha(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const bytes = i.size >>> 3;
  const sp = c.sp();
  for (let r = 0; r < 8; r++) pushaValues[r] = r === 4 ? sp : getReg(g, r, 0, i.size);
  try {
    for (let r = 0; r < 8; r++) c.push(bytes, pushaValues[r]!, 0);
  } catch (e) {
    c.setSp(sp);
    throw e;
  }
}

/** POPA/POPAD: DI, SI, BP, (skipped SP), BX, DX, CX, AX. */
export function popa(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const bytes = i.size >>> 3;
  // Read all eight before changing anything: a fault on the last leaves the registers intact.
  for (let k = 0; k < 8; k++) pushaValues[k] = c.peek(bytes, k * bytes);
  c.addSp(8 * bytes);
  for (let k = 0; k < 8; k++) {
    const r = 7 - k;
    if (r !== 4) setReg(g, r, 0, i.size, pushaValues[k]!, 0);
  }
}

/**
 * CLAC (aux 0) / STAC (aux 1): EFLAGS.AC at CPL 0, else #UD (SDM vol. 2A CLAC: the #UD depends on
 * CPUID's SMAP bit, which this model always reports, not on CR4.SMAP).
 */
export function clacStac(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) c.fault(V.UD, NO_ERROR);
  c.setRflags(i.aux === 1 ? 0x40000 : 0, 0x40000);
}
