/** Accumulator sign extensions: CBW/CWDE/CDQE and CWD/CDQ/CQO (SDM vol. 2A). No flags. */
import type { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";

/**
 * CBW (size 16: AL → AX), CWDE (32: AX → EAX), CDQE (64: EAX → RAX): the accumulator's low half
 * sign-extended to `size`, into `out[0..1]`.
 */
export function cbw(s: CpuState, size: OperandSize, lo: number): void {
  if (size === 64) {
    s.out[0] = lo;
    s.out[1] = lo >> 31;
  } else if (size === 32) {
    s.out[0] = (lo << 16) >> 16;
    s.out[1] = 0;
  } else {
    s.out[0] = ((lo << 24) >> 24) & 0xffff;
    s.out[1] = 0;
  }
}

/**
 * CWD (size 16: DX), CDQ (32: EDX), CQO (64: RDX): every bit set to the accumulator's sign, into
 * `out[0..1]`.
 */
export function cwd(s: CpuState, size: OperandSize, lo: number, hi: number): void {
  if (size === 64) {
    s.out[0] = s.out[1] = hi >> 31;
  } else if (size === 32) {
    s.out[0] = lo >> 31;
    s.out[1] = 0;
  } else {
    s.out[0] = ((lo << 16) >> 31) & 0xffff;
    s.out[1] = 0;
  }
}
