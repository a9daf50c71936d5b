/** An integer operand size in bits. */
export type OperandSize = 8 | 16 | 32 | 64;

/** Mask of the low `size` bits as an unsigned 32-bit number (`size` 64 gives the mask of one half). */
export function sizeMask(size: OperandSize): number {
  return size === 8 ? 0xff : size === 16 ? 0xffff : 0xffffffff;
}

/** Sign bit of a `size`-bit value inside its low 32-bit half (for 64 bits: of the high half). */
export function signBit(size: OperandSize): number {
  return size === 8 ? 0x80 : size === 16 ? 0x8000 : 0x80000000;
}
