import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CrAccessType,
  EXIT_TABLE,
  ExitReason,
  encodeCrAccessQualification,
  encodeInterruptionInfo,
  encodeIoQualification,
  encodeMovDrQualification,
  encodeTaskSwitchQualification,
  encodeVmxInstructionInfo,
  InterruptionType,
  interruptionType,
  interruptionVector,
} from "../src/index.js";

describe("exit-information encodings (SDM 28.2)", () => {
  it("interruption information: vector 7:0, type 10:8, error code 11, NMI unblocking 12, valid 31", () => {
    expect(encodeInterruptionInfo(14, InterruptionType.HardwareException, true)).toBe(0x8000_0b0e);
    expect(encodeInterruptionInfo(2, InterruptionType.Nmi, false, true)).toBe(0x8000_1202);
    expect(encodeInterruptionInfo(0x80, InterruptionType.SoftwareInterrupt, false)).toBe(0x8000_0480);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 2, 3, 4, 5, 6, 7), (v, t) => {
        const info = encodeInterruptionInfo(v, t as InterruptionType, false);
        expect([interruptionVector(info), interruptionType(info), info >>> 31]).toEqual([v, t, 1]);
      }),
    );
  });

  it("control-register, MOV-DR, I/O and task-switch qualifications", () => {
    // MOV CR3 <- RAX; MOV RBX <- CR8; CLTS; LMSW with source 0x0007 from memory
    expect(encodeCrAccessQualification(3, CrAccessType.MovToCr, 0)).toBe(0x03);
    expect(encodeCrAccessQualification(8, CrAccessType.MovFromCr, 3)).toBe(0x318);
    expect(encodeCrAccessQualification(0, CrAccessType.Clts, 0)).toBe(0x20);
    expect(encodeCrAccessQualification(0, CrAccessType.Lmsw, 0, 7, true)).toBe(0x0007_0070);
    expect(encodeMovDrQualification(7, true, 2)).toBe(0x217);
    // OUT DX, AL to 0x3f8; REP INSW from port 0x1f0 (immediate-free)
    expect(encodeIoQualification(0x3f8, 1, false, false, false, false)).toBe(0x03f8_0000);
    expect(encodeIoQualification(0x1f0, 2, true, true, true, false)).toBe(0x01f0_0039);
    expect(encodeIoQualification(0x80, 4, false, false, false, true)).toBe(0x0080_0043);
    expect(encodeTaskSwitchQualification(0x28, 3)).toBe(0xc000_0028);
  });

  it("VMX-instruction information: scaling, reg1, address size, register flag, segment, index, base, reg2", () => {
    // VMPTRLD [rax+rcx*8] in 64-bit mode, DS segment
    expect(encodeVmxInstructionInfo(3, 0, 2, false, 3, 1, 0, 0)).toBe(0x0004_0000 | 0x0001_8000 | 0x100 | 3);
    // VMREAD rbx, rdx (register form): reg1 = rbx (3), reg2 = rdx (2); index and base invalid
    const info = encodeVmxInstructionInfo(0, 3, 2, true, 0, -1, -1, 2);
    expect(info & 0x400).toBe(0x400);
    expect((info >>> 3) & 0xf).toBe(3);
    expect(info >>> 28).toBe(2);
    expect((info >>> 22) & 1).toBe(1);
    expect((info >>> 27) & 1).toBe(1);
  });
});

describe("which exit-information fields each basic exit reason defines", () => {
  // SDM 28.2.1: the reasons with an exit qualification
  const QUALIFIED = [
    0, 4, 5, 9, 14, 19, 21, 22, 23, 25, 27, 28, 29, 30, 33, 34, 44, 45, 46, 47, 48, 50, 53, 56, 58, 66,
  ];
  // SDM 28.2.5: instruction information is defined for these
  const WITH_INFO = [19, 21, 22, 23, 25, 27, 30, 46, 47, 50, 53, 57, 58, 61, 63, 64, 67, 68, 69, 78, 79];
  it("matches the SDM lists for every reason", () => {
    for (const [name, reason] of Object.entries(ExitReason)) {
      const row = EXIT_TABLE[reason]!;
      expect(row.qualification, `${name} qualification`).toBe(QUALIFIED.includes(reason));
      expect(row.instructionInfo, `${name} instruction info`).toBe(WITH_INFO.includes(reason));
      if (row.instructionInfo) expect(row.instructionLength, `${name} length`).toBe(true);
    }
    // events never carry an instruction length
    for (const r of [0, 1, 2, 3, 7, 8, 33, 34, 37, 41, 48, 49, 52])
      expect(EXIT_TABLE[r]!.instructionLength).toBe(false);
  });
});
