/**
 * Decimal adjust instructions DAA, DAS, AAA, AAS, AAM, AAD (SDM vol. 2A; invalid in 64-bit mode,
 * which the decoder enforces). Results go to `s.out[0]`.
 */
import type { CpuState } from "../state/cpu-state.js";
import { Rflags } from "../state/rflags.js";
import { szp } from "./flag-bits.js";
import { NO_FAULT, VECTOR_DE } from "./muldiv.js";

/** DAA: decimal adjust AL after addition. `out[0]` = AL. OF is undefined (set to 0). */
export function daa(s: CpuState, al: number): void {
  const f = s.flags;
  const oldAl = al & 0xff;
  const oldCf = f.cf();
  let cf = 0;
  let af = 0;
  let v = oldAl;
  if ((v & 0xf) > 9 || f.af()) {
    v += 6;
    cf = oldCf | (v > 0xff ? 1 : 0);
    v &= 0xff;
    af = 1;
  }
  if (oldAl > 0x99 || oldCf) {
    v = (v + 0x60) & 0xff;
    cf = 1;
  } else {
    cf = 0;
  }
  s.out[0] = v;
  f.setArith(cf | (af ? Rflags.AF : 0) | szp(8, v, 0));
}

/** DAS: decimal adjust AL after subtraction. `out[0]` = AL. OF is undefined (set to 0). */
export function das(s: CpuState, al: number): void {
  const f = s.flags;
  const oldAl = al & 0xff;
  const oldCf = f.cf();
  let cf = 0;
  let af = 0;
  let v = oldAl;
  if ((v & 0xf) > 9 || f.af()) {
    v -= 6;
    cf = oldCf | (v < 0 ? 1 : 0);
    v &= 0xff;
    af = 1;
  }
  if (oldAl > 0x99 || oldCf) {
    v = (v - 0x60) & 0xff;
    cf = 1;
  }
  s.out[0] = v;
  f.setArith(cf | (af ? Rflags.AF : 0) | szp(8, v, 0));
}

/** AAA: ASCII adjust after addition. `out[0]` = AX. OF, SF, ZF, PF undefined (SZP from AL). */
export function aaa(s: CpuState, ax: number): void {
  const f = s.flags;
  let v = ax & 0xffff;
  let adj = 0;
  if ((v & 0xf) > 9 || f.af()) {
    v = (v + 0x106) & 0xffff;
    adj = Rflags.AF | Rflags.CF;
  }
  v &= 0xff0f;
  s.out[0] = v;
  f.setArith(adj | szp(8, v & 0xff, 0));
}

/** AAS: ASCII adjust after subtraction. `out[0]` = AX. OF, SF, ZF, PF undefined. */
export function aas(s: CpuState, ax: number): void {
  const f = s.flags;
  let v = ax & 0xffff;
  let adj = 0;
  if ((v & 0xf) > 9 || f.af()) {
    v = (v - 6) & 0xffff;
    v = (v - 0x100) & 0xffff;
    adj = Rflags.AF | Rflags.CF;
  }
  v &= 0xff0f;
  s.out[0] = v;
  f.setArith(adj | szp(8, v & 0xff, 0));
}

/**
 * AAM imm8: AH = AL / imm, AL = AL % imm. Returns {@link VECTOR_DE} when imm is 0, else
 * {@link NO_FAULT}. `out[0]` = AX. SF, ZF, PF from AL; OF, AF, CF undefined (cleared).
 */
export function aam(s: CpuState, ax: number, imm: number): number {
  const base = imm & 0xff;
  if (base === 0) return VECTOR_DE;
  const al = ax & 0xff;
  const lo = al % base;
  s.out[0] = (Math.floor(al / base) << 8) | lo;
  s.flags.setArith(szp(8, lo, 0));
  return NO_FAULT;
}

/** AAD imm8: AL = (AL + AH × imm) & 0xff, AH = 0. `out[0]` = AX. OF, AF, CF undefined (cleared). */
export function aad(s: CpuState, ax: number, imm: number): void {
  const al = ((ax & 0xff) + ((ax >>> 8) & 0xff) * (imm & 0xff)) & 0xff;
  s.out[0] = al;
  s.flags.setArith(szp(8, al, 0));
}
