// @turtles/vmx: VMREAD/VMWRITE, exit routing, VM-entry checks, VMCS12 round trips, and the nested
// engine's L2-exit cycle with and without VMCS shadowing. Run:
//   node --conditions=@turtles/source --import tsx bench/micro/vmx.ts
import { AccessKind, createRamSpace } from "@turtles/memory";
import {
  CpuMode,
  checkVmEntry,
  DEFAULT_VMX_FEATURES,
  type EntryCheckResult,
  EptFaultOutcome,
  ExitReason,
  encodeIoQualification,
  VmcsField as F,
  FieldKind,
  fieldKind,
  fillLongModeVmcs,
  type GuestStateAccess,
  l1WantsExit,
  loadVmcs12,
  type MsrAccess,
  NestedVmx,
  Proc2Ctl,
  ProcCtl,
  storeVmcs12,
  VMCS_FIELDS,
  Vmcs,
  VmExitRecord,
  VmxCapabilities,
  VmxOperation,
  type VmxProcessor,
  VmxState,
  vmread,
  vmreadInstruction,
  vmwrite,
  vmwriteInstruction,
} from "@turtles/vmx";
import { measure, printTable } from "./_harness.js";

const caps = new VmxCapabilities(DEFAULT_VMX_FEATURES);
const { space } = createRamSpace(0x100_0000);
const out = new Uint32Array(2);
let sink = 0;

/** A minimal processor: 64-bit, CPL 0, state and MSRs in maps. */
function makeCpu(): VmxProcessor & GuestStateAccess & MsrAccess & { operand: number[] } {
  const state = new Map<number, [number, number]>();
  const msrs = new Map<number, [number, number]>([[0x3a, [5, 0]]]);
  return {
    operand: [0, 0, 0, 0],
    memory: space,
    mode: () => CpuMode.Long64,
    cpl: () => 0,
    cr0: () => 0x8000_0031,
    cr4: () => 0x2020,
    readMsr(i, o) {
      o.set(msrs.get(i) ?? [0, 0]);
      return true;
    },
    writeMsr(i, lo, hi) {
      msrs.set(i, [lo, hi]);
      return true;
    },
    blockedByMovSs: () => false,
    setVmxFlags() {},
    readOperand(o, words) {
      for (let i = 0; i < words; i++) o[i] = this.operand[i] ?? 0;
      return true;
    },
    writeOperand(lo) {
      sink ^= lo;
      return true;
    },
    invalidateEpt() {},
    invalidateVpid() {},
    readState(f, o) {
      o.set(state.get(f) ?? [0, 0]);
    },
    writeState(f, lo, hi) {
      state.set(f, [lo, hi]);
    },
  };
}

const opts = {
  hostRip: 0x1000,
  hostRsp: 0x2000,
  hostCr3: 0x3000,
  guestRip: 0x4000,
  guestRsp: 0x5000,
  guestCr3: 0x6000,
};
const vmcs = new Vmcs();
fillLongModeVmcs(vmcs, caps, opts);
vmcs.set(F.CPU_BASED_VM_EXEC_CONTROL, caps.procMust1 | ProcCtl.UseIoBitmaps | ProcCtl.UseMsrBitmaps);
vmcs.set(F.IO_BITMAP_A, 0x10_0000);
vmcs.set(F.IO_BITMAP_B, 0x10_1000);
vmcs.set(F.MSR_BITMAP, 0x10_2000);
vmcs.set(F.CR0_GUEST_HOST_MASK, 0x8000_0001);
const N = 1_000_000;
const exit = new VmExitRecord();
const rows = [
  measure("VMREAD (VMCS storage, natural width)", N, () => {
    for (let i = 0; i < N; i++) {
      vmread(vmcs, caps, F.GUEST_RIP, 0, out);
      sink ^= out[0]!;
    }
  }),
  measure("VMWRITE (VMCS storage, 16-bit)", N, () => {
    for (let i = 0; i < N; i++) vmwrite(vmcs, caps, F.GUEST_CS_SELECTOR, 0, i, 0);
  }),
  measure("l1WantsExit CPUID (always)", N, () => {
    exit.reason = ExitReason.Cpuid;
    for (let i = 0; i < N; i++) sink ^= l1WantsExit(vmcs, exit, space) ? 1 : 0;
  }),
  measure("l1WantsExit OUT (I/O bitmap)", N, () => {
    exit.reason = ExitReason.IoInstruction;
    exit.qualLo = encodeIoQualification(0x3f8, 1, false, false, false, false);
    for (let i = 0; i < N; i++) sink ^= l1WantsExit(vmcs, exit, space) ? 1 : 0;
  }),
  measure("l1WantsExit RDMSR (MSR bitmap)", N, () => {
    exit.reason = ExitReason.Rdmsr;
    exit.ecx = 0xc000_0080;
    for (let i = 0; i < N; i++) sink ^= l1WantsExit(vmcs, exit, space) ? 1 : 0;
  }),
  measure("l1WantsExit MOV CR0 (mask/shadow)", N, () => {
    exit.reason = ExitReason.CrAccess;
    exit.qualLo = 0;
    exit.crValueLo = 0x8000_0031;
    for (let i = 0; i < N; i++) sink ^= l1WantsExit(vmcs, exit, space) ? 1 : 0;
  }),
];
const result: EntryCheckResult = { failed: null, error: 0 };
const ctx = { vmcs, caps, mem: space, hostLongMode: true };
rows.push(
  measure("VM-entry checks (all 171, valid VMCS)", 20_000, () => {
    for (let i = 0; i < 20_000; i++) checkVmEntry(ctx, result);
  }),
  measure("VMCS12 store+load (VMCLEAR+VMPTRLD)", 20_000, () => {
    for (let i = 0; i < 20_000; i++) {
      storeVmcs12(space, 0x20_0000, vmcs);
      loadVmcs12(space, 0x20_0000, vmcs);
    }
  }),
);

// --- the nested engine -------------------------------------------------------------------------
function nested(shadowing: boolean) {
  const hw = new VmxState(caps);
  hw.operation = VmxOperation.NonRoot;
  fillLongModeVmcs(hw.current, caps, opts);
  hw.current.set(F.CPU_BASED_VM_EXEC_CONTROL, caps.procMust1 | ProcCtl.SecondaryControls);
  hw.current.set(F.SECONDARY_VM_EXEC_CONTROL, Proc2Ctl.Ept);
  hw.current.set(F.EPT_POINTER, 0x50_001e);
  const l1 = makeCpu();
  const engine = new NestedVmx(caps, hw, {
    hostMem: space,
    l1mem: space,
    l1paToHpa: (a) => a,
    ept: {
      ept02Pointer: (lo, hi, o) => o.set([lo, hi]),
      resolveL2Fault: () => EptFaultOutcome.FilledByL0,
      invalidate() {},
    },
    l1Msrs: l1,
    l2Msrs: makeCpu(),
    pages: {
      ioBitmapA: 0xf0_0000,
      ioBitmapB: 0xf0_1000,
      msrBitmap: 0xf0_2000,
      shadowVmcs: 0xf0_3000,
      vmreadBitmap: 0xf0_4000,
      vmwriteBitmap: 0xf0_5000,
    },
    vpid02: 1,
    shadowing,
  });
  space.write32(0x30_0000, caps.revisionId, AccessKind.Write);
  space.write32(0x31_0000, caps.revisionId, AccessKind.Write);
  l1.operand = [0x30_0000, 0];
  engine.vmxon(l1);
  l1.operand = [0x31_0000, 0];
  engine.vmclear(l1);
  engine.vmptrld(l1);
  const t = new Vmcs();
  fillLongModeVmcs(t, caps, opts);
  for (const { encoding } of VMCS_FIELDS) {
    if (caps.isFieldSupported(encoding) && fieldKind(encoding) !== FieldKind.ExitInfo) {
      engine.vmwrite(l1, encoding, 0, false, t.get32(encoding), t.getHi(encoding));
    }
  }
  if (engine.vmlaunch(l1, true) !== 7) throw new Error("bench: VMLAUNCH of L2 failed");
  return { engine, hw, l1 };
}

/**
 * One reflected L2 exit, handled by an L1 that reads 6 fields (reason, qualification, length,
 * RIP, interruptibility, IDT-vectoring info) and writes 2 (RIP, interruptibility), then VMRESUMEs.
 */
function cycle(n: ReturnType<typeof nested>): void {
  const { engine, hw, l1 } = n;
  exit.clear();
  exit.reason = ExitReason.Cpuid;
  exit.instructionLength = 2;
  engine.routeL2Exit(exit);
  for (const f of [
    F.VM_EXIT_REASON,
    F.EXIT_QUALIFICATION,
    F.VM_EXIT_INSTRUCTION_LEN,
    F.GUEST_RIP,
    F.GUEST_INTERRUPTIBILITY_INFO,
    F.IDT_VECTORING_INFO,
  ]) {
    if (vmreadInstruction(hw, l1, f, 0) === 6) engine.vmread(l1, f, 0); // 6 = VmExit: L0 emulates
  }
  for (const [f, v] of [
    [F.GUEST_RIP, 0x4002],
    [F.GUEST_INTERRUPTIBILITY_INFO, 0],
  ] as const) {
    if (vmwriteInstruction(hw, l1, f, 0, false, v, 0) === 6) engine.vmwrite(l1, f, 0, false, v, 0);
  }
  if (engine.vmlaunch(l1, false) !== 7) throw new Error("bench: VMRESUME of L2 failed");
}

const C = 10_000;
const withShadow = nested(true);
const without = nested(false);
rows.push(
  measure("L2 exit handled in L0 (external interrupt)", N, () => {
    for (let i = 0; i < N; i++) {
      exit.reason = ExitReason.ExternalInterrupt;
      withShadow.engine.routeL2Exit(exit);
    }
  }),
  measure("reflected L2 exit + L1 handler + VMRESUME, shadowing", C, () => {
    for (let i = 0; i < C; i++) cycle(withShadow);
  }),
  measure("reflected L2 exit + L1 handler + VMRESUME, no shadowing", C, () => {
    for (let i = 0; i < C; i++) cycle(without);
  }),
);
printTable(rows);

console.log("\nexits of L1 to L0 per reflected L2 exit (6 VMREAD + 2 VMWRITE + VMRESUME handler):");
for (const [name, n] of [
  ["with VMCS shadowing", withShadow],
  ["without shadowing", without],
] as const) {
  const c = n.engine.counters;
  const l1Exits = c.l1ExitsByReason.reduce((a, b) => a + b, 0);
  console.log(
    `  ${name.padEnd(22)} ${(l1Exits / c.reflected).toFixed(2)} L1 exits/reflection; exit-less VMREAD+VMWRITE: ${
      n.hw.shadowReads + n.hw.shadowWrites
    }, emulated: ${c.emulatedVmreads + c.emulatedVmwrites}; full merges ${c.fullMerges}, partial refreshes ${c.partialRefreshes}`,
  );
}
if (sink === 0.5) console.log(sink);
