import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CrAccessType,
  EXIT_TABLE,
  ExitReason,
  encodeCrAccessQualification,
  encodeInterruptionInfo,
  encodeIoQualification,
  exitReasonNames,
  VmcsField as F,
  InterruptionType,
  l1WantsExit,
  Vmcs,
  VmExitRecord,
} from "../src/index.js";

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const bit = (v: number, b: number) => ((v >>> b) & 1) === 1;
interface Ctl {
  pin: number;
  proc: number;
  proc2: number;
}
// proc2 counts only when "activate secondary controls" (proc bit 31) is set (SDM 25.6.2).
const p2 = (c: Ctl, b: number) => bit(c.proc, 31) && bit(c.proc2, b);

/** The SDM's definition (26.1-26.2), written independently of the table, for control-only reasons. */
const CONTROL_SPEC: Record<number, (c: Ctl) => boolean> = {
  [ExitReason.ExternalInterrupt]: (c) => bit(c.pin, 0),
  [ExitReason.TripleFault]: () => true,
  [ExitReason.InitSignal]: () => true,
  [ExitReason.Sipi]: () => true,
  [ExitReason.IoSmi]: () => true,
  [ExitReason.OtherSmi]: () => true,
  [ExitReason.InterruptWindow]: (c) => bit(c.proc, 2),
  [ExitReason.NmiWindow]: (c) => bit(c.proc, 22),
  [ExitReason.TaskSwitch]: () => true,
  [ExitReason.Cpuid]: () => true,
  [ExitReason.Getsec]: () => true,
  [ExitReason.Hlt]: (c) => bit(c.proc, 7),
  [ExitReason.Invd]: () => true,
  [ExitReason.Invlpg]: (c) => bit(c.proc, 9),
  [ExitReason.Rdpmc]: (c) => bit(c.proc, 11),
  [ExitReason.Rdtsc]: (c) => bit(c.proc, 12),
  [ExitReason.Rsm]: () => true,
  [ExitReason.Vmcall]: () => true,
  [ExitReason.Vmclear]: () => true,
  [ExitReason.Vmlaunch]: () => true,
  [ExitReason.Vmptrld]: () => true,
  [ExitReason.Vmptrst]: () => true,
  [ExitReason.Vmread]: () => true,
  [ExitReason.Vmresume]: () => true,
  [ExitReason.Vmwrite]: () => true,
  [ExitReason.Vmxoff]: () => true,
  [ExitReason.Vmxon]: () => true,
  [ExitReason.MovDr]: (c) => bit(c.proc, 23),
  [ExitReason.EntryFailGuestState]: () => true,
  [ExitReason.EntryFailMsrLoad]: () => true,
  [ExitReason.Mwait]: (c) => bit(c.proc, 10),
  [ExitReason.MonitorTrapFlag]: (c) => bit(c.proc, 27),
  [ExitReason.Monitor]: (c) => bit(c.proc, 29),
  [ExitReason.Pause]: (c) => bit(c.proc, 30) || p2(c, 10),
  [ExitReason.EntryFailMachineCheck]: () => true,
  [ExitReason.TprBelowThreshold]: (c) => bit(c.proc, 21),
  [ExitReason.ApicAccess]: (c) => p2(c, 0),
  [ExitReason.VirtualizedEoi]: (c) => p2(c, 9),
  [ExitReason.GdtrIdtrAccess]: (c) => p2(c, 2),
  [ExitReason.LdtrTrAccess]: (c) => p2(c, 2),
  [ExitReason.Invept]: () => true,
  [ExitReason.Rdtscp]: (c) => bit(c.proc, 12),
  [ExitReason.PreemptionTimer]: (c) => bit(c.pin, 6),
  [ExitReason.Invvpid]: () => true,
  [ExitReason.Wbinvd]: (c) => p2(c, 6),
  [ExitReason.Xsetbv]: () => true,
  [ExitReason.ApicWrite]: () => true,
  [ExitReason.Rdrand]: (c) => p2(c, 11),
  [ExitReason.Invpcid]: (c) => bit(c.proc, 9),
  [ExitReason.Vmfunc]: () => true,
  [ExitReason.Rdseed]: (c) => p2(c, 16),
  [ExitReason.PmlFull]: () => false, // L0 emulates PML for L1: the hardware log is L0's
  [ExitReason.Pconfig]: () => true,
  [ExitReason.SppEvent]: () => false,
  [ExitReason.Umwait]: (c) => bit(c.proc, 12),
  [ExitReason.Tpause]: (c) => bit(c.proc, 12),
  [ExitReason.Loadiwkey]: () => true,
  [ExitReason.Enclv]: () => true,
  [ExitReason.EnqcmdPasidFailure]: () => true,
  [ExitReason.EnqcmdsPasidFailure]: () => true,
  [ExitReason.BusLock]: (c) => p2(c, 30),
  [ExitReason.InstructionTimeout]: (c) => p2(c, 31),
  [ExitReason.Seamcall]: () => true,
  [ExitReason.Tdcall]: () => true,
  [ExitReason.Rdmsrlist]: () => true,
  [ExitReason.Wrmsrlist]: () => true,
};
/** Reasons whose decision reads more than the three control words: tested one by one below. */
const CUSTOM = new Set<number>([
  ExitReason.ExceptionOrNmi,
  ExitReason.CrAccess,
  ExitReason.IoInstruction,
  ExitReason.Rdmsr,
  ExitReason.Wrmsr,
  ExitReason.EptViolation,
  ExitReason.EptMisconfig,
  ExitReason.Encls,
  ExitReason.Xsaves,
  ExitReason.Xrstors,
]);

function setup(c: Ctl) {
  const v = new Vmcs();
  v.set(F.PIN_BASED_VM_EXEC_CONTROL, c.pin);
  v.set(F.CPU_BASED_VM_EXEC_CONTROL, c.proc);
  v.set(F.SECONDARY_VM_EXEC_CONTROL, c.proc2);
  return v;
}
const { space: mem } = createRamSpace(0x20000);
const exit = new VmExitRecord();

describe("exit table", () => {
  it("has a row for every basic exit reason of SDM appendix C, and every row is specified here", () => {
    for (const [name, reason] of Object.entries(ExitReason)) {
      expect(EXIT_TABLE[reason]?.reason, name).toBe(reason);
      expect(exitReasonNames[reason]).toBe(name);
      expect(reason in CONTROL_SPEC || CUSTOM.has(reason), `${name} has a test`).toBe(true);
    }
    for (const unused of [35, 38, 42, 71]) expect(EXIT_TABLE[unused]).toBeUndefined();
  });

  it("VMX instructions always go to L1", () => {
    for (let r = ExitReason.Vmcall; r <= ExitReason.Vmxon; r++) {
      exit.clear();
      exit.reason = r;
      expect(l1WantsExit(new Vmcs(), exit, mem)).toBe(true);
    }
  });
});

describe("l1WantsExit matches the SDM over control combinations", () => {
  for (const [reasonText, spec] of Object.entries(CONTROL_SPEC)) {
    const reason = Number(reasonText);
    it(`${exitReasonNames[reason]} (${reason})`, () => {
      fc.assert(
        fc.property(u32, u32, u32, (pin, proc, proc2) => {
          const c = { pin, proc, proc2 };
          exit.clear();
          exit.reason = reason;
          expect(l1WantsExit(setup(c), exit, mem)).toBe(spec(c));
        }),
        { numRuns: 200 },
      );
      // all-zero and all-ones corners
      for (const c of [
        { pin: 0, proc: 0, proc2: 0 },
        { pin: ~0 >>> 0, proc: ~0 >>> 0, proc2: ~0 >>> 0 },
        { pin: 0, proc: 0x7fff_ffff, proc2: ~0 >>> 0 },
      ]) {
        exit.clear();
        exit.reason = reason;
        expect(l1WantsExit(setup(c), exit, mem)).toBe(spec(c));
      }
    });
  }
});

describe("l1WantsExit, reasons that read more of VMCS12", () => {
  it("exceptions: exception bitmap; #PF with error-code mask/match; NMIs by NMI exiting", () => {
    fc.assert(
      fc.property(
        u32,
        u32,
        u32,
        u32,
        fc.integer({ min: 0, max: 31 }),
        (bitmap, mask, match, pfec, vector) => {
          const v = setup({ pin: 0, proc: 0, proc2: 0 });
          v.set(F.EXCEPTION_BITMAP, bitmap);
          v.set(F.PAGE_FAULT_ERROR_CODE_MASK, mask);
          v.set(F.PAGE_FAULT_ERROR_CODE_MATCH, match);
          exit.clear();
          exit.reason = ExitReason.ExceptionOrNmi;
          exit.interruptionInfo = encodeInterruptionInfo(
            vector,
            InterruptionType.HardwareException,
            vector === 14,
          );
          exit.interruptionErrorCode = pfec;
          let want = bit(bitmap, vector);
          if (vector === 14) want = ((pfec & mask) >>> 0 === match) === bit(bitmap, 14);
          expect(l1WantsExit(v, exit, mem)).toBe(want);
        },
      ),
      { numRuns: 500 },
    );
    const v = setup({ pin: 0, proc: 0, proc2: 0 });
    v.set(F.EXCEPTION_BITMAP, 1 << 14);
    exit.clear();
    exit.reason = ExitReason.ExceptionOrNmi;
    exit.interruptionInfo = encodeInterruptionInfo(14, InterruptionType.HardwareException, true);
    exit.interruptionErrorCode = 2;
    expect(l1WantsExit(v, exit, mem)).toBe(true); // mask 0 == match 0: bit 14 decides
    v.set(F.PAGE_FAULT_ERROR_CODE_MATCH, 1);
    expect(l1WantsExit(v, exit, mem)).toBe(false); // no match: inverted
    exit.interruptionInfo = encodeInterruptionInfo(2, InterruptionType.Nmi, false);
    expect(l1WantsExit(v, exit, mem)).toBe(false);
    v.set(F.PIN_BASED_VM_EXEC_CONTROL, 1 << 3);
    expect(l1WantsExit(v, exit, mem)).toBe(true);
  });

  it("MOV to CR0/CR4 exits when a masked bit differs from the read shadow", () => {
    fc.assert(
      fc.property(u32, u32, u32, u32, u32, u32, fc.constantFrom(0, 4), (mLo, mHi, sLo, sHi, vLo, vHi, cr) => {
        const v = setup({ pin: 0, proc: 0, proc2: 0 });
        const maskF = cr === 0 ? F.CR0_GUEST_HOST_MASK : F.CR4_GUEST_HOST_MASK;
        const shadowF = cr === 0 ? F.CR0_READ_SHADOW : F.CR4_READ_SHADOW;
        v.set(maskF, mLo, mHi);
        v.set(shadowF, sLo, sHi);
        exit.clear();
        exit.reason = ExitReason.CrAccess;
        exit.qualLo = encodeCrAccessQualification(cr, CrAccessType.MovToCr, 3);
        exit.crValueLo = vLo;
        exit.crValueHi = vHi;
        const want = ((vLo ^ sLo) & mLo) !== 0 || ((vHi ^ sHi) & mHi) !== 0;
        expect(l1WantsExit(v, exit, mem)).toBe(want);
        // the same value as the shadow never exits
        exit.crValueLo = sLo;
        exit.crValueHi = sHi;
        expect(l1WantsExit(v, exit, mem)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("MOV to CR3: CR3-load exiting unless the value is one of the first CR3-target-count targets", () => {
    const v = setup({ pin: 0, proc: 0, proc2: 0 });
    exit.clear();
    exit.reason = ExitReason.CrAccess;
    exit.qualLo = encodeCrAccessQualification(3, CrAccessType.MovToCr, 0);
    exit.crValueLo = 0x5000;
    expect(l1WantsExit(v, exit, mem)).toBe(false);
    v.set(F.CPU_BASED_VM_EXEC_CONTROL, 1 << 15);
    expect(l1WantsExit(v, exit, mem)).toBe(true);
    v.set(F.CR3_TARGET_VALUE1, 0x5000);
    expect(l1WantsExit(v, exit, mem)).toBe(true); // count 0
    v.set(F.CR3_TARGET_COUNT, 1);
    expect(l1WantsExit(v, exit, mem)).toBe(true); // only target 0 counts
    v.set(F.CR3_TARGET_COUNT, 2);
    expect(l1WantsExit(v, exit, mem)).toBe(false);
    exit.crValueHi = 1;
    expect(l1WantsExit(v, exit, mem)).toBe(true);
  });

  it("MOV from CR3/CR8, MOV to CR8, MOV from CR0/CR4", () => {
    const cases: [number, CrAccessType, number, boolean][] = [
      [3, CrAccessType.MovFromCr, 1 << 16, true],
      [3, CrAccessType.MovFromCr, 1 << 15, false],
      [8, CrAccessType.MovToCr, 1 << 19, true],
      [8, CrAccessType.MovToCr, 1 << 20, false],
      [8, CrAccessType.MovFromCr, 1 << 20, true],
      [8, CrAccessType.MovFromCr, 1 << 19, false],
      [0, CrAccessType.MovFromCr, ~0 >>> 0, false],
      [4, CrAccessType.MovFromCr, ~0 >>> 0, false],
    ];
    for (const [cr, access, proc, want] of cases) {
      const v = setup({ pin: 0, proc, proc2: 0 });
      v.set(F.CR0_GUEST_HOST_MASK, ~0 >>> 0, ~0 >>> 0);
      exit.clear();
      exit.reason = ExitReason.CrAccess;
      exit.qualLo = encodeCrAccessQualification(cr, access, 1);
      expect(l1WantsExit(v, exit, mem), `cr${cr} access ${access}`).toBe(want);
    }
  });

  it("CLTS exits when CR0.TS is owned by L1 and set in the shadow; LMSW per SDM 26.1.3", () => {
    const v = setup({ pin: 0, proc: 0, proc2: 0 });
    exit.clear();
    exit.reason = ExitReason.CrAccess;
    exit.qualLo = encodeCrAccessQualification(0, CrAccessType.Clts, 0);
    for (const [mask, shadow, want] of [
      [8, 8, true],
      [8, 0, false],
      [0, 8, false],
    ] as const) {
      v.set(F.CR0_GUEST_HOST_MASK, mask);
      v.set(F.CR0_READ_SHADOW, shadow);
      expect(l1WantsExit(v, exit, mem)).toBe(want);
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 15 }),
        (mask, shadow, src) => {
          v.set(F.CR0_GUEST_HOST_MASK, mask);
          v.set(F.CR0_READ_SHADOW, shadow);
          exit.qualLo = encodeCrAccessQualification(0, CrAccessType.Lmsw, 0, src);
          // LMSW sets PE but never clears it; bits 3:1 are written as given
          const pe = bit(mask, 0) && !bit(shadow, 0) && bit(src, 0);
          const others = [1, 2, 3].some((b) => bit(mask, b) && bit(shadow, b) !== bit(src, b));
          expect(l1WantsExit(v, exit, mem)).toBe(pe || others);
        },
      ),
    );
  });

  it("I/O: bitmaps A and B when used, unconditional exiting otherwise, wrap-around exits", () => {
    const v = setup({ pin: 0, proc: 0, proc2: 0 });
    v.setNumber(F.IO_BITMAP_A, 0x1000);
    v.setNumber(F.IO_BITMAP_B, 0x2000);
    mem.write8(0x1000 + (0x3f8 >>> 3), 1 << (0x3f8 & 7), 1);
    mem.write8(0x2000 + ((0x8001 & 0x7fff) >>> 3), 1 << (0x8001 & 7), 1);
    const io = (port: number, size: 1 | 2 | 4) => {
      exit.clear();
      exit.reason = ExitReason.IoInstruction;
      exit.qualLo = encodeIoQualification(port, size, true, false, false, false);
      return l1WantsExit(v, exit, mem);
    };
    expect(io(0x3f8, 1)).toBe(false);
    v.set(F.CPU_BASED_VM_EXEC_CONTROL, 1 << 24);
    expect(io(0x3f8, 1)).toBe(true);
    expect(io(0x80, 1)).toBe(true);
    v.set(F.CPU_BASED_VM_EXEC_CONTROL, (1 << 24) | (1 << 25)); // bitmaps win over unconditional
    expect(io(0x3f8, 1)).toBe(true);
    expect(io(0x3f9, 1)).toBe(false);
    expect(io(0x3f6, 4)).toBe(true); // covers 0x3f8
    expect(io(0x3f9, 4)).toBe(false);
    expect(io(0x8000, 2)).toBe(true); // 0x8001 in bitmap B
    expect(io(0x7fff, 2)).toBe(false);
    expect(io(0xffff, 2)).toBe(true); // wraps
  });

  it("RDMSR/WRMSR: the four quarters of the MSR bitmap, out-of-range MSRs always exit", () => {
    const v = setup({ pin: 0, proc: 0, proc2: 0 });
    v.setNumber(F.MSR_BITMAP, 0x4000);
    const msr = (ecx: number, write: boolean) => {
      exit.clear();
      exit.reason = write ? ExitReason.Wrmsr : ExitReason.Rdmsr;
      exit.ecx = ecx;
      return l1WantsExit(v, exit, mem);
    };
    expect(msr(0x10, false)).toBe(true); // no bitmaps: every MSR access exits
    v.set(F.CPU_BASED_VM_EXEC_CONTROL, 1 << 28);
    expect(msr(0x10, false)).toBe(false);
    const setBit = (offset: number, index: number) =>
      mem.write8(
        0x4000 + offset + (index >>> 3),
        mem.read8(0x4000 + offset + (index >>> 3), 0) | (1 << (index & 7)),
        1,
      );
    setBit(0, 0x10);
    setBit(1024, 0x80);
    setBit(2048, 0x1ff);
    setBit(3072, 0x100);
    expect(msr(0x10, false)).toBe(true);
    expect(msr(0x10, true)).toBe(false);
    expect(msr(0xc000_0080, false)).toBe(true);
    expect(msr(0xc000_0080, true)).toBe(false);
    expect(msr(0x1ff, true)).toBe(true);
    expect(msr(0xc000_0100, true)).toBe(true);
    expect(msr(0xc000_0100, false)).toBe(false);
    expect(msr(0x4000_0000, false)).toBe(true);
    expect(msr(0xc000_2000, true)).toBe(true);
  });

  it("EPT violations/misconfigurations are L1's only when they lie in EPT12 and L1 uses EPT", () => {
    for (const reason of [ExitReason.EptViolation, ExitReason.EptMisconfig]) {
      for (const inEpt12 of [false, true]) {
        for (const ept of [false, true]) {
          const v = setup({ pin: 0, proc: 1 << 31, proc2: ept ? 2 : 0 });
          exit.clear();
          exit.reason = reason;
          exit.inEpt12 = inEpt12;
          expect(l1WantsExit(v, exit, mem)).toBe(inEpt12 && ept);
        }
      }
    }
  });

  it("ENCLS by its exiting bitmap; XSAVES/XRSTORS by the XSS-exiting bitmap", () => {
    const v = setup({ pin: 0, proc: 1 << 31, proc2: (1 << 15) | (1 << 20) });
    v.set(F.ENCLS_EXITING_BITMAP, 1 << 3, 1 << 31);
    exit.clear();
    exit.reason = ExitReason.Encls;
    exit.eax = 3;
    expect(l1WantsExit(v, exit, mem)).toBe(true);
    exit.eax = 4;
    expect(l1WantsExit(v, exit, mem)).toBe(false);
    exit.eax = 100; // leaves >= 63 use bit 63
    expect(l1WantsExit(v, exit, mem)).toBe(true);
    for (const reason of [ExitReason.Xsaves, ExitReason.Xrstors]) {
      v.set(F.XSS_EXIT_BITMAP, 0x100, 0);
      exit.clear();
      exit.reason = reason;
      exit.eax = 0x100;
      expect(l1WantsExit(v, exit, mem)).toBe(true);
      exit.eax = 0xff;
      expect(l1WantsExit(v, exit, mem)).toBe(false);
      exit.eax = 0x100;
      exit.xssLo = 0xff; // IA32_XSS does not enable component 8: no exit
      expect(l1WantsExit(v, exit, mem)).toBe(false);
      exit.xssLo = 0xffff_ffff;
      v.set(F.SECONDARY_VM_EXEC_CONTROL, 0);
      exit.eax = 0x100;
      expect(l1WantsExit(v, exit, mem)).toBe(false);
      v.set(F.SECONDARY_VM_EXEC_CONTROL, (1 << 15) | (1 << 20));
    }
  });
});
