/**
 * The second tier's code generators: for the hottest handlers, JavaScript source that does what
 * the handler does for one particular record, with its registers, immediates, operation and
 * address form turned into constants. What a generator emits must match its handler exactly (the
 * differential test `test/jit.test.ts` runs random blocks both ways); handlers without a generator
 * are called.
 *
 * The source may use `c` (the Cpu), `g` (`c.s.gpr`), `f` (`c.s.flags`) and `q` (`c.q`), and it
 * declares its own names only inside braces.
 */
import { FlagOp } from "../../state/lazy-flags.js";
import { Seg } from "../../state/registers.js";
import { followedJump } from "../block-cache.js";
import { AluOp, aluRI, aluRR, shiftRI } from "../handlers/alu.js";
import { jnz, jz } from "../handlers/branch.js";
import {
  alu32RI,
  alu32RM,
  alu32RR,
  alu64RI,
  alu64RM,
  alu64RR,
  dec32,
  inc32,
  lea64,
  mov32MR,
  mov32RM,
  mov32RR,
  mov64RR,
  rot32RI,
  rot64RI,
} from "../handlers/fast.js";
import { cmpJcc32I, decJcc32, testJcc8, testJcc32I, testJcc32R } from "../handlers/fused.js";
import { lea, movMR64, movRI, movRM64, movRR, nop } from "../handlers/move.js";
import type { Handler, Insn } from "../insn.js";

/** The code of one record, in parts, and what the block compiler must know about it. */
export interface Emitted {
  /** Statements that run before the flags are recorded (operands, faults, results). */
  readonly body: string;
  /** Statements that record the arithmetic flags; left out when no one can see them. */
  readonly flags: string;
  /** Statements after the flags (register write-back, the branch). */
  readonly tail: string;
  /** The record may raise a fault (before it changes any state). */
  readonly faults: boolean;
  /** The record may leave the block (a taken branch): `tail` then returns. */
  readonly exits: boolean;
  /**
   * Whether the record reads the flags as they were before it: `never`, `always` (its body or
   * tail does), or `whenKept` (only its `flags` part does, so not when that part is left out).
   */
  readonly flagsIn: FlagsIn;
  /** `flags` replaces every arithmetic flag (so the flags before the record are dead after it). */
  readonly flagsFull: boolean;
}

/** How a record reads the flags before it (see {@link Emitted.flagsIn}). */
export type FlagsIn = "never" | "always" | "whenKept";

/** What the generators know of the block: where it starts and how many instructions it holds. */
export interface BlockContext {
  /** Address of the block's first record (`Insn.rip`). */
  readonly start: number;
  /** Guest instructions of the whole block (the last record's `seqEnd`). */
  readonly total: number;
}

/** Generates the code of record `i`, the `j`-th of its block; null when it has no generator. */
type Generator = (i: Insn, j: number, ctx: BlockContext) => Emitted | null;

/**
 * The code of a taken branch: leave the block for the run loop. A branch back to the block's own
 * start (a loop that fits in one block) instead runs the block again in place while nothing needs
 * the run loop: the budget (`rem`, what was left when the block began) holds another whole block,
 * no interrupt, NMI, interrupt shadow, intercept hook or debug state is pending, and nothing set
 * `breakBlock` during the pass (a code write, a stop request, a mode change).
 */
function branchTo(i: Insn, j: number, ctx: BlockContext): string {
  const leave = `c.nextRip = ${i.target}; c.breakBlock = true; return ${j + 1};`;
  if (i.target !== ctx.start) return leave;
  const pass = i.seqEnd;
  return (
    `if (!c.breakBlock && rem - ${pass} >= ${ctx.total} && c.s.interruptibility === 0 && c.s.nmiPending === 0 && ` +
    `c.intercepts === null && !c.debugActive && ((f.bits & 0x200) === 0 || c.interrupts === undefined || ` +
    `!c.interrupts.hasInterrupt())) { rem -= ${pass}; c.instructions += ${pass}; continue pass; } ${leave}`
  );
}

const u32 = (v: number): string => `${v >>> 0}`;
/** Source of a general register's half: `g[2 * r + half]`. */
const reg = (r: number, half: 0 | 1): string => `g[${2 * r + half}]`;

function plain(body: string, faults: boolean): Emitted {
  return { body, flags: "", tail: "", faults, exits: false, flagsIn: "never", flagsFull: false };
}

/**
 * Statements that set `ea` to the effective address of a record's memory operand, with the same
 * arithmetic as `Cpu.ea` (halves summed as doubles, the carry folded once).
 */
function eaSource(i: Insn): string {
  const b = i.base;
  const x = i.index;
  if (i.asz === 64) {
    let lo = u32(i.dispLo);
    let hi = u32(i.dispHi);
    if (b >= 0) {
      lo += ` + ${reg(b, 0)}`;
      hi += ` + ${reg(b, 1)}`;
    }
    if (x >= 0) {
      lo += ` + ${reg(x, 0)} * ${i.scale}`;
      hi += ` + ${reg(x, 1)} * ${i.scale}`;
    }
    return `const eLo = ${lo}; const ea = ((${hi} + ((eLo * 2.3283064365386963e-10) | 0)) | 0) * 4294967296 + (eLo >>> 0);`;
  }
  let a = `${i.dispLo}`;
  if (b >= 0) a += ` + ${reg(b, 0)}`;
  if (x >= 0) a += ` + ${reg(x, 0)} * ${i.scale}`;
  return `const ea = (${a}) ${i.asz === 32 ? ">>> 0" : "& 0xffff"};`;
}

/**
 * `la = ...`: the linear address of the memory operand. With 64-bit addressing (64-bit mode,
 * which the block's mode key fixes) the common case is inline: the base of FS/GS only, and the
 * canonical bound; anything else (a non-canonical address, alignment checking) goes through
 * `c.lin`, which raises the fault. Otherwise `c.lin` does the segment checks.
 */
function linSource(i: Insn, size: number, write: boolean): string {
  if (i.asz !== 64) return `${eaSource(i)} const la = c.lin(${i.seg}, ea, ${size}, ${write});`;
  const base = i.seg === Seg.FS || i.seg === Seg.GS ? ` + c.segBaseN[${i.seg}]` : "";
  return `${eaSource(i)} let la = ea${base}; if (la < -c.canonBound || la + ${size} > c.canonBound || c.acActive) la = c.lin(${i.seg}, ea, ${size}, ${write});`;
}

/** An ALU operation's code: the result from `aLo, aHi, bLo, bHi` (64-bit) or `a, b` (32-bit). */
interface AluCode {
  readonly code: string;
  /** The {@link FlagOp} to record, as an expression (ADC/SBB depend on the carry-in). */
  readonly kind: string;
  /** Whether the result depends on CF (ADC, SBB). */
  readonly carryIn: boolean;
}

/** A 64-bit ALU operation, with the arithmetic of `fast.ts`'s `alu64` and `arith.ts`. */
function alu64Result(op: number): AluCode | null {
  const add = (cin: string): string =>
    `const lo = aLo + bLo${cin}; const rLo = lo >>> 0; const rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;`;
  const sub = (cin: string): string =>
    `const lo = aLo - bLo${cin}; const rLo = lo >>> 0; const rHi = (aHi - bHi - (lo < 0 ? 1 : 0)) >>> 0;`;
  const logic = (o: string): AluCode => ({
    code: `const rLo = (aLo ${o} bLo) >>> 0; const rHi = (aHi ${o} bHi) >>> 0;`,
    kind: `${FlagOp.Logic}`,
    carryIn: false,
  });
  switch (op) {
    case AluOp.ADD:
      return { code: add(""), kind: `${FlagOp.Add}`, carryIn: false };
    case AluOp.ADC:
      return {
        code: `const cin = f.cf(); ${add(" + cin")}`,
        kind: `cin ? ${FlagOp.Adc} : ${FlagOp.Add}`,
        carryIn: true,
      };
    case AluOp.SUB:
    case AluOp.CMP:
      return { code: sub(""), kind: `${FlagOp.Sub}`, carryIn: false };
    case AluOp.SBB:
      return {
        code: `const cin = f.cf(); ${sub(" - cin")}`,
        kind: `cin ? ${FlagOp.Sbb} : ${FlagOp.Sub}`,
        carryIn: true,
      };
    case AluOp.AND:
    case AluOp.TEST:
      return logic("&");
    case AluOp.OR:
      return logic("|");
    default:
      return logic("^");
  }
}

/** A 32-bit ALU operation. */
function alu32Result(op: number): AluCode | null {
  const simple = (expr: string, kind: number): AluCode => ({
    code: `const r = (${expr}) >>> 0;`,
    kind: `${kind}`,
    carryIn: false,
  });
  switch (op) {
    case AluOp.ADD:
      return simple("a + b", FlagOp.Add);
    case AluOp.ADC:
      return {
        code: "const cin = f.cf(); const r = (a + b + cin) >>> 0;",
        kind: `cin ? ${FlagOp.Adc} : ${FlagOp.Add}`,
        carryIn: true,
      };
    case AluOp.SUB:
    case AluOp.CMP:
      return simple("a - b", FlagOp.Sub);
    case AluOp.SBB:
      return {
        code: "const cin = f.cf(); const r = (a - b - cin) >>> 0;",
        kind: `cin ? ${FlagOp.Sbb} : ${FlagOp.Sub}`,
        carryIn: true,
      };
    case AluOp.AND:
    case AluOp.TEST:
      return simple("a & b", FlagOp.Logic);
    case AluOp.OR:
      return simple("a | b", FlagOp.Logic);
    default:
      return simple("a ^ b", FlagOp.Logic);
  }
}

const writes = (op: number): boolean => op !== AluOp.CMP && op !== AluOp.TEST;

/** A 64-bit ALU record: `operand` loads `bLo, bHi` (after a possible fault). */
function alu64(i: Insn, operand: string, faults: boolean): Emitted | null {
  const res = alu64Result(i.aux);
  if (res === null) return null;
  const d = i.d;
  return {
    body: `${operand} const aLo = ${reg(d, 0)}; const aHi = ${reg(d, 1)}; ${res.code}`,
    flags: `f.op = ${res.kind}; f.size = 64; f.aLo = aLo; f.aHi = aHi; f.bLo = bLo; f.bHi = bHi; f.rLo = rLo; f.rHi = rHi;`,
    tail: writes(i.aux) ? `${reg(d, 0)} = rLo; ${reg(d, 1)} = rHi;` : "",
    faults,
    exits: false,
    flagsIn: res.carryIn ? "always" : "never",
    flagsFull: true,
  };
}

/** A 32-bit ALU record: `operand` loads `b`. */
function alu32(i: Insn, operand: string, faults: boolean): Emitted | null {
  const res = alu32Result(i.aux);
  if (res === null) return null;
  const d = i.d;
  return {
    body: `${operand} const a = ${reg(d, 0)}; ${res.code}`,
    flags: `f.op = ${res.kind}; f.size = 32; f.aLo = a; f.aHi = 0; f.bLo = b; f.bHi = 0; f.rLo = r; f.rHi = 0;`,
    tail: writes(i.aux) ? `${reg(d, 0)} = r; ${reg(d, 1)} = 0;` : "",
    faults,
    exits: false,
    flagsIn: res.carryIn ? "always" : "never",
    flagsFull: true,
  };
}

/**
 * The generic `aluRR` / `aluRI` handlers (every operation, every size): generated for 32 and 64
 * bits, where they behave as the fast forms plus ADC/SBB; other sizes are called.
 */
function aluGeneric(i: Insn, immediate: boolean): Emitted | null {
  if (i.size === 64) {
    return alu64(
      i,
      immediate
        ? `const bLo = ${u32(i.immLo)}; const bHi = ${u32(i.immHi)};`
        : `const bLo = ${reg(i.s, 0)}; const bHi = ${reg(i.s, 1)};`,
      false,
    );
  }
  if (i.size === 32)
    return alu32(i, immediate ? `const b = ${u32(i.immLo)};` : `const b = ${reg(i.s, 0)};`, false);
  return null;
}

/** A fused flag-setter + JZ/JNZ (`aux` 1 = JZ): records the flags, then leaves on a taken branch. */
function fusedBranch(
  i: Insn,
  j: number,
  ctx: BlockContext,
  body: string,
  flags: string,
  flagsIn: FlagsIn,
): Emitted {
  const taken = i.aux === 1 ? "r === 0" : "r !== 0";
  return {
    body,
    flags,
    tail: `if (${taken}) { ${branchTo(i, j, ctx)} }`,
    faults: false,
    exits: true,
    flagsIn,
    flagsFull: true,
  };
}

/** JZ/JNZ on the flags (the zero flag straight from the lazy result, as the handlers do). */
function zeroBranch(i: Insn, j: number, ctx: BlockContext, zero: boolean): Emitted {
  const zf = "(f.op !== 0 ? f.rLo === 0 && f.rHi === 0 : (f.bits & 0x40) !== 0)";
  return {
    body: "",
    flags: "",
    tail: `if (${zero ? "" : "!"}${zf}) { ${branchTo(i, j, ctx)} }`,
    faults: false,
    exits: true,
    flagsIn: "always",
    flagsFull: false,
  };
}

/** ROL/ROR flags (CF, OF) of a result whose top bits are in `top` and bottom bit in `bottom`. */
function rotateFlags(left: boolean, bottom: string, top: string): string {
  const cfOf = left
    ? `const cf = ${bottom} & 1; const of = (${top} >>> 31) ^ cf;`
    : `const cf = ${top} >>> 31; const of = cf ^ ((${top} >>> 30) & 1);`;
  return `f.materialize(); { ${cfOf} f.bits = ((f.bits & ~0x801) | cf | (of << 11)) >>> 0; }`;
}

const GENERATORS = new Map<Handler, Generator>([
  [nop, () => plain("", false)],
  [followedJump, () => plain("", false)],
  [mov64RR, (i) => plain(`${reg(i.d, 0)} = ${reg(i.s, 0)}; ${reg(i.d, 1)} = ${reg(i.s, 1)};`, false)],
  [mov32RR, (i) => plain(`${reg(i.d, 0)} = ${reg(i.s, 0)}; ${reg(i.d, 1)} = 0;`, false)],
  [
    movRM64,
    (i) => plain(`${linSource(i, 8, false)} c.ld64(la); ${reg(i.d, 0)} = q[0]; ${reg(i.d, 1)} = q[1];`, true),
  ],
  [movMR64, (i) => plain(`${linSource(i, 8, true)} c.wr64(la, ${reg(i.s, 0)}, ${reg(i.s, 1)});`, true)],
  [
    mov32RM,
    (i) => plain(`${linSource(i, 4, false)} c.ld32(la); ${reg(i.d, 0)} = q[0]; ${reg(i.d, 1)} = 0;`, true),
  ],
  [mov32MR, (i) => plain(`${linSource(i, 4, true)} c.wr32(la, ${reg(i.s, 0)});`, true)],
  [
    lea64,
    (i) => {
      let lo = u32(i.dispLo);
      let hi = u32(i.dispHi);
      if (i.base >= 0) {
        lo += ` + ${reg(i.base, 0)}`;
        hi += ` + ${reg(i.base, 1)}`;
      }
      if (i.index >= 0) {
        lo += ` + ${reg(i.index, 0)} * ${i.scale}`;
        hi += ` + ${reg(i.index, 1)} * ${i.scale}`;
      }
      return plain(
        `const lo = ${lo}; const hi = ${hi}; ${reg(i.d, 0)} = lo >>> 0; ${reg(i.d, 1)} = (hi + ((lo * 2.3283064365386963e-10) | 0)) >>> 0;`,
        false,
      );
    },
  ],
  [alu64RR, (i) => alu64(i, `const bLo = ${reg(i.s, 0)}; const bHi = ${reg(i.s, 1)};`, false)],
  [alu64RI, (i) => alu64(i, `const bLo = ${u32(i.immLo)}; const bHi = ${u32(i.immHi)};`, false)],
  [
    alu64RM,
    (i) => alu64(i, `${linSource(i, 8, false)} c.ld64(la); const bLo = q[0]; const bHi = q[1];`, true),
  ],
  [alu32RR, (i) => alu32(i, `const b = ${reg(i.s, 0)};`, false)],
  [alu32RI, (i) => alu32(i, `const b = ${u32(i.immLo)};`, false)],
  [alu32RM, (i) => alu32(i, `${linSource(i, 4, false)} c.ld32(la); const b = q[0];`, true)],
  [
    rot64RI,
    (i) => {
      const n = i.immLo & 63;
      if (n === 0) return plain("", false);
      const left = i.aux === 0 ? n : 64 - n;
      const [lo, hi] = left >= 32 ? ["h", "l"] : ["l", "h"];
      const k = left & 31;
      const rotated =
        k === 0
          ? `const rLo = ${lo}; const rHi = ${hi};`
          : `const rLo = ((${lo} << ${k}) | (${hi} >>> ${32 - k})) >>> 0; const rHi = ((${hi} << ${k}) | (${lo} >>> ${32 - k})) >>> 0;`;
      return {
        body: `const l = ${reg(i.d, 0)}; const h = ${reg(i.d, 1)}; ${rotated} ${reg(i.d, 0)} = rLo; ${reg(i.d, 1)} = rHi;`,
        flags: rotateFlags(i.aux === 0, "rLo", "rHi"),
        tail: "",
        faults: false,
        exits: false,
        flagsIn: "whenKept",
        flagsFull: false,
      };
    },
  ],
  [
    rot32RI,
    (i) => {
      const n = i.immLo & 31;
      if (n === 0) return plain(`${reg(i.d, 1)} = 0;`, false);
      const left = i.aux === 0 ? n : 32 - n;
      return {
        body: `const v = ${reg(i.d, 0)}; const r = ((v << ${left}) | (v >>> ${32 - left})) >>> 0; ${reg(i.d, 0)} = r; ${reg(i.d, 1)} = 0;`,
        flags: rotateFlags(i.aux === 0, "r", "r"),
        tail: "",
        faults: false,
        exits: false,
        flagsIn: "whenKept",
        flagsFull: false,
      };
    },
  ],
  ...(
    [
      [dec32, "-", FlagOp.Dec],
      [inc32, "+", FlagOp.Inc],
    ] as const
  ).map(([fn, sign, kind]): [Handler, Generator] => [
    fn,
    (i) => ({
      body: `const a = ${reg(i.d, 0)}; const r = (a ${sign} 1) >>> 0;`,
      flags: `{ const cf = f.cf(); f.op = ${kind}; f.size = 32; f.aLo = a; f.aHi = 0; f.bLo = 1; f.bHi = 0; f.rLo = r; f.rHi = 0; f.cin = cf; }`,
      tail: `${reg(i.d, 0)} = r; ${reg(i.d, 1)} = 0;`,
      faults: false,
      exits: false,
      flagsIn: "whenKept",
      flagsFull: true,
    }),
  ]),
  [
    decJcc32,
    (i, j, ctx) =>
      fusedBranch(
        i,
        j,
        ctx,
        `const a = ${reg(i.d, 0)}; const r = (a - 1) >>> 0; ${reg(i.d, 0)} = r; ${reg(i.d, 1)} = 0;`,
        `{ const cf = f.cf(); f.op = ${FlagOp.Dec}; f.size = 32; f.aLo = a; f.aHi = 0; f.bLo = 1; f.bHi = 0; f.rLo = r; f.rHi = 0; f.cin = cf; }`,
        "whenKept",
      ),
  ],
  [
    testJcc8,
    (i, j, ctx) =>
      fusedBranch(
        i,
        j,
        ctx,
        `const r = (${reg(i.d, 0)} >>> ${i.dh}) & ${i.immLo & 0xff};`,
        `f.op = ${FlagOp.Logic}; f.size = 8; f.aLo = 0; f.aHi = 0; f.bLo = 0; f.bHi = 0; f.rLo = r; f.rHi = 0;`,
        "never",
      ),
  ],
  [
    testJcc32I,
    (i, j, ctx) =>
      fusedBranch(
        i,
        j,
        ctx,
        `const r = (${reg(i.d, 0)} & ${i.immLo | 0}) >>> 0;`,
        `f.op = ${FlagOp.Logic}; f.size = 32; f.aLo = 0; f.aHi = 0; f.bLo = 0; f.bHi = 0; f.rLo = r; f.rHi = 0;`,
        "never",
      ),
  ],
  [
    testJcc32R,
    (i, j, ctx) =>
      fusedBranch(
        i,
        j,
        ctx,
        `const r = (${reg(i.d, 0)} & ${reg(i.s, 0)}) >>> 0;`,
        `f.op = ${FlagOp.Logic}; f.size = 32; f.aLo = 0; f.aHi = 0; f.bLo = 0; f.bHi = 0; f.rLo = r; f.rHi = 0;`,
        "never",
      ),
  ],
  [
    cmpJcc32I,
    (i, j, ctx) =>
      fusedBranch(
        i,
        j,
        ctx,
        `const a = ${reg(i.d, 0)}; const r = (a - ${u32(i.immLo)}) >>> 0;`,
        `f.op = ${FlagOp.Sub}; f.size = 32; f.aLo = a; f.aHi = 0; f.bLo = ${u32(i.immLo)}; f.bHi = 0; f.rLo = r; f.rHi = 0;`,
        "never",
      ),
  ],
  [aluRR, (i) => aluGeneric(i, false)],
  [aluRI, (i) => aluGeneric(i, true)],
  [
    lea,
    (i) =>
      i.size === 32
        ? plain(`${eaSource(i)} ${reg(i.d, 0)} = ea >>> 0; ${reg(i.d, 1)} = 0;`, false)
        : i.size === 64
          ? plain(
              `${eaSource(i)} ${reg(i.d, 0)} = ea >>> 0; ${reg(i.d, 1)} = Math.floor(ea / 4294967296) >>> 0;`,
              false,
            )
          : null,
  ],
  [jz, (i, j, ctx) => zeroBranch(i, j, ctx, true)],
  [jnz, (i, j, ctx) => zeroBranch(i, j, ctx, false)],
]);

/**
 * Handlers without a generator that touch only registers and flags: called, they can neither
 * fault nor leave the block.
 */
const REGISTER_ONLY = new Set<Handler>([aluRR, aluRI, shiftRI, lea, movRI, movRR]);

/** The code of record `i` (the `j`-th of its block), or a call of its handler. */
export function emitRecord(i: Insn, j: number, ctx: BlockContext): Emitted {
  const gen = GENERATORS.get(i.fn);
  const out = gen === undefined ? null : gen(i, j, ctx);
  if (out !== null) {
    if (!out.faults || out.exits) return out;
    // A memory access may have run device code (MMIO: a stop request) or overwritten code of this
    // very block: leave when it set `breakBlock`, after the access, as the interpreter does.
    return { ...out, tail: `${out.tail} if (c.breakBlock) return ${j + 1};`, exits: true };
  }
  const safe = REGISTER_ONLY.has(i.fn);
  return {
    body: `h${j}(c, I[${j}]);`,
    flags: "",
    tail: safe ? "" : `if (c.breakBlock) return ${j + 1};`,
    faults: !safe,
    exits: !safe,
    // A called handler may read the flags and may change only some of them.
    flagsIn: "always",
    flagsFull: false,
  };
}
