import type { OperandSize } from "./operand-size.js";
import { ARITH_FLAGS, Rflags } from "./rflags.js";

/**
 * Kinds of operation whose arithmetic flags are kept lazily: the operands and result are stored
 * and CF/PF/AF/ZF/SF/OF are derived only when read. `Known` means the flags are held as bits.
 */
export const FlagOp = {
  Known: 0,
  Add: 1,
  /** ADD with a carry-in of 1 (ADC with CF clear is recorded as `Add`). */
  Adc: 2,
  Sub: 3,
  /** SUB with a borrow-in of 1 (SBB with CF clear is recorded as `Sub`). */
  Sbb: 4,
  /** AND/OR/XOR/TEST: CF = OF = 0, AF = 0 (undefined in the SDM), SF/ZF/PF from the result. */
  Logic: 5,
  /** INC: as ADD of 1, but CF is the preserved carry held in `cin`. */
  Inc: 6,
  /** DEC: as SUB of 1, but CF is the preserved carry held in `cin`. */
  Dec: 7,
} as const;

/** One of the {@link FlagOp} values. */
export type FlagOp = (typeof FlagOp)[keyof typeof FlagOp];

/** Number of {@link FlagOp} kinds (valid values are 0 .. FLAG_OP_COUNT - 1). */
export const FLAG_OP_COUNT = 8;

// Parity of a nibble, packed: bit n of 0x6996 is 1 when n has an odd number of set bits.
function evenParity8(v: number): number {
  return 1 ^ ((0x6996 >>> ((v ^ (v >>> 4)) & 0xf)) & 1);
}

/**
 * RFLAGS with lazily computed arithmetic flags (the design of Bochs and QEMU): a flag-setting
 * instruction records its kind, size, operands and result; each flag is computed on demand.
 * 64-bit values are kept as lo/hi 32-bit halves; for narrower sizes the high halves are 0 and the
 * low halves hold the value masked to the size.
 */
export class LazyFlags {
  /** Kind of the last flag-setting operation ({@link FlagOp}). */
  op: FlagOp = FlagOp.Known;
  /** Operand size of the last operation, in bits. */
  size: OperandSize = 32;
  /** First operand, low half. */
  aLo = 0;
  /** First operand, high half. */
  aHi = 0;
  /** Second operand, low half. */
  bLo = 0;
  /** Second operand, high half. */
  bHi = 0;
  /** Result, low half. */
  rLo = 0;
  /** Result, high half. */
  rHi = 0;
  /** Carry-in (ADC/SBB) or the preserved CF (INC/DEC), 0 or 1. */
  cin = 0;
  /** RFLAGS bits; the arithmetic bits are meaningful only while `op` is `Known`. */
  bits: number = Rflags.FIXED1;

  /** Records a lazily evaluated operation. For sizes below 64 pass 0 as every high half. */
  set(
    op: FlagOp,
    size: OperandSize,
    aLo: number,
    aHi: number,
    bLo: number,
    bHi: number,
    rLo: number,
    rHi: number,
  ): void {
    this.op = op;
    this.size = size;
    this.aLo = aLo >>> 0;
    this.aHi = aHi >>> 0;
    this.bLo = bLo >>> 0;
    this.bHi = bHi >>> 0;
    this.rLo = rLo >>> 0;
    this.rHi = rHi >>> 0;
  }

  /** Carry flag, 0 or 1. */
  cf(): number {
    switch (this.op) {
      case FlagOp.Known:
        return this.bits & Rflags.CF;
      case FlagOp.Add:
        return this.size === 64
          ? +(this.rHi < this.aHi || (this.rHi === this.aHi && this.rLo < this.aLo))
          : +(this.rLo < this.aLo);
      case FlagOp.Adc:
        return this.size === 64
          ? +(this.rHi < this.aHi || (this.rHi === this.aHi && this.rLo <= this.aLo))
          : +(this.rLo <= this.aLo);
      case FlagOp.Sub:
        return this.size === 64
          ? +(this.aHi < this.bHi || (this.aHi === this.bHi && this.aLo < this.bLo))
          : +(this.aLo < this.bLo);
      case FlagOp.Sbb:
        return this.size === 64
          ? +(this.aHi < this.bHi || (this.aHi === this.bHi && this.aLo <= this.bLo))
          : +(this.aLo <= this.bLo);
      case FlagOp.Logic:
        return 0;
      default:
        return this.cin;
    }
  }

  /** Parity flag (even parity of the result's low byte), 0 or 1. */
  pf(): number {
    return this.op === FlagOp.Known ? (this.bits >>> 2) & 1 : evenParity8(this.rLo & 0xff);
  }

  /** Adjust flag (carry out of bit 3), 0 or 1. */
  af(): number {
    if (this.op === FlagOp.Known) return (this.bits >>> 4) & 1;
    if (this.op === FlagOp.Logic) return 0;
    return ((this.aLo ^ this.bLo ^ this.rLo) >>> 4) & 1;
  }

  /** Zero flag, 0 or 1. */
  zf(): number {
    if (this.op === FlagOp.Known) return (this.bits >>> 6) & 1;
    return +(this.rLo === 0 && this.rHi === 0);
  }

  /** Sign flag, 0 or 1. */
  sf(): number {
    if (this.op === FlagOp.Known) return (this.bits >>> 7) & 1;
    return this.size === 64 ? this.rHi >>> 31 : (this.rLo >>> (this.size - 1)) & 1;
  }

  /** Overflow flag, 0 or 1. */
  of(): number {
    let x: number;
    switch (this.op) {
      case FlagOp.Known:
        return (this.bits >>> 11) & 1;
      case FlagOp.Add:
      case FlagOp.Adc:
      case FlagOp.Inc:
        x =
          this.size === 64
            ? (this.aHi ^ this.rHi) & (this.bHi ^ this.rHi)
            : (this.aLo ^ this.rLo) & (this.bLo ^ this.rLo);
        break;
      case FlagOp.Sub:
      case FlagOp.Sbb:
      case FlagOp.Dec:
        x =
          this.size === 64
            ? (this.aHi ^ this.bHi) & (this.aHi ^ this.rHi)
            : (this.aLo ^ this.bLo) & (this.aLo ^ this.rLo);
        break;
      default:
        return 0;
    }
    return this.size === 64 ? x >>> 31 : (x >>> (this.size - 1)) & 1;
  }

  /** The six arithmetic flags as RFLAGS bits. */
  arith(): number {
    const op = this.op;
    if (op === FlagOp.Known) return this.bits & ARITH_FLAGS;
    const rLo = this.rLo;
    const size = this.size;
    const sign = size === 64 ? this.rHi >>> 31 : (rLo >>> (size - 1)) & 1;
    let bits = (rLo === 0 && this.rHi === 0 ? Rflags.ZF : 0) | (sign << 7) | (evenParity8(rLo & 0xff) << 2);
    if (op === FlagOp.Logic) return bits;
    bits |= (this.aLo ^ this.bLo ^ rLo) & Rflags.AF;
    return bits | this.cf() | (this.of() << 11);
  }

  /** The low 32 bits of RFLAGS (the high 32 are reserved and zero). */
  read(): number {
    return ((this.bits & ~ARITH_FLAGS) | this.arith() | Rflags.FIXED1) >>> 0;
  }

  /** Replaces RFLAGS by `value` (bit 1 forced to 1); the flags become `Known`. */
  write(value: number): void {
    this.bits = (value | Rflags.FIXED1) >>> 0;
    this.op = FlagOp.Known;
  }

  /** Turns the lazy flags into `Known` bits (before an instruction that sets only some flags). */
  materialize(): void {
    if (this.op !== FlagOp.Known) {
      this.bits = ((this.bits & ~ARITH_FLAGS) | this.arith()) >>> 0;
      this.op = FlagOp.Known;
    }
  }

  /** Sets the arithmetic flags to `arithBits` (other bits kept); the flags become `Known`. */
  setArith(arithBits: number): void {
    this.bits = ((this.bits & ~ARITH_FLAGS) | (arithBits & ARITH_FLAGS)) >>> 0;
    this.op = FlagOp.Known;
  }

  /** Replaces only the flags in `mask` by those of `arithBits`, keeping the others' current values. */
  merge(mask: number, arithBits: number): void {
    this.materialize();
    this.bits = ((this.bits & ~mask) | (arithBits & mask)) >>> 0;
  }
}
