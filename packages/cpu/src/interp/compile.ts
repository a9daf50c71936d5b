/**
 * The second tier: a block that has run often is turned into one JavaScript function that calls
 * its handlers in sequence. Each compiled block has its own call sites, each seeing one handler,
 * so the engine can inline the handlers instead of dispatching through a shared indirect call.
 * Semantics are the interpreter's: the same handlers, the same early exit when a handler sets
 * `breakBlock`, and on a fault the index of the faulting record left in `c.faultIndex`.
 */
import type { Cpu } from "./cpu.js";
import { aluRI, aluRR, shiftRI } from "./handlers/alu.js";
import {
  alu32RI,
  alu32RR,
  alu64RI,
  alu64RR,
  dec32,
  inc32,
  lea64,
  mov32RR,
  mov64RR,
  rot32RI,
  rot64RI,
} from "./handlers/fast.js";
import { lea, movRI, movRR, nop } from "./handlers/move.js";
import type { Handler, Insn } from "./insn.js";

/**
 * Handlers that touch only registers and flags: they can neither fault nor end a block, so a
 * compiled block does not test `breakBlock` after them.
 */
const REGISTER_ONLY = new Set<Handler>([
  aluRR,
  aluRI,
  shiftRI,
  alu32RI,
  alu32RR,
  alu64RI,
  alu64RR,
  dec32,
  inc32,
  lea64,
  mov32RR,
  mov64RR,
  rot32RI,
  rot64RI,
  lea,
  movRI,
  movRR,
  nop,
]);

/** A compiled block: runs the records and returns how many ran. */
export type CompiledBlock = (c: Cpu, insns: Insn[]) => number;

/** Runs of a block before it is compiled. */
export const COMPILE_THRESHOLD = 64;

/** Builds the function of a block of `insns`. */
export function compileBlock(insns: readonly Insn[]): CompiledBlock {
  const n = insns.length;
  const params: string[] = [];
  let body = "let k = 0;\ntry {\n";
  for (let j = 0; j < n; j++) {
    params.push(`f${j}`);
    body += `  f${j}(c, I[${j}]); k = ${j + 1};\n`;
    if (j < n - 1 && !REGISTER_ONLY.has(insns[j]!.fn)) body += "  if (c.breakBlock) return k;\n";
  }
  body += "} catch (e) {\n  c.faultIndex = k;\n  throw e;\n}\nreturn k;\n";
  // One factory per block: its parameters bind the handlers as constants of the inner function.
  const factory = new Function(...params, `"use strict";\nreturn function block(c, I) {\n${body}};`) as (
    ...fns: Handler[]
  ) => CompiledBlock;
  return factory(...insns.map((i) => i.fn));
}
