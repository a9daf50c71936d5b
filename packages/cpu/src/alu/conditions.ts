/** Condition codes of Jcc, SETcc and CMOVcc (SDM vol. 1, Appendix B), evaluated from lazy flags. */
import { FlagOp, type LazyFlags } from "../state/lazy-flags.js";

/** The 16 condition codes, numbered as in the opcode's low nibble (Jcc 0x70+cc, SETcc 0x0F 0x90+cc). */
export const Cond = {
  O: 0,
  NO: 1,
  B: 2,
  AE: 3,
  E: 4,
  NE: 5,
  BE: 6,
  A: 7,
  S: 8,
  NS: 9,
  P: 10,
  NP: 11,
  L: 12,
  GE: 13,
  LE: 14,
  G: 15,
} as const;

/** One of the {@link Cond} codes (0-15). */
export type Cond = (typeof Cond)[keyof typeof Cond];

/**
 * True when condition `cc` holds: even codes test a flag expression, odd codes its negation.
 * Only the flags the condition needs are computed. (For the dispatcher: a 32-bit CMOVcc in 64-bit
 * mode clears the destination's upper half even when the condition is false, SDM vol. 2A CMOVcc.)
 */
export function condition(f: LazyFlags, cc: number): boolean {
  if (f.op === FlagOp.Sub && cc >= Cond.B) {
    const r = compareAfterSub(f, cc);
    if (r !== -1) return r === 1;
  }
  let v: number;
  switch (cc >>> 1) {
    case 0:
      v = f.of();
      break;
    case 1:
      v = f.cf();
      break;
    case 2:
      v = f.zf();
      break;
    case 3:
      v = f.cf() | f.zf();
      break;
    case 4:
      v = f.sf();
      break;
    case 5:
      v = f.pf();
      break;
    case 6:
      v = f.sf() ^ f.of();
      break;
    default:
      v = (f.sf() ^ f.of()) | f.zf();
      break;
  }
  return (v ^ (cc & 1)) === 1;
}

/**
 * After SUB/CMP a - b the unsigned and signed conditions are plain comparisons of the operands
 * (B: a < b unsigned; L: a < b signed; E: a == b). Returns 1/0, or -1 for conditions not handled.
 */
function compareAfterSub(f: LazyFlags, cc: number): number {
  const size = f.size;
  let below: boolean; // unsigned a < b
  let less: boolean; // signed a < b
  const equal = f.rLo === 0 && f.rHi === 0;
  if (size === 64) {
    const aHi = f.aHi;
    const bHi = f.bHi;
    const loBelow = f.aLo < f.bLo;
    below = aHi < bHi || (aHi === bHi && loBelow);
    less = (aHi | 0) < (bHi | 0) || (aHi === bHi && loBelow);
  } else {
    below = f.aLo < f.bLo;
    const sh = 32 - size;
    less = (f.aLo << sh) >> sh < (f.bLo << sh) >> sh;
  }
  let v: boolean;
  switch (cc >>> 1) {
    case 1:
      v = below;
      break;
    case 2:
      v = equal;
      break;
    case 3:
      v = below || equal;
      break;
    case 6:
      v = less;
      break;
    case 7:
      v = less || equal;
      break;
    default:
      return -1;
  }
  return (v ? 1 : 0) ^ (cc & 1);
}
