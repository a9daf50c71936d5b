/** BT, BTS, BTR, BTC on a register operand (SDM vol. 2A). Results go to `s.out[0..1]`. */
import type { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";
import { setResult } from "./result.js";

/** Kinds of BT-family operation. */
export const BitOp = {
  /** BT: test only. */
  Test: 0,
  /** BTS: set. */
  Set: 1,
  /** BTR: reset. */
  Reset: 2,
  /** BTC: complement. */
  Complement: 3,
} as const;

/** One of the {@link BitOp} kinds. */
export type BitOp = (typeof BitOp)[keyof typeof BitOp];

/**
 * BT/BTS/BTR/BTC on a register operand: the bit offset is taken modulo the operand size (memory
 * forms add the offset's high bits to the address before calling this). CF = the selected bit;
 * the other status flags are left unchanged (OF, SF, AF, PF undefined; ZF unaffected).
 */
export function bitTest(
  s: CpuState,
  size: OperandSize,
  op: BitOp,
  aLo: number,
  aHi: number,
  offset: number,
): void {
  const n = offset & (size - 1);
  const inHi = n >= 32;
  const bit = 1 << (n & 31);
  const word = inHi ? aHi : aLo;
  const cf = (word & bit) !== 0 ? 1 : 0;
  let w = word;
  if (op === BitOp.Set) w = word | bit;
  else if (op === BitOp.Reset) w = word & ~bit;
  else if (op === BitOp.Complement) w = word ^ bit;
  if (inHi) setResult(s, size, aLo, w);
  else setResult(s, size, w, aHi);
  s.flags.merge(Rflags.CF, cf);
}
