// RDMSR/WRMSR through the interpreter, rule by rule from the SDM: vol. 4 Table 2-2 (the
// architectural MSRs and their reserved bits), vol. 3 "Memory Cache Control" (MTRRs, PAT),
// "Machine-Check Architecture" (MCG/MCi banks), 19.17.3 (TSC and TSC_ADJUST), WRMSR (#GP rules).
import { createRamSpace, PortIoSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { Cpu, defaultCpuModel, FIXED_MTRRS, Gpr, Msr, restore, snapshot } from "../src/index.js";
import { cpuid } from "../src/interp/cpuid.js";
import { msrIndexes, readMsr, writeMsr } from "../src/interp/msr-access.js";
import { createMachine, L, type TestMachine } from "./modes.js";

const WRMSR_AT = L.CODE;
const RDMSR_AT = L.CODE + 3;
const RDTSCP_AT = L.CODE + 6;
const CPUID_AT = L.CODE + 10;

function machine(): TestMachine {
  const m = createMachine("long");
  m.gate(13, L.HANDLER);
  m.load(L.HANDLER, [0xf4]); // #GP handler: HLT
  // wrmsr; hlt | rdmsr; hlt | rdtscp; hlt | cpuid; hlt
  m.load(L.CODE, [0x0f, 0x30, 0xf4, 0x0f, 0x32, 0xf4, 0x0f, 0x01, 0xf9, 0xf4, 0x0f, 0xa2, 0xf4]);
  return m;
}

/** Runs the instruction at `at` with ECX/EAX/EDX; true when it did not raise #GP. */
function exec(m: TestMachine, at: number, ecx: number, eax = 0, edx = 0): boolean {
  const s = m.cpu.state;
  s.rip = at;
  s.set64(Gpr.RSP, L.STACK, 0);
  s.set64(Gpr.RCX, ecx >>> 0, 0);
  s.set64(Gpr.RAX, eax >>> 0, 0);
  s.set64(Gpr.RDX, edx >>> 0, 0);
  m.cpu.halted = false;
  const before = m.cpu.eventCounts[13]!;
  m.cpu.run(10);
  return m.cpu.eventCounts[13] === before;
}

const wr = (m: TestMachine, index: number, lo: number, hi = 0): boolean => exec(m, WRMSR_AT, index, lo, hi);

/** RDMSR: [lo, hi], or "GP". */
function rd(m: TestMachine, index: number): [number, number] | "GP" {
  if (!exec(m, RDMSR_AT, index)) return "GP";
  return [m.cpu.state.lo(Gpr.RAX), m.cpu.state.lo(Gpr.RDX)];
}

function cpuidRegs(m: TestMachine, leaf: number, sub = 0): number[] {
  const s = m.cpu.state;
  s.rip = CPUID_AT;
  s.set64(Gpr.RAX, leaf, 0);
  s.set64(Gpr.RCX, sub, 0);
  m.cpu.halted = false;
  m.cpu.run(5);
  return [s.lo(Gpr.RAX), s.lo(Gpr.RBX), s.lo(Gpr.RCX), s.lo(Gpr.RDX)];
}

describe("unknown MSRs and privilege", () => {
  it("an MSR the processor lacks raises #GP(0) on RDMSR and WRMSR", () => {
    const m = machine();
    for (const index of [
      0x1234, 0xc0000105, 0x210 /* PHYSBASE8: only 8 pairs */, 0x410, 0x6e0 /* TSC_DEADLINE */,
      0x480 /* VMX_BASIC */, 0xce /* PLATFORM_INFO: not advertised */, 0x17 /* PLATFORM_ID */,
      0xe7 /* MPERF */, 0x280 /* MC0_CTL2: no CMCI */,
    ]) {
      expect(rd(m, index)).toBe("GP");
      expect(wr(m, index, 0)).toBe(false);
    }
    // The error code is 0: the frame's error code slot (RSP at the handler).
    expect(m.read32(m.cpu.state.lo(Gpr.RSP))).toBe(0);
  });

  it("RDMSR at CPL 3 raises #GP even for an MSR that exists", () => {
    const m = machine();
    const s = m.cpu.state;
    s.segSelector[1] = 0x3b; // CS = user code64
    s.segAccess[1] = 0xa0fb;
    m.cpu.syncFromState();
    expect(rd(m, Msr.STAR)).toBe("GP");
  });
});

describe("time-stamp counter", () => {
  it("a write sets the counter: reads continue from the written value (exactly, above 2^53 too)", () => {
    const m = machine();
    expect(wr(m, Msr.TSC, 0x00000100, 0xfffffff0)).toBe(true);
    const v = rd(m, Msr.TSC);
    expect(v).not.toBe("GP");
    const [lo, hi] = v as [number, number];
    expect(hi).toBe(0xfffffff0);
    expect(lo - 0x100).toBeGreaterThan(0); // the RDMSR retired after the write
    expect(lo - 0x100).toBeLessThan(8);
  });

  it("TSC_ADJUST moves by the same step as a TSC write; a TSC_ADJUST write moves the TSC (SDM 19.17.3)", () => {
    const m = machine();
    expect(rd(m, Msr.TSC_ADJUST)).toEqual([0, 0]);
    const t0 = rd(m, Msr.TSC) as [number, number];
    expect(wr(m, Msr.TSC, t0[0] + 1000, 0)).toBe(true);
    const adj = rd(m, Msr.TSC_ADJUST) as [number, number];
    // The write landed a few instructions after t0 was read, so the step is just under 1000.
    expect(adj[1]).toBe(0);
    expect(adj[0]).toBeGreaterThan(990);
    expect(adj[0]).toBeLessThanOrEqual(1000);
    const before = rd(m, Msr.TSC) as [number, number];
    expect(wr(m, Msr.TSC_ADJUST, adj[0] + 5000, 0)).toBe(true);
    const after = rd(m, Msr.TSC) as [number, number];
    expect(after[0] - before[0]).toBeGreaterThanOrEqual(5000);
    expect(after[0] - before[0]).toBeLessThan(5010);
    // Back to the old adjustment: the counter goes back by 5000.
    expect(wr(m, Msr.TSC_ADJUST, adj[0], 0)).toBe(true);
    const back = rd(m, Msr.TSC) as [number, number];
    expect(after[0] - back[0]).toBeGreaterThan(4990);
    expect(after[0] - back[0]).toBeLessThan(5000);
    // A negative adjustment (two's complement) below the count wraps the counter modulo 2^64.
    expect(wr(m, Msr.TSC_ADJUST, -0x10000 >>> 0, 0xffffffff)).toBe(true);
    expect((rd(m, Msr.TSC) as [number, number])[1]).toBe(0xffffffff);
  });

  it("TSC_AUX: bits 63:32 are reserved; RDTSCP returns the low half in ECX", () => {
    const m = machine();
    expect(wr(m, Msr.TSC_AUX, 0x1234, 1)).toBe(false);
    expect(wr(m, Msr.TSC_AUX, 0xabcd1234, 0)).toBe(true);
    expect(rd(m, Msr.TSC_AUX)).toEqual([0xabcd1234, 0]);
    exec(m, RDTSCP_AT, 0);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(0xabcd1234);
  });
});

describe("IA32_APIC_BASE", () => {
  it("powers on enabled at 0xFEE00000 as the BSP; BSP and enable are R/W", () => {
    const m = machine();
    expect(rd(m, Msr.APIC_BASE)).toEqual([0xfee00900, 0]);
    expect(wr(m, Msr.APIC_BASE, 0xfed00000, 0)).toBe(true);
    expect(rd(m, Msr.APIC_BASE)).toEqual([0xfed00000, 0]);
  });

  it("reserved bits: 7:0, 9, x2APIC enable (10, no x2APIC), bits at and above MAXPHYADDR", () => {
    const m = machine();
    const maxPhys = defaultCpuModel().maxPhysAddr;
    for (const bit of [0, 7, 9, 10]) expect(wr(m, Msr.APIC_BASE, 0xfee00900 | (1 << bit), 0)).toBe(false);
    expect(wr(m, Msr.APIC_BASE, 0xfee00900, 1 << (maxPhys - 32))).toBe(false);
    expect(wr(m, Msr.APIC_BASE, 0xfee00900, 1 << (maxPhys - 33))).toBe(true);
  });
});

describe("IA32_PAT", () => {
  it("powers on as 0007040600070406H", () => {
    expect(rd(machine(), Msr.PAT)).toEqual([0x00070406, 0x00070406]);
  });

  it("each of the 8 entries must be 0, 1, 4, 5, 6 or 7 (else #GP); reserved bits 7:3 #GP", () => {
    const m = machine();
    for (let entry = 0; entry < 8; entry++) {
      for (let type = 0; type < 8; type++) {
        const lo = entry < 4 ? (type << (8 * entry)) >>> 0 : 0;
        const hi = entry >= 4 ? (type << (8 * (entry - 4))) >>> 0 : 0;
        expect(wr(m, Msr.PAT, lo, hi)).toBe(type !== 2 && type !== 3);
      }
      const lo = entry < 4 ? (0x08 << (8 * entry)) >>> 0 : 0;
      const hi = entry >= 4 ? (0x08 << (8 * (entry - 4))) >>> 0 : 0;
      expect(wr(m, Msr.PAT, lo, hi)).toBe(false);
    }
    expect(wr(m, Msr.PAT, 0x07050401, 0x06040100)).toBe(true);
    expect(rd(m, Msr.PAT)).toEqual([0x07050401, 0x06040100]);
  });
});

describe("MTRRs (SDM vol. 3, Memory Type Range Registers)", () => {
  it("MTRRCAP is read-only: VCNT = 8, fixed ranges and WC supported, no SMRR", () => {
    const m = machine();
    expect(rd(m, Msr.MTRRCAP)).toEqual([8 | 0x100 | 0x400, 0]);
    expect(wr(m, Msr.MTRRCAP, 8 | 0x100 | 0x400, 0)).toBe(false);
  });

  it("MTRR_DEF_TYPE: valid types, FE and E; bits 9:8 and 63:12 reserved", () => {
    const m = machine();
    expect(rd(m, Msr.MTRR_DEF_TYPE)).toEqual([0, 0]); // MTRRs disabled at power-on
    for (const t of [0, 1, 4, 5, 6]) expect(wr(m, Msr.MTRR_DEF_TYPE, 0xc00 | t)).toBe(true);
    for (const t of [2, 3, 7, 8, 0xff]) expect(wr(m, Msr.MTRR_DEF_TYPE, 0xc00 | t)).toBe(false);
    expect(wr(m, Msr.MTRR_DEF_TYPE, 0x100 | 6)).toBe(false);
    expect(wr(m, Msr.MTRR_DEF_TYPE, 0x1000 | 6)).toBe(false);
    expect(wr(m, Msr.MTRR_DEF_TYPE, 6, 1)).toBe(false);
    expect(wr(m, Msr.MTRR_DEF_TYPE, 0xc06)).toBe(true);
    expect(rd(m, Msr.MTRR_DEF_TYPE)).toEqual([0xc06, 0]);
  });

  it("the 11 fixed-range MTRRs hold 8 types each; a byte with an invalid type #GPs", () => {
    const m = machine();
    expect(FIXED_MTRRS).toHaveLength(11);
    FIXED_MTRRS.forEach((index, k) => {
      const lo = (0x06050400 | [0, 1, 4, 5, 6][k % 5]!) >>> 0;
      expect(wr(m, index, lo, 0x06060606)).toBe(true);
      expect(rd(m, index)).toEqual([lo, 0x06060606]);
      expect(wr(m, index, 0x06060606, 0x06070606)).toBe(false); // 7 (UC-) is a PAT type only
      expect(wr(m, index, 0x06020606, 0)).toBe(false);
    });
    for (const index of [0x251, 0x25a, 0x267, 0x270]) expect(rd(m, index)).toBe("GP");
  });

  it("variable ranges: 8 PHYSBASE/PHYSMASK pairs with their reserved bits and valid types", () => {
    const m = machine();
    const maxHi = 1 << (defaultCpuModel().maxPhysAddr - 32);
    for (let n = 0; n < 8; n++) {
      const base = Msr.MTRR_PHYSBASE0 + 2 * n;
      const mask = base + 1;
      expect(wr(m, base, 0x80000006, maxHi - 1)).toBe(true);
      expect(rd(m, base)).toEqual([0x80000006, maxHi - 1]);
      expect(wr(m, base, 0x80000003)).toBe(false); // type 3 is reserved
      expect(wr(m, base, 0x80000106)).toBe(false); // bits 11:8 reserved
      expect(wr(m, base, 0x80000006, maxHi)).toBe(false); // at MAXPHYADDR
      expect(wr(m, mask, 0xfffff800, maxHi - 1)).toBe(true);
      expect(rd(m, mask)).toEqual([0xfffff800, maxHi - 1]);
      expect(wr(m, mask, 0xfffff801)).toBe(false); // bits 10:0 reserved
      expect(wr(m, mask, 0xfffff800, maxHi)).toBe(false);
    }
  });
});

describe("IA32_MISC_ENABLE", () => {
  it("read-only bits ignore writes, reserved bits #GP", () => {
    const m = machine();
    expect(rd(m, Msr.MISC_ENABLE)).toEqual([0x1801, 0]); // fast strings, BTS/PEBS unavailable
    expect(wr(m, Msr.MISC_ENABLE, 0)).toBe(true);
    expect(rd(m, Msr.MISC_ENABLE)).toEqual([0x1800, 0]);
    expect(wr(m, Msr.MISC_ENABLE, 0x80)).toBe(true); // performance monitoring available: read-only
    expect(rd(m, Msr.MISC_ENABLE)).toEqual([0x1800, 0]);
    for (const bit of [1, 2, 16, 18, 24]) expect(wr(m, Msr.MISC_ENABLE, 1 << bit)).toBe(false);
    expect(wr(m, Msr.MISC_ENABLE, 0, 1)).toBe(false);
  });

  it("limit CPUID maxval (22): CPUID.0:EAX reads 2", () => {
    const m = machine();
    expect(cpuidRegs(m, 0)[0]).toBeGreaterThan(2);
    expect(wr(m, Msr.MISC_ENABLE, 0x400001)).toBe(true);
    expect(cpuidRegs(m, 0)[0]).toBe(2);
  });

  it("XD disable (34): CPUID no longer reports NX and EFER.NXE cannot be set", () => {
    const m = machine();
    expect(cpuidRegs(m, 0x80000001)[3]! & (1 << 20)).not.toBe(0);
    expect(wr(m, Msr.EFER, 0xd01)).toBe(true);
    expect(wr(m, Msr.EFER, 0x501)).toBe(true);
    expect(wr(m, Msr.MISC_ENABLE, 0x1, 0x4)).toBe(true);
    expect(cpuidRegs(m, 0x80000001)[3]! & (1 << 20)).toBe(0);
    expect(wr(m, Msr.EFER, 0xd01)).toBe(false);
  });
});

describe("a model without NX", () => {
  it("EFER.NXE and MISC_ENABLE.XD_DISABLE are reserved; CPUID does not report NX", () => {
    const { space } = createRamSpace(1 << 20);
    const cpu = new Cpu({ memory: space, io: new PortIoSpace(), model: { ...defaultCpuModel(), nx: false } });
    expect(writeMsr(cpu, Msr.EFER, 0x800, 0)).toBe(false);
    expect(writeMsr(cpu, Msr.EFER, 0x001, 0)).toBe(true);
    expect(writeMsr(cpu, Msr.MISC_ENABLE, 0x1, 0x4)).toBe(false);
    expect(cpuid(cpu, 0x80000001, 0)[3]! & (1 << 20)).toBe(0);
  });
});

describe("IA32_FEATURE_CONTROL", () => {
  it("unlocked at power-on; VMX bits are reserved (no VMX on this model); locking makes writes #GP", () => {
    const m = machine();
    expect(rd(m, Msr.FEATURE_CONTROL)).toEqual([0, 0]);
    expect(cpuidRegs(m, 1)[2]! & (1 << 5)).toBe(0); // CPUID.1:ECX.VMX
    expect(wr(m, Msr.FEATURE_CONTROL, 0x4)).toBe(false);
    expect(wr(m, Msr.FEATURE_CONTROL, 0x2)).toBe(false);
    expect(wr(m, Msr.FEATURE_CONTROL, 0x0)).toBe(true);
    expect(wr(m, Msr.FEATURE_CONTROL, 0x1)).toBe(true);
    expect(rd(m, Msr.FEATURE_CONTROL)).toEqual([1, 0]);
    expect(wr(m, Msr.FEATURE_CONTROL, 0x1)).toBe(false);
    expect(wr(m, Msr.FEATURE_CONTROL, 0x0)).toBe(false);
  });
});

describe("SYSENTER, SYSCALL and segment-base MSRs", () => {
  const NONCANONICAL: [number, number] = [0, 0x00008000];
  const CANONICAL_HIGH: [number, number] = [0x1000, 0xffff8000];

  it("SYSENTER_CS: bits 63:32 are ignored (no #GP, read 0)", () => {
    const m = machine();
    expect(wr(m, Msr.SYSENTER_CS, 0x10, 0x55)).toBe(true);
    expect(rd(m, Msr.SYSENTER_CS)).toEqual([0x10, 0]);
  });

  for (const [name, index] of [
    ["SYSENTER_ESP", Msr.SYSENTER_ESP],
    ["SYSENTER_EIP", Msr.SYSENTER_EIP],
    ["LSTAR", Msr.LSTAR],
    ["CSTAR", Msr.CSTAR],
    ["FS_BASE", Msr.FS_BASE],
    ["GS_BASE", Msr.GS_BASE],
    ["KERNEL_GS_BASE", Msr.KERNEL_GS_BASE],
  ] as const) {
    it(`${name}: a non-canonical address #GPs, a canonical one is stored`, () => {
      const m = machine();
      expect(wr(m, index, ...NONCANONICAL)).toBe(false);
      expect(wr(m, index, 0, 0xffff0000)).toBe(false);
      expect(wr(m, index, ...CANONICAL_HIGH)).toBe(true);
      expect(rd(m, index)).toEqual(CANONICAL_HIGH);
      expect(wr(m, index, 0x1234, 0x7fff)).toBe(true);
      expect(rd(m, index)).toEqual([0x1234, 0x7fff]);
    });
  }

  it("FS_BASE and GS_BASE are the segment registers' bases", () => {
    const m = machine();
    expect(wr(m, Msr.FS_BASE, 0x1000, 0)).toBe(true);
    expect(wr(m, Msr.GS_BASE, 0x2000, 0)).toBe(true);
    expect(m.cpu.state.segBase[2 * 4]).toBe(0x1000);
    expect(m.cpu.state.segBase[2 * 5]).toBe(0x2000);
  });

  it("STAR takes any value; FMASK bits 63:32 are reserved", () => {
    const m = machine();
    expect(wr(m, Msr.STAR, 0xffffffff, 0xffffffff)).toBe(true);
    expect(rd(m, Msr.STAR)).toEqual([0xffffffff, 0xffffffff]);
    expect(wr(m, Msr.FMASK, 0x47700, 1)).toBe(false);
    expect(wr(m, Msr.FMASK, 0x47700, 0)).toBe(true);
    expect(rd(m, Msr.FMASK)).toEqual([0x47700, 0]);
  });
});

describe("IA32_EFER", () => {
  it("reserved bits #GP; LMA is read-only (kept); NXE settable", () => {
    const m = machine();
    expect(rd(m, Msr.EFER)).toEqual([0x501, 0]);
    for (const bit of [1, 2, 7, 9, 12, 15]) expect(wr(m, Msr.EFER, 0x501 | (1 << bit))).toBe(false);
    expect(wr(m, Msr.EFER, 0x501, 1)).toBe(false);
    expect(wr(m, Msr.EFER, 0x101)).toBe(true); // LMA written 0: ignored
    expect(rd(m, Msr.EFER)).toEqual([0x501, 0]);
    expect(wr(m, Msr.EFER, 0x901)).toBe(true);
    expect(rd(m, Msr.EFER)).toEqual([0xd01, 0]);
  });

  it("changing LME while paging is on #GPs (SDM 10.8.5)", () => {
    const m = machine();
    expect(wr(m, Msr.EFER, 0x001)).toBe(false);
    const p = createMachine("protected");
    p.gate(13, L.HANDLER);
    p.load(L.HANDLER, [0xf4]);
    p.load(L.CODE, [0x0f, 0x30, 0xf4, 0x0f, 0x32, 0xf4]);
    expect(wr(p, Msr.EFER, 0x100)).toBe(true); // paging off: LME may change
    expect(rd(p, Msr.EFER)).toEqual([0x100, 0]);
  });
});

describe("speculation-control MSRs follow the model", () => {
  it("advertised: SPEC_CTRL bits 2:0, PRED_CMD write-only, ARCH_CAPABILITIES read-only", () => {
    const m = machine();
    expect(cpuidRegs(m, 7)[3]! >>> 0).toBe(((1 << 14) | (1 << 26) | (1 << 27) | (1 << 29) | (1 << 31)) >>> 0);
    expect(wr(m, Msr.SPEC_CTRL, 0x7)).toBe(true);
    expect(rd(m, Msr.SPEC_CTRL)).toEqual([7, 0]);
    expect(wr(m, Msr.SPEC_CTRL, 0x8)).toBe(false);
    expect(wr(m, Msr.PRED_CMD, 1)).toBe(true);
    expect(wr(m, Msr.PRED_CMD, 2)).toBe(false);
    expect(rd(m, Msr.PRED_CMD)).toBe("GP");
    expect(rd(m, Msr.ARCH_CAPABILITIES)).toEqual([defaultCpuModel().archCapabilities, 0]);
    expect(wr(m, Msr.ARCH_CAPABILITIES, 0)).toBe(false);
  });

  it("not advertised: every one of them #GPs and CPUID.7:EDX is 0", () => {
    const { space } = createRamSpace(1 << 20);
    const cpu = new Cpu({
      memory: space,
      io: new PortIoSpace(),
      model: { ...defaultCpuModel(), speculationControl: false },
    });
    for (const index of [Msr.SPEC_CTRL, Msr.PRED_CMD, Msr.ARCH_CAPABILITIES]) {
      expect(readMsr(cpu, index)).toBe(false);
      expect(writeMsr(cpu, index, 0, 0)).toBe(false);
    }
  });
});

describe("machine-check MSRs (minimal banks)", () => {
  it("MCG_CAP is read-only with the bank count; MCG_STATUS bits 2:0 writable", () => {
    const m = machine();
    expect(rd(m, Msr.MCG_CAP)).toEqual([4, 0]);
    expect(wr(m, Msr.MCG_CAP, 4)).toBe(false);
    expect(wr(m, Msr.MCG_STATUS, 0)).toBe(true);
    expect(wr(m, Msr.MCG_STATUS, 8)).toBe(false);
    expect(rd(m, 0x17b)).toBe("GP"); // IA32_MCG_CTL: absent, MCG_CAP.MCG_CTL_P = 0
  });

  it("MCi_CTL takes any value; STATUS/ADDR/MISC may only be cleared (writing 1s #GPs)", () => {
    const m = machine();
    for (let bank = 0; bank < 4; bank++) {
      const ctl = Msr.MC0_CTL + 4 * bank;
      expect(rd(m, ctl)).toEqual([0xffffffff, 0xffffffff]);
      expect(wr(m, ctl, 0, 0)).toBe(true);
      expect(rd(m, ctl)).toEqual([0, 0]);
      for (const off of [1, 2, 3]) {
        expect(wr(m, ctl + off, 0, 0)).toBe(true);
        expect(wr(m, ctl + off, 1, 0)).toBe(false);
        expect(wr(m, ctl + off, 0, 0x80000000)).toBe(false);
        expect(rd(m, ctl + off)).toEqual([0, 0]);
      }
    }
    expect(rd(m, Msr.MC0_CTL + 16)).toBe("GP");
  });
});

describe("MSR snapshot", () => {
  it("every MSR round-trips through JSON into another processor; the TSC continues", () => {
    const m = machine();
    const writes: [number, number, number][] = [
      [Msr.PAT, 0x07050401, 0x06040100],
      [Msr.MTRR_DEF_TYPE, 0xc06, 0],
      [0x250, 0x06060606, 0x05050505],
      [0x26f, 0x04040404, 0x01010101],
      [Msr.MTRR_PHYSBASE0 + 6, 0x80000006, 0x12],
      [Msr.MTRR_PHYSMASK0 + 6, 0xc0000800, 0x3fff],
      [Msr.FEATURE_CONTROL, 1, 0],
      [Msr.MISC_ENABLE, 0x800001, 0x4],
      [Msr.SYSENTER_CS, 0x10, 0],
      [Msr.SYSENTER_ESP, 0x1000, 0xffff8000],
      [Msr.SYSENTER_EIP, 0x2000, 0xffff8000],
      [Msr.STAR, 0x12345678, 0x00230010],
      [Msr.LSTAR, 0x3000, 0xffff8000],
      [Msr.CSTAR, 0x4000, 0xffff8000],
      [Msr.FMASK, 0x47700, 0],
      [Msr.KERNEL_GS_BASE, 0x5000, 0xffff8000],
      [Msr.TSC_AUX, 7, 0],
      [Msr.SPEC_CTRL, 5, 0],
      [Msr.APIC_BASE, 0xfed00800, 0],
      [Msr.MCG_STATUS, 1, 0],
      [Msr.MC0_CTL + 4, 0xf0f0, 0],
      [Msr.TSC_ADJUST, 0x100000, 0],
      [Msr.TSC, 0x40000000, 3],
    ];
    for (const [index, lo, hi] of writes) expect(wr(m, index, lo, hi)).toBe(true);
    const snap = JSON.parse(JSON.stringify(snapshot(m.cpu.state, m.cpu)));
    const tscAtSave = m.cpu.tsc();
    const other = createMachine("long");
    other.cpu.run(0);
    other.cpu.instructions = 12345; // a different retired count: the TSC must not care
    restore(snap, other.cpu.state, other.cpu);
    for (const index of msrIndexes()) {
      if (index === Msr.PRED_CMD || index === Msr.TSC) continue;
      const a = readMsr(m.cpu, index) ? Array.from(m.cpu.state.out.subarray(0, 2)) : "GP";
      const b = readMsr(other.cpu, index) ? Array.from(other.cpu.state.out.subarray(0, 2)) : "GP";
      expect(b, `MSR ${index.toString(16)}`).toEqual(a);
    }
    expect(other.cpu.tsc()).toBe(tscAtSave);
    expect(snap.msrs.values.pat).toEqual([0x07050401, 0x06040100]);
  });

  it("a snapshot without MSRs (taken from the state alone) restores the registers and leaves the MSRs", () => {
    const m = machine();
    expect(wr(m, Msr.STAR, 1, 2)).toBe(true);
    const snap = snapshot(m.cpu.state);
    expect(snap.msrs).toBeUndefined();
    const other = createMachine("long");
    restore(snap, other.cpu.state, other.cpu);
    expect(readMsr(other.cpu, Msr.STAR)).toBe(true);
    expect(Array.from(other.cpu.state.out.subarray(0, 2))).toEqual([0, 0]);
    expect(other.cpu.state.rip).toBe(m.cpu.state.rip);
  });

  it("a malformed MSR snapshot throws a TypeError", () => {
    const m = machine();
    const snap = snapshot(m.cpu.state, m.cpu);
    snap.msrs!.values.pat = [1];
    expect(() => restore(snap, m.cpu.state, m.cpu)).toThrow(TypeError);
  });
});

describe("an MSR device (a local APIC) answers its MSRs first", () => {
  it("RDMSR/WRMSR of the device's indexes go to it; its false is #GP; other MSRs stay the processor's", () => {
    const { space } = createRamSpace(1 << 20);
    const seen: string[] = [];
    let deadline = [0, 0];
    const cpu = new Cpu({
      memory: space,
      io: new PortIoSpace(),
      msrDevice: {
        handlesMsr: (index) => index === Msr.APIC_BASE || index === 0x6e0,
        readMsr(index, out) {
          seen.push(`r${index.toString(16)}`);
          if (index === Msr.APIC_BASE) return false;
          out[0] = deadline[0]!;
          out[1] = deadline[1]!;
          return true;
        },
        writeMsr(index, lo, hi) {
          seen.push(`w${index.toString(16)}`);
          deadline = [lo, hi];
          return index === 0x6e0;
        },
      },
    });
    expect(writeMsr(cpu, 0x6e0, 0x1234, 5)).toBe(true);
    expect(readMsr(cpu, 0x6e0)).toBe(true);
    expect(Array.from(cpu.state.out.subarray(0, 2))).toEqual([0x1234, 5]);
    expect(readMsr(cpu, Msr.APIC_BASE)).toBe(false);
    expect(writeMsr(cpu, Msr.APIC_BASE, 0xfee00900, 0)).toBe(false);
    expect(readMsr(cpu, Msr.PAT)).toBe(true);
    expect(seen).toEqual(["w6e0", "r6e0", "r1b", "w1b"]);
  });
});
