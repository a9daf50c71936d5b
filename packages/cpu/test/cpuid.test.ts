// CPUID from the SDM (vol. 2A, CPUID): the leaves the model describes (caches, topology, XSAVE,
// extended), the out-of-range rule, and the audit "advertised if and only if implemented": every
// advertised feature bit maps to an instruction that runs (or to registers that exist), and the
// bits of instructions the interpreter lacks stay clear.
import { AccessKind, createRamSpace, PortIoSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { Cpu, type CpuModel, defaultCpuModel, Gpr, Msr, Seg, StopReason } from "../src/index.js";
import { cpuid, FEATURES, MAX_BASIC_LEAF, MODEL_FEATURES } from "../src/interp/cpuid.js";
import { readMsr, writeMsr } from "../src/interp/msr-access.js";
import { createMachine, L, type TestMachine } from "./modes.js";

function regs(cpu: Cpu, leaf: number, sub = 0): number[] {
  return Array.from(cpuid(cpu, leaf, sub));
}

function cpuWith(model: Partial<CpuModel> = {}): Cpu {
  const { space } = createRamSpace(1 << 20);
  return new Cpu({ memory: space, io: new PortIoSpace(), model: { ...defaultCpuModel(), ...model } });
}

const bit = (v: number | undefined, b: number): boolean => ((v! >>> b) & 1) === 1;

describe("CPUID leaves", () => {
  it("leaf 0: the highest basic leaf covers every leaf implemented (0x1F); vendor in EBX, EDX, ECX", () => {
    const cpu = cpuWith({ vendor: "GenuineIntel" });
    const [max, b, c, d] = regs(cpu, 0);
    expect(max).toBe(0x1f);
    expect(max).toBe(MAX_BASIC_LEAF);
    const text = [b, d, c].map((v) =>
      String.fromCharCode(v! & 0xff, (v! >>> 8) & 0xff, (v! >>> 16) & 0xff, v! >>> 24),
    );
    expect(text.join("")).toBe("GenuineIntel");
    expect(regs(cpu, 0x80000000)[0]).toBe(0x80000008);
  });

  it("a leaf above the highest one returns the highest basic leaf's data", () => {
    const cpu = cpuWith({ apicId: 3 });
    expect(regs(cpu, 0x20, 1)).toEqual(regs(cpu, 0x1f, 1));
    expect(regs(cpu, 0x40000000, 0)).toEqual(regs(cpu, 0x1f, 0));
    expect(regs(cpu, 0x80000009, 0)).toEqual(regs(cpu, 0x1f, 0));
  });

  it("leaf 1: signature, CLFLUSH line size, logical count and initial APIC ID in EBX", () => {
    const cpu = cpuWith({ apicId: 0x25, signature: 0x000806ec });
    const [a, b] = regs(cpu, 1);
    expect(a).toBe(0x000806ec);
    expect(((b! >>> 8) & 0xff) * 8).toBe(64);
    expect((b! >>> 16) & 0xff).toBe(1);
    expect(b! >>> 24).toBe(0x25);
  });

  it("leaf 2 points to leaf 4 (descriptor FFH)", () => {
    expect(regs(cpuWith(), 2)).toEqual([0x0000ff01, 0, 0, 0]);
  });

  it("leaf 4: one subleaf per cache until type 0; ways × partitions × line × sets = size", () => {
    const model = defaultCpuModel();
    const cpu = cpuWith();
    model.caches.forEach((cache, n) => {
      const [a, b, c, d] = regs(cpu, 4, n);
      expect(a! & 0x1f).toBe(cache.type);
      expect((a! >>> 5) & 7).toBe(cache.level);
      expect(bit(a, 8)).toBe(true); // self-initializing
      expect(((a! >>> 14) & 0xfff) + 1).toBe(cache.sharedBy);
      expect((a! >>> 26) + 1).toBe(1); // cores per package
      const ways = (b! >>> 22) + 1;
      const partitions = ((b! >>> 12) & 0x3ff) + 1;
      const line = (b! & 0xfff) + 1;
      expect(ways * partitions * line * (c! + 1)).toBe(cache.size);
      expect(bit(d, 1)).toBe(cache.inclusive);
    });
    expect(regs(cpu, 4, model.caches.length)).toEqual([0, 0, 0, 0]);
    expect(regs(cpu, 4, 9)[0]! & 0x1f).toBe(0);
  });

  it("leaf 4 follows the model's caches", () => {
    const cpu = cpuWith({
      caches: [{ type: 3, level: 1, size: 48 * 1024, ways: 12, lineSize: 64, sharedBy: 2, inclusive: true }],
    });
    const [a, b, c] = regs(cpu, 4, 0);
    expect(a! & 0x1f).toBe(3);
    expect(((a! >>> 14) & 0xfff) + 1).toBe(2);
    expect((b! >>> 22) + 1).toBe(12);
    expect(c! + 1).toBe(64);
    expect(regs(cpu, 4, 1)[0]).toBe(0);
  });

  for (const leaf of [0xb, 0x1f]) {
    it(`leaf ${leaf.toString(16)}H: SMT level, core level, then invalid; x2APIC ID in EDX (1 core, 1 thread)`, () => {
      const cpu = cpuWith({ apicId: 7 });
      expect(regs(cpu, leaf, 0)).toEqual([0, 1, 0x100, 7]);
      expect(regs(cpu, leaf, 1)).toEqual([0, 1, 0x201, 7]);
      expect(regs(cpu, leaf, 2)).toEqual([0, 0, 2, 7]);
      expect(regs(cpu, leaf, 5)).toEqual([0, 0, 5, 7]);
    });
  }

  it("leaf 0xB with 2 threads × 4 cores: shifts 1 and 3, counts 2 and 8", () => {
    const cpu = cpuWith({ threadsPerCore: 2, coresPerPackage: 4 });
    expect(regs(cpu, 0xb, 0).slice(0, 3)).toEqual([1, 2, 0x100]);
    expect(regs(cpu, 0xb, 1).slice(0, 3)).toEqual([3, 8, 0x201]);
  });

  it("leaf 0xD: x87 state only (XCR0 bit 0), 512 + 64 bytes; XSAVE itself is not advertised", () => {
    const cpu = cpuWith();
    expect(regs(cpu, 0xd, 0)).toEqual([1, 576, 576, 0]);
    expect(regs(cpu, 0xd, 1)).toEqual([0, 0, 0, 0]);
    expect(regs(cpu, 0xd, 2)).toEqual([0, 0, 0, 0]);
    expect(bit(regs(cpu, 1)[2], 26)).toBe(false);
  });

  it("leaf 6 is minimal (no power-management features)", () => {
    expect(regs(cpuWith(), 6)).toEqual([0, 0, 0, 0]);
  });

  it("leaves 0x80000005/6: L1 data and instruction caches, L2 size, associativity code and line", () => {
    const cpu = cpuWith();
    const [, , l1d, l1i] = regs(cpu, 0x80000005);
    expect(l1d! >>> 24).toBe(32); // KB
    expect((l1d! >>> 16) & 0xff).toBe(8);
    expect(l1d! & 0xff).toBe(64);
    expect(l1i! >>> 24).toBe(32);
    const l2 = regs(cpu, 0x80000006)[2]!;
    expect(l2 >>> 16).toBe(1024);
    expect((l2 >>> 12) & 0xf).toBe(8); // 16 ways
    expect(l2 & 0xff).toBe(64);
  });

  it("leaf 0x80000007: invariant TSC only when the model says so", () => {
    expect(bit(regs(cpuWith(), 0x80000007)[3], 8)).toBe(false);
    expect(bit(regs(cpuWith({ invariantTsc: true }), 0x80000007)[3], 8)).toBe(true);
  });

  it("leaf 0x80000008: physical and linear address widths", () => {
    expect(regs(cpuWith({ maxPhysAddr: 39 }), 0x80000008)[0]! & 0xffff).toBe(39 | (48 << 8));
  });

  it("1-GByte pages and the speculation controls follow the model", () => {
    expect(bit(regs(cpuWith({ pages1G: false }), 0x80000001)[3], 26)).toBe(false);
    expect(bit(regs(cpuWith(), 0x80000001)[3], 26)).toBe(true);
    expect(regs(cpuWith({ speculationControl: false }), 7)[3]).toBe(1 << 14); // SERIALIZE only
  });
});

/** How the test shows an advertised feature works: machine code to run, or a register check. */
type Probe =
  | { readonly code: number[]; readonly setup?: (m: TestMachine) => void }
  | { readonly check: (cpu: Cpu) => boolean };

const msrExists = (index: number) => (cpu: Cpu) => readMsr(cpu, index);
const cr4Bit = (b: number) => (cpu: Cpu) => {
  // MOV to CR4 is the instruction; its reserved-bit check is the thing to probe.
  const m = createMachine("long");
  void cpu;
  m.gate(13, L.HANDLER);
  m.load(L.HANDLER, [0xf4]);
  m.load(L.CODE, [0x0f, 0x22, 0xe0, 0xf4]); // mov cr4, rax
  m.cpu.state.set64(Gpr.RAX, (0x20 | (1 << b)) >>> 0, 0);
  m.cpu.run(5);
  return m.cpu.eventCounts[13] === 0 && (m.cpu.state.cr[8]! & (1 << b)) !== 0;
};

/** UMIP: with CR4.UMIP, SMSW/SGDT/SIDT/SLDT/STR raise #GP(0) at CPL 3 and still run at CPL 0. */
function umipWorks(): boolean {
  if (!cr4Bit(11)(cpuWith())) return false; // MOV to CR4 accepts UMIP
  const CODES = [
    [0x0f, 0x01, 0xe0],
    [0x0f, 0x01, 0x00],
    [0x0f, 0x01, 0x08],
    [0x0f, 0x00, 0xc0],
    [0x0f, 0x00, 0xc8],
  ];
  for (const code of CODES) {
    for (const user of [false, true]) {
      const m = createMachine("long");
      m.gate(13, L.HANDLER);
      m.load(L.HANDLER, [0xf4]);
      m.load(L.CODE, [...code, 0xeb, 0xfe]); // then spin (HLT would #GP at CPL 3)
      const s = m.cpu.state;
      s.cr[8] = 0x820; // PAE, UMIP
      s.set64(Gpr.RAX, L.DATA, 0);
      if (user) {
        s.segSelector[1] = 0x3b;
        s.segAccess[1] = 0xa0fb;
        s.segSelector[2] = 0x33;
        s.segAccess[2] = 0xc0f3;
      }
      m.cpu.run(10);
      if (m.cpu.eventCounts[13]! > 0 !== user) return false;
    }
  }
  return true;
}

/** RDPID (F3 0F C7 /7) reads IA32_TSC_AUX: zero-extended to 64 bits in 64-bit mode. */
function rdpidWorks(): boolean {
  const m = createMachine("long");
  m.load(L.CODE, [0xf3, 0x0f, 0xc7, 0xf8, 0xf4]); // rdpid rax; hlt
  m.cpu.msrs.tscAux[0] = 0x87654321;
  m.cpu.state.set64(Gpr.RAX, 0xffffffff, 0xffffffff);
  return (
    m.cpu.run(5) === StopReason.Halted &&
    m.cpu.state.lo(Gpr.RAX) === 0x87654321 &&
    m.cpu.state.hi(Gpr.RAX) === 0
  );
}

const PROBES: Record<string, Probe> = {
  UMIP: { check: umipWorks },
  VME: { check: cr4Bit(0) },
  DE: { check: cr4Bit(3) }, // CR4.DE: I/O breakpoints, DR4/DR5 #UD (test/debug.test.ts)
  PCID: { check: cr4Bit(17) },
  MONITOR: { code: [0x0f, 0x01, 0xc8] }, // MONITOR [rax]
  RDRAND: { code: [0x0f, 0xc7, 0xf0] },
  RDSEED: { code: [0x0f, 0xc7, 0xf8] },
  RDPID: { check: rdpidWorks },
  SERIALIZE: { code: [0x0f, 0x01, 0xe8] },
  PKU: { code: [0x0f, 0x01, 0xee], setup: (m) => (m.cpu.state.cr[8] = 0x400020) },
  INVPCID: {
    code: [0x66, 0x0f, 0x38, 0x82, 0x08],
    setup: (m) => {
      m.cpu.state.set64(Gpr.RCX, 2, 0);
      m.cpu.state.set64(Gpr.RAX, L.DATA, 0);
    },
  },
  PSE: { check: cr4Bit(4) },
  TSC: { code: [0x0f, 0x31] },
  MSR: { code: [0x0f, 0x32], setup: (m) => m.cpu.state.set64(Gpr.RCX, Msr.TSC, 0) },
  PAE: { check: cr4Bit(5) },
  MCE: { check: cr4Bit(6) },
  CX8: { code: [0x0f, 0xc7, 0x08] },
  SEP: {
    code: [0x0f, 0x34],
    setup: (m) => {
      m.cpu.msrs.sysenter[0] = 0x18;
      m.cpu.msrs.sysenter[4] = L.CODE + 2;
    },
  },
  MTRR: { check: msrExists(Msr.MTRRCAP) },
  PGE: { check: cr4Bit(7) },
  MCA: { check: msrExists(Msr.MCG_CAP) },
  CMOV: { code: [0x0f, 0x44, 0xc1] },
  PAT: { check: msrExists(Msr.PAT) },
  "PSE-36": { check: () => true }, // paging detail of the walker (32-bit PDE bits 20:13), no instruction
  CLFSH: { code: [0x0f, 0xae, 0x38] },
  CMPXCHG16B: { code: [0x48, 0x0f, 0xc7, 0x08] },
  MOVBE: { code: [0x0f, 0x38, 0xf0, 0x00] },
  POPCNT: { code: [0xf3, 0x0f, 0xb8, 0xc1] },
  FSGSBASE: { code: [0xf3, 0x48, 0x0f, 0xae, 0xc0], setup: (m) => (m.cpu.state.cr[8] = 0x10020) },
  IA32_TSC_ADJUST: { check: msrExists(Msr.TSC_ADJUST) },
  BMI1: { code: [0xc4, 0xe2, 0x70, 0xf2, 0xc2] },
  SMEP: { check: cr4Bit(20) },
  BMI2: { code: [0xc4, 0xe2, 0x73, 0xf5, 0xc2] },
  ERMS: { code: [0xf3, 0xa4], setup: (m) => m.cpu.state.set64(Gpr.RDI, L.DATA + 0x100, 0) },
  ADX: { code: [0x66, 0x0f, 0x38, 0xf6, 0xc1] },
  SMAP: { code: [0x0f, 0x01, 0xcb], setup: (m) => (m.cpu.state.cr[8] = 0x200020) },
  CLFLUSHOPT: { code: [0x66, 0x0f, 0xae, 0x38] },
  CLWB: { code: [0x66, 0x0f, 0xae, 0x30] },
  "LAHF-SAHF": { code: [0x9f, 0x9e] },
  LZCNT: { code: [0xf3, 0x0f, 0xbd, 0xc1] },
  PREFETCHW: { code: [0x0f, 0x0d, 0x08] },
  SYSCALL: {
    code: [0x0f, 0x05],
    setup: (m) => {
      m.cpu.msrs.lstar[0] = L.CODE + 2;
      m.cpu.msrs.star[1] = 0x18;
    },
  },
  NX: { check: (cpu) => writeMsr(cpu, Msr.EFER, 0x800, 0) && (cpu.state.efer[0]! & 0x800) !== 0 },
  LM: { check: () => true }, // long mode itself: every test of test/modes.ts "long" runs in it
  RDTSCP: { code: [0x0f, 0x01, 0xf9] },
  WBNOINVD: { code: [0xf3, 0x0f, 0x09] },
  Page1GB: { check: () => true }, // paging detail of the walker (PDPTE.PS), no instruction
  "IBRS-IBPB": { check: (c) => writeMsr(c, Msr.PRED_CMD, 1, 0) && msrExists(Msr.SPEC_CTRL)(c) },
  STIBP: { check: msrExists(Msr.SPEC_CTRL) },
  IA32_ARCH_CAPABILITIES: { check: msrExists(Msr.ARCH_CAPABILITIES) },
  SSBD: { check: msrExists(Msr.SPEC_CTRL) },
  "Invariant TSC": { check: () => true },
  // CR4.LA57 may be set outside IA-32e mode on a model with 5-level paging (test/la57.test.ts walks it).
  LA57: {
    check: () => {
      const c = cpuWith({ la57: true });
      c.state.segSelector[Seg.CS] = 0;
      c.state.segBase[2 * Seg.CS] = 0;
      c.state.rip = 0x7c00;
      c.state.set64(Gpr.RAX, 1 << 12, 0);
      c.memory.write32(0x7c00, 0xf4e0220f, AccessKind.Write); // mov cr4, eax; hlt
      return c.run(5) === StopReason.Halted && c.eventCounts[13] === 0 && (c.state.cr[8]! & (1 << 12)) !== 0;
    },
  },
};

/** Runs `code` then HLT in 64-bit mode at CPL 0: why it stopped, and whether #UD was raised. */
function runCode(code: number[], setup?: (m: TestMachine) => void): { stop: StopReason; ud: boolean } {
  const m = createMachine("long");
  for (let v = 0; v < 32; v++) m.gate(v, L.HANDLER);
  m.load(L.HANDLER, [0xf4]);
  m.load(L.CODE, [...code, 0xf4]);
  m.cpu.state.set64(Gpr.RAX, L.DATA, 0);
  m.cpu.state.set64(Gpr.RSI, L.DATA, 0);
  m.cpu.state.set64(Gpr.RDI, L.DATA + 0x40, 0);
  m.cpu.state.set64(Gpr.RCX, 4, 0);
  setup?.(m);
  const stop = m.cpu.run(20);
  return { stop, ud: m.cpu.eventCounts[6]! > 0 };
}

describe("CPUID advertises only what is implemented", () => {
  const cpu = cpuWith();
  const advertised = [...FEATURES, ...MODEL_FEATURES.filter((x) => x.when(cpu.model))];

  it("every advertised bit is set in its leaf, and no other bit of those registers is", () => {
    const expected = new Map<string, number>();
    for (const x of advertised) {
      const key = `${x.leaf}:${x.reg}`;
      expected.set(key, ((expected.get(key) ?? 0) | (1 << x.bit)) >>> 0);
    }
    for (const leaf of [1, 7, 0x80000001, 0x80000007, 0x80000008]) {
      const r = regs(cpu, leaf);
      for (const reg of [0, 1, 2, 3]) {
        if (leaf === 1 && reg < 2) continue; // signature and EBX fields
        if (leaf === 0x80000008 && reg === 0) continue; // address widths
        expect(r[reg], `leaf ${leaf.toString(16)} reg ${reg}`).toBe(expected.get(`${leaf}:${reg}`) ?? 0);
      }
    }
  });

  for (const x of [...FEATURES, ...MODEL_FEATURES]) {
    it(`${x.name} works: its instruction does not stop as unimplemented nor raise #UD`, () => {
      const probe = PROBES[x.name];
      expect(probe, `no probe for ${x.name}`).toBeDefined();
      if (probe === undefined) return;
      if ("check" in probe) {
        expect(probe.check(cpu)).toBe(true);
        return;
      }
      const r = runCode(probe.code, probe.setup);
      expect(r.stop).not.toBe(StopReason.Unimplemented);
      expect(r.ud).toBe(false);
    });
  }

  // Bits that stay clear because the interpreter lacks the instruction: if one of these
  // instructions is ever implemented, this test fails and the bit should be advertised.
  const ABSENT: [string, number, 0 | 1 | 2 | 3, number, number[]][] = [
    ["SSE (MOVAPS)", 1, 3, 25, [0x0f, 0x28, 0xc1]],
    ["FXSR (FXSAVE)", 1, 3, 24, [0x0f, 0xae, 0x00]],
    ["FPU (FLD1)", 1, 3, 0, [0xd9, 0xe8]],
    ["XSAVE (XSAVE [rax])", 1, 2, 26, [0x0f, 0xae, 0x20]],
  ];
  for (const [name, leaf, reg, b, code] of ABSENT) {
    it(`${name}: not advertised, and indeed not implemented`, () => {
      expect(bit(regs(cpu, leaf)[reg], b)).toBe(false);
      const r = runCode(code);
      expect(r.stop === StopReason.Unimplemented || r.ud).toBe(true);
    });
  }
});
