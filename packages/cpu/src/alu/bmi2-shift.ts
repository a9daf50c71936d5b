/** The BMI2 flagless shifts SHLX, SHRX, SARX and RORX (SDM vol. 2B). Results go to `s.out[0..1]`. */
import type { CpuState } from "../state/cpu-state.js";
import type { OperandSize } from "../state/operand-size.js";
import { rotl } from "./shift-common.js";

/** SHLX (BMI2): a << (count & (size - 1)); flags untouched. Sizes 32 and 64. */
export function shlx(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & (size - 1);
  if (size !== 64) {
    s.out[0] = aLo << c;
    s.out[1] = 0;
  } else if (c === 0) {
    s.out[0] = aLo;
    s.out[1] = aHi;
  } else if (c < 32) {
    s.out[1] = (aHi << c) | (aLo >>> (32 - c));
    s.out[0] = aLo << c;
  } else {
    s.out[1] = aLo << (c - 32);
    s.out[0] = 0;
  }
}

/** SHRX (BMI2): a >>> (count & (size - 1)); flags untouched. Sizes 32 and 64. */
export function shrx(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & (size - 1);
  if (size !== 64) {
    s.out[0] = aLo >>> c;
    s.out[1] = 0;
  } else if (c === 0) {
    s.out[0] = aLo;
    s.out[1] = aHi;
  } else if (c < 32) {
    s.out[0] = (aLo >>> c) | (aHi << (32 - c));
    s.out[1] = aHi >>> c;
  } else {
    s.out[0] = aHi >>> (c - 32);
    s.out[1] = 0;
  }
}

/** SARX (BMI2): a >> (count & (size - 1)), arithmetic; flags untouched. Sizes 32 and 64. */
export function sarx(s: CpuState, size: OperandSize, aLo: number, aHi: number, count: number): void {
  const c = count & (size - 1);
  if (size !== 64) {
    s.out[0] = aLo >> c;
    s.out[1] = 0;
  } else if (c === 0) {
    s.out[0] = aLo;
    s.out[1] = aHi;
  } else if (c < 32) {
    s.out[0] = (aLo >>> c) | (aHi << (32 - c));
    s.out[1] = aHi >> c;
  } else {
    s.out[0] = aHi >> (c - 32);
    s.out[1] = aHi >> 31;
  }
}

/** RORX (BMI2): rotate right by imm & (size - 1); flags untouched. Sizes 32 and 64. */
export function rorx(s: CpuState, size: OperandSize, aLo: number, aHi: number, imm: number): void {
  const n = imm & (size - 1);
  rotl(s, size, aLo, aHi, n === 0 ? 0 : size - n);
}
