import { describe, expect, it } from "vitest";
import {
  EntryCtl,
  ExitCtl,
  ExitReason,
  VmcsField as F,
  fillLongModeVmcs,
  performVmExit,
  readExitRecord,
  recordExit,
  Vmcs,
  VmExitRecord,
  VmxAbort,
  vmcsFieldName,
} from "../src/index.js";
import { caps, FakeCpu } from "./fake-processor.js";

function setup() {
  const cpu = new FakeCpu();
  const vmcs = new Vmcs();
  fillLongModeVmcs(vmcs, caps, {
    hostRip: 0xffff_8000,
    hostRsp: 0x2000,
    hostCr3: 0x3000,
    guestRip: 0x4000,
    guestRsp: 0x5000,
    guestCr3: 0x6000,
  });
  vmcs.set(F.HOST_FS_BASE, 0x1234, 0xffff_8000);
  vmcs.set(F.HOST_TR_BASE, 0x9000);
  vmcs.set(F.HOST_DS_SELECTOR, 0);
  // the guest's current state
  cpu.state.set(F.GUEST_RIP, [0x4444, 0]);
  cpu.state.set(F.GUEST_RSP, [0x5555, 0]);
  cpu.state.set(F.GUEST_IA32_EFER, [0x500, 0]);
  cpu.state.set(F.GUEST_IA32_PAT, [0x0007_0406, 0x0007_0406]);
  cpu.state.set(F.GUEST_DR7, [0x401, 0]);
  return { cpu, vmcs };
}
const exit = new VmExitRecord();

describe("VM exit (SDM chapter 28)", () => {
  it("records the exit, saves the guest state the controls ask for, loads the host state", () => {
    const { cpu, vmcs } = setup();
    vmcs.set(F.VM_EXIT_CONTROLS, vmcs.get32(F.VM_EXIT_CONTROLS) | ExitCtl.SavePat);
    vmcs.set(F.VM_ENTRY_INTR_INFO, 0x8000_0030);
    exit.clear();
    exit.reason = ExitReason.Cpuid;
    exit.instructionLength = 2;
    expect(performVmExit(vmcs, exit, { cpu, guestMsrs: cpu, hostMsrs: cpu, mem: cpu.memory })).toBe(
      VmxAbort.None,
    );
    expect(vmcs.get32(F.VM_EXIT_REASON)).toBe(10);
    expect(vmcs.get32(F.VM_EXIT_INSTRUCTION_LEN)).toBe(2);
    expect(vmcs.get32(F.VM_ENTRY_INTR_INFO) >>> 31).toBe(0);
    expect(vmcs.get32(F.GUEST_RIP)).toBe(0x4444);
    expect(vmcs.get32(F.GUEST_RSP)).toBe(0x5555);
    expect(vmcs.get32(F.GUEST_IA32_PAT)).toBe(0x0007_0406); // SavePat
    expect(vmcs.get32(F.GUEST_DR7)).toBe(0x400); // SaveDebugControls is 0: not saved
    expect(vmcs.get32(F.VM_ENTRY_CONTROLS) & EntryCtl.Ia32eModeGuest).not.toBe(0); // EFER.LMA stored
    // host state now in the processor
    expect(cpu.state.get(F.GUEST_RIP)).toEqual([0xffff_8000, 0]);
    expect(cpu.state.get(F.GUEST_RSP)).toEqual([0x2000, 0]);
    expect(cpu.state.get(F.GUEST_CR3)).toEqual([0x3000, 0]);
    expect(cpu.state.get(F.GUEST_RFLAGS)).toEqual([2, 0]);
    expect(cpu.state.get(F.GUEST_DR7)).toEqual([0x400, 0]);
    expect(cpu.state.get(F.GUEST_CS_AR_BYTES)).toEqual([0xa09b, 0]);
    expect(cpu.state.get(F.GUEST_CS_SELECTOR)).toEqual([8, 0]);
    expect(cpu.state.get(F.GUEST_SS_AR_BYTES)).toEqual([0xc093, 0]);
    expect(cpu.state.get(F.GUEST_DS_AR_BYTES)).toEqual([0x1_0000, 0]); // selector 0: unusable
    expect(cpu.state.get(F.GUEST_FS_BASE)).toEqual([0x1234, 0xffff_8000]);
    expect(cpu.state.get(F.GUEST_TR_BASE)).toEqual([0x9000, 0]);
    expect(cpu.state.get(F.GUEST_TR_LIMIT)).toEqual([0x67, 0]);
    expect(cpu.state.get(F.GUEST_TR_AR_BYTES)).toEqual([0x8b, 0]);
    expect(cpu.state.get(F.GUEST_LDTR_AR_BYTES)).toEqual([0x1_0000, 0]);
    expect(cpu.state.get(F.GUEST_GDTR_LIMIT)).toEqual([0xffff, 0]);
    expect((cpu.state.get(F.GUEST_IA32_EFER)![0] >>> 8) & 5).toBe(5); // LMA/LME = host address-space size
  });

  it("a 32-bit host gets a 32-bit code segment and EFER.LMA/LME cleared", () => {
    const { cpu, vmcs } = setup();
    vmcs.set(F.VM_EXIT_CONTROLS, vmcs.get32(F.VM_EXIT_CONTROLS) & ~ExitCtl.HostAddrSpaceSize);
    exit.clear();
    performVmExit(vmcs, exit, { cpu, guestMsrs: cpu, hostMsrs: cpu, mem: cpu.memory });
    expect(cpu.state.get(F.GUEST_CS_AR_BYTES)).toEqual([0xc09b, 0]);
    expect(cpu.state.get(F.GUEST_IA32_EFER)![0] & 0x500).toBe(0);
  });

  it("stores guest MSRs and loads host MSRs; failures are VMX aborts 1 and 4", () => {
    const { cpu, vmcs } = setup();
    cpu.msrs.set(0x174, [0x10, 0]);
    vmcs.set(F.VM_EXIT_MSR_STORE_COUNT, 1);
    vmcs.set(F.EXIT_MSR_STORE_ADDR, 0x8000);
    cpu.memory.write32(0x8000, 0x174, 1);
    vmcs.set(F.VM_EXIT_MSR_LOAD_COUNT, 1);
    vmcs.set(F.EXIT_MSR_LOAD_ADDR, 0x9000);
    cpu.memory.write32(0x9000, 0x175, 1);
    cpu.memory.write64(0x9008, 0xaa, 0xbb, 1);
    exit.clear();
    const t = { cpu, guestMsrs: cpu, hostMsrs: cpu, mem: cpu.memory };
    expect(performVmExit(vmcs, exit, t)).toBe(VmxAbort.None);
    expect(cpu.memory.read32(0x8008, 0)).toBe(0x10);
    expect(cpu.msrs.get(0x175)).toEqual([0xaa, 0xbb]);
    cpu.memory.write32(0x9000, 0x808, 1); // x2APIC MSRs may not be loaded
    expect(performVmExit(vmcs, exit, t)).toBe(VmxAbort.LoadHostMsrs);
    expect(vmcs.abortIndicator).toBe(4);
    cpu.memory.write32(0x8000, 0x9999, 1); // an MSR the guest cannot read
    expect(performVmExit(vmcs, exit, t)).toBe(VmxAbort.SaveGuestMsrs);
  });
});

describe("exit records and field names", () => {
  it("readExitRecord is the inverse of recordExit", () => {
    const v = new Vmcs();
    const a = new VmExitRecord();
    a.reason = ExitReason.EptViolation;
    a.reasonFlags = 0x8000_0000;
    a.qualLo = 0x181;
    a.qualHi = 2;
    a.linearLo = 0x1234;
    a.linearHi = 0xffff_8000;
    a.guestPhysical = 0x12_3456_7000;
    a.instructionLength = 3;
    a.instructionInfo = 0x400;
    a.interruptionInfo = 0x8000_0b0e;
    a.interruptionErrorCode = 2;
    a.idtVectoringInfo = 0x8000_0030;
    a.idtVectoringErrorCode = 7;
    recordExit(v, a);
    const b = readExitRecord(v, new VmExitRecord());
    expect(b).toEqual(a);
  });

  it("names fields and their high halves", () => {
    expect(vmcsFieldName(F.GUEST_RIP)).toBe("GUEST_RIP");
    expect(vmcsFieldName(F.EPT_POINTER | 1)).toBe("EPT_POINTER_HIGH");
    expect(vmcsFieldName(F.GUEST_RIP | 1)).toBeUndefined();
    expect(vmcsFieldName(0x7ffe)).toBeUndefined();
  });
});
