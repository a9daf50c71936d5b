/**
 * Status flags the Intel SDM leaves undefined after each integer instruction, as data. Each rule
 * quotes the "Flags Affected" section of the instruction's page in SDM vol. 2. Differential tests
 * against real processors ignore exactly these flags; everything else must match.
 */
import type { OperandSize } from "../state/operand-size.js";
import { Rflags } from "../state/rflags.js";

const { CF, PF, AF, ZF, SF, OF } = Rflags;

/** When an instruction's flags are undefined. Count conditions use the masked count. */
export interface UndefinedFlagsRule {
  /** Flags undefined whatever the operands. */
  readonly always: number;
  /** Further flags undefined when the masked count is not 0. */
  readonly countNonZero?: number;
  /** Further flags undefined when the masked count is above 1. */
  readonly countAbove1?: number;
  /** Further flags undefined when the masked count is at least the operand size. */
  readonly countAtLeastSize?: number;
  /** Result and every flag are undefined when the masked count exceeds the operand size. */
  readonly allUndefinedCountAboveSize?: boolean;
  /** Where the SDM says so. */
  readonly sdm: string;
}

const NONE = { always: 0 } as const;
const SHIFT: UndefinedFlagsRule = {
  always: 0,
  countNonZero: AF,
  countAbove1: OF,
  sdm: "vol. 2B, SAL/SAR/SHL/SHR: OF defined only for 1-bit shifts; AF undefined for a non-zero count",
};
const ROTATE: UndefinedFlagsRule = {
  always: 0,
  countAbove1: OF,
  sdm: "vol. 2B, RCL/RCR/ROL/ROR: OF undefined when the masked count is greater than 1",
};
const DOUBLE_SHIFT: UndefinedFlagsRule = {
  always: 0,
  countNonZero: AF,
  countAbove1: OF,
  allUndefinedCountAboveSize: true,
  sdm: "vol. 2B, SHLD/SHRD: OF undefined above 1, AF undefined if a shift occurs; count > size: all undefined",
};

/** The rules, keyed by lower-case mnemonic. A mnemonic absent from the table leaves no flag undefined. */
export const UNDEFINED_FLAGS: Readonly<Record<string, UndefinedFlagsRule>> = {
  add: { ...NONE, sdm: "vol. 2A, ADD" },
  adc: { ...NONE, sdm: "vol. 2A, ADC" },
  sub: { ...NONE, sdm: "vol. 2B, SUB" },
  sbb: { ...NONE, sdm: "vol. 2B, SBB" },
  cmp: { ...NONE, sdm: "vol. 2A, CMP" },
  neg: { ...NONE, sdm: "vol. 2B, NEG" },
  inc: { ...NONE, sdm: "vol. 2A, INC (CF not affected)" },
  dec: { ...NONE, sdm: "vol. 2A, DEC (CF not affected)" },
  and: { always: AF, sdm: "vol. 2A, AND: The state of the AF flag is undefined" },
  or: { always: AF, sdm: "vol. 2B, OR: The state of the AF flag is undefined" },
  xor: { always: AF, sdm: "vol. 2B, XOR: The state of the AF flag is undefined" },
  test: { always: AF, sdm: "vol. 2B, TEST: The state of the AF flag is undefined" },
  shl: {
    ...SHIFT,
    countAtLeastSize: CF,
    sdm: `${SHIFT.sdm}; CF undefined for SHL/SHR when count >= operand size`,
  },
  shr: {
    ...SHIFT,
    countAtLeastSize: CF,
    sdm: `${SHIFT.sdm}; CF undefined for SHL/SHR when count >= operand size`,
  },
  sar: SHIFT,
  rol: ROTATE,
  ror: ROTATE,
  rcl: ROTATE,
  rcr: ROTATE,
  shld: DOUBLE_SHIFT,
  shrd: DOUBLE_SHIFT,
  mul: { always: SF | ZF | AF | PF, sdm: "vol. 2B, MUL: SF, ZF, AF and PF flags are undefined" },
  imul: { always: SF | ZF | AF | PF, sdm: "vol. 2A, IMUL: SF, ZF, AF and PF flags are undefined" },
  div: { always: CF | OF | SF | ZF | AF | PF, sdm: "vol. 2A, DIV: CF, OF, SF, ZF, AF and PF are undefined" },
  idiv: {
    always: CF | OF | SF | ZF | AF | PF,
    sdm: "vol. 2A, IDIV: CF, OF, SF, ZF, AF and PF are undefined",
  },
  bt: {
    always: OF | SF | AF | PF,
    sdm: "vol. 2A, BT: OF, SF, AF and PF flags are undefined (ZF unaffected)",
  },
  bts: { always: OF | SF | AF | PF, sdm: "vol. 2A, BTS: OF, SF, AF and PF flags are undefined" },
  btr: { always: OF | SF | AF | PF, sdm: "vol. 2A, BTR: OF, SF, AF and PF flags are undefined" },
  btc: { always: OF | SF | AF | PF, sdm: "vol. 2A, BTC: OF, SF, AF and PF flags are undefined" },
  bsf: { always: CF | OF | SF | AF | PF, sdm: "vol. 2A, BSF: CF, OF, SF, AF and PF flags are undefined" },
  bsr: { always: CF | OF | SF | AF | PF, sdm: "vol. 2A, BSR: CF, OF, SF, AF and PF flags are undefined" },
  popcnt: { ...NONE, sdm: "vol. 2B, POPCNT: OF, SF, ZF, AF, CF, PF cleared; ZF set for a zero source" },
  lzcnt: { always: OF | SF | PF | AF, sdm: "vol. 2A, LZCNT: OF, SF, PF and AF flags are undefined" },
  tzcnt: { always: OF | SF | PF | AF, sdm: "vol. 2B, TZCNT: OF, SF, PF and AF flags are undefined" },
  andn: { always: AF | PF, sdm: "vol. 2A, ANDN: AF and PF flags are undefined" },
  bextr: { always: AF | SF | PF, sdm: "vol. 2A, BEXTR: AF, SF, and PF are undefined" },
  blsi: { always: AF | PF, sdm: "vol. 2A, BLSI: AF and PF flags are undefined" },
  blsmsk: { always: AF | PF, sdm: "vol. 2A, BLSMSK: AF and PF flag are undefined" },
  blsr: { always: AF | PF, sdm: "vol. 2A, BLSR: AF and PF flags are undefined" },
  bzhi: { always: AF | PF, sdm: "vol. 2A, BZHI: AF and PF flags are undefined" },
  daa: { always: OF, sdm: "vol. 2A, DAA: The OF flag is undefined" },
  das: { always: OF, sdm: "vol. 2A, DAS: The OF flag is undefined" },
  aaa: { always: OF | SF | ZF | PF, sdm: "vol. 2A, AAA: The OF, SF, ZF, and PF flags are undefined" },
  aas: { always: OF | SF | ZF | PF, sdm: "vol. 2A, AAS: The OF, SF, ZF, and PF flags are undefined" },
  aam: { always: OF | AF | CF, sdm: "vol. 2A, AAM: The OF, AF, and CF flags are undefined" },
  aad: { always: OF | AF | CF, sdm: "vol. 2A, AAD: The OF, AF, and CF flags are undefined" },
};

/** Sentinel returned by {@link undefinedFlags} when the result itself is undefined too. */
export const RESULT_UNDEFINED = -1;

/**
 * The undefined status flags (an RFLAGS mask) after `mnemonic` at operand `size` with the given
 * (unmasked) shift/rotate count, or {@link RESULT_UNDEFINED} when the SDM leaves the result
 * undefined as well. Counts are masked to 5 bits (6 for 64-bit operands) first.
 */
export function undefinedFlags(mnemonic: string, size: OperandSize, count = 0): number {
  const rule = UNDEFINED_FLAGS[mnemonic];
  if (rule === undefined) return 0;
  const c = count & (size === 64 ? 0x3f : 0x1f);
  if (rule.allUndefinedCountAboveSize === true && c > size) return RESULT_UNDEFINED;
  let mask = rule.always;
  if (c !== 0) mask |= rule.countNonZero ?? 0;
  if (c > 1) mask |= rule.countAbove1 ?? 0;
  if (c >= size) mask |= rule.countAtLeastSize ?? 0;
  return mask;
}
