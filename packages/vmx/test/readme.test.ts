// The example of README.md, kept true by running it (the README shows the same code).
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("README shows the code of this test", () => {
  const me = readFileSync(new URL(import.meta.url), "utf8");
  const body = me
    .slice(me.indexOf("\n  // A minimal abstract processor"), me.indexOf("\n  // README-END"))
    .split("\n")
    .map((l) => l.slice(2));
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const line of body) expect(readme, line).toContain(line);
  expect(body.length).toBeGreaterThan(40);
});

it("README example: a minimal abstract processor drives VMXON, VMLAUNCH, an exit, VMREAD", async () => {
  // README-START
  const { AccessKind, createRamSpace } = await import("@turtles/memory");
  const vmxPkg = await import("../src/index.js"); // "@turtles/vmx"
  const { CpuMode, DEFAULT_VMX_FEATURES, ExitReason, fillLongModeVmcs, l1WantsExit, ProcCtl } = vmxPkg;
  const { VmcsField: F, VmExitRecord, VmxCapabilities, VmxState, VmxStatus } = vmxPkg;
  const { vmclear, vmexit, vmlaunch, vmptrld, vmreadInstruction, vmxon } = vmxPkg;
  type Cpu = import("../src/index.js").VmxProcessor &
    import("../src/index.js").GuestStateAccess &
    import("../src/index.js").MsrAccess;

  // A minimal abstract processor: 64-bit mode, CPL 0, registers and MSRs in maps.
  const { space } = createRamSpace(1 << 20);
  const state = new Map<number, [number, number]>();
  const msrs = new Map<number, [number, number]>([[0x3a, [5, 0]]]); // IA32_FEATURE_CONTROL
  let operand = [0, 0];
  let result: [number, number] = [0, 0];
  const cpu: Cpu = {
    memory: space,
    mode: () => CpuMode.Long64,
    cpl: () => 0,
    cr0: () => 0x8000_0031, // PG NE ET PE
    cr4: () => 0x2020, // VMXE PAE
    readMsr: (i, out) => {
      const v = msrs.get(i) ?? [0, 0];
      out.set(v);
      return msrs.has(i);
    },
    writeMsr: (i, lo, hi) => msrs.set(i, [lo, hi]) !== undefined,
    blockedByMovSs: () => false,
    setVmxFlags: () => {},
    readOperand: (out, words) => {
      for (let i = 0; i < words; i++) out[i] = operand[i] ?? 0;
      return true;
    },
    writeOperand: (lo, hi) => {
      result = [lo, hi];
      return true;
    },
    invalidateEpt: () => {},
    invalidateVpid: () => {},
    readState: (f, out) => out.set(state.get(f) ?? [0, 0]),
    writeState: (f, lo, hi) => state.set(f, [lo, hi]) && undefined,
  };

  const caps = new VmxCapabilities(DEFAULT_VMX_FEATURES); // also answers the VMX capability MSRs
  const vmx = new VmxState(caps);
  space.write32(0x1000, caps.revisionId, AccessKind.Write); // VMXON region
  space.write32(0x2000, caps.revisionId, AccessKind.Write); // VMCS region
  operand = [0x1000, 0];
  const on = vmxon(vmx, cpu);
  operand = [0x2000, 0];
  vmclear(vmx, cpu);
  vmptrld(vmx, cpu);
  fillLongModeVmcs(vmx.current, caps, {
    hostRip: 0x10_0000,
    hostRsp: 0x20_0000,
    hostCr3: 0x3000,
    guestRip: 0x40_0000,
    guestRsp: 0x50_0000,
    guestCr3: 0x6000,
  });
  vmx.current.set(F.CPU_BASED_VM_EXEC_CONTROL, caps.procMust1 | ProcCtl.HltExiting);
  const entered = vmlaunch(vmx, cpu, true, { cpu, guestMsrs: cpu }, { failed: null, error: 0 });
  const guestRip = state.get(F.GUEST_RIP); // [0x40_0000, 0]: the guest state is loaded

  // The guest executes HLT. Does its hypervisor want the exit? Then perform it.
  const exit = new VmExitRecord();
  exit.reason = ExitReason.Hlt;
  exit.instructionLength = 1;
  const wanted = l1WantsExit(vmx.current, exit, space); // true: "HLT exiting" is set
  vmexit(vmx, exit, { cpu, guestMsrs: cpu, hostMsrs: cpu, mem: space });
  const hostRip = state.get(F.GUEST_RIP); // [0x10_0000, 0]: back at the host RIP
  vmreadInstruction(vmx, cpu, F.VM_EXIT_REASON, 0); // result = [12, 0]
  // README-END
  expect([on, entered, wanted]).toEqual([VmxStatus.Succeed, VmxStatus.EnterGuest, true]);
  expect(guestRip).toEqual([0x40_0000, 0]);
  expect(hostRip).toEqual([0x10_0000, 0]);
  expect(result).toEqual([ExitReason.Hlt, 0]);
}, 30_000);
