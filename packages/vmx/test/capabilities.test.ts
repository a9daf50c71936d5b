import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_VMX_FEATURES,
  ENTRY_CHECKS,
  ENTRY_DEFAULT1,
  EXIT_DEFAULT1,
  fieldIndex,
  PIN_DEFAULT1,
  PROC_DEFAULT1,
  ProcCtl,
  VMCS_FIELDS,
  Vmcs,
  VmcsField,
  VmxCapabilities,
  VmxMsr,
} from "../src/index.js";

const caps = new VmxCapabilities(DEFAULT_VMX_FEATURES);
function msr(index: number): [number, number] {
  const out = new Uint32Array(2);
  expect(caps.readMsr(index, out)).toBe(true);
  return [out[0]!, out[1]!];
}

describe("capability MSRs", () => {
  it("answers every VMX capability MSR 0x480-0x491 and nothing else", () => {
    for (let i = 0x480; i <= 0x491; i++) msr(i);
    expect(caps.readMsr(0x3a, new Uint32Array(2))).toBe(false);
  });

  it("IA32_VMX_BASIC: our revision id, 4 KiB region, WB, INS/OUTS info, TRUE controls", () => {
    const [lo, hi] = msr(VmxMsr.BASIC);
    expect(lo).toBe(DEFAULT_VMX_FEATURES.revisionId);
    expect(lo >>> 31).toBe(0);
    expect(hi & 0x1fff).toBe(4096);
    expect((hi >>> 18) & 0xf).toBe(6);
    expect((hi >>> 22) & 1).toBe(1);
    expect((hi >>> 23) & 1).toBe(1);
    expect((hi >>> 16) & 1).toBe(0); // no 32-bit address limit
  });

  it("control MSRs: allowed-0 within allowed-1, default1 bits honoured", () => {
    const pairs: [number, number, number][] = [
      [VmxMsr.PINBASED_CTLS, VmxMsr.TRUE_PINBASED_CTLS, PIN_DEFAULT1],
      [VmxMsr.PROCBASED_CTLS, VmxMsr.TRUE_PROCBASED_CTLS, PROC_DEFAULT1],
      [VmxMsr.EXIT_CTLS, VmxMsr.TRUE_EXIT_CTLS, EXIT_DEFAULT1],
      [VmxMsr.ENTRY_CTLS, VmxMsr.TRUE_ENTRY_CTLS, ENTRY_DEFAULT1],
    ];
    for (const [plain, tru, default1] of pairs) {
      const [lo, hi] = msr(plain);
      const [tlo, thi] = msr(tru);
      expect((lo & ~hi) >>> 0).toBe(0);
      expect((tlo & ~thi) >>> 0).toBe(0);
      expect(lo >>> 0).toBe(default1 >>> 0); // non-TRUE: every default1 bit must be 1
      expect((tlo & ~lo) >>> 0).toBe(0); // TRUE may only relax
      expect(thi).toBe(hi);
      expect((default1 & ~hi) >>> 0).toBe(0);
    }
    const [, p2] = msr(VmxMsr.PROCBASED_CTLS2);
    const [, proc] = msr(VmxMsr.PROCBASED_CTLS);
    expect(p2).not.toBe(0);
    expect((proc & ProcCtl.SecondaryControls) >>> 0).not.toBe(0);
    // KVM's TRUE_PROCBASED lets CR3-load/store exiting be 0
    const [tproc] = msr(VmxMsr.TRUE_PROCBASED_CTLS);
    expect(tproc & (ProcCtl.Cr3LoadExiting | ProcCtl.Cr3StoreExiting)).toBe(0);
  });

  it("fixed CR0/CR4 bits: FIXED0 within FIXED1, VMXE fixed to 1, PE/NE/PG fixed", () => {
    const [c0f0] = msr(VmxMsr.CR0_FIXED0);
    const [c0f1] = msr(VmxMsr.CR0_FIXED1);
    const [c4f0] = msr(VmxMsr.CR4_FIXED0);
    const [c4f1] = msr(VmxMsr.CR4_FIXED1);
    expect((c0f0 & ~c0f1) >>> 0).toBe(0);
    expect((c4f0 & ~c4f1) >>> 0).toBe(0);
    expect(c0f0).toBe(0x8000_0021);
    expect(c4f0 & 0x2000).toBe(0x2000);
  });

  it("VMCS_ENUM reports the highest index of a supported field", () => {
    const [lo] = msr(VmxMsr.VMCS_ENUM);
    const supported = VMCS_FIELDS.filter((f) => caps.isFieldSupported(f.encoding));
    expect((lo >>> 1) & 0x1ff).toBe(Math.max(...supported.map((f) => fieldIndex(f.encoding))));
    expect(lo & 1).toBe(0);
  });

  it("MISC, EPT_VPID_CAP and VMFUNC carry what KVM-as-L1 expects", () => {
    const [misc] = msr(VmxMsr.MISC);
    expect((misc >>> 5) & 1).toBe(1); // stores LMA
    expect((misc >>> 6) & 1).toBe(1); // HLT
    expect((misc >>> 8) & 1).toBe(1); // wait-for-SIPI
    expect((misc >>> 16) & 0x1ff).toBe(4);
    expect((misc >>> 29) & 1).toBe(1);
    const [elo, ehi] = msr(VmxMsr.EPT_VPID_CAP);
    for (const bit of [0, 6, 14, 16, 17, 20, 21, 25, 26]) expect((elo >>> bit) & 1, `EPT bit ${bit}`).toBe(1);
    for (const bit of [0, 8, 9, 10, 11]) expect((ehi >>> bit) & 1, `VPID bit ${bit + 32}`).toBe(1);
    expect(msr(VmxMsr.VMFUNC)).toEqual([1, 0]);
  });

  it("the fields that exist follow the features", () => {
    expect(caps.isFieldSupported(VmcsField.EPT_POINTER)).toBe(true);
    expect(caps.isFieldSupported(VmcsField.VMREAD_BITMAP)).toBe(true);
    expect(caps.isFieldSupported(VmcsField.TERTIARY_VM_EXEC_CONTROL)).toBe(false);
    const noEpt = new VmxCapabilities({ ...DEFAULT_VMX_FEATURES, proc2: 0 });
    expect(noEpt.isFieldSupported(VmcsField.EPT_POINTER)).toBe(false);
    expect(noEpt.isFieldSupported(VmcsField.EPT_POINTER | 1)).toBe(false);
    expect(noEpt.isFieldSupported(VmcsField.GUEST_RIP)).toBe(true);
  });
});

describe("capabilities from any feature description", () => {
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const features = fc
    .record({ pin: u32, proc: u32, proc2: u32, exit: u32, entry: u32, flex: u32 })
    .map((r) => ({
      ...DEFAULT_VMX_FEATURES,
      pin: { allowed1: r.pin, flexibleDefault1: r.flex & PIN_DEFAULT1 },
      proc: { allowed1: r.proc, flexibleDefault1: r.flex & PROC_DEFAULT1 },
      proc2: r.proc2,
      exit: { allowed1: r.exit, flexibleDefault1: r.flex & EXIT_DEFAULT1 },
      entry: { allowed1: r.entry, flexibleDefault1: r.flex & ENTRY_DEFAULT1 },
    }));

  it("keep allowed-0 within allowed-1 and TRUE MSRs only relaxing default1 bits", () => {
    fc.assert(
      fc.property(features, (f) => {
        const c = new VmxCapabilities(f);
        const out = new Uint32Array(2);
        for (const [plain, tru, default1] of [
          [VmxMsr.PINBASED_CTLS, VmxMsr.TRUE_PINBASED_CTLS, PIN_DEFAULT1],
          [VmxMsr.PROCBASED_CTLS, VmxMsr.TRUE_PROCBASED_CTLS, PROC_DEFAULT1],
          [VmxMsr.EXIT_CTLS, VmxMsr.TRUE_EXIT_CTLS, EXIT_DEFAULT1],
          [VmxMsr.ENTRY_CTLS, VmxMsr.TRUE_ENTRY_CTLS, ENTRY_DEFAULT1],
        ] as const) {
          c.readMsr(plain, out);
          const [lo, hi] = [out[0]!, out[1]!];
          c.readMsr(tru, out);
          const [tlo, thi] = [out[0]!, out[1]!];
          expect((lo & ~hi) >>> 0).toBe(0);
          expect(lo).toBe(default1 >>> 0);
          expect((tlo & ~lo) >>> 0).toBe(0);
          expect((lo & ~tlo & ~default1) >>> 0).toBe(0);
          expect(thi).toBe(hi);
        }
        c.readMsr(VmxMsr.PROCBASED_CTLS2, out);
        expect(out[0]).toBe(0);
        if ((f.proc.allowed1 & ProcCtl.SecondaryControls) === 0) expect(out[1]).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("VM entry accepts exactly the control settings the TRUE MSRs advertise", () => {
    fc.assert(
      fc.property(features, u32, u32, u32, u32, (f, pin, proc, exit, entry) => {
        const c = new VmxCapabilities(f);
        const vmcs = new Vmcs();
        vmcs.set(VmcsField.PIN_BASED_VM_EXEC_CONTROL, pin);
        vmcs.set(VmcsField.CPU_BASED_VM_EXEC_CONTROL, proc);
        vmcs.set(VmcsField.VM_EXIT_CONTROLS, exit);
        vmcs.set(VmcsField.VM_ENTRY_CONTROLS, entry);
        const ctx = { vmcs, caps: c, mem: createRamSpace(0x1000).space, hostLongMode: true };
        const out = new Uint32Array(2);
        for (const [id, msr, value] of [
          ["ctl.pin.reserved", VmxMsr.TRUE_PINBASED_CTLS, pin],
          ["ctl.proc.reserved", VmxMsr.TRUE_PROCBASED_CTLS, proc],
          ["ctl.exit.reserved", VmxMsr.TRUE_EXIT_CTLS, exit],
          ["ctl.entry.reserved", VmxMsr.TRUE_ENTRY_CTLS, entry],
        ] as const) {
          c.readMsr(msr, out);
          const advertised = (value & out[0]!) >>> 0 === out[0]! && (value & ~out[1]!) === 0;
          const chk = ENTRY_CHECKS.find((k) => k.id === id)!;
          expect(chk.passes(ctx), id).toBe(advertised);
        }
      }),
      { numRuns: 300 },
    );
  });
});
