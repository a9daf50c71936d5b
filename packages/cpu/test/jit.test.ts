// The second tier against the interpreter: random 64-bit loops of the forms the code generator
// emits inline (mixed with handlers it calls, with flag readers, and with a load that faults once
// the block is compiled) must leave the same registers, flags, memory and counters both ways.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StopReason } from "../src/index.js";
import { blockSource } from "../src/interp/compile.js";
import type { Insn } from "../src/interp/insn.js";
import { createMachine, L } from "./modes.js";
import { bytesOf, le32 } from "./snippet.js";
import { SNIPPETS } from "./snippets.js";

/** Registers random instructions may write: not RCX (the loop count), RSP, RSI (data base), R15. */
const DEST = [0, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14];
const BYTE_REGS = [0, 2, 3]; // AL, DL, BL: no REX needed
const ITERATIONS = 150;
/** Where the faulting variant's pointer crosses into a non-present 2 MiB page. */
const HOLE_TOP = 0x800000;

const rex = (w: number, r: number, x: number, b: number): number[] => {
  const v = 0x40 | (w << 3) | ((r >> 3) << 2) | ((x >> 3) << 1) | (b >> 3);
  return v === 0x40 ? [] : [v];
};
const modrm = (mod: number, reg: number, rm: number): number => (mod << 6) | ((reg & 7) << 3) | (rm & 7);

const reg = fc.constantFrom(...DEST);
const anyReg = fc.integer({ min: 0, max: 15 });
const wide = fc.boolean();
const disp = fc.integer({ min: 0, max: 120 });
const ALU_RM = [0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39, 0x85]; // add or adc sbb and sub xor cmp test

/** One instruction's bytes. */
const insn: fc.Arbitrary<number[]> = fc.oneof(
  // ALU r, r (64 or 32-bit), including ADC/SBB (called handlers that read CF) and TEST
  fc
    .tuple(fc.constantFrom(...ALU_RM), reg, anyReg, wide)
    .map(([op, d, s, w]) => [...rex(w ? 1 : 0, s, 0, d), op, modrm(3, s, d)]),
  // ALU r, imm8 / imm32
  fc
    .tuple(fc.integer({ min: 0, max: 7 }), reg, fc.integer(), wide, fc.boolean())
    .map(([ext, d, imm, w, short]) =>
      short
        ? [...rex(w ? 1 : 0, 0, 0, d), 0x83, modrm(3, ext, d), imm & 0xff]
        : [...rex(w ? 1 : 0, 0, 0, d), 0x81, modrm(3, ext, d), ...le32(imm)],
    ),
  // ALU r, [rsi + disp8]
  fc
    .tuple(fc.constantFrom(0x03, 0x0b, 0x23, 0x2b, 0x33, 0x3b), reg, disp, wide)
    .map(([op, d, off, w]) => [...rex(w ? 1 : 0, d, 0, 6), op, modrm(1, d, 6), off]),
  // MOV r, r / MOV r, [rsi + disp8] / MOV [rsi + disp8], r
  fc.tuple(reg, anyReg, wide).map(([d, s, w]) => [...rex(w ? 1 : 0, s, 0, d), 0x89, modrm(3, s, d)]),
  fc.tuple(reg, disp, wide).map(([d, off, w]) => [...rex(w ? 1 : 0, d, 0, 6), 0x8b, modrm(1, d, 6), off]),
  fc.tuple(anyReg, disp, wide).map(([s, off, w]) => [...rex(w ? 1 : 0, s, 0, 6), 0x89, modrm(1, s, 6), off]),
  // LEA r64/r32, [base (64 or 32-bit address size) + index * scale + disp8]
  fc
    .tuple(
      reg,
      anyReg,
      fc.constantFrom(0, 1, 2, 3, 5, 6, 7, 8, 9, 12, 13, 15),
      fc.integer({ min: 0, max: 3 }),
      disp,
      wide,
      fc.boolean(),
    )
    .map(([d, b, x, sc, off, w, a32]) => [
      ...(a32 ? [0x67] : []),
      ...rex(w ? 1 : 0, d, x, b),
      0x8d,
      modrm(1, d, 4),
      (sc << 6) | ((x & 7) << 3) | (b & 7),
      off,
    ]),
  // ROL/ROR r, imm8 (inline, reads the flags) and SHL/SHR/SAR r, imm8 (called)
  fc
    .tuple(fc.constantFrom(0, 1, 4, 5, 7), reg, fc.integer({ min: 0, max: 70 }), wide)
    .map(([ext, d, n, w]) => [...rex(w ? 1 : 0, 0, 0, d), 0xc1, modrm(3, ext, d), n]),
  // INC/DEC r32 (keep CF)
  fc.tuple(fc.constantFrom(0, 1), reg).map(([ext, d]) => [...rex(0, 0, 0, d), 0xff, modrm(3, ext, d)]),
  // SETcc r8 and PUSHFQ; POP RBX: flag readers
  fc
    .tuple(fc.integer({ min: 0, max: 15 }), fc.constantFrom(...BYTE_REGS))
    .map(([cc, d]) => [0x0f, 0x90 + cc, modrm(3, 0, d)]),
  fc.constant<number[]>([0x9c, 0x5b]),
  fc.constant<number[]>([0x90]),
);

/** A TEST r8, imm8 / CMP r32, imm / DEC r32 followed by JZ/JNZ over the next instruction (fused pairs). */
const branchy = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom(...BYTE_REGS), fc.integer(), fc.boolean(), insn)
  .map(([kind, d, imm, jz, skipped]) => {
    const first =
      kind === 0
        ? [0xf6, modrm(3, 0, d), imm & 0xff]
        : kind === 1
          ? [0x81, modrm(3, 7, d), ...le32(imm)]
          : [0xff, modrm(3, 1, d)];
    return [...first, jz ? 0x74 : 0x75, skipped.length, ...skipped];
  });

/** The loop: MOV ECX, n; top: body; DEC ECX; JNZ top; HLT. */
function program(body: number[][]): Uint8Array {
  const inner = body.flat();
  const loopBack = -(inner.length + 2 + 6);
  return Uint8Array.from([
    0xb9,
    ...le32(ITERATIONS),
    ...inner,
    0xff,
    0xc9,
    0x0f,
    0x85,
    ...le32(loopBack),
    0xf4,
  ]);
}

interface Outcome {
  readonly stop: StopReason;
  readonly gpr: number[];
  readonly flags: number;
  readonly rip: number;
  readonly instructions: number;
  readonly data: number[];
  readonly cr2: number;
}

function run(code: Uint8Array, seed: number[], compile: boolean, faulting: boolean): Outcome {
  const m = createMachine("long");
  m.cpu.compile = compile;
  m.load(L.CODE, code);
  m.load(L.HANDLER, bytesOf(SNIPPETS.pfHandler64));
  m.gate(14, L.HANDLER);
  const st = m.cpu.state;
  for (let k = 0; k < 32; k++) if (k !== 8 && k !== 9) st.gpr[k] = seed[k]! >>> 0;
  st.gpr[12] = L.DATA; // RSI
  st.gpr[13] = 0;
  for (let k = 0; k < 64; k++) m.write32(L.DATA + 4 * k, seed[k % 32]! ^ (k * 0x9e3779b9));
  if (faulting) {
    m.write64(L.PD + 3 * 8, 0n); // 6-8 MiB not present
    const t = 100; // iterations before the load reaches the hole (after the block is compiled)
    const r15 = HOLE_TOP - 8 + 8 * t - 8 * ITERATIONS;
    st.gpr[30] = r15 >>> 0;
    st.gpr[31] = 0;
  }
  const stop = m.cpu.run(1_000_000);
  const data: number[] = [];
  for (let k = 0; k < 64; k++) data.push(m.read32(L.DATA + 4 * k));
  return {
    stop,
    gpr: [...st.gpr],
    flags: st.flags.read(),
    rip: st.rip,
    instructions: m.cpu.instructions,
    data,
    cr2: st.cr[4]!,
  };
}

const seeds = fc.array(fc.integer(), { minLength: 32, maxLength: 32 });
const body = fc.array(fc.oneof({ weight: 5, arbitrary: insn }, { weight: 1, arbitrary: branchy }), {
  minLength: 1,
  maxLength: 24,
});

describe("second tier (generated code) against the interpreter", () => {
  it("random loops end in the same state", () => {
    fc.assert(
      fc.property(body, seeds, (b, seed) => {
        const code = program(b);
        const jit = run(code, seed, true, false);
        const interp = run(code, seed, false, false);
        expect(jit.stop).toBe(StopReason.Halted);
        expect(jit).toEqual(interp);
      }),
      { numRuns: 60 },
    );
  });

  it("a load that faults inside a compiled block sees the flags and registers of the records before it", () => {
    // MOV RAX, [R15 + RCX * 8] placed at a random point of the body.
    const faultLoad = [0x49, 0x8b, 0x04, 0xcf];
    fc.assert(
      fc.property(body, fc.nat(), seeds, (b, at, seed) => {
        const withLoad = [...b];
        withLoad.splice(at % (b.length + 1), 0, faultLoad);
        const code = program(withLoad);
        const jit = run(code, seed, true, true);
        const interp = run(code, seed, false, true);
        expect(jit.stop).toBe(StopReason.Halted);
        expect(jit.cr2).toBe(HOLE_TOP - 8);
        expect(jit).toEqual(interp);
      }),
      { numRuns: 40 },
    );
  });

  it("flag recording no one can see is left out, and kept before a record that can fault", () => {
    // add r9, rdx; xor rax, r9; mov [rsi], rax; and r8d, 511; test r9b, 1 + jz (fused); hlt
    const m = createMachine("long");
    // The real records, decoded by the CPU: run the sequence hot and read the generated source.
    const code = Uint8Array.from([
      0x49, 0x01, 0xd1, 0x4c, 0x31, 0xc8, 0x48, 0x89, 0x06, 0x41, 0x81, 0xe0, 0xff, 0x01, 0x00, 0x00, 0x41,
      0xf6, 0xc1, 0x01, 0x74, 0x00, 0xf4,
    ]);
    m.load(L.CODE, code);
    m.cpu.state.gpr[12] = L.DATA;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    const records = recordsOf(m.cpu, L.CODE);
    const src = blockSource(records);
    const lines = src.split("\n").filter((l) => l.startsWith("  {"));
    expect(lines).toHaveLength(records.length);
    // ADD's flags are replaced by XOR's before anything can see them; XOR's survive the store
    // (which can fault); AND's are replaced by TEST's; TEST's are the block's result.
    expect(lines.map((l) => l.includes("f.op ="))).toEqual([false, true, false, false, true, false]);
  });
});

/** The decoded records of the block at `rip` (through the block cache the CPU filled). */
function recordsOf(cpu: unknown, rip: number): Insn[] {
  const cache = (cpu as { cache: { blocks: Map<number, { rip: number; insns: Insn[] }> } }).cache;
  for (const b of cache.blocks.values()) if (b.rip === rip) return b.insns;
  throw new Error(`no block at ${rip.toString(16)}`);
}

describe("a compiled block that loops back to its own start", () => {
  /** mov ecx, 1000; top: out 0x80, al; dec ecx; jnz top; hlt — with a device on port 0x80. */
  function loopMachine(compile: boolean) {
    let pending = false;
    let writes = 0;
    const m = createMachine("long", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        return 0x40;
      },
    });
    m.cpu.compile = compile;
    m.io.register(0x80, 1, {
      read: () => 0,
      write: () => {
        if (++writes === 300) pending = true;
      },
    });
    m.gate(0x40, L.HANDLER);
    m.load(L.HANDLER, [0x49, 0x89, 0xcc, 0xf4]); // mov r12, rcx; hlt
    m.load(L.CODE, [0xfb, 0xb9, 0xe8, 0x03, 0, 0, 0xe6, 0x80, 0xff, 0xc9, 0x75, 0xfa, 0xf4]); // sti; ...
    return m;
  }

  it("takes an interrupt a device raises mid-loop at the same point as the interpreter", () => {
    const seen: number[] = [];
    for (const compile of [true, false]) {
      const m = loopMachine(compile);
      expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
      seen.push(m.cpu.state.get32(12), m.cpu.instructions);
    }
    expect(seen[0]).toBe(700); // RCX when the interrupt came: after the pass of the 300th OUT
    expect(seen.slice(0, 2)).toEqual(seen.slice(2, 4));
  });

  it("stops where the interpreter stops when an MMIO store (generated inline) asks for a stop, and honours the budget", () => {
    const results: number[] = [];
    for (const compile of [true, false]) {
      const m = createMachine("long");
      m.cpu.compile = compile;
      let stores = 0;
      m.memory.mapMmio(
        0x3f00_0000,
        0x1000,
        {
          read: () => 0,
          write: () => {
            if (++stores === 250) m.cpu.requestStop();
          },
        },
        "stopper",
      );
      // mov ecx, 1000; mov esi, 0x3f000000; top: mov [rsi], eax; dec ecx; jnz top; hlt
      m.load(L.CODE, [0xb9, 0xe8, 0x03, 0, 0, 0xbe, 0, 0, 0, 0x3f, 0x89, 0x06, 0xff, 0xc9, 0x75, 0xfa, 0xf4]);
      expect(m.cpu.run(100_000)).toBe(StopReason.Stopped);
      results.push(m.cpu.state.get32(1), m.cpu.instructions);
      // Then in slices of 7: the budget bounds every run, the loop ends in the same state.
      let why: StopReason;
      do why = m.cpu.run(7);
      while (why === StopReason.Budget);
      results.push(m.cpu.state.get32(1), m.cpu.instructions, why);
    }
    expect(results[0]).toBe(751); // stopped right after the 250th store, before its DEC
    expect(results.slice(0, 5)).toEqual(results.slice(5, 10));
  });

  it("a store into the block's own later instruction is seen in the same pass, compiled or not", () => {
    for (const compile of [true, false]) {
      const m = createMachine("long");
      m.cpu.compile = compile;
      // mov ecx, 300; top: cmp ecx, 100; jne skip; mov [rip + 1], ecx (the imm32 below);
      // skip: mov eax, 0; add ebx, eax; dec ecx; jnz top; hlt
      m.load(
        L.CODE,
        [
          0xb9, 0x2c, 0x01, 0, 0, 0x81, 0xf9, 0x64, 0, 0, 0, 0x75, 0x06, 0x89, 0x0d, 0x01, 0, 0, 0, 0xb8, 0,
          0, 0, 0, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xe7, 0xf4,
        ],
      );
      expect(m.cpu.run(100_000)).toBe(StopReason.Halted);
      // From the pass with ECX = 100 on, the MOV reads the patched 100: 100 passes x 100.
      expect([compile, m.cpu.state.get32(3)]).toEqual([compile, 10_000]);
    }
  });
});
