import type { OperandSize } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";

/** Even parity of a byte: 1 when it has an even number of set bits (PF's definition). */
export function parity8(v: number): number {
  return 1 ^ ((0x6996 >>> ((v ^ (v >>> 4)) & 0xf)) & 1);
}

/** SF, ZF and PF bits of a result already masked to `size` (high half 0 below 64 bits). */
export function szp(size: OperandSize, lo: number, hi: number): number {
  const sign = size === 64 ? hi >>> 31 : (lo >>> (size - 1)) & 1;
  return (
    (sign ? Rflags.SF : 0) | (lo === 0 && hi === 0 ? Rflags.ZF : 0) | (parity8(lo & 0xff) ? Rflags.PF : 0)
  );
}

/** Most significant bit (the sign) of a `size`-bit value given as halves. */
export function msb(size: OperandSize, lo: number, hi: number): number {
  return size === 64 ? hi >>> 31 : (lo >>> (size - 1)) & 1;
}
