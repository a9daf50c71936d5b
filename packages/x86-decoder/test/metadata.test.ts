import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { Decoder } from "../src/decoder.js";
import { Instruction, RFlag } from "../src/instruction.js";
import { randomBytes } from "./compare.js";
import { readElfText } from "./elf.js";

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: the wasm module's types are not imported statically
const iced: any = require("iced-x86");

// iced-x86 RflagsBits -> our RFlag bits.
const FLAG_MAP: [number, number][] = [
  [1, RFlag.O],
  [2, RFlag.S],
  [4, RFlag.Z],
  [8, RFlag.A],
  [16, RFlag.C],
  [32, RFlag.P],
  [64, RFlag.D],
  [128, RFlag.I],
];
const conv = (x: number) => FLAG_MAP.reduce((a, [i, o]) => (x & i ? a | o : a), 0);

// iced-x86 FlowControl name -> our flow kinds that correspond to it.
const FLOW: Record<string, string[]> = {
  Next: ["next"],
  UnconditionalBranch: ["jmp", "jmpfar"],
  IndirectBranch: ["jmpind", "jmpfarind"],
  ConditionalBranch: ["jcc", "loop"],
  Return: ["ret", "retfar", "iret"],
  Call: ["call", "callfar"],
  IndirectCall: ["callind", "callfarind"],
  Interrupt: ["int"],
  XbeginXabortXend: ["xbegin", "next"],
  Exception: ["exception"],
};

interface MetaStats {
  total: number;
  flags: number;
  privileged: number;
  flow: number;
  bad: string[];
}

/** Compares RFLAGS, privilege and control flow with iced-x86 for the valid instructions both see. */
function compareMetadata(bitness: 16 | 32 | 64, bytes: Uint8Array, s: MetaStats): void {
  const d = new iced.Decoder(bitness, bytes, iced.DecoderOptions.None);
  const ii = new iced.Instruction();
  const flowNames: Record<number, string> = {};
  for (const [k, v] of Object.entries(iced.FlowControl)) if (typeof v === "number") flowNames[v] = k;
  const ours = new Decoder(bitness, bytes);
  const ins = new Instruction();
  let pos = 0;
  let tpos = 0;
  try {
    while (d.canDecode) {
      d.decodeOut(ii);
      while (pos < tpos) {
        ours.decodeOut(ins);
        pos += ins.length;
      }
      const len = ii.length as number;
      if (pos !== tpos) {
        tpos += len;
        continue;
      }
      ours.decodeOut(ins);
      pos += ins.length;
      tpos += len;
      if (ii.isInvalid || ins.invalid) continue;
      s.total++;
      const read = conv(ii.rflagsRead);
      const modified = conv(ii.rflagsWritten | ii.rflagsCleared | ii.rflagsSet | ii.rflagsUndefined);
      if (read === ins.flagsRead && modified === (ins.flagsWritten | ins.flagsUndefined)) s.flags++;
      else if (s.bad.length < 20)
        s.bad.push(
          `flags ${ins.mnemonic} ${ins.operandSize} imm=${ins.immLo} iced r=${read} m=${modified} ours r=${ins.flagsRead} m=${ins.flagsWritten | ins.flagsUndefined}`,
        );
      if (ii.isPrivileged === ins.privileged) s.privileged++;
      else if (s.bad.length < 20) s.bad.push(`privileged ${ins.mnemonic}`);
      if ((FLOW[flowNames[ii.flowControl] ?? ""] ?? []).includes(ins.flowKind)) s.flow++;
      else if (s.bad.length < 20)
        s.bad.push(`flow ${ins.mnemonic} ${flowNames[ii.flowControl]} ${ins.flowKind}`);
    }
  } finally {
    ii.free();
    d.free();
  }
}

describe("metadata against iced-x86", () => {
  it("RFLAGS read/modified, privilege and control flow agree on random streams and real code", () => {
    const s: MetaStats = { total: 0, flags: 0, privileged: 0, flow: 0, bad: [] };
    for (const bits of [16, 32, 64] as const) compareMetadata(bits, randomBytes(bits * 31, 60000), s);
    const text = readElfText(process.execPath);
    if (text !== undefined) compareMetadata(text.bitness, text.bytes.subarray(0, 256 * 1024), s);
    if (s.bad.length > 0) console.log(s.bad.join("\n"));
    expect(s.total).toBeGreaterThan(20000);
    expect(s.flags / s.total).toBeGreaterThanOrEqual(0.9999);
    expect(s.privileged / s.total).toBeGreaterThanOrEqual(0.9999);
    expect(s.flow / s.total).toBeGreaterThanOrEqual(0.9999);
  });
});
