// Small general-purpose and system instructions, from SDM vol. 2 (MONITOR, MWAIT, RDRAND,
// RDSEED, RDPID, XGETBV, XSETBV, CLFLUSH, BOUND, RDPMC, INVD, UD0/1/2, ...), and a table-driven
// check that every opcode the decoder knows is either implemented or belongs to a feature this
// processor intentionally does not have.
import { Instruction, OPCODE_COUNT } from "@turtles/x86-decoder";
import { describe, expect, it } from "vitest";
import { Cpu, Gpr, isImplemented, Seg, StopReason } from "../src/index.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";

/** A machine whose exception handlers (vectors 0-31) halt; `code` at L.CODE then HLT. */
function machine(mode: "long" | "protected", code: number[], opts: { cpl3?: boolean } = {}): TestMachine {
  const m = createMachine(mode);
  // HLT at the end; from ring 3 INT 30h (DPL 3) reaches a ring-0 HLT.
  m.load(L.CODE, [...code, ...(opts.cpl3 === true ? [0xcd, 0x30] : [0xf4])]);
  for (let v = 0; v < 32; v++) {
    m.load(L.HANDLER + 16 * v, [0xf4]);
    m.gate(v, L.HANDLER + 16 * v);
  }
  m.load(L.HANDLER + 16 * 0x30, [0xf4]);
  m.gate(0x30, L.HANDLER + 16 * 0x30, { dpl: 3 });
  if (opts.cpl3 === true) {
    const s = m.cpu.state;
    s.segSelector[Seg.CS] = mode === "long" ? SEL.CODE64_U : SEL.CODE32_U;
    s.segAccess[Seg.CS] = mode === "long" ? 0xa0fb : 0xc0fb;
    s.segSelector[Seg.SS] = SEL.DATA_U;
    s.segAccess[Seg.SS] = 0xc0f3;
  }
  m.cpu.state.gpr[2 * Gpr.RDI] = L.DATA;
  return m;
}

/** Runs to the HLT; returns the vector of the exception taken, or -1 for none. */
function outcome(m: TestMachine): number {
  const why = m.cpu.run(1000);
  expect(why).toBe(StopReason.Halted);
  for (let v = 0; v < 32; v++) if (m.cpu.eventCounts[v]! > 0) return v;
  return -1;
}

const UD = 6;
const GP = 13;
const PF = 14;
const BR = 5;
const MOV_CR4_RAX = [0x0f, 0x22, 0xe0];
const MOV_EAX = (v: number) => [0xb8, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const MOV_ECX = (v: number) => [0xb9, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

describe("each instruction runs (no Unimplemented stop), with the SDM's exception", () => {
  const table: [string, number[], number, { cpl3?: boolean; mode?: "protected" }?][] = [
    ["PAUSE", [0xf3, 0x90], -1],
    ["UD2", [0x0f, 0x0b], UD],
    ["UD1", [0x0f, 0xb9, 0xc0], UD],
    ["UD0", [0x0f, 0xff, 0xc0], UD],
    ["INVD", [0x0f, 0x08], -1],
    ["WBINVD", [0x0f, 0x09], -1],
    ["WBNOINVD", [0xf3, 0x0f, 0x09], -1],
    ["INVD at CPL 3", [0x0f, 0x08], GP, { cpl3: true }],
    ["WBINVD at CPL 3", [0x0f, 0x09], GP, { cpl3: true }],
    ["CLFLUSH [rdi]", [0x0f, 0xae, 0x3f], -1],
    ["CLFLUSHOPT [rdi]", [0x66, 0x0f, 0xae, 0x3f], -1],
    ["CLWB [rdi]", [0x66, 0x0f, 0xae, 0x37], -1],
    ["PREFETCHT0 [rdi]", [0x0f, 0x18, 0x0f], -1],
    ["PREFETCHNTA [rdi]", [0x0f, 0x18, 0x07], -1],
    ["PREFETCHW [rdi]", [0x0f, 0x0d, 0x0f], -1],
    ["LFENCE", [0x0f, 0xae, 0xe8], -1],
    ["MFENCE", [0x0f, 0xae, 0xf0], -1],
    ["SFENCE", [0x0f, 0xae, 0xf8], -1],
    ["SERIALIZE", [0x0f, 0x01, 0xe8], -1],
    ["MONITOR", [0x48, 0x89, 0xf8, 0x0f, 0x01, 0xc8], -1], // mov rax, rdi; monitor
    ["MONITOR with ECX != 0", [0x48, 0x89, 0xf8, ...MOV_ECX(1), 0x0f, 0x01, 0xc8], GP],
    ["MONITOR at CPL 3", [0x0f, 0x01, 0xc8], UD, { cpl3: true }],
    ["MWAIT (not armed: goes on)", [0x0f, 0x01, 0xc9], -1],
    ["MWAIT with ECX != 0", [...MOV_ECX(1), 0x0f, 0x01, 0xc9], GP],
    ["MWAIT at CPL 3", [0x0f, 0x01, 0xc9], UD, { cpl3: true }],
    ["RDRAND eax", [0x0f, 0xc7, 0xf0], -1],
    ["RDSEED rax", [0x48, 0x0f, 0xc7, 0xf8], -1],
    ["RDPID rax", [0xf3, 0x0f, 0xc7, 0xf8], -1],
    ["RDPID at CPL 3", [0xf3, 0x0f, 0xc7, 0xf8], -1, { cpl3: true }],
    ["XGETBV without CR4.OSXSAVE", [0x31, 0xc9, 0x0f, 0x01, 0xd0], UD],
    ["XSETBV without CR4.OSXSAVE", [0x31, 0xc9, 0x0f, 0x01, 0xd1], UD],
    ["RDPMC", [0x31, 0xc9, 0x0f, 0x33], GP],
    ["RSM outside SMM", [0x0f, 0xaa], UD],
    ["XTEST (no TSX)", [0x0f, 0x01, 0xd6], UD],
    ["XEND (no TSX)", [0x0f, 0x01, 0xd5], UD],
    ["BOUND in range", [0x62, 0x07], -1, { mode: "protected" }],
  ];
  for (const [name, code, vector, opts] of table) {
    it(`${name}: ${vector < 0 ? "no exception" : `vector ${vector}`}`, () => {
      const m = machine(opts?.mode ?? "long", code, opts?.cpl3 === true ? { cpl3: true } : {});
      expect(outcome(m)).toBe(vector);
      expect(m.cpu.unimplemented).toBeUndefined();
    });
  }
});

describe("semantics", () => {
  it("RDRAND/RDSEED set CF = 1 and clear the other arithmetic flags; values come from CpuOptions.random", () => {
    const m = machine("long", [0x48, 0x0f, 0xc7, 0xf0, 0x66, 0x0f, 0xc7, 0xfb]); // rdrand rax; rdseed bx
    m.cpu.state.gpr[2 * Gpr.RBX] = 0xaaaa0000;
    m.cpu.state.flags.write(0x2 | 0x8d4); // OF, SF, ZF, PF set
    expect(outcome(m)).toBe(-1);
    const s = m.cpu.state;
    expect(s.flags.read() & 0x8d5).toBe(1);
    const again = machine("long", [0x48, 0x0f, 0xc7, 0xf0]);
    outcome(again);
    expect(again.cpu.state.lo(Gpr.RAX)).toBe(s.lo(Gpr.RAX)); // deterministic by default
    expect(s.lo(Gpr.RBX) >>> 16).toBe(0xaaaa); // a 16-bit destination merges
    const seq = [0x11111111, 0x22222222, 0x33333333];
    const c = new Cpu({ memory: m.memory, io: m.io, random: () => seq.shift() ?? 0 });
    expect(c.random()).toBe(0x11111111);
  });

  it("CPUID advertises MONITOR, RDRAND, RDSEED, RDPID (not XSAVE: XSAVE/XRSTOR are absent); OSXSAVE follows CR4", () => {
    // cpuid(1) -> r8d = ecx; mov rax, cr4; bts rax, 18; mov cr4, rax; cpuid(1); cpuid(7)
    const code = [
      ...MOV_EAX(1),
      0x0f,
      0xa2,
      0x41,
      0x89,
      0xc8, // mov r8d, ecx
      0x0f,
      0x20,
      0xe0, // mov rax, cr4
      0x48,
      0x0f,
      0xba,
      0xe8,
      18, // bts rax, 18
      ...MOV_CR4_RAX,
      ...MOV_EAX(1),
      0x0f,
      0xa2,
      0x41,
      0x89,
      0xc9, // mov r9d, ecx
      ...MOV_EAX(7),
      0x31,
      0xc9,
      0x0f,
      0xa2,
    ];
    const m = machine("long", code);
    expect(outcome(m)).toBe(-1);
    const s = m.cpu.state;
    const before = s.lo(Gpr.R8);
    const after = s.lo(Gpr.R9);
    for (const bit of [3, 30]) expect((before >>> bit) & 1).toBe(1);
    expect((before >>> 26) & 1).toBe(0);
    expect((before >>> 27) & 1).toBe(0);
    expect((after >>> 27) & 1).toBe(1);
    expect((s.lo(Gpr.RBX) >>> 18) & 1).toBe(1); // RDSEED
    expect((s.lo(Gpr.RCX) >>> 22) & 1).toBe(1); // RDPID
  });

  it("CPUID leaf 0DH reports x87-only XSAVE state (576 bytes) and leaf 5 the 64-byte monitor line", () => {
    // cpuid(0dh, 0) -> r8d = eax, r9d = ebx; cpuid(5)
    const code = [...MOV_EAX(0xd), 0x31, 0xc9, 0x0f, 0xa2, 0x41, 0x89, 0xc0, 0x41, 0x89, 0xd9];
    const m = machine("long", [...code, ...MOV_EAX(5), 0x31, 0xc9, 0x0f, 0xa2]);
    expect(outcome(m)).toBe(-1);
    const s = m.cpu.state;
    expect(s.lo(Gpr.R8)).toBe(1);
    expect(s.lo(Gpr.R9)).toBe(576);
    expect(s.lo(Gpr.RAX)).toBe(64);
    expect(s.lo(Gpr.RBX)).toBe(64);
    expect(s.lo(Gpr.RCX)).toBe(0);
  });

  it("RDPID reads IA32_TSC_AUX", () => {
    const m = machine("long", [0xf3, 0x0f, 0xc7, 0xf8], { cpl3: true });
    m.cpu.msrs.tscAux[0] = 0x1234;
    m.cpu.state.gpr[2 * Gpr.RAX + 1] = 0xffffffff;
    expect(outcome(m)).toBe(-1);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(0x1234);
    expect(m.cpu.state.hi(Gpr.RAX)).toBe(0);
  });

  function xcr(edx: number, eax: number, ecx: number, cpl3 = false): TestMachine {
    // mov rax, cr4; bts rax, 18; mov cr4, rax; (drop to the test's values) xsetbv; xgetbv
    const code = [
      0x0f,
      0x20,
      0xe0,
      0x48,
      0x0f,
      0xba,
      0xe8,
      18,
      ...MOV_CR4_RAX,
      ...MOV_EAX(eax),
      0xba,
      edx & 0xff,
      (edx >>> 8) & 0xff,
      (edx >>> 16) & 0xff,
      edx >>> 24,
      ...MOV_ECX(ecx),
      0x0f,
      0x01,
      0xd1,
      0x31,
      0xc0, // xor eax, eax
      0x0f,
      0x01,
      0xd0,
    ];
    const m = machine("long", code);
    if (cpl3) m.cpu.state.cr[8] = (m.cpu.state.cr[8]! | 0x40000) >>> 0;
    return m;
  }

  it("XSETBV accepts XCR0 = 1 (x87) and XGETBV reads it back", () => {
    const m = xcr(0, 1, 0);
    expect(outcome(m)).toBe(-1);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(1);
    expect(m.cpu.state.lo(Gpr.RDX)).toBe(0);
  });

  it("XSETBV raises #GP(0) for unsupported bits, x87 clear, XCR other than 0", () => {
    for (const [edx, eax, ecx] of [
      [0, 3, 0], // SSE state is not supported
      [0, 7, 0],
      [0, 0, 0], // bit 0 must be 1
      [1, 1, 0], // high half
      [0, 1, 1], // XCR1 does not exist here
    ] as const) {
      const m = xcr(edx, eax, ecx);
      expect(outcome(m)).toBe(GP);
      expect(m.cpu.state.xcr0[0]).toBe(1);
    }
  });

  it("XSETBV at CPL 3 is #GP(0), XGETBV at CPL 3 works", () => {
    const set = machine("long", [0x31, 0xc9, ...MOV_EAX(1), 0x31, 0xd2, 0x0f, 0x01, 0xd1], { cpl3: true });
    set.cpu.state.cr[8] = (set.cpu.state.cr[8]! | 0x40000) >>> 0;
    expect(outcome(set)).toBe(GP);
    const get = machine("long", [0x31, 0xc9, 0x0f, 0x01, 0xd0], { cpl3: true });
    get.cpu.state.cr[8] = (get.cpu.state.cr[8]! | 0x40000) >>> 0;
    expect(outcome(get)).toBe(-1);
    expect(get.cpu.state.lo(Gpr.RAX)).toBe(1);
  });

  it("CLFLUSH checks its operand: #GP for a non-canonical address, #PF (CR2) for an unmapped page", () => {
    const gp = machine("long", [0x0f, 0xae, 0x3f]);
    gp.cpu.state.gpr[2 * Gpr.RDI + 1] = 0x00010000;
    expect(outcome(gp)).toBe(GP);
    const pf = machine("long", [0x0f, 0xae, 0x3f]);
    pf.cpu.state.gpr[2 * Gpr.RDI] = 0x40001000; // beyond the identity-mapped 1 GiB
    expect(outcome(pf)).toBe(PF);
    expect(pf.cpu.state.cr[4]).toBe(0x40001000);
  });

  it("MWAIT after MONITOR with IF = 1 waits like HLT until an interrupt", () => {
    let pending = false;
    const m = createMachine("long", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        return 0x40;
      },
    });
    // mov rax, rdi; xor ecx, ecx; monitor; sti; mwait; mov ebx, 1; hlt
    m.load(
      L.CODE,
      [0x48, 0x89, 0xf8, 0x31, 0xc9, 0x0f, 0x01, 0xc8, 0xfb, 0x0f, 0x01, 0xc9, 0xbb, 1, 0, 0, 0, 0xf4],
    );
    m.load(L.HANDLER, [0x48, 0xcf]);
    m.gate(0x40, L.HANDLER);
    m.cpu.state.gpr[2 * Gpr.RDI] = L.DATA;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0);
    pending = true;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(1);
    expect(m.cpu.eventCounts[0x40]).toBe(1);
  });

  it("BOUND raises #BR (a fault) when the signed index is outside [lower, upper]", () => {
    for (const [index, fault] of [
      [5, false],
      [-3, false],
      [-4, true],
      [10, false],
      [11, true],
    ] as const) {
      const m = machine("protected", [0x62, 0x07]); // bound eax, [edi]
      m.write32(L.DATA, -3 >>> 0);
      m.write32(L.DATA + 4, 10);
      m.cpu.state.gpr[2 * Gpr.RAX] = index >>> 0;
      expect(outcome(m)).toBe(fault ? BR : -1);
      if (fault) expect(m.cpu.state.rip).toBe(L.HANDLER + 16 * BR + 1);
    }
  });
});

/**
 * Features whose instructions this processor intentionally lacks (they come with later issues or
 * are not part of this model), by the decoder's CPUID feature name.
 */
const ABSENT: Record<string, string> = {
  FPU: "x87: the floating-point issue",
  "3DNOW": "AMD 3DNow!: not modelled",
  MMX: "MMX: the SIMD issue",
  X64: "MMX MOVQ r64 form: the SIMD issue",
  SSE: "SSE: the SIMD issue",
  SSE2: "SSE2: the SIMD issue",
  SSE3: "SSE3: the SIMD issue",
  SSSE3: "SSSE3: the SIMD issue",
  SSE4_1: "SSE4.1: the SIMD issue",
  SSE4_2: "SSE4.2: the SIMD issue",
  SSE4A: "AMD SSE4a: not modelled",
  FXSR: "FXSAVE/FXRSTOR: with x87/SSE",
  XSAVE: "XSAVE/XRSTOR: with x87/SSE (XCR0, XGETBV, XSETBV are here)",
  XSAVEOPT: "with XSAVE",
  XSAVEC: "with XSAVE",
  XSAVES: "with XSAVE",
  AES: "AES-NI: the SIMD issue",
  PCLMULQDQ: "the SIMD issue",
  SHA: "SHA extensions: the SIMD issue",
  GFNI: "the SIMD issue",
  VMX: "VMX: the VMX issue",
  SVM: "AMD SVM: not modelled",
  SMX: "GETSEC: not modelled",
  SGX1: "SGX: not modelled",
  ENCLV: "SGX: not modelled",
  CET_SS: "CET shadow stacks: not modelled",
  UINTR: "user interrupts: not modelled",
  TSXLDTRK: "TSX: not modelled",
  INVLPGB: "AMD INVLPGB: not modelled",
  SEV_SNP: "AMD SEV-SNP: not modelled",
  PCONFIG: "MKTME: not modelled",
  PKU: "protection keys RDPKRU/WRPKRU: with the paging work (not this change)",
  INVPCID: "INVPCID: with the paging work (not this change)",
  CLDEMOTE: "not advertised",
  PTWRITE: "Intel PT: not modelled",
  MOVDIRI: "not advertised",
  MOVDIR64B: "not advertised",
  ENQCMD: "not advertised",
  CMPCCXADD: "not advertised",
  RAO_INT: "not advertised",
  HRESET: "not advertised",
  LKGS: "FRED: not modelled",
  KL: "Key Locker: not modelled",
  PADLOCK: "VIA PadLock: not modelled",
  TBM: "AMD TBM: not modelled",
  LWP: "AMD LWP: not modelled",
  AMX_TILE: "AMX: not modelled",
  AMX_INT8: "AMX",
  AMX_BF16: "AMX",
  AMX_FP16: "AMX",
  AMX_COMPLEX: "AMX",
};

describe("opcode coverage", () => {
  const ins = new Instruction();
  const missing: string[] = [];
  for (let op = 1; op < OPCODE_COUNT; op++) {
    if (isImplemented(op)) continue;
    ins.opcode = op;
    const f = ins.cpuidFeature;
    if (ABSENT[f] === undefined && !/^(AVX|F16C|FMA|XOP|VAES|VPCLMULQDQ|SM3|SM4|SHA512)/.test(f))
      missing.push(`${ins.mnemonic} (${f || "no feature"})`);
  }

  it("every opcode is implemented or belongs to an intentionally absent feature", () => {
    expect(missing).toEqual([]);
  });

  it("the instructions the issue names have handlers", () => {
    const named = [
      "monitor",
      "mwait",
      "rdrand",
      "rdseed",
      "rdpid",
      "pause",
      "ud0",
      "ud1",
      "ud2",
      "invd",
      "wbinvd",
      "wbnoinvd",
      "clflush",
      "clflushopt",
      "clwb",
      "prefetcht0",
      "lfence",
      "mfence",
      "sfence",
      "xgetbv",
      "xsetbv",
      "rdtsc",
      "rdtscp",
      "cpuid",
      "movbe",
      "popcnt",
      "lzcnt",
      "tzcnt",
      "crc32",
      "adcx",
      "adox",
      "cmpxchg16b",
      "rdfsbase",
      "swapgs",
      "sysenter",
      "sysexit",
      "verr",
      "arpl",
      "hlt",
      "bound",
    ];
    const seen = new Set<string>();
    for (let op = 1; op < OPCODE_COUNT; op++) {
      ins.opcode = op;
      if (named.includes(ins.mnemonic)) {
        expect(isImplemented(op), ins.mnemonic).toBe(true);
        seen.add(ins.mnemonic);
      }
    }
    expect([...seen].sort()).toEqual([...named].sort());
  });
});
