import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import {
  CpuMode,
  DEFAULT_VMX_FEATURES,
  VmInstructionError as E,
  type EntryCheckResult,
  VmcsField as F,
  FieldKind,
  fieldKind,
  fillLongModeVmcs,
  INVALID_VMCS_POINTER,
  invept,
  invvpid,
  LaunchState,
  loadVmcs12,
  Proc2Ctl,
  ProcCtl,
  VmxStatus as S,
  storeVmcs12,
  VMCS_FIELDS,
  VMCS12_LAUNCH_STATE_OFFSET,
  Vmcs,
  VmxCapabilities,
  VmxOperation,
  VmxState,
  vmcall,
  vmclear,
  vmcs12FieldOffset,
  vmfunc,
  vmlaunch,
  vmptrld,
  vmptrst,
  vmreadInstruction as vmread,
  vmwriteInstruction as vmwrite,
  vmxoff,
  vmxon,
} from "../src/index.js";
import { caps, FakeCpu } from "./fake-processor.js";

const VMXON = 0x1000;
const VMCS_A = 0x2000;
const VMCS_B = 0x3000;

function region(cpu: FakeCpu, addr: number, rev = caps.revisionId): void {
  cpu.memory.write32(addr, rev, 1);
}

let cpu: FakeCpu;
let s: VmxState;
beforeEach(() => {
  cpu = new FakeCpu();
  s = new VmxState(caps);
  region(cpu, VMXON);
  region(cpu, VMCS_A);
  region(cpu, VMCS_B);
});

function enterRoot(): void {
  cpu.pointer(VMXON);
  expect(vmxon(s, cpu)).toBe(S.Succeed);
}
function load(addr: number): void {
  cpu.pointer(addr);
  expect(vmptrld(s, cpu)).toBe(S.Succeed);
}

describe("VMXON", () => {
  it("#UD in real, virtual-8086 and compatibility modes and with CR4.VMXE = 0", () => {
    for (const mode of [CpuMode.Real, CpuMode.Virtual8086, CpuMode.Compatibility]) {
      cpu.cpuMode = mode;
      expect(vmxon(s, cpu)).toBe(S.UndefinedOpcode);
    }
    cpu.cpuMode = CpuMode.Long64;
    cpu.cr4Value = 0x20;
    expect(vmxon(s, cpu)).toBe(S.UndefinedOpcode);
  });

  it("#GP(0) for CPL > 0, unsupported CR0/CR4 bits and IA32_FEATURE_CONTROL", () => {
    cpu.privilege = 3;
    expect(vmxon(s, cpu)).toBe(S.GeneralProtection);
    cpu.privilege = 0;
    cpu.cr0Value = 0x8000_0011; // NE clear
    expect(vmxon(s, cpu)).toBe(S.GeneralProtection);
    cpu.cr0Value = 0x8000_0031;
    cpu.cr4Value = 0x2020 | (1 << 22);
    expect(vmxon(s, cpu)).toBe(S.GeneralProtection);
    cpu.cr4Value = 0x2020;
    cpu.msrs.set(0x3a, [4, 0]); // not locked
    expect(vmxon(s, cpu)).toBe(S.GeneralProtection);
    cpu.msrs.set(0x3a, [1, 0]); // locked, VMX outside SMX disabled
    expect(vmxon(s, cpu)).toBe(S.GeneralProtection);
    expect(cpu.flagsSet).toBe(0);
  });

  it("VMfailInvalid for a bad pointer or revision; succeeds otherwise", () => {
    cpu.operand = null;
    expect(vmxon(s, cpu)).toBe(S.OperandFault);
    for (const bad of [VMXON + 8, 2 ** 47]) {
      cpu.pointer(bad);
      expect(vmxon(s, cpu)).toBe(S.FailInvalid);
      expect(cpu.cf).toBe(true);
    }
    region(cpu, VMXON, caps.revisionId + 1);
    cpu.pointer(VMXON);
    expect(vmxon(s, cpu)).toBe(S.FailInvalid);
    region(cpu, VMXON, (caps.revisionId | 0x8000_0000) >>> 0);
    expect(vmxon(s, cpu)).toBe(S.FailInvalid);
    expect(s.operation).toBe(VmxOperation.Off);
    region(cpu, VMXON);
    expect(vmxon(s, cpu)).toBe(S.Succeed);
    expect([cpu.cf, cpu.zf]).toEqual([false, false]);
    expect(s.operation).toBe(VmxOperation.Root);
    expect(s.currentPointer).toBe(INVALID_VMCS_POINTER);
  });

  it("in root operation: #GP at CPL > 0, else VMfail(15); in non-root: VM exit", () => {
    enterRoot();
    cpu.privilege = 1;
    expect(vmxon(s, cpu)).toBe(S.GeneralProtection);
    cpu.privilege = 0;
    expect(vmxon(s, cpu)).toBe(S.FailInvalid);
    load(VMCS_A);
    expect(vmxon(s, cpu)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmxonInRoot);
    s.operation = VmxOperation.NonRoot;
    expect(vmxon(s, cpu)).toBe(S.VmExit);
  });
});

describe("the common prologue of the other VMX instructions", () => {
  const instructions = {
    vmxoff: () => vmxoff(s, cpu),
    vmclear: () => vmclear(s, cpu),
    vmptrld: () => vmptrld(s, cpu),
    vmptrst: () => vmptrst(s, cpu),
    vmread: () => vmread(s, cpu, F.GUEST_RIP, 0),
    vmwrite: () => vmwrite(s, cpu, F.GUEST_RIP, 0, false, 0, 0),
    invept: () => invept(s, cpu, 2, 0),
    invvpid: () => invvpid(s, cpu, 2, 0),
  };
  for (const [name, run] of Object.entries(instructions)) {
    it(`${name}: #UD outside VMX operation or in V86/compatibility mode, VM exit in non-root, #GP at CPL > 0`, () => {
      expect(run()).toBe(S.UndefinedOpcode);
      enterRoot();
      cpu.cpuMode = CpuMode.Compatibility;
      expect(run()).toBe(S.UndefinedOpcode);
      cpu.cpuMode = CpuMode.Virtual8086;
      expect(run()).toBe(S.UndefinedOpcode);
      cpu.cpuMode = CpuMode.Long64;
      cpu.privilege = 3;
      expect(run()).toBe(S.GeneralProtection);
      cpu.privilege = 0;
      s.operation = VmxOperation.NonRoot;
      expect(run()).toBe(S.VmExit);
    });
  }
});

describe("VMCLEAR / VMPTRLD / VMPTRST", () => {
  it("VMCLEAR: errors 2 and 3, launch state cleared in memory, current VMCS written back", () => {
    enterRoot();
    load(VMCS_A);
    cpu.pointer(VMCS_B + 4);
    expect(vmclear(s, cpu)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmclearInvalidAddress);
    cpu.pointer(VMXON);
    expect(vmclear(s, cpu)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmclearVmxonPointer);
    cpu.memory.write32(VMCS_B + VMCS12_LAUNCH_STATE_OFFSET, 1, 1);
    cpu.pointer(VMCS_B);
    expect(vmclear(s, cpu)).toBe(S.Succeed);
    expect(cpu.memory.read32(VMCS_B + VMCS12_LAUNCH_STATE_OFFSET, 0)).toBe(0);
    s.current.set(F.GUEST_RIP, 0x1234);
    s.current.launchState = LaunchState.Launched;
    cpu.pointer(VMCS_A);
    expect(vmclear(s, cpu)).toBe(S.Succeed);
    expect(s.hasCurrent).toBe(false);
    expect(cpu.memory.read32(VMCS_A + vmcs12FieldOffset(F.GUEST_RIP), 0)).toBe(0x1234);
    expect(cpu.memory.read32(VMCS_A + VMCS12_LAUNCH_STATE_OFFSET, 0)).toBe(0);
    cpu.pointer(VMCS_B + 1);
    expect(vmclear(s, cpu)).toBe(S.FailInvalid); // no current VMCS: VMfailInvalid
  });

  it("VMPTRLD: errors 9, 10, 11; loads from memory; switching writes the old one back", () => {
    enterRoot();
    cpu.pointer(VMCS_A | 0x10);
    expect(vmptrld(s, cpu)).toBe(S.FailInvalid);
    load(VMCS_A);
    cpu.pointer(VMXON);
    expect(vmptrld(s, cpu)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmptrldVmxonPointer);
    cpu.pointer(2 ** 50);
    expect(vmptrld(s, cpu)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmptrldInvalidAddress);
    region(cpu, VMCS_B, 0x1234);
    cpu.pointer(VMCS_B);
    expect(vmptrld(s, cpu)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmptrldBadRevision);
    // a shadow VMCS may be made current only if VMCS shadowing is supported
    region(cpu, VMCS_B, (caps.revisionId | 0x8000_0000) >>> 0);
    const noShadow = new VmxState(
      new VmxCapabilities({
        ...DEFAULT_VMX_FEATURES,
        proc2: DEFAULT_VMX_FEATURES.proc2 & ~Proc2Ctl.VmcsShadowing,
      }),
    );
    cpu.pointer(VMXON);
    vmxon(noShadow, cpu);
    cpu.pointer(VMCS_B);
    expect(vmptrld(noShadow, cpu)).toBe(S.FailInvalid);
    expect(vmptrld(s, cpu)).toBe(S.Succeed);
    expect(s.current.shadow).toBe(true);
    // switching: VMCS_A's cached contents reach memory
    load(VMCS_A);
    s.current.set(F.GUEST_RSP, 0xabcd);
    region(cpu, VMCS_B);
    load(VMCS_B);
    expect(cpu.memory.read32(VMCS_A + vmcs12FieldOffset(F.GUEST_RSP), 0)).toBe(0xabcd);
    load(VMCS_A);
    expect(s.current.get32(F.GUEST_RSP)).toBe(0xabcd);
  });

  it("VMWRITEs survive VMCLEAR and VMPTRLD (property, through the instructions)", () => {
    enterRoot();
    const supported = VMCS_FIELDS.filter(
      (f) => caps.isFieldSupported(f.encoding) && fieldKind(f.encoding) !== FieldKind.ExitInfo,
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(...supported),
            fc.integer({ min: 0, max: 0xffff_ffff }),
            fc.integer({ min: 0, max: 0xffff_ffff }),
          ),
          { minLength: 1, maxLength: 30 },
        ),
        (writes) => {
          load(VMCS_A);
          for (const [f, lo, hi] of writes)
            expect(vmwrite(s, cpu, f.encoding, 0, false, lo, hi)).toBe(S.Succeed);
          const before = Array.from(s.current.data);
          cpu.pointer(VMCS_A);
          expect(vmclear(s, cpu)).toBe(S.Succeed);
          load(VMCS_B); // another VMCS in between
          load(VMCS_A);
          for (const [f] of writes) {
            expect(vmread(s, cpu, f.encoding, 0)).toBe(S.Succeed);
            const slot = VMCS_FIELDS.indexOf(f);
            expect(cpu.written).toEqual([before[2 * slot], before[2 * slot + 1]]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("VMPTRST stores the current-VMCS pointer (all ones when there is none)", () => {
    enterRoot();
    expect(vmptrst(s, cpu)).toBe(S.Succeed);
    expect(cpu.written).toEqual([0xffff_ffff, 0xffff_ffff]);
    load(VMCS_A);
    vmptrst(s, cpu);
    expect(cpu.written).toEqual([VMCS_A, 0]);
    cpu.writeFaults = true;
    expect(vmptrst(s, cpu)).toBe(S.OperandFault);
  });
});

describe("VMREAD / VMWRITE", () => {
  it("root operation: VMfailInvalid without a VMCS, errors 12 and 13, values truncated", () => {
    enterRoot();
    expect(vmread(s, cpu, F.GUEST_RIP, 0)).toBe(S.FailInvalid);
    expect(vmwrite(s, cpu, F.GUEST_RIP, 0, false, 1, 0)).toBe(S.FailInvalid);
    load(VMCS_A);
    expect(vmwrite(s, cpu, F.GUEST_CS_SELECTOR, 0, false, 0x12345, 7)).toBe(S.Succeed);
    expect(vmread(s, cpu, F.GUEST_CS_SELECTOR, 0)).toBe(S.Succeed);
    expect(cpu.written).toEqual([0x2345, 0]);
    expect(vmread(s, cpu, 0x7777, 0)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.UnsupportedComponent);
    expect(vmwrite(s, cpu, F.GUEST_RIP, 1, false, 0, 0)).toBe(S.FailValid);
    cpu.operand = [0xaaaa_0000, 0xbbbb, 0, 0];
    expect(vmwrite(s, cpu, F.GUEST_RIP, 0, true, 0, 0)).toBe(S.Succeed);
    expect(s.current.getHi(F.GUEST_RIP)).toBe(0xbbbb);
    cpu.cpuMode = CpuMode.Protected; // 32-bit operand outside 64-bit mode
    expect(vmwrite(s, cpu, F.GUEST_RIP, 0, true, 0, 0)).toBe(S.Succeed);
    expect(s.current.getHi(F.GUEST_RIP)).toBe(0);
    const strict = new VmxState(
      new VmxCapabilities({
        ...DEFAULT_VMX_FEATURES,
        misc: { ...DEFAULT_VMX_FEATURES.misc, vmwriteAnyField: false },
      }),
    );
    cpu.pointer(VMXON);
    vmxon(strict, cpu);
    load(VMCS_A);
    cpu.pointer(VMCS_A);
    vmptrld(strict, cpu);
    expect(vmwrite(strict, cpu, F.VM_EXIT_REASON, 0, false, 1, 0)).toBe(S.FailValid);
    expect(strict.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.ReadOnlyComponent);
  });

  it("non-root with VMCS shadowing: served from the shadow VMCS unless the bitmap bit is set", () => {
    enterRoot();
    load(VMCS_A);
    const SHADOW = 0x5000;
    const RBITMAP = 0x6000;
    const WBITMAP = 0x7000;
    s.current.set(F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.SecondaryControls);
    s.current.set(F.SECONDARY_VM_EXEC_CONTROL, Proc2Ctl.VmcsShadowing);
    s.current.set(F.VMCS_LINK_POINTER, SHADOW);
    s.current.set(F.VMREAD_BITMAP, RBITMAP);
    s.current.set(F.VMWRITE_BITMAP, WBITMAP);
    const shadow = new Vmcs();
    shadow.revisionId = caps.revisionId;
    shadow.shadow = true;
    shadow.set(F.GUEST_RIP, 0x1111, 0x2222);
    storeVmcs12(cpu.memory, SHADOW, shadow);
    s.operation = VmxOperation.NonRoot;
    expect(vmread(s, cpu, F.GUEST_RIP, 0)).toBe(S.Succeed);
    expect(cpu.written).toEqual([0x1111, 0x2222]);
    expect(vmwrite(s, cpu, F.GUEST_CS_SELECTOR, 0, false, 0x1_0008, 0)).toBe(S.Succeed);
    loadVmcs12(cpu.memory, SHADOW, shadow);
    expect(shadow.get32(F.GUEST_CS_SELECTOR)).toBe(8);
    expect(vmwrite(s, cpu, F.EPT_POINTER | 1, 0, false, 0x55, 0)).toBe(S.Succeed);
    loadVmcs12(cpu.memory, SHADOW, shadow);
    expect(shadow.getHi(F.EPT_POINTER)).toBe(0x55);
    expect([s.shadowReads, s.shadowWrites]).toEqual([1, 2]);
    // a set bitmap bit, or bits above 14 of the encoding, cause a VM exit
    cpu.memory.write8(RBITMAP + (F.GUEST_RIP >>> 3), 1 << (F.GUEST_RIP & 7), 1);
    expect(vmread(s, cpu, F.GUEST_RIP, 0)).toBe(S.VmExit);
    expect(vmwrite(s, cpu, 0x8000, 0, false, 0, 0)).toBe(S.VmExit);
    s.current.set(F.SECONDARY_VM_EXEC_CONTROL, 0);
    expect(vmread(s, cpu, F.GUEST_RSP, 0)).toBe(S.VmExit);
  });
});

describe("VMLAUNCH / VMRESUME", () => {
  const result: EntryCheckResult = { failed: null, error: 0 };
  const ready = (root = true) => {
    if (root) enterRoot();
    load(VMCS_A);
    fillLongModeVmcs(s.current, caps, {
      hostRip: 0x1000,
      hostRsp: 0x2000,
      hostCr3: 0x3000,
      guestRip: 0x4000,
      guestRsp: 0x5000,
      guestCr3: 0x6000,
    });
  };
  const target = () => ({ cpu, guestMsrs: cpu });

  it("VMfailInvalid without a current VMCS; errors 26, 4, 5 in order", () => {
    enterRoot();
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.FailInvalid);
    ready(false);
    cpu.movSs = true;
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.EntryEventsBlockedByMovSs);
    cpu.movSs = false;
    expect(vmlaunch(s, cpu, false, target(), result)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmresumeNonLaunched);
    s.current.launchState = LaunchState.Launched;
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmlaunchNonClear);
  });

  it("errors 7 and 8 for controls and host state; exit 33/34 for guest state and MSR loading", () => {
    ready();
    s.current.set(F.CR3_TARGET_COUNT, 9);
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.EntryInvalidControls);
    s.current.set(F.CR3_TARGET_COUNT, 0);
    s.current.set(F.HOST_TR_SELECTOR, 0);
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.EntryInvalidHostState);
    s.current.set(F.HOST_TR_SELECTOR, 0x18);
    s.current.set(F.GUEST_RFLAGS, 0);
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.EntryFailed);
    expect(s.current.get32(F.VM_EXIT_REASON)).toBe(0x8000_0021);
    expect(s.current.launchState).toBe(LaunchState.Clear);
    s.current.set(F.GUEST_RFLAGS, 2);
    // MSR-load area: entry 2 names an MSR whose write faults
    s.current.set(F.VM_ENTRY_MSR_LOAD_COUNT, 2);
    s.current.set(F.ENTRY_MSR_LOAD_ADDR, 0x8000);
    cpu.memory.write32(0x8000, 0x174, 1);
    cpu.memory.write32(0x8010, 0xdead, 1);
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.EntryFailed);
    expect(s.current.get32(F.VM_EXIT_REASON)).toBe(0x8000_0022);
    expect(s.current.get32(F.EXIT_QUALIFICATION)).toBe(2);
    // more entries than the recommended maximum (512 with IA32_VMX_MISC[27:25] = 0): entry 513 fails
    s.current.set(F.VM_ENTRY_MSR_LOAD_COUNT, 600);
    s.current.set(F.ENTRY_MSR_LOAD_ADDR, 0x1_0000);
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.EntryFailed);
    expect(s.current.get32(F.EXIT_QUALIFICATION)).toBe(513);
  });

  it("success loads the guest state, marks the VMCS launched and enters non-root operation", () => {
    ready();
    expect(vmlaunch(s, cpu, true, target(), result)).toBe(S.EnterGuest);
    expect(s.operation).toBe(VmxOperation.NonRoot);
    expect(s.current.launchState).toBe(LaunchState.Launched);
    expect(cpu.state.get(F.GUEST_RIP)).toEqual([0x4000, 0]);
    expect(cpu.state.get(F.GUEST_CS_AR_BYTES)).toEqual([0xa09b, 0]);
    expect((cpu.state.get(F.GUEST_IA32_EFER)![0] >>> 8) & 5).toBe(5); // LME and LMA from "IA-32e mode guest"
    s.operation = VmxOperation.Root;
    expect(vmlaunch(s, cpu, false, target(), result)).toBe(S.EnterGuest);
  });
});

describe("INVEPT / INVVPID / VMCALL / VMFUNC", () => {
  it("INVEPT: #UD without EPT support; error 28 for bad types and EPTPs", () => {
    const noEpt = new VmxState(new VmxCapabilities({ ...DEFAULT_VMX_FEATURES, proc2: 0 }));
    expect(invept(noEpt, cpu, 1, 0)).toBe(S.UndefinedOpcode);
    enterRoot();
    expect(invept(s, cpu, 0, 0)).toBe(S.FailInvalid);
    load(VMCS_A);
    expect(invept(s, cpu, 3, 0)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.InvalidInveptInvvpidOperand);
    expect(invept(s, cpu, 1, 1)).toBe(S.FailValid);
    cpu.operand = [0x7000 | 5 | (3 << 3), 0, 0, 0];
    expect(invept(s, cpu, 1, 0)).toBe(S.FailValid);
    cpu.operand = [0x7000 | 6 | (3 << 3), 0, 0, 0];
    expect(invept(s, cpu, 1, 0)).toBe(S.Succeed);
    expect(invept(s, cpu, 2, 0)).toBe(S.Succeed);
    expect(cpu.invalidations).toEqual(["ept 1 701e:0", "ept 2 701e:0"]);
  });

  it("INVVPID: error 28 for bad types, reserved descriptor bits, VPID 0 and non-canonical addresses", () => {
    enterRoot();
    load(VMCS_A);
    const fails = (type: number, desc: number[]) => {
      cpu.operand = desc;
      return invvpid(s, cpu, type, 0);
    };
    expect(fails(4, [1, 0, 0, 0])).toBe(S.FailValid);
    expect(fails(1, [0x1_0001, 0, 0, 0])).toBe(S.FailValid);
    expect(fails(1, [0, 0, 0, 0])).toBe(S.FailValid);
    expect(fails(3, [0, 0, 0, 0])).toBe(S.FailValid);
    expect(fails(0, [5, 0, 0, 0x1_0000])).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.InvalidInveptInvvpidOperand);
    expect(fails(0, [5, 0, 0x1000, 0xffff_ffff])).toBe(S.Succeed);
    expect(fails(2, [0, 0, 0, 0])).toBe(S.Succeed);
    expect(cpu.invalidations).toEqual(["vpid 0 5 1000:ffffffff", "vpid 2 0 0:0"]);
  });

  it("VMCALL: #UD outside VMX, VM exit in non-root, VMfail(1) in root", () => {
    expect(vmcall(s, cpu)).toBe(S.UndefinedOpcode);
    enterRoot();
    cpu.cpuMode = CpuMode.Compatibility;
    expect(vmcall(s, cpu)).toBe(S.UndefinedOpcode);
    cpu.cpuMode = CpuMode.Long64;
    cpu.privilege = 3;
    expect(vmcall(s, cpu)).toBe(S.GeneralProtection);
    cpu.privilege = 0;
    expect(vmcall(s, cpu)).toBe(S.FailInvalid);
    load(VMCS_A);
    expect(vmcall(s, cpu)).toBe(S.FailValid);
    expect(s.current.get32(F.VM_INSTRUCTION_ERROR)).toBe(E.VmcallInRoot);
    s.operation = VmxOperation.NonRoot;
    expect(vmcall(s, cpu)).toBe(S.VmExit);
  });

  it("VMFUNC: #UD unless in non-root with VM functions; EPTP switching or VM exit", () => {
    enterRoot();
    load(VMCS_A);
    expect(vmfunc(s, cpu, 0, 0)).toBe(S.UndefinedOpcode);
    s.operation = VmxOperation.NonRoot;
    expect(vmfunc(s, cpu, 0, 0)).toBe(S.UndefinedOpcode);
    s.current.set(F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.SecondaryControls);
    s.current.set(F.SECONDARY_VM_EXEC_CONTROL, Proc2Ctl.Vmfunc | Proc2Ctl.Ept);
    expect(vmfunc(s, cpu, 0, 0)).toBe(S.VmExit); // function 0 not enabled
    s.current.set(F.VM_FUNCTION_CONTROLS, 1);
    s.current.set(F.EPTP_LIST_ADDRESS, 0x9000);
    cpu.memory.write64(0x9000 + 8 * 3, 0xa000 | 6 | (3 << 3), 0, 1);
    expect(vmfunc(s, cpu, 0, 3)).toBe(S.Succeed);
    expect(s.current.get32(F.EPT_POINTER)).toBe(0xa01e);
    expect(vmfunc(s, cpu, 0, 4)).toBe(S.VmExit); // invalid EPTP in the list
    expect(vmfunc(s, cpu, 0, 512)).toBe(S.VmExit);
    expect(vmfunc(s, cpu, 64, 0)).toBe(S.VmExit);
    expect(cpu.flagsSet).toBe(2); // VMXON and VMPTRLD only: VMFUNC leaves flags alone
  });

  it("VMXOFF writes the current VMCS back and leaves VMX operation", () => {
    enterRoot();
    load(VMCS_A);
    s.current.set(F.GUEST_RIP, 0x77);
    expect(vmxoff(s, cpu)).toBe(S.Succeed);
    expect(s.operation).toBe(VmxOperation.Off);
    expect(cpu.memory.read32(VMCS_A + vmcs12FieldOffset(F.GUEST_RIP), 0)).toBe(0x77);
  });
});
