// The native-oracle fixtures replayed through the decoder and the interpreter: each form's
// instruction (bytes in test/oracle/interpreter-forms.ts) runs in 64-bit mode on registers loaded
// from the recorded case, and the registers and flags must match what the host CPU produced,
// ignoring only the flags the SDM calls undefined.
import { describe, expect, it } from "vitest";
import { ARITH_FLAGS, Gpr, RESULT_UNDEFINED, StopReason, undefinedFlags } from "../src/index.js";
import { createMachine, L } from "./modes.js";
import { FAMILIES, fixturePath } from "./oracle/families.js";
import type { FixtureCase } from "./oracle/fixture-file.js";
import { readFixture } from "./oracle/fixture-file.js";
import { INTERPRETER_FORMS } from "./oracle/interpreter-forms.js";
import { countOf, mnemonicOf } from "./oracle/runners.js";

const m = createMachine("long");
const st = m.cpu.state;
// #DE goes to a handler that halts.
m.load(L.HANDLER, [0xf4]);
m.gate(0, L.HANDLER);
const mask = (size: number): number =>
  size === 64 ? 0xffffffff : size === 32 ? 0xffffffff : (1 << size) - 1;

/** Reads a register at a size as [lo, hi] (hi 0 below 64 bits); 8-bit `high` reads AH-style. */
function readReg(r: number, size: number, high = false): [number, number] {
  if (high) return [(st.lo(r) >>> 8) & 0xff, 0];
  return [(st.lo(r) & mask(size)) >>> 0, size === 64 ? st.hi(r) : 0];
}

function set(r: number, lo: number, hi: number): void {
  st.set64(r, lo >>> 0, hi >>> 0);
}

interface Result {
  r: [number, number];
  d: [number, number] | undefined;
  fault: number;
  flags: number;
}

function runCase(name: string, size: number, kind: string, c: FixtureCase): Result {
  for (let r = 0; r < 16; r++) set(r, 0, 0);
  st.rip = L.CODE;
  st.set64(Gpr.RSP, L.STACK, 0);
  m.cpu.halted = false;
  st.flags.write(0x202 | (c.flagsIn & ARITH_FLAGS));
  switch (kind) {
    case "divide":
      if (size === 8) set(Gpr.RAX, (c.aLo & 0xff) | ((c.bLo & 0xff) << 8), 0);
      else {
        set(Gpr.RAX, c.aLo, c.aHi);
        set(Gpr.RDX, c.bLo, c.bHi);
      }
      set(Gpr.RCX, c.cLo, c.cHi);
      break;
    case "chain":
      set(Gpr.RAX, c.aLo, c.aHi);
      set(Gpr.RCX, c.bLo, c.bHi);
      set(Gpr.RBX, c.cLo, c.cHi);
      break;
    case "mulx":
      set(Gpr.RDX, c.aLo, c.aHi);
      set(Gpr.RBX, c.bLo, c.bHi);
      break;
    case "cmpxchg":
      set(Gpr.RAX, c.cLo, c.cHi);
      set(Gpr.RDX, c.aLo, c.aHi);
      set(Gpr.RBX, c.bLo, c.bHi);
      break;
    default:
      set(Gpr.RAX, c.aLo, c.aHi);
      set(Gpr.RBX, c.bLo, c.bHi);
      set(Gpr.RCX, c.cLo, c.cHi);
  }
  const before = m.cpu.eventCounts[0]!;
  const reason = m.cpu.run(10);
  const flags = st.flags.read();
  if (m.cpu.eventCounts[0]! > before) return { r: [0, 0], d: undefined, fault: 1, flags };
  if (reason !== StopReason.Halted) throw new Error(`${name}: stopped with ${reason}`);
  switch (kind) {
    case "mul":
      if (name.startsWith("xadd")) return { r: readReg(0, size), d: readReg(3, size), fault: 0, flags };
      return { r: readReg(0, size), d: size === 8 ? readReg(0, 8, true) : readReg(2, size), fault: 0, flags };
    case "divide":
      return { r: readReg(0, size), d: size === 8 ? readReg(0, 8, true) : readReg(2, size), fault: 0, flags };
    case "cmpxchg":
      return { r: readReg(2, size), d: readReg(0, size), fault: 0, flags };
    case "mulx":
      return { r: readReg(0, size), d: readReg(1, size), fault: 0, flags };
    case "chain":
      return { r: readReg(0, size), d: readReg(3, size), fault: 0, flags };
    case "crc32":
      return { r: readReg(0, 32), d: undefined, fault: 0, flags };
    default:
      return { r: readReg(0, size), d: undefined, fault: 0, flags };
  }
}

describe("oracle fixtures through the decoder and the interpreter", () => {
  for (const family of FAMILIES) {
    const forms = readFixture(fixturePath(family)).filter((f) => INTERPRETER_FORMS[f.name] !== undefined);
    if (forms.length === 0) continue;
    it(family, () => {
      let compared = 0;
      const problems: string[] = [];
      for (const form of forms) {
        const spec = INTERPRETER_FORMS[form.name]!;
        const code = Uint8Array.from(spec.hex.match(/../g)!.map((h) => Number.parseInt(h, 16)));
        m.memory.writeBytes(L.CODE, Uint8Array.from([...code, 0xf4]), 1);
        const mnemonic = mnemonicOf(form.name, form.size);
        for (const c of form.cases) {
          const undef = undefinedFlags(mnemonic, form.size as 8 | 16 | 32 | 64, countOf(form.name, c));
          if (undef === RESULT_UNDEFINED) continue;
          const got = runCase(form.name, form.size, spec.kind, c);
          compared++;
          let problem = "";
          if (got.fault !== c.fault) problem = `fault host=${c.fault} ours=${got.fault}`;
          else if (c.fault === 0) {
            if (got.r[0] !== c.rLo || got.r[1] !== c.rHi)
              problem += ` r host=${c.rHi.toString(16)}_${c.rLo.toString(16)} ours=${got.r[1].toString(16)}_${got.r[0].toString(16)}`;
            if (got.d !== undefined && (got.d[0] !== c.dLo || got.d[1] !== c.dHi))
              problem += ` d host=${c.dHi.toString(16)}_${c.dLo.toString(16)} ours=${got.d[1].toString(16)}_${got.d[0].toString(16)}`;
            const fm = ARITH_FLAGS & ~undef;
            if ((got.flags & fm) !== (c.flagsOut & fm))
              problem += ` flags host=${(c.flagsOut & fm).toString(16)} ours=${(got.flags & fm).toString(16)}`;
          }
          if (problem !== "" && problems.length < 10)
            problems.push(
              `${spec.asm} a=${c.aHi.toString(16)}_${c.aLo.toString(16)} b=${c.bHi.toString(16)}_${c.bLo.toString(16)} c=${c.cLo.toString(16)}:${problem}`,
            );
        }
      }
      expect(problems).toEqual([]);
      expect(compared).toBeGreaterThan(0);
    });
  }
});
