/**
 * The second tier: a block that has run often becomes one JavaScript function. The hottest
 * records are generated inline (`./jit/emit.ts`: their registers, immediates and operation turned
 * into constants); the others call their handlers, each from a call site of its own so the engine
 * can inline it. Semantics are the interpreter's: the same early exit when a record leaves the
 * block, and on a fault the index of the faulting record left in `c.faultIndex`.
 *
 * Flag recording that no one can observe is left out: a record's flags are dead when a later
 * record replaces them all before anything reads them, and nothing in between can fault or
 * leave the block (where the flags would become visible).
 */
import type { Cpu } from "./cpu.js";
import type { Handler, Insn } from "./insn.js";
import { type Emitted, emitRecord } from "./jit/emit.js";

/**
 * A compiled block: runs the records and returns how many ran in the last pass. `max` is the
 * instruction budget left; a block that loops back to its own start runs further passes in place
 * within it, adding each finished pass to `c.instructions` itself.
 */
export type CompiledBlock = (c: Cpu, insns: Insn[], max: number) => number;

/** Runs of a block before it is compiled. */
export const COMPILE_THRESHOLD = 64;

/** The source of the function body of a block of `insns` (exported for tests and curiosity). */
export function blockSource(insns: readonly Insn[]): string {
  const n = insns.length;
  const ctx = { start: insns[0]!.rip, total: insns[n - 1]!.seqEnd };
  const code: Emitted[] = insns.map((i, j) => emitRecord(i, j, ctx));
  // Backward pass: are the flags after record j observable?
  const keep: boolean[] = new Array<boolean>(n);
  let live: boolean = true; // at the block's end the flags are architectural state
  for (let j = n - 1; j >= 0; j--) {
    const e = code[j]!;
    const liveAfter: boolean = live || e.exits;
    const kept: boolean = e.flags !== "" && liveAfter;
    keep[j] = kept;
    const reads: boolean = e.flagsIn === "always" || (e.flagsIn === "whenKept" && kept);
    live = e.faults || reads || (!e.flagsFull && liveAfter);
  }
  let body =
    "const g = c.s.gpr; const f = c.s.flags; const q = c.q; let k = 0; let rem = max;\ntry {\npass: for (;;) {\n";
  for (let j = 0; j < n; j++) {
    const e = code[j]!;
    const flags = keep[j] ? e.flags : "";
    body += `  {${e.faults ? ` k = ${j};` : ""} ${e.body} ${flags} ${e.tail} }\n`;
  }
  body += `  return ${n};\n}\n} catch (e) {\n  c.faultIndex = k;\n  throw e;\n}\n`;
  return body;
}

/** Builds the function of a block of `insns`. */
export function compileBlock(insns: readonly Insn[]): CompiledBlock {
  const params = insns.map((_, j) => `h${j}`);
  const body = blockSource(insns);
  // One factory per block: its parameters bind the handlers as constants of the inner function.
  const factory = new Function(...params, `"use strict";\nreturn function block(c, I, max) {\n${body}};`) as (
    ...fns: Handler[]
  ) => CompiledBlock;
  return factory(...insns.map((i) => i.fn));
}
