// 5-level paging through the CPU (SDM vol. 3A, 4.5 "4-Level Paging and 5-Level Paging"; 57-bit
// canonical addresses, vol. 1 3.3.7.1): CR4.LA57 by the model, the walk through a PML5 table, and
// one canonical bound shared by data, stack, fetch/branch, MSR and descriptor-table-base checks.
import { beforeEach, describe, expect, it } from "vitest";
import { type CpuModel, defaultCpuModel, StopReason } from "../src/index.js";
import { cpuid } from "../src/interp/cpuid.js";
import { createMachine, L } from "./modes.js";
import { CR4, createPagingMachine, P, type PagingMachine, TEST_LA } from "./paging-env.js";

const RAX = 0;
const RCX = 1;
const RDX = 2;
const RBX = 3;
const RSP = 4;
const PML5 = 0x15000;
const READ = [0x8b, 0x03]; // mov eax, [rbx]
const READ_FS = [0x64, 0x8b, 0x03]; // mov eax, fs:[rbx]
const PUSH_RAX = [0x50];
const JMP_RBX = [0xff, 0xe3];
const WRMSR = [0x0f, 0x30];
const LGDT_RBX = [0x0f, 0x01, 0x13];
const MOV_CR4_RAX = [0x0f, 0x22, 0xe0];
const FS_BASE = 0xc000_0100;
const A = 0xaaaa_0001;
const LA57_MODEL: CpuModel = { ...defaultCpuModel(), la57: true };
/** Splits a number into [lo, hi] halves (exact below 2^53). */
const halves = (v: number): [number, number] => [v >>> 0, Math.floor(v / 2 ** 32) >>> 0];

describe("CR4.LA57 and CPUID", () => {
  it("the default model has no LA57: CPUID says so and CR4.LA57 is reserved (#GP)", () => {
    const m = createMachine("protected");
    m.load(L.CODE, [...MOV_CR4_RAX, 0xf4]);
    m.load(L.HANDLER, [0xf4]);
    m.gate(13, L.HANDLER);
    m.cpu.state.set64(RAX, CR4.LA57 | CR4.PAE, 0);
    m.cpu.run(10);
    expect(m.cpu.eventCounts[13]).toBe(1);
    expect(cpuid(m.cpu, 7, 0)[2]! & (1 << 16)).toBe(0);
    expect((cpuid(m.cpu, 0x8000_0008, 0)[0]! >>> 8) & 0xff).toBe(48);
  });

  it("a model with LA57 reports it, 57 linear-address bits, and lets CR4.LA57 be set outside long mode", () => {
    const m = createMachine("protected", undefined, LA57_MODEL);
    m.load(L.CODE, [...MOV_CR4_RAX, 0xf4]);
    m.cpu.state.set64(RAX, CR4.LA57 | CR4.PAE, 0);
    m.cpu.run(10);
    expect(m.cpu.eventCounts[13]).toBe(0);
    expect(m.cpu.state.cr[8]! & CR4.LA57).toBe(CR4.LA57);
    expect(cpuid(m.cpu, 7, 0)[2]! & (1 << 16)).toBe(1 << 16);
    expect((cpuid(m.cpu, 0x8000_0008, 0)[0]! >>> 8) & 0xff).toBe(57);
  });

  it("changing CR4.LA57 in IA-32e mode is #GP(0), in either direction", () => {
    const m = createPagingMachine({ model: LA57_MODEL });
    expect(m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.LA57 })).toBe("gp");
    const n = createPagingMachine({ model: LA57_MODEL });
    n.entry(PML5, L.PML4 | 7);
    n.cpu.state.cr[6] = PML5;
    n.cpu.state.cr[8] = CR4.PAE | CR4.LA57;
    expect(n.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE })).toBe("gp");
  });
});

describe("5-level paging", () => {
  let m: PagingMachine;
  beforeEach(() => {
    m = createPagingMachine({ model: LA57_MODEL });
    // PML5E[0], [1] and [511] all lead to the 4-level tree of the test machine.
    for (const k of [0, 1, 511]) m.entry(PML5 + 8 * k, L.PML4 | 7);
    m.cpu.state.cr[6] = PML5;
    m.cpu.state.cr[8] = CR4.PAE | CR4.LA57;
    m.write32(P.PAGE, A);
  });

  it("walks five levels: 2^48 + x and -2^48 + x map like x; a missing PML5E is #PF with CR2", () => {
    for (const la of [TEST_LA, 2 ** 48 + TEST_LA, -(2 ** 48) + TEST_LA]) {
      expect(m.exec(READ, { [RBX]: halves(la) })).toBe("ok");
      expect(m.cpu.state.lo(RAX)).toBe(A);
    }
    expect(m.exec(READ, { [RBX]: halves(2 ** 49) })).toBe("pf");
    expect(m.cr2()).toBe(2 ** 49);
    expect(m.pfError()).toBe(0);
  });

  it("addresses that are 48-bit non-canonical are canonical with LA57 (data, stack, fetch)", () => {
    expect(m.exec(READ, { [RBX]: halves(2 ** 47 + TEST_LA) })).toBe("pf"); // PML5E[0], PML4E[256] absent
    expect(m.cr2()).toBe(2 ** 47 + TEST_LA);
    m.load(P.PAGE + 0x800, [0x0f, 0x0b]);
    expect(m.exec(JMP_RBX, { [RBX]: halves(2 ** 48 + TEST_LA + 0x800) })).toBe("ud");
    expect(m.read32(L.IST1 - 40)).toBe(TEST_LA + 0x800);
    expect(m.read32(L.IST1 - 36)).toBe(0x1_0000); // bits 63:32 of the pushed RIP (2^48)
    expect(m.exec(PUSH_RAX, { [RSP]: halves(2 ** 48 + TEST_LA + 0x100), [RAX]: 0x5555 })).toBe("ok");
    expect(m.read32(P.PAGE + 0xf8)).toBe(0x5555);
  });

  it("57-bit non-canonical addresses: #GP for data and branches, #SS for the stack", () => {
    expect(m.exec(READ, { [RBX]: [0, 0x0100_0000] })).toBe("gp"); // 2^56
    expect(m.exec(READ, { [RBX]: [0, 0xfe00_0000] })).toBe("gp"); // -2^57
    expect(m.exec(JMP_RBX, { [RBX]: [0, 0x0100_0000] })).toBe("gp");
    expect(m.exec(PUSH_RAX, { [RSP]: [8, 0x0100_0000] })).toBe("ss");
  });

  it("limit of this implementation: canonical 57-bit addresses of magnitude 2^53 or more are treated as non-canonical", () => {
    expect(m.exec(READ, { [RBX]: [0, 0x0020_0000] })).toBe("gp"); // 2^53
    expect(m.exec(READ, { [RBX]: [0, 0x001f_ffff] })).toBe("pf"); // just below: walked
  });

  it("WRMSR FS_BASE checks 57-bit canonicality exactly; an FS base above 2^47 is used", () => {
    expect(m.exec(WRMSR, { [RCX]: FS_BASE, [RAX]: 0, [RDX]: 0x0100_0000 })).toBe("gp"); // 2^56
    expect(m.exec(WRMSR, { [RCX]: FS_BASE, [RAX]: 0, [RDX]: 0xff00_0000 })).toBe("ok"); // -2^56
    expect(m.exec(WRMSR, { [RCX]: FS_BASE, [RAX]: 0, [RDX]: 0x0001_0000 })).toBe("ok"); // 2^48
    expect(m.exec(READ_FS, { [RBX]: TEST_LA })).toBe("ok");
    expect(m.cpu.state.lo(RAX)).toBe(A);
  });

  it("LGDT accepts a 57-bit canonical base, rejects a non-canonical one", () => {
    const at = 0x530000;
    m.write32(at, 0x1234_ffff); // limit 0xffff, base bits 15:0 = 0x1234
    m.write32(at + 4, 0);
    m.write32(at + 6, 0x0080_0000); // base bits 63:32 (bytes 6-9)
    expect(m.exec(LGDT_RBX, { [RBX]: at })).toBe("ok");
    expect(m.cpu.state.gdtr.baseHi).toBe(0x0080_0000);
    m.cpu.state.gdtr.baseLo = L.GDT; // back to the real GDT (beyond 2^53 it is unusable here)
    m.cpu.state.gdtr.baseHi = 0;
    m.write32(at + 6, 0x0100_0000);
    expect(m.exec(LGDT_RBX, { [RBX]: at })).toBe("gp");
  });

  it("a descriptor-table base the interpreter cannot hold exactly never throws out of run", () => {
    m.cpu.state.gdtr.baseHi = 0x0080_0000;
    m.cpu.state.idtr.baseHi = 0x0080_0000;
    m.load(L.CODE + 0x3000, [0x0f, 0x0b]); // ud2: the delivery cannot read the IDT
    m.enter(L.CODE + 0x3000, 0);
    expect(m.cpu.run(10)).toBe(StopReason.Shutdown);
  });

  it("LLDT checks the 64-bit base of the LDT descriptor against the 57-bit bound", () => {
    const install = (n: PagingMachine): void => {
      n.write32(L.GDT + 0x60, 0x0000_ffff); // limit 0xffff, base 15:0 = 0
      n.write32(L.GDT + 0x64, 0x0000_8200); // present LDT (type 2)
      n.write32(L.GDT + 0x68, 0x0001_0000); // base 63:32: bit 48
      n.write32(L.GDT + 0x6c, 0);
      n.cpu.state.gdtr.limit = 0x6f;
    };
    install(m);
    expect(m.exec([0x0f, 0x00, 0xd0], { [RAX]: 0x60 })).toBe("ok"); // lldt ax
    expect(m.cpu.state.segBase[2 * 6 + 1]).toBe(0x0001_0000);
    const n = createPagingMachine({ model: LA57_MODEL });
    install(n);
    expect(n.exec([0x0f, 0x00, 0xd0], { [RAX]: 0x60 })).toBe("gp");
    expect(n.pfError()).toBe(0x60); // #GP(selector)
  });

  it("without LA57 the same addresses are 48-bit non-canonical (#GP) and the MSR check is 48-bit", () => {
    const n = createPagingMachine({ model: LA57_MODEL });
    expect(n.exec(READ, { [RBX]: halves(2 ** 48 + TEST_LA) })).toBe("gp");
    expect(n.exec(WRMSR, { [RCX]: FS_BASE, [RAX]: 0, [RDX]: 0x0001_0000 })).toBe("gp");
  });
});
