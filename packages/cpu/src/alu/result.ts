/** Shared helpers of the ALU modules: writing a sized result to `out`, zero tests. */
import type { CpuState } from "../state/cpu-state.js";
import { type OperandSize, sizeMask } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";

/** Writes a result masked to `size` into `s.out[0..1]` (high half 0 below 64 bits). */
export function setResult(s: CpuState, size: OperandSize, lo: number, hi: number): void {
  if (size === 64) {
    s.out[0] = lo;
    s.out[1] = hi;
  } else {
    s.out[0] = lo & sizeMask(size);
    s.out[1] = 0;
  }
}

/** ZF's bit when the halves are both zero, else 0. */
export function zeroOf(lo: number, hi: number): number {
  return (lo | hi) === 0 ? Rflags.ZF : 0;
}
