/** ADCX and ADOX (ADX extension, SDM vol. 2A): carry chains through CF or OF only. */
import type { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";

function addCarry(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cin: number,
): number {
  if (size === 64) {
    const lo = (aLo >>> 0) + (bLo >>> 0) + cin;
    const c = lo > 0xffffffff ? 1 : 0;
    const hi = (aHi >>> 0) + (bHi >>> 0) + c;
    s.out[0] = lo;
    s.out[1] = hi;
    return hi > 0xffffffff ? 1 : 0;
  }
  const r = (aLo >>> 0) + (bLo >>> 0) + cin;
  s.out[0] = r;
  s.out[1] = 0;
  return r > 0xffffffff ? 1 : 0;
}

/** ADCX (ADX): a + b + CF, writing only CF. Sizes 32 and 64. */
export function adcx(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const c = addCarry(s, size, aLo, aHi, bLo, bHi, s.flags.cf());
  s.flags.merge(Rflags.CF, c);
}

/** ADOX (ADX): a + b + OF, writing only OF. Sizes 32 and 64. */
export function adox(
  s: CpuState,
  size: OperandSize,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): void {
  const c = addCarry(s, size, aLo, aHi, bLo, bHi, s.flags.of());
  s.flags.merge(Rflags.OF, c << 11);
}
