/**
 * BMI1, BMI2, ADX and CRC32 (SDM vol. 2): VEX-encoded three-operand forms over the `src/alu`
 * semantics. Operands by position: `d` (operand 0), `r1`, `r2`; the ModRM operand (E) may be
 * memory.
 */
import { adcx, adox } from "../../alu/adx.js";
import { andn, bextr, blsi, blsmsk, blsr, bzhi, pdep, pext } from "../../alu/bmi.js";
import { rorx, sarx, shlx, shrx } from "../../alu/bmi2-shift.js";
import { crc32 } from "../../alu/crc32.js";
import { mulx } from "../../alu/muldiv.js";
import type { Cpu } from "../cpu.js";
import type { Insn } from "../insn.js";
import { getReg, setReg } from "./operands.js";

/** BMI operation numbers (`Insn.aux`). */
export const BmiOp = {
  ANDN: 0,
  BEXTR: 1,
  BLSI: 2,
  BLSMSK: 3,
  BLSR: 4,
  BZHI: 5,
  PDEP: 6,
  PEXT: 7,
  MULX: 8,
  RORX: 9,
  SARX: 10,
  SHLX: 11,
  SHRX: 12,
  ADCX: 13,
  ADOX: 14,
} as const;

/** The E operand at position `k` (1 or 2), at `size` bits; the high half is left in `c.mhi`. */
function readE(c: Cpu, i: Insn, k: number, size: number): number {
  if (i.mem) return c.rdSized(c.lin(i.seg, c.ea(i), size >>> 3, false), size >>> 3);
  const g = c.s.gpr;
  const r = k === 1 ? i.r1 : i.r2;
  c.mhi = g[2 * r + 1]!;
  return getReg(g, r, 0, size);
}

/** One BMI1/BMI2/ADX instruction (aux = {@link BmiOp}). */
export function bmi(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const size = i.size;
  const o = s.out;
  switch (i.aux) {
    case BmiOp.ANDN: {
      const e = readE(c, i, 2, size);
      andn(s, size, g[2 * i.r1]!, g[2 * i.r1 + 1]!, e, c.mhi);
      break;
    }
    case BmiOp.PDEP:
    case BmiOp.PEXT: {
      const e = readE(c, i, 2, size);
      if (i.aux === BmiOp.PDEP) pdep(s, size, g[2 * i.r1]!, g[2 * i.r1 + 1]!, e, c.mhi);
      else pext(s, size, g[2 * i.r1]!, g[2 * i.r1 + 1]!, e, c.mhi);
      break;
    }
    case BmiOp.MULX: {
      const e = readE(c, i, 2, size);
      mulx(s, size, g[4]!, g[5]!, e, c.mhi);
      setReg(g, i.r1, 0, size, o[0]!, o[1]!);
      setReg(g, i.d, 0, size, o[2]!, o[3]!);
      return;
    }
    case BmiOp.BEXTR:
    case BmiOp.BZHI:
    case BmiOp.SARX:
    case BmiOp.SHLX:
    case BmiOp.SHRX: {
      const e = readE(c, i, 1, size);
      const eHi = c.mhi;
      const control = g[2 * i.r2]!;
      if (i.aux === BmiOp.BEXTR) bextr(s, size, e, eHi, control);
      else if (i.aux === BmiOp.BZHI) bzhi(s, size, e, eHi, control);
      else if (i.aux === BmiOp.SARX) sarx(s, size, e, eHi, control);
      else if (i.aux === BmiOp.SHLX) shlx(s, size, e, eHi, control);
      else shrx(s, size, e, eHi, control);
      break;
    }
    case BmiOp.RORX: {
      const e = readE(c, i, 1, size);
      rorx(s, size, e, c.mhi, i.immLo);
      break;
    }
    case BmiOp.BLSI:
    case BmiOp.BLSMSK:
    case BmiOp.BLSR: {
      const e = readE(c, i, 1, size);
      if (i.aux === BmiOp.BLSI) blsi(s, size, e, c.mhi);
      else if (i.aux === BmiOp.BLSMSK) blsmsk(s, size, e, c.mhi);
      else blsr(s, size, e, c.mhi);
      break;
    }
    default: {
      const e = readE(c, i, 1, size);
      if (i.aux === BmiOp.ADCX) adcx(s, size, g[2 * i.d]!, g[2 * i.d + 1]!, e, c.mhi);
      else adox(s, size, g[2 * i.d]!, g[2 * i.d + 1]!, e, c.mhi);
      break;
    }
  }
  setReg(g, i.d, 0, size, o[0]!, o[1]!);
}

/** CRC32 r32/r64, E (aux = the source size in bits). */
export function crc32Op(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const from = i.aux;
  let v: number;
  let hi = 0;
  if (i.mem) {
    v = c.rdSized(c.lin(i.seg, c.ea(i), from >>> 3, false), from >>> 3);
    hi = c.mhi;
  } else {
    v = getReg(g, i.s, i.sh, from);
    hi = g[2 * i.s + 1]!;
  }
  crc32(s, from as 8 | 16 | 32 | 64, g[2 * i.d]!, v, hi);
  setReg(g, i.d, 0, i.size === 64 ? 64 : 32, s.out[0]!, 0);
}
