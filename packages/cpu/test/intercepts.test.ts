// Intercept points (VM exits, SDM vol. 3, chapters 26 and 28): for each point, a program that
// hits it, run with a hook that exits (StopReason.VmExit, the SDM's reason, qualification,
// length and information, RIP at the instruction, no architectural effect), resumed past it by
// the exit's instruction length, and run with a hook that declines and with no hook at all (the
// instruction then behaves exactly as before).
import { ExitReason, VmExitRecord } from "@turtles/vmx";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CpuExit,
  type CpuIntercepts,
  Gpr,
  type InterruptSource,
  Seg,
  STOP_REASON_NAMES,
  StopReason,
  VmExitReason,
} from "../src/index.js";
import { createMachine, L, type TestMachine } from "./modes.js";

const HLT = 0xf4;

/** A hook that records what it was asked and exits when `wants` says so. */
class Recorder implements CpuIntercepts {
  readonly asked: number[] = [];
  interruptWindow = false;
  nmiWindow = false;
  constructor(public wants: (e: CpuExit) => boolean) {}
  intercept(exit: CpuExit): boolean {
    this.asked.push(exit.reason);
    return this.wants(exit);
  }
}

const never = (): Recorder => new Recorder(() => false);
const on = (reason: number): Recorder => new Recorder((e) => e.reason === reason);

/** A port device that records writes and answers reads with 0x42. */
function device(m: TestMachine, port: number): { writes: number[]; reads: number } {
  const d = { writes: [] as number[], reads: 0 };
  m.io.register(port, 1, {
    read: () => {
      d.reads++;
      return 0x42;
    },
    write: (_o, _s, v) => {
      d.writes.push(v);
    },
  });
  return d;
}

interface Row {
  readonly name: string;
  readonly mode?: "real" | "protected" | "long";
  /** The intercepted instruction (the program is these bytes followed by HLT). */
  readonly bytes: number[];
  readonly reason: number;
  readonly qual?: number;
  readonly qualHi?: number;
  readonly info?: number;
  readonly linear?: number;
  /** Extra checks of the exit record. */
  readonly record?: (e: CpuExit, m: TestMachine) => void;
  /** Prepares registers and memory; returns an observer of the effect. */
  readonly setup: (m: TestMachine) => () => unknown;
  /** The value the observer gives when the instruction has not run. */
  readonly before: unknown;
  /** The instruction has no effect a test can see (a hint, a cache or TLB operation). */
  readonly invisible?: boolean;
}

const set = (m: TestMachine, r: number, lo: number, hi = 0): void => m.cpu.state.set64(r, lo, hi);

const ROWS: Row[] = [
  {
    name: "CPUID",
    bytes: [0x0f, 0xa2],
    reason: VmExitReason.Cpuid,
    qual: 0,
    record: (e) => expect([e.eax, e.ecx]).toEqual([0, 0]),
    setup: (m) => {
      set(m, Gpr.RAX, 0);
      set(m, Gpr.RCX, 0);
      set(m, Gpr.RBX, 0x1234);
      return () => m.cpu.state.lo(Gpr.RBX);
    },
    before: 0x1234,
  },
  {
    name: "RDTSC",
    bytes: [0x0f, 0x31],
    reason: VmExitReason.Rdtsc,
    setup: (m) => {
      set(m, Gpr.RAX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RAX);
    },
    before: 0xdead,
  },
  {
    name: "RDTSCP",
    bytes: [0x0f, 0x01, 0xf9],
    reason: VmExitReason.Rdtscp,
    setup: (m) => {
      set(m, Gpr.RCX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RCX);
    },
    before: 0xdead,
  },
  {
    name: "RDMSR",
    bytes: [0x0f, 0x32],
    reason: VmExitReason.Rdmsr,
    record: (e) => expect(e.ecx).toBe(0xc0000080),
    setup: (m) => {
      set(m, Gpr.RCX, 0xc0000080);
      set(m, Gpr.RAX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RAX);
    },
    before: 0xdead,
  },
  {
    name: "WRMSR",
    bytes: [0x0f, 0x30],
    reason: VmExitReason.Wrmsr,
    record: (e) => expect([e.ecx, e.eax, e.edx]).toEqual([0xc0000102, 0x5000, 0xffff8000]),
    setup: (m) => {
      set(m, Gpr.RCX, 0xc0000102); // IA32_KERNEL_GS_BASE
      set(m, Gpr.RAX, 0x5000);
      set(m, Gpr.RDX, 0xffff8000);
      return () => m.cpu.msrs.kernelGsBase[0];
    },
    before: 0,
  },
  {
    name: "MOV CR3, RBX",
    bytes: [0x0f, 0x22, 0xdb],
    reason: VmExitReason.CrAccess,
    qual: 0x303, // CR3, MOV to CR, RBX
    record: (e) => expect([e.crValueLo, e.crValueHi]).toEqual([L.PML4 | 8, 0]),
    setup: (m) => {
      set(m, Gpr.RBX, L.PML4 | 8);
      return () => m.cpu.state.cr[6];
    },
    before: L.PML4,
  },
  {
    name: "MOV RAX, CR3",
    bytes: [0x0f, 0x20, 0xd8],
    reason: VmExitReason.CrAccess,
    qual: 0x13, // CR3, MOV from CR, RAX
    setup: (m) => {
      set(m, Gpr.RAX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RAX);
    },
    before: 0xdead,
  },
  {
    name: "MOV CR0, RAX",
    bytes: [0x0f, 0x22, 0xc0],
    reason: VmExitReason.CrAccess,
    qual: 0,
    record: (e) => expect(e.crValueLo).toBe(0x80010019),
    setup: (m) => {
      set(m, Gpr.RAX, 0x80010019); // sets CR0.TS
      return () => m.cpu.state.cr[0];
    },
    before: 0x80010011,
  },
  {
    name: "MOV CR4, RAX",
    bytes: [0x0f, 0x22, 0xe0],
    reason: VmExitReason.CrAccess,
    qual: 4,
    record: (e) => expect(e.crValueLo).toBe(0x220),
    setup: (m) => {
      set(m, Gpr.RAX, 0x220); // PAE | OSFXSR
      return () => m.cpu.state.cr[8];
    },
    before: 0x20,
  },
  {
    name: "MOV CR8, RCX",
    bytes: [0x44, 0x0f, 0x22, 0xc1],
    reason: VmExitReason.CrAccess,
    qual: 0x108, // CR8, MOV to CR, RCX
    record: (e) => expect(e.crValueLo).toBe(5),
    setup: (m) => {
      set(m, Gpr.RCX, 5);
      return () => m.cpu.state.cr[16];
    },
    before: 0,
  },
  {
    name: "CLTS",
    bytes: [0x0f, 0x06],
    reason: VmExitReason.CrAccess,
    qual: 0x20,
    record: (e) => expect(e.crValueLo).toBe(0x80010011),
    setup: (m) => {
      m.cpu.state.cr[0] = 0x80010019;
      return () => m.cpu.state.cr[0];
    },
    before: 0x80010019,
  },
  {
    name: "LMSW AX",
    bytes: [0x0f, 0x01, 0xf0],
    reason: VmExitReason.CrAccess,
    qual: (0x0019 << 16) | 0x30, // LMSW, register operand, source data
    setup: (m) => {
      set(m, Gpr.RAX, 0x0019);
      return () => m.cpu.state.cr[0];
    },
    before: 0x80010011,
  },
  {
    name: "LMSW [RAX]",
    bytes: [0x0f, 0x01, 0x30],
    reason: VmExitReason.CrAccess,
    qual: (0x0019 << 16) | 0x70, // LMSW, memory operand, source data
    linear: L.DATA,
    setup: (m) => {
      set(m, Gpr.RAX, L.DATA);
      m.write32(L.DATA, 0x0019);
      return () => m.cpu.state.cr[0];
    },
    before: 0x80010011,
  },
  {
    name: "MOV DR0, RAX",
    bytes: [0x0f, 0x23, 0xc0],
    reason: VmExitReason.MovDr,
    qual: 0, // DR0, MOV to DR, RAX
    setup: (m) => {
      set(m, Gpr.RAX, 0x4000);
      return () => m.cpu.state.dr[0];
    },
    before: 0,
  },
  {
    name: "MOV RDX, DR7",
    bytes: [0x0f, 0x21, 0xfa],
    reason: VmExitReason.MovDr,
    qual: 0x217, // DR7, MOV from DR, RDX
    setup: (m) => {
      set(m, Gpr.RDX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RDX);
    },
    before: 0xdead,
  },
  {
    name: "INVLPG [RAX+0x10]",
    invisible: true,
    bytes: [0x0f, 0x01, 0x78, 0x10],
    reason: VmExitReason.Invlpg,
    qual: L.DATA + 0x10,
    setup: (m) => {
      set(m, Gpr.RAX, L.DATA);
      return () => 0;
    },
    before: 0,
  },
  {
    name: "INVD",
    invisible: true,
    bytes: [0x0f, 0x08],
    reason: VmExitReason.Invd,
    setup: () => () => 0,
    before: 0,
  },
  {
    name: "WBINVD",
    invisible: true,
    bytes: [0x0f, 0x09],
    reason: VmExitReason.Wbinvd,
    setup: () => () => 0,
    before: 0,
  },
  {
    name: "PAUSE",
    invisible: true,
    bytes: [0xf3, 0x90],
    reason: VmExitReason.Pause,
    setup: () => () => 0,
    before: 0,
  },
  {
    name: "OUT 0x80, AL",
    bytes: [0xe6, 0x80],
    reason: VmExitReason.IoInstruction,
    qual: (0x80 << 16) | 0x40, // 1 byte, OUT, immediate port
    setup: (m) => {
      set(m, Gpr.RAX, 0x37);
      const d = device(m, 0x80);
      return () => d.writes.join();
    },
    before: "",
  },
  {
    name: "OUT DX, EAX",
    bytes: [0xef],
    reason: VmExitReason.IoInstruction,
    qual: (0x80 << 16) | 3, // 4 bytes, OUT, port in DX
    setup: (m) => {
      set(m, Gpr.RDX, 0x80);
      const d = device(m, 0x80);
      return () => d.writes.length;
    },
    before: 0,
  },
  {
    name: "IN AL, DX",
    bytes: [0xec],
    reason: VmExitReason.IoInstruction,
    qual: (0x60 << 16) | 8, // 1 byte, IN, port in DX
    setup: (m) => {
      set(m, Gpr.RDX, 0x60);
      set(m, Gpr.RAX, 0);
      const d = device(m, 0x60);
      return () => `${d.reads}:${m.cpu.state.lo(Gpr.RAX)}`;
    },
    before: "0:0",
  },
  {
    name: "REP OUTSB",
    bytes: [0xf3, 0x6e],
    reason: VmExitReason.IoInstruction,
    qual: (0x80 << 16) | 0x30, // 1 byte, OUT, string, REP
    info: (2 << 7) | (Seg.DS << 15), // 64-bit addresses, DS
    linear: L.DATA,
    setup: (m) => {
      set(m, Gpr.RDX, 0x80);
      set(m, Gpr.RSI, L.DATA);
      set(m, Gpr.RCX, 3);
      m.write32(L.DATA, 0x030201);
      const d = device(m, 0x80);
      return () => `${d.writes.join()}/${m.cpu.state.lo(Gpr.RCX)}`;
    },
    before: "/3",
  },
  {
    name: "INSW",
    bytes: [0x66, 0x6d],
    reason: VmExitReason.IoInstruction,
    qual: (0x60 << 16) | 0x19, // 2 bytes, IN, string
    info: (2 << 7) | (Seg.ES << 15),
    linear: L.DATA + 8,
    setup: (m) => {
      set(m, Gpr.RDX, 0x60);
      set(m, Gpr.RDI, L.DATA + 8);
      return () => m.read32(L.DATA + 8);
    },
    before: 0,
  },
  {
    name: "LGDT [RAX+RBX*4+0x10]",
    bytes: [0x0f, 0x01, 0x54, 0x98, 0x10],
    reason: VmExitReason.GdtrIdtrAccess,
    qual: 0x10,
    // scale 4, 64-bit addresses, DS, index RBX, base RAX, identity LGDT
    info: (2 | (2 << 7) | (Seg.DS << 15) | (Gpr.RBX << 18) | (Gpr.RAX << 23) | (2 << 28)) >>> 0,
    setup: (m) => {
      set(m, Gpr.RAX, L.DATA);
      set(m, Gpr.RBX, 4);
      m.write32(L.DATA + 0x20, 0x1000_00ff); // limit 0xff, base 0x...1000
      m.write32(L.DATA + 0x24, 0);
      m.write32(L.DATA + 0x28, 0);
      return () => m.cpu.state.gdtr.limit;
    },
    before: 12 * 8 - 1,
  },
  {
    name: "SIDT [RAX]",
    bytes: [0x0f, 0x01, 0x08],
    reason: VmExitReason.GdtrIdtrAccess,
    qual: 0,
    info: ((2 << 7) | (Seg.DS << 15) | (1 << 22) | (Gpr.RAX << 23) | (1 << 28)) >>> 0,
    setup: (m) => {
      set(m, Gpr.RAX, L.DATA);
      return () => m.read32(L.DATA);
    },
    before: 0,
  },
  {
    name: "STR AX",
    bytes: [0x0f, 0x00, 0xc8],
    reason: VmExitReason.LdtrTrAccess,
    info: ((Gpr.RAX << 3) | (2 << 7) | (1 << 10) | (1 << 28)) >>> 0,
    setup: (m) => {
      set(m, Gpr.RAX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RAX);
    },
    before: 0xdead,
  },
  {
    name: "LLDT [RBX]",
    bytes: [0x0f, 0x00, 0x13],
    reason: VmExitReason.LdtrTrAccess,
    qual: 0,
    info: ((2 << 7) | (Seg.DS << 15) | (1 << 22) | (Gpr.RBX << 23) | (2 << 28)) >>> 0,
    setup: (m) => {
      set(m, Gpr.RBX, L.DATA);
      m.write32(L.DATA, 0); // the null selector: LDTR becomes unusable
      m.cpu.state.segSelector[Seg.LDTR] = 0x48;
      return () => m.cpu.state.segSelector[Seg.LDTR];
    },
    before: 0x48,
  },
  {
    name: "RDRAND EAX",
    bytes: [0x0f, 0xc7, 0xf0],
    reason: VmExitReason.Rdrand,
    info: (Gpr.RAX << 3) | (1 << 11), // EAX, 32-bit
    setup: (m) => {
      set(m, Gpr.RAX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RAX);
    },
    before: 0xdead,
  },
  {
    name: "RDSEED RBX",
    bytes: [0x48, 0x0f, 0xc7, 0xfb],
    reason: VmExitReason.Rdseed,
    info: (Gpr.RBX << 3) | (2 << 11), // RBX, 64-bit
    setup: (m) => {
      set(m, Gpr.RBX, 0xdead);
      return () => m.cpu.state.lo(Gpr.RBX);
    },
    before: 0xdead,
  },
  {
    name: "XSETBV",
    bytes: [0x0f, 0x01, 0xd1],
    reason: VmExitReason.Xsetbv,
    invisible: true, // XCR0 can only hold x87 (1), its reset value
    record: (e) => expect([e.ecx, e.eax, e.edx]).toEqual([0, 1, 0]),
    setup: (m) => {
      m.cpu.state.cr[8] = 0x40020; // PAE | OSXSAVE
      set(m, Gpr.RCX, 0);
      set(m, Gpr.RAX, 1);
      set(m, Gpr.RDX, 0);
      return () => m.cpu.state.xcr0[0];
    },
    before: 1,
  },
  {
    name: "MONITOR",
    bytes: [0x0f, 0x01, 0xc8],
    reason: VmExitReason.Monitor,
    setup: (m) => {
      set(m, Gpr.RAX, L.DATA);
      set(m, Gpr.RCX, 0);
      set(m, Gpr.RDX, 0);
      return () => m.cpu.monitorArmed;
    },
    before: false,
  },
  {
    name: "MWAIT (monitor armed, IF = 0)",
    bytes: [0x0f, 0x01, 0xc9],
    reason: VmExitReason.Mwait,
    qual: 1, // the monitor was armed
    setup: (m) => {
      m.cpu.monitorArmed = true;
      set(m, Gpr.RCX, 0);
      return () => m.cpu.monitorArmed;
    },
    before: true,
  },
  {
    name: "INVPCID RCX, [RBX]",
    bytes: [0x66, 0x0f, 0x38, 0x82, 0x0b],
    reason: VmExitReason.Invpcid,
    invisible: true,
    qual: 0,
    info: ((2 << 7) | (Seg.DS << 15) | (1 << 22) | (Gpr.RBX << 23) | (Gpr.RCX << 28)) >>> 0,
    setup: (m) => {
      set(m, Gpr.RBX, L.DATA);
      set(m, Gpr.RCX, 2);
      return () => 0;
    },
    before: 0,
  },
  {
    name: "HLT",
    bytes: [HLT],
    reason: VmExitReason.Hlt,
    setup: (m) => () => m.cpu.halted && m.cpu.state.rip === L.CODE + 1,
    before: false,
  },
  {
    name: "OUT 0x80, AL in real mode",
    mode: "real",
    bytes: [0xe6, 0x80],
    reason: VmExitReason.IoInstruction,
    qual: (0x80 << 16) | 0x40,
    setup: (m) => {
      const d = device(m, 0x80);
      return () => d.writes.length;
    },
    before: 0,
  },
  {
    name: "CPUID in 32-bit protected mode",
    mode: "protected",
    bytes: [0x0f, 0xa2],
    reason: VmExitReason.Cpuid,
    setup: (m) => {
      set(m, Gpr.RAX, 0);
      set(m, Gpr.RBX, 0x1234);
      return () => m.cpu.state.lo(Gpr.RBX);
    },
    before: 0x1234,
  },
  {
    name: "MOV CR3, EBX in 32-bit protected mode",
    mode: "protected",
    bytes: [0x0f, 0x22, 0xdb],
    reason: VmExitReason.CrAccess,
    qual: 0x303,
    setup: (m) => {
      set(m, Gpr.RBX, 0x5000);
      return () => m.cpu.state.cr[6];
    },
    before: 0,
  },
];

function start(row: Row, hook: Recorder | null): { m: TestMachine; observe: () => unknown } {
  const m = createMachine(row.mode ?? "long");
  const org = row.mode === "real" ? 0x7c00 : L.CODE;
  m.load(org, [...row.bytes, HLT, HLT]);
  const observe = row.setup(m);
  m.cpu.intercepts = hook;
  return { m, observe };
}

describe("instruction intercept points", () => {
  for (const row of ROWS) {
    const org = row.mode === "real" ? 0x7c00 : L.CODE;
    const len = row.bytes.length;

    it(`${row.name}: an exiting hook stops before any effect, with the SDM exit record`, () => {
      const hook = on(row.reason);
      const { m, observe } = start(row, hook);
      expect(m.cpu.run(100)).toBe(StopReason.VmExit);
      const e = m.cpu.exit;
      expect(e.reason).toBe(row.reason);
      expect(e.instructionLength).toBe(len);
      if (row.qual !== undefined) expect(e.qualLo).toBe(row.qual >>> 0);
      expect(e.qualHi).toBe(row.qualHi ?? 0);
      if (row.info !== undefined) expect(e.instructionInfo).toBe(row.info);
      if (row.linear !== undefined) expect(e.linearLo).toBe(row.linear);
      row.record?.(e, m);
      expect(m.cpu.state.rip).toBe(org);
      expect(m.cpu.instructions).toBe(0);
      expect(observe()).toEqual(row.before);
      expect(m.cpu.stopCounts[StopReason.VmExit]).toBe(1);
    });

    it(`${row.name}: resuming past the exit by its length skips the instruction`, () => {
      const hook = on(row.reason);
      const { m, observe } = start(row, hook);
      expect(m.cpu.run(100)).toBe(StopReason.VmExit);
      m.cpu.state.rip += m.cpu.exit.instructionLength;
      hook.wants = () => false;
      expect(m.cpu.run(100)).toBe(StopReason.Halted);
      expect(m.cpu.state.rip).toBe(org + len + 1);
      expect(observe()).toEqual(row.before);
    });

    it(`${row.name}: a declining hook and no hook both let the instruction run`, () => {
      const hook = never();
      const a = start(row, hook);
      const b = start(row, null);
      const ra = a.m.cpu.run(100);
      const rb = b.m.cpu.run(100);
      expect(ra).toBe(StopReason.Halted);
      expect(rb).toBe(ra);
      expect(hook.asked).toContain(row.reason);
      if (row.invisible !== true) expect(a.observe()).not.toEqual(row.before);
      expect(a.observe()).toEqual(b.observe());
      expect(a.m.cpu.state.rip).toBe(b.m.cpu.state.rip);
      expect(a.m.cpu.instructions).toBe(b.m.cpu.instructions);
    });
  }

  it("the hook sees RIP at the instruction, also in the middle of a block", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x90, 0x90, 0x0f, 0xa2, HLT]); // nop; nop; cpuid
    let seen = -1;
    m.cpu.intercepts = {
      intercept: (e, cpu) => {
        if (e.reason === VmExitReason.Cpuid) seen = cpu.state.rip;
        return false;
      },
    };
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(seen).toBe(L.CODE + 2);
    expect(m.cpu.state.rip).toBe(L.CODE + 5);
  });

  it("privilege checks come before the exit: MOV CR3 at CPL 3 raises #GP without asking", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x0f, 0x22, 0xdb, HLT]);
    m.gate(13, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    m.cpu.state.segSelector[Seg.CS] = 0x38 | 3;
    m.cpu.state.segAccess[Seg.CS] = 0xa0fb;
    m.cpu.state.segSelector[Seg.SS] = 0x30 | 3;
    m.cpu.state.segAccess[Seg.SS] = 0xc0f3;
    const hook = on(VmExitReason.CrAccess);
    m.cpu.intercepts = hook;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(hook.asked).not.toContain(VmExitReason.CrAccess);
    expect(m.cpu.state.rip).toBe(L.HANDLER + 1);
  });

  it("#UD for a CR that does not exist comes before the exit (MOV CR5)", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x0f, 0x22, 0xeb, HLT]); // mov cr5, rbx
    m.gate(6, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    const hook = on(VmExitReason.CrAccess);
    m.cpu.intercepts = hook;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(hook.asked).not.toContain(VmExitReason.CrAccess);
    expect(m.cpu.state.rip).toBe(L.HANDLER + 1);
  });

  it("an exit inside a compiled hot block leaves RIP, the counters and the registers exact", () => {
    // L: inc esi; out 0x80, al; cmp esi, 200; jne L; hlt
    const m = createMachine("long");
    m.load(L.CODE, [0xff, 0xc6, 0xe6, 0x80, 0x81, 0xfe, 0xc8, 0x00, 0x00, 0x00, 0x75, 0xf4, HLT]);
    const d = device(m, 0x80);
    set(m, Gpr.RSI, 0);
    const hook = new Recorder(
      (e) => e.reason === VmExitReason.IoInstruction && m.cpu.state.lo(Gpr.RSI) === 150,
    );
    m.cpu.intercepts = hook;
    expect(m.cpu.run(10_000)).toBe(StopReason.VmExit);
    expect(m.cpu.state.rip).toBe(L.CODE + 2);
    expect(m.cpu.state.lo(Gpr.RSI)).toBe(150);
    expect(d.writes.length).toBe(149);
    expect(m.cpu.instructions).toBe(149 * 4 + 1);
    m.cpu.state.rip += m.cpu.exit.instructionLength;
    expect(m.cpu.run(10_000)).toBe(StopReason.Halted);
    expect(d.writes.length).toBe(199);
    expect(m.cpu.instructions).toBe(200 * 4 + 1 - 1);
  });
});

describe("law: exiting at a point and resuming by its length = the instruction replaced by NOPs", () => {
  // Long-mode rows whose exit path reads no memory (any register values will do), without XSETBV
  // (its #UD without CR4.OSXSAVE comes before the exit) and HLT (the end of the program).
  const POOL = ROWS.filter(
    (r) =>
      r.mode === undefined &&
      r.reason !== VmExitReason.Hlt &&
      r.reason !== VmExitReason.Xsetbv &&
      r.name !== "LMSW [RAX]",
  );

  /** Architectural state a test can compare (everything but the instruction count and the TSC). */
  function observable(m: TestMachine, writes: number[]): unknown {
    const s = m.cpu.state;
    return {
      gpr: Array.from(s.gpr),
      flags: s.flags.read(),
      cr: Array.from(s.cr),
      dr: Array.from(s.dr),
      gdtr: [s.gdtr.limit, s.gdtr.baseLo, s.gdtr.baseHi],
      sel: Array.from(s.segSelector),
      msr: Array.from(m.cpu.msrs.kernelGsBase),
      data: Array.from(m.ram.bytes.subarray(L.DATA - 0x100, L.DATA + 0x100)),
      writes: writes.join(),
      monitor: m.cpu.monitorArmed,
      rip: s.rip,
    };
  }

  function build(code: number[], regs: number[]): { m: TestMachine; writes: number[] } {
    const m = createMachine("long");
    m.load(L.CODE, [...code, HLT]);
    const writes: number[] = [];
    for (const port of [0x60, 0x80]) {
      m.io.register(port, 1, { read: () => 0x42, write: (_o, _s, v) => void writes.push(v) });
    }
    regs.forEach((v, k) => {
      m.cpu.state.gpr[k] = v >>> 0;
    });
    m.cpu.state.set64(4, L.STACK, 0); // RSP
    return { m, writes };
  }

  it("holds for random sequences of intercept points and random registers", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: POOL.length - 1 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 32, maxLength: 32 }),
        (picks, regs) => {
          const rows = picks.map((k) => POOL[k]!);
          const a = build(
            rows.flatMap((r) => r.bytes),
            regs,
          );
          const hook = new Recorder((e) => e.reason !== VmExitReason.Hlt);
          a.m.cpu.intercepts = hook;
          const reasons: number[] = [];
          for (let guard = 0; guard < 20; guard++) {
            const why = a.m.cpu.run(1000);
            if (why !== StopReason.VmExit) {
              expect(why).toBe(StopReason.Halted);
              break;
            }
            reasons.push(a.m.cpu.exit.reason);
            a.m.cpu.state.rip += a.m.cpu.exit.instructionLength;
          }
          expect(reasons).toEqual(rows.map((r) => r.reason));
          const b = build(
            rows.flatMap((r) => r.bytes.map(() => 0x90)),
            regs,
          );
          expect(b.m.cpu.run(1000)).toBe(StopReason.Halted);
          expect(observable(a.m, a.writes)).toEqual(observable(b.m, b.writes));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("VMX instructions and GETSEC", () => {
  // Each raises #UD without an intercept (outside VMX operation) and exits when intercepted.
  const VMX: { name: string; bytes: number[]; reason: number; info?: number; qual?: number }[] = [
    { name: "VMCALL", bytes: [0x0f, 0x01, 0xc1], reason: VmExitReason.Vmcall },
    { name: "VMLAUNCH", bytes: [0x0f, 0x01, 0xc2], reason: VmExitReason.Vmlaunch },
    { name: "VMRESUME", bytes: [0x0f, 0x01, 0xc3], reason: VmExitReason.Vmresume },
    { name: "VMXOFF", bytes: [0x0f, 0x01, 0xc4], reason: VmExitReason.Vmxoff },
    { name: "VMFUNC", bytes: [0x0f, 0x01, 0xd4], reason: VmExitReason.Vmfunc },
    {
      name: "VMPTRLD [RAX+8]",
      bytes: [0x0f, 0xc7, 0x70, 0x08],
      reason: VmExitReason.Vmptrld,
      qual: 8,
      info: ((2 << 7) | (Seg.DS << 15) | (1 << 22) | (Gpr.RAX << 23)) >>> 0,
    },
    { name: "VMPTRST [RAX]", bytes: [0x0f, 0xc7, 0x38], reason: VmExitReason.Vmptrst },
    { name: "VMCLEAR [RAX]", bytes: [0x66, 0x0f, 0xc7, 0x30], reason: VmExitReason.Vmclear },
    { name: "VMXON [RAX]", bytes: [0xf3, 0x0f, 0xc7, 0x30], reason: VmExitReason.Vmxon },
    {
      name: "VMREAD RBX, RCX",
      bytes: [0x0f, 0x78, 0xcb],
      reason: VmExitReason.Vmread,
      info: ((Gpr.RBX << 3) | (1 << 10) | (Gpr.RCX << 28)) >>> 0,
    },
    {
      name: "VMWRITE RCX, RBX",
      bytes: [0x0f, 0x79, 0xcb],
      reason: VmExitReason.Vmwrite,
      info: ((Gpr.RBX << 3) | (1 << 10) | (Gpr.RCX << 28)) >>> 0,
    },
    {
      name: "INVEPT RCX, [RBX]",
      bytes: [0x66, 0x0f, 0x38, 0x80, 0x0b],
      reason: VmExitReason.Invept,
      qual: 0,
      info: ((2 << 7) | (Seg.DS << 15) | (1 << 22) | (Gpr.RBX << 23) | (Gpr.RCX << 28)) >>> 0,
    },
    { name: "INVVPID RCX, [RBX]", bytes: [0x66, 0x0f, 0x38, 0x81, 0x0b], reason: VmExitReason.Invvpid },
  ];

  function vmxMachine(bytes: number[]): TestMachine {
    const m = createMachine("long");
    m.load(L.CODE, [...bytes, HLT]);
    m.gate(6, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    set(m, Gpr.RAX, L.DATA);
    set(m, Gpr.RBX, L.DATA);
    set(m, Gpr.RCX, 0x4402);
    return m;
  }

  for (const row of VMX) {
    it(`${row.name}: #UD without an intercept, a VM exit with one`, () => {
      const a = vmxMachine(row.bytes);
      expect(a.cpu.run(100)).toBe(StopReason.Halted);
      expect(a.cpu.state.rip).toBe(L.HANDLER + 1);
      expect(a.cpu.eventCounts[6]).toBe(1);

      const b = vmxMachine(row.bytes);
      b.cpu.intercepts = on(row.reason);
      expect(b.cpu.run(100)).toBe(StopReason.VmExit);
      expect(b.cpu.exit.reason).toBe(row.reason);
      expect(b.cpu.exit.instructionLength).toBe(row.bytes.length);
      expect(b.cpu.state.rip).toBe(L.CODE);
      if (row.info !== undefined) expect(b.cpu.exit.instructionInfo).toBe(row.info);
      if (row.qual !== undefined) expect(b.cpu.exit.qualLo).toBe(row.qual);
      if (row.reason === VmExitReason.Vmread || row.reason === VmExitReason.Vmwrite)
        expect(b.cpu.exit.vmcsEncoding).toBe(0x4402);
      b.cpu.state.rip += b.cpu.exit.instructionLength;
      expect(b.cpu.run(100)).toBe(StopReason.Halted);
      expect(b.cpu.state.rip).toBe(L.CODE + row.bytes.length + 1);
    });
  }

  it("VMPTRLD in compatibility mode is #UD before any exit; VMCALL still exits in real mode", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x0f, 0xc7, 0x30, HLT]);
    m.gate(6, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    m.cpu.state.segSelector[Seg.CS] = 0x08;
    m.cpu.state.segAccess[Seg.CS] = 0xc09b; // 32-bit code under EFER.LMA: compatibility mode
    set(m, Gpr.RAX, L.DATA);
    const hook = on(VmExitReason.Vmptrld);
    m.cpu.intercepts = hook;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(hook.asked).not.toContain(VmExitReason.Vmptrld);

    const r = createMachine("real");
    r.load(0x7c00, [0x0f, 0x01, 0xc1, HLT]);
    r.cpu.intercepts = on(VmExitReason.Vmcall);
    expect(r.cpu.run(100)).toBe(StopReason.VmExit);
    expect(r.cpu.state.rip).toBe(0x7c00);
  });

  it("GETSEC is #UD (CR4.SMXE cannot be set) and never asks", () => {
    const m = vmxMachine([0x0f, 0x37]);
    const hook = never();
    m.cpu.intercepts = hook;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(L.HANDLER + 1);
    expect(hook.asked).not.toContain(VmExitReason.Getsec);
  });
});

describe("event intercept points", () => {
  const EXC = VmExitReason.ExceptionOrNmi;

  it("#UD: exits before delivery with hardware-exception interruption information", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x90, 0x0f, 0x0b, HLT]);
    m.gate(6, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    const hook = on(EXC);
    m.cpu.intercepts = hook;
    const rsp = m.cpu.state.lo(Gpr.RSP);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.reason).toBe(EXC);
    expect(m.cpu.exit.interruptionInfo).toBe(0x80000306);
    expect(m.cpu.state.rip).toBe(L.CODE + 1);
    expect(m.cpu.state.lo(Gpr.RSP)).toBe(rsp); // nothing pushed
    expect(m.cpu.eventCounts[6]).toBe(0);
    expect(m.cpu.instructions).toBe(1);
    // Declined: delivered as before.
    hook.wants = () => false;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(L.HANDLER + 1);
  });

  it("#GP(0) from WRMSR to a missing MSR: error code valid; the WRMSR point is asked first", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x0f, 0x30, HLT]);
    set(m, Gpr.RCX, 0x12345);
    const hook = on(EXC);
    m.cpu.intercepts = hook;
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(hook.asked).toEqual([VmExitReason.Wrmsr, EXC]);
    expect(m.cpu.exit.interruptionInfo).toBe(0x80000b0d);
    expect(m.cpu.exit.interruptionErrorCode).toBe(0);
    expect(m.cpu.state.rip).toBe(L.CODE);
  });

  it("#PF: the faulting linear address is the qualification, the error code is reported", () => {
    const m = createMachine("long");
    // mov rax, [0x40000000] (above the 1 GiB identity map)
    m.load(L.CODE, [0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40, HLT]);
    m.cpu.intercepts = on(EXC);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.interruptionInfo).toBe(0x80000b0e);
    expect(m.cpu.exit.interruptionErrorCode).toBe(0);
    expect(m.cpu.exit.qualLo).toBe(0x40000000);
    expect(m.cpu.state.rip).toBe(L.CODE);
  });

  it("INT3: a software exception with its length, RIP at INT3; resuming skips it", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0xcc, HLT]);
    m.gate(3, L.HANDLER, { dpl: 3 });
    m.load(L.HANDLER, [HLT]);
    const hook = on(EXC);
    m.cpu.intercepts = hook;
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.interruptionInfo).toBe(0x80000603);
    expect(m.cpu.exit.instructionLength).toBe(1);
    expect(m.cpu.state.rip).toBe(L.CODE);
    expect(m.cpu.instructions).toBe(0);
    expect(m.cpu.eventCounts[3]).toBe(0);
    m.cpu.state.rip += m.cpu.exit.instructionLength;
    hook.wants = () => false;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(L.CODE + 2);
  });

  it("a fault while delivering INT3 reports INT3 as IDT-vectoring information", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0xcc, HLT]); // gate 3 is empty: #GP(3*8+2)
    m.cpu.intercepts = new Recorder((e) => e.reason === EXC && (e.interruptionInfo & 0xff) === 13);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    const e = m.cpu.exit;
    expect(e.interruptionInfo).toBe(0x80000b0d);
    expect(e.interruptionErrorCode).toBe(3 * 8 + 2);
    expect(e.idtVectoringInfo).toBe(0x80000603);
    expect(e.instructionLength).toBe(1);
    expect(m.cpu.state.rip).toBe(L.CODE);
    expect(m.cpu.instructions).toBe(0);
  });

  it("triple fault: an exit instead of the shutdown", () => {
    const make = (): TestMachine => {
      const m = createMachine("long");
      m.load(L.CODE, [0x0f, 0x0b]);
      m.cpu.state.idtr.limit = 0; // every delivery faults
      return m;
    };
    const a = make();
    a.cpu.intercepts = on(VmExitReason.TripleFault);
    expect(a.cpu.run(100)).toBe(StopReason.VmExit);
    expect(a.cpu.exit.reason).toBe(VmExitReason.TripleFault);
    expect(a.cpu.state.rip).toBe(L.CODE);
    const b = make();
    b.cpu.intercepts = never();
    expect(b.cpu.run(100)).toBe(StopReason.Shutdown);
    const c = make();
    expect(c.cpu.run(100)).toBe(StopReason.Shutdown);
  });

  it("RDPMC: exits before its #GP (no counters); CPL 3 without CR4.PCE faults first", () => {
    const make = (): TestMachine => {
      const m = createMachine("long");
      m.load(L.CODE, [0x0f, 0x33, HLT]);
      m.gate(13, L.HANDLER);
      m.load(L.HANDLER, [HLT]);
      set(m, Gpr.RCX, 1);
      return m;
    };
    const a = make();
    a.cpu.intercepts = on(VmExitReason.Rdpmc);
    expect(a.cpu.run(100)).toBe(StopReason.VmExit);
    expect([a.cpu.exit.reason, a.cpu.exit.ecx, a.cpu.exit.instructionLength]).toEqual([
      VmExitReason.Rdpmc,
      1,
      2,
    ]);
    const b = make();
    b.cpu.intercepts = never();
    expect(b.cpu.run(100)).toBe(StopReason.Halted);
    expect(b.cpu.state.rip).toBe(L.HANDLER + 1);
  });

  it("NMI: asked before delivery; an exit consumes it and nothing is pushed", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x90, HLT]);
    m.gate(2, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    const hook = on(EXC);
    m.cpu.intercepts = hook;
    m.cpu.raiseNmi();
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.interruptionInfo).toBe(0x80000202);
    expect(m.cpu.nmiPending).toBe(false);
    expect(m.cpu.eventCounts[2]).toBe(0);
    expect(m.cpu.state.rip).toBe(L.CODE);
    // Declined: delivered through gate 2.
    hook.wants = () => false;
    m.cpu.raiseNmi();
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(L.HANDLER + 1);
  });

  it("INIT: an exit leaves the state alone and the next run returns it at once", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x90, HLT]);
    const hook = on(VmExitReason.InitSignal);
    m.cpu.intercepts = hook;
    m.cpu.init();
    expect(m.cpu.state.rip).toBe(L.CODE);
    expect(m.cpu.state.cr[0]).toBe(0x80010011);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.reason).toBe(VmExitReason.InitSignal);
    expect(m.cpu.instructions).toBe(0);
    expect(m.cpu.run(100)).toBe(StopReason.Halted); // latched once only
    hook.wants = () => false;
    m.cpu.init();
    expect(m.cpu.state.rip).toBe(0xfff0);
  });

  it("SIPI in wait-for-SIPI: an exit with the vector as qualification; the processor keeps waiting", () => {
    const m = createMachine("real");
    m.cpu.msrs.apicBase[0] = m.cpu.msrs.apicBase[0]! & ~0x100; // an application processor
    m.cpu.init();
    expect(m.cpu.waitingForSipi).toBe(true);
    const hook = on(VmExitReason.Sipi);
    m.cpu.intercepts = hook;
    expect(m.cpu.startup(0x12)).toBe(true);
    expect(m.cpu.waitingForSipi).toBe(true);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect([m.cpu.exit.reason, m.cpu.exit.qualLo]).toEqual([VmExitReason.Sipi, 0x12]);
    hook.wants = () => false;
    expect(m.cpu.startup(0x12)).toBe(true);
    expect(m.cpu.waitingForSipi).toBe(false);
    expect(m.cpu.state.segSelector[Seg.CS]).toBe(0x1200);
  });

  function pic(vector: number): InterruptSource & { pending: boolean; acks: number } {
    return {
      pending: true,
      acks: 0,
      hasInterrupt() {
        return this.pending;
      },
      acknowledge() {
        this.pending = false;
        this.acks++;
        return vector;
      },
    };
  }

  it("external interrupt: asked before INTA; an exit leaves it pending at the controller", () => {
    const src = pic(0x40);
    const m = createMachine("long", src);
    m.load(L.CODE, [0x90, HLT]);
    m.gate(0x40, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    m.cpu.state.flags.write(0x202);
    const hook = on(VmExitReason.ExternalInterrupt);
    m.cpu.intercepts = hook;
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.reason).toBe(VmExitReason.ExternalInterrupt);
    expect(src.acks).toBe(0);
    expect(src.pending).toBe(true);
    expect(m.cpu.state.rip).toBe(L.CODE);
    // The hypervisor takes it itself ("acknowledge interrupt on exit" left to the hook).
    hook.wants = () => false;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(src.acks).toBe(1);
    expect(m.cpu.state.rip).toBe(L.HANDLER + 1);
    // External interrupts are not asked about a second time at delivery.
    expect(hook.asked.filter((r) => r === EXC)).toEqual([]);
  });

  it("a fault while delivering an external interrupt reports it as IDT-vectoring information", () => {
    const src = pic(0x41); // gate 0x41 is empty: #GP(0x41*8 + 2 + EXT)
    const m = createMachine("long", src);
    m.load(L.CODE, [0x90, HLT]);
    m.cpu.state.flags.write(0x202);
    m.cpu.intercepts = new Recorder((e) => e.reason === EXC);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    const e = m.cpu.exit;
    expect(e.interruptionInfo).toBe(0x80000b0d);
    expect(e.interruptionErrorCode).toBe(0x41 * 8 + 3);
    expect(e.idtVectoringInfo).toBe(0x80000041);
    expect(e.instructionLength).toBe(0);
    expect(src.acks).toBe(1);
    expect(m.cpu.state.rip).toBe(L.CODE);
    expect(m.cpu.instructions).toBe(0);
  });

  it("interrupt window: exits at the first boundary with IF = 1, never with IF = 0", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x90, 0xfb, 0x90, 0x90, HLT]); // nop; sti; nop; nop; hlt
    const hook = on(VmExitReason.InterruptWindow);
    hook.interruptWindow = true;
    m.cpu.intercepts = hook;
    m.cpu.state.flags.write(0x2);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.reason).toBe(VmExitReason.InterruptWindow);
    // The STI shadow holds the window for one instruction: RIP is past the NOP after STI.
    expect(m.cpu.state.rip).toBe(L.CODE + 3);
    hook.interruptWindow = false;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
  });
});

describe("intercepts while single-stepping (RFLAGS.TF)", () => {
  function stepping(code: number[]): TestMachine {
    const m = createMachine("long");
    m.load(L.CODE, [...code, HLT]);
    m.gate(1, L.HANDLER);
    m.gate(3, L.HANDLER, { dpl: 3 });
    m.load(L.HANDLER, [HLT]);
    m.cpu.state.flags.write(0x102);
    return m;
  }

  it("an instruction exit raises no single-step trap", () => {
    const m = stepping([0x0f, 0xa2]);
    m.cpu.intercepts = on(VmExitReason.Cpuid);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.state.rip).toBe(L.CODE);
    expect(m.cpu.eventCounts[1]).toBe(0);
  });

  it("INT3 exits (thrown from its delivery) leave RIP at INT3", () => {
    const m = stepping([0xcc]);
    m.cpu.intercepts = on(VmExitReason.ExceptionOrNmi);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.interruptionInfo).toBe(0x80000603);
    expect(m.cpu.state.rip).toBe(L.CODE);
  });

  it("the single-step #DB exits with BS in the qualification, RIP after the stepped instruction", () => {
    const m = stepping([0x90, 0x90]);
    m.cpu.intercepts = on(VmExitReason.ExceptionOrNmi);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.interruptionInfo).toBe(0x80000301);
    expect(m.cpu.exit.qualLo & 0x4000).toBe(0x4000);
    expect(m.cpu.state.rip).toBe(L.CODE + 1);
    expect(m.cpu.eventCounts[1]).toBe(0);
  });
});

describe("NMI window", () => {
  it("exits at the first boundary without NMI blocking; never while an NMI handler runs", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x90, 0x90, HLT]);
    const hook = on(VmExitReason.NmiWindow);
    hook.nmiWindow = true;
    m.cpu.intercepts = hook;
    m.cpu.nmiBlocked = true;
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(hook.asked).not.toContain(VmExitReason.NmiWindow);
    m.cpu.state.rip = L.CODE;
    m.cpu.halted = false;
    m.cpu.nmiBlocked = false;
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.reason).toBe(VmExitReason.NmiWindow);
    expect(m.cpu.state.rip).toBe(L.CODE);
  });
});

describe("task switches (reason 9, SDM vol. 3, table 28-2)", () => {
  const TSS_SEL = 0x60;
  /** Protected mode with an available 32-bit TSS descriptor at 0x60 (base 0x4000) and `code`. */
  function taskMachine(code: number[]): TestMachine {
    const m = createMachine("protected");
    m.write32(L.GDT + TSS_SEL, (0x4000 << 16) | 0x67);
    m.write32(L.GDT + TSS_SEL + 4, 0x8900);
    m.cpu.state.gdtr.limit = 0x67;
    m.load(L.CODE, [...code, HLT]);
    m.gate(13, L.HANDLER);
    m.gate(10, L.HANDLER);
    m.load(L.HANDLER, [HLT]);
    return m;
  }
  const ROWS_TS: {
    name: string;
    code: number[];
    qual: number;
    len: number;
    prepare?: (m: TestMachine) => void;
  }[] = [
    { name: "JMP far to a TSS", code: [0xea, 0, 0, 0, 0, TSS_SEL, 0], qual: TSS_SEL | (2 << 30), len: 7 },
    { name: "CALL far to a TSS", code: [0x9a, 0, 0, 0, 0, TSS_SEL, 0], qual: TSS_SEL | (0 << 30), len: 7 },
    {
      name: "IRET with NT",
      code: [0xcf],
      qual: TSS_SEL | (1 << 30),
      len: 1,
      prepare: (m) => {
        m.cpu.state.flags.write(0x4002);
        m.write32(L.TSS, TSS_SEL); // previous-task link
      },
    },
  ];
  for (const row of ROWS_TS) {
    it(`${row.name}: exits before any TSS check; declining runs the switch as without a hook`, () => {
      const a = taskMachine(row.code);
      row.prepare?.(a);
      a.cpu.intercepts = on(VmExitReason.TaskSwitch);
      expect(a.cpu.run(100)).toBe(StopReason.VmExit);
      expect(a.cpu.exit.qualLo).toBe(row.qual >>> 0);
      expect(a.cpu.exit.instructionLength).toBe(row.len);
      expect(a.cpu.state.rip).toBe(L.CODE);
      expect(a.cpu.state.segSelector[Seg.TR]).toBe(0x40);
      const b = taskMachine(row.code);
      row.prepare?.(b);
      b.cpu.intercepts = never();
      const c = taskMachine(row.code);
      row.prepare?.(c);
      const rb = b.cpu.run(100);
      expect(c.cpu.run(100)).toBe(rb);
      expect(b.cpu.state.rip).toBe(c.cpu.state.rip);
      expect(b.cpu.state.segSelector[Seg.TR]).toBe(c.cpu.state.segSelector[Seg.TR]);
    });
  }

  it("INT n through an IDT task gate: source 3, the INT as IDT-vectoring information", () => {
    const m = taskMachine([0xcd, 0x30]);
    m.write32(L.IDT + 0x30 * 8, TSS_SEL << 16);
    m.write32(L.IDT + 0x30 * 8 + 4, 0xe500); // present, DPL 3, task gate
    m.cpu.intercepts = on(VmExitReason.TaskSwitch);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    const e = m.cpu.exit;
    expect(e.qualLo).toBe((TSS_SEL | (3 << 30)) >>> 0);
    expect(e.idtVectoringInfo).toBe(0x80000430);
    expect(e.instructionLength).toBe(2);
    expect(m.cpu.state.rip).toBe(L.CODE);
    expect(m.cpu.instructions).toBe(0);
  });

  it("#UD through an IDT task gate from the run loop: RIP at the faulting instruction", () => {
    const m = taskMachine([0x90, 0x0f, 0x0b]);
    m.write32(L.IDT + 6 * 8, TSS_SEL << 16);
    m.write32(L.IDT + 6 * 8 + 4, 0x8500);
    m.cpu.intercepts = on(VmExitReason.TaskSwitch);
    expect(m.cpu.run(100)).toBe(StopReason.VmExit);
    expect(m.cpu.exit.idtVectoringInfo).toBe(0x80000306);
    expect(m.cpu.exit.instructionLength).toBe(0);
    expect(m.cpu.state.rip).toBe(L.CODE + 1);
    expect(m.cpu.state.segSelector[Seg.TR]).toBe(0x40);
  });
});

describe("the exit reasons and the record are @turtles/vmx's", () => {
  it("VmExitReason is vmx's ExitReason, and the record a VmExitRecord cleared as vmx clears it", () => {
    expect(VmExitReason).toBe(ExitReason);
    const m = createMachine("real");
    expect(m.cpu.exit).toBeInstanceOf(VmExitRecord);
    const fresh = new VmExitRecord();
    for (const [name, value] of Object.entries(fresh))
      expect([name, (m.cpu.exit as unknown as Record<string, unknown>)[name]]).toEqual([name, value]);
  });
});

describe("stop reasons", () => {
  it("VmExit is added last and counted", () => {
    expect(StopReason.VmExit).toBe(5);
    expect(STOP_REASON_NAMES[StopReason.VmExit]).toBe("VmExit");
    const m = createMachine("real");
    expect(m.cpu.stopCounts.length).toBe(STOP_REASON_NAMES.length);
  });
});
