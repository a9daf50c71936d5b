import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EptFaultOutcome,
  ExitCtl,
  ExitReason,
  encodeInterruptionInfo,
  VmcsField as F,
  FieldKind,
  fieldKind,
  fillLongModeVmcs,
  InterruptionType,
  L2ExitRoute,
  loadVmcs12,
  NestedVmx,
  PinCtl,
  Proc2Ctl,
  ProcCtl,
  performVmExit,
  VmxStatus as S,
  type ShadowEpt,
  storeVmcs12,
  VMCS_FIELDS,
  Vmcs,
  VmExitRecord,
  VmxOperation,
  VmxState,
  vmreadInstruction,
  vmwriteInstruction,
} from "../src/index.js";
import { caps, FakeCpu } from "./fake-processor.js";

const PAGES = {
  ioBitmapA: 0xf0_0000,
  ioBitmapB: 0xf0_1000,
  msrBitmap: 0xf0_2000,
  shadowVmcs: 0xf0_3000,
  vmreadBitmap: 0xf0_4000,
  vmwriteBitmap: 0xf0_5000,
};
const MSR_BITMAP_01 = 0xe0_0000;
const VMXON = 0x1000;
const VMCS12 = 0x2_0000;
const MSR_BITMAP_12 = 0x3_0000;
const EPTP01 = 0x50_001e;
const EPTP12 = 0x6_001e;
const EPTP02 = 0x70_001e;

class FakeEpt implements ShadowEpt {
  outcome: EptFaultOutcome = EptFaultOutcome.FilledByL0;
  readonly log: string[] = [];
  ept02Pointer(lo: number, hi: number, out: Uint32Array): void {
    out[0] = lo === EPTP12 ? EPTP02 : 0x80_001e;
    out[1] = hi;
  }
  resolveL2Fault(exit: VmExitRecord, eptp12: number, _hi: number, usesEpt12: boolean): EptFaultOutcome {
    this.log.push(`fault ${exit.guestPhysical.toString(16)} ${eptp12.toString(16)} ${usesEpt12}`);
    if (this.outcome === EptFaultOutcome.Ept12Violation) exit.qualLo = 0x181 | 0x8; // read, EPT12 says readable
    return this.outcome;
  }
  invalidate(type: number, lo: number): void {
    this.log.push(`invept ${type} ${lo.toString(16)}`);
  }
}

function setup() {
  const { space } = createRamSpace(0x100_0000); // host memory; L1-physical = host-physical here
  const l1cpu = new FakeCpu(space); // L1 as L0 sees it when it emulates L1's instructions
  const hwcpu = new FakeCpu(space); // the hardware running L1 (exit-less VMREAD/VMWRITE)
  const l2msrs = new FakeCpu(space);
  const ept = new FakeEpt();
  const hw = new VmxState(caps);
  hw.operation = VmxOperation.NonRoot;
  const v01 = hw.current;
  fillLongModeVmcs(v01, caps, {
    hostRip: 0xdead_0000,
    hostRsp: 0xbeef_0000,
    hostCr3: 0x9000,
    guestRip: 0x10_0000,
    guestRsp: 0x20_0000,
    guestCr3: 0xa000,
  });
  v01.set(
    F.CPU_BASED_VM_EXEC_CONTROL,
    caps.procMust1 | ProcCtl.SecondaryControls | ProcCtl.UseMsrBitmaps | ProcCtl.TscOffsetting,
  );
  v01.set(F.SECONDARY_VM_EXEC_CONTROL, Proc2Ctl.Ept | Proc2Ctl.UnrestrictedGuest);
  v01.set(F.EPT_POINTER, EPTP01);
  v01.set(F.MSR_BITMAP, MSR_BITMAP_01);
  space.write8(MSR_BITMAP_01 + (0x11 >>> 3), 1 << (0x11 & 7), 1); // L0 intercepts reads of MSR 0x11
  v01.set(F.EXCEPTION_BITMAP, 1 << 6); // L0 wants #UD
  v01.set(F.TSC_OFFSET, 0x2000, 1);
  space.write32(VMXON, caps.revisionId, 1);
  space.write32(VMCS12, caps.revisionId, 1);
  const engine = new NestedVmx(caps, hw, {
    hostMem: space,
    l1mem: space,
    l1paToHpa: (a) => a,
    ept,
    l1Msrs: l1cpu,
    l2Msrs: l2msrs,
    pages: PAGES,
    vpid02: 7,
  });
  return { space, l1cpu, hwcpu, l2msrs, ept, hw, v01, engine };
}

type Env = ReturnType<typeof setup>;

/** L1 sets up VMCS12 through VMXON, VMCLEAR, VMPTRLD and VMWRITEs, then VMLAUNCH. */
function launch(env: Env): void {
  const { engine, l1cpu, space } = env;
  l1cpu.pointer(VMXON);
  expect(engine.vmxon(l1cpu)).toBe(S.Succeed);
  l1cpu.pointer(VMCS12);
  expect(engine.vmclear(l1cpu)).toBe(S.Succeed);
  expect(engine.vmptrld(l1cpu)).toBe(S.Succeed);
  expect(engine.shadowingActive).toBe(true);
  const t = new Vmcs();
  fillLongModeVmcs(t, caps, {
    hostRip: 0x1111_0000,
    hostRsp: 0x2222_0000,
    hostCr3: 0x3000,
    guestRip: 0x4444_0000,
    guestRsp: 0x5555_0000,
    guestCr3: 0x6000,
  });
  t.set(
    F.CPU_BASED_VM_EXEC_CONTROL,
    caps.procMust1 |
      ProcCtl.SecondaryControls |
      ProcCtl.UseMsrBitmaps |
      ProcCtl.TscOffsetting |
      ProcCtl.HltExiting,
  );
  t.set(F.SECONDARY_VM_EXEC_CONTROL, Proc2Ctl.Ept);
  t.set(F.EPT_POINTER, EPTP12);
  t.set(F.MSR_BITMAP, MSR_BITMAP_12);
  space.write8(MSR_BITMAP_12 + (0x10 >>> 3), 1 << (0x10 & 7), 1); // L1 intercepts reads of MSR 0x10
  t.set(F.EXCEPTION_BITMAP, (1 << 14) | (1 << 3));
  t.set(F.PAGE_FAULT_ERROR_CODE_MASK, 1);
  t.set(F.PAGE_FAULT_ERROR_CODE_MATCH, 1);
  t.set(F.TSC_OFFSET, 0xffff_f000, 2);
  t.set(F.CR0_GUEST_HOST_MASK, 8);
  t.set(F.CR0_READ_SHADOW, 8);
  for (const { encoding } of VMCS_FIELDS) {
    if (!caps.isFieldSupported(encoding) || fieldKind(encoding) === FieldKind.ExitInfo) continue;
    expect(engine.vmwrite(l1cpu, encoding, 0, false, t.get32(encoding), t.getHi(encoding))).toBe(S.Succeed);
  }
  expect(engine.vmlaunch(l1cpu, true)).toBe(S.EnterGuest);
}

/** Remembers which state a VM exit wrote (the host-state load). */
class RecordingCpu extends FakeCpu {
  readonly writes = new Set<number>();
  override writeState(field: number, lo: number, hi: number): void {
    this.writes.add(field);
    super.writeState(field, lo, hi);
  }
}

const exit = new VmExitRecord();
function l2exit(reason: number, set?: (e: VmExitRecord) => void): VmExitRecord {
  exit.clear();
  exit.reason = reason;
  set?.(exit);
  return exit;
}

describe("building VMCS02", () => {
  it("merges controls, intercept bitmaps, TSC offsets and the EPT02 pointer; guest state from VMCS12", () => {
    const env = setup();
    launch(env);
    const { engine, hw, space } = env;
    const v02 = engine.vmcs02;
    expect(hw.current).toBe(v02);
    expect(engine.l1.operation).toBe(VmxOperation.NonRoot);
    const pin = v02.get32(F.PIN_BASED_VM_EXEC_CONTROL);
    expect(pin & (PinCtl.ExtIntExiting | PinCtl.NmiExiting)).toBe(PinCtl.ExtIntExiting | PinCtl.NmiExiting);
    const proc = v02.get32(F.CPU_BASED_VM_EXEC_CONTROL);
    expect(proc & ProcCtl.HltExiting).not.toBe(0);
    expect(proc & ProcCtl.UseMsrBitmaps).not.toBe(0);
    expect(v02.get32(F.EXCEPTION_BITMAP)).toBe((1 << 14) | (1 << 3) | (1 << 6));
    expect([v02.get32(F.PAGE_FAULT_ERROR_CODE_MASK), v02.get32(F.PAGE_FAULT_ERROR_CODE_MATCH)]).toEqual([
      1, 1,
    ]);
    expect([v02.get32(F.TSC_OFFSET), v02.getHi(F.TSC_OFFSET)]).toEqual([0x1000, 4]); // carry into the high half
    expect(v02.get32(F.MSR_BITMAP)).toBe(PAGES.msrBitmap);
    const byte = space.read8(PAGES.msrBitmap + 2, 0);
    expect(byte & 3).toBe(3); // MSR 0x10 (L1) and 0x11 (L0)
    expect(v02.get32(F.EPT_POINTER)).toBe(EPTP02);
    expect(v02.get32(F.VIRTUAL_PROCESSOR_ID)).toBe(0); // VPID not enabled by L0 here
    expect(v02.get32(F.GUEST_RIP)).toBe(0x4444_0000);
    expect(v02.get32(F.HOST_RIP)).toBe(0xdead_0000); // L2's exits come back to L0
    expect(v02.get32(F.CR0_GUEST_HOST_MASK)).toBe(8);
    expect(engine.counters.fullMerges).toBe(1);
  });
});

describe("routing L2 exits", () => {
  it("L0 keeps external interrupts, NMIs, machine checks, EPT02 fills and its own intercepts", () => {
    const env = setup();
    launch(env);
    const { engine, ept } = env;
    expect(engine.routeL2Exit(l2exit(ExitReason.ExternalInterrupt))).toBe(L2ExitRoute.HandledInL0);
    const nmi = encodeInterruptionInfo(2, InterruptionType.Nmi, false);
    expect(engine.routeL2Exit(l2exit(0, (e) => (e.interruptionInfo = nmi)))).toBe(L2ExitRoute.HandledInL0);
    const mc = encodeInterruptionInfo(18, InterruptionType.HardwareException, false);
    expect(engine.routeL2Exit(l2exit(0, (e) => (e.interruptionInfo = mc)))).toBe(L2ExitRoute.HandledInL0);
    const ud = encodeInterruptionInfo(6, InterruptionType.HardwareException, false);
    expect(engine.routeL2Exit(l2exit(0, (e) => (e.interruptionInfo = ud)))).toBe(L2ExitRoute.HandledInL0);
    expect(engine.routeL2Exit(l2exit(ExitReason.EptViolation, (e) => (e.guestPhysical = 0x5000)))).toBe(
      L2ExitRoute.HandledInL0,
    );
    expect(ept.log).toEqual([`fault 5000 ${EPTP12.toString(16)} true`]);
    expect(engine.routeL2Exit(l2exit(ExitReason.Rdmsr, (e) => (e.ecx = 0x11)))).toBe(L2ExitRoute.HandledInL0);
    expect(engine.counters.handledInL0).toBe(6);
    expect(engine.counters.reflected).toBe(0);
    expect(env.hw.current).toBe(engine.vmcs02);
  });

  it("L1 gets what VMCS12 asks for: its MSR bitmap, #BP, HLT, EPT12 misses, CPUID", () => {
    for (const [reason, set] of [
      [ExitReason.Rdmsr, (e: VmExitRecord) => (e.ecx = 0x10)],
      [
        ExitReason.ExceptionOrNmi,
        (e: VmExitRecord) => (e.interruptionInfo = encodeInterruptionInfo(3, 6, false)),
      ],
      [ExitReason.Hlt, undefined],
      [ExitReason.Cpuid, undefined],
    ] as const) {
      const env = setup();
      launch(env);
      expect(env.engine.routeL2Exit(l2exit(reason, set))).toBe(L2ExitRoute.ReflectedToL1);
      expect(env.engine.vmcs12.get32(F.VM_EXIT_REASON)).toBe(reason);
      expect(env.hw.current).toBe(env.v01);
    }
    const env = setup();
    launch(env);
    env.ept.outcome = EptFaultOutcome.Ept12Violation;
    expect(env.engine.routeL2Exit(l2exit(ExitReason.EptViolation))).toBe(L2ExitRoute.ReflectedToL1);
    expect(env.engine.vmcs12.get32(F.EXIT_QUALIFICATION)).toBe(0x189); // as the EPT12 walk reports it
    env.engine.vmlaunch(env.l1cpu, false);
    env.ept.outcome = EptFaultOutcome.Ept12Misconfig;
    expect(env.engine.routeL2Exit(l2exit(ExitReason.EptViolation))).toBe(L2ExitRoute.ReflectedToL1);
    expect(env.engine.vmcs12.get32(F.VM_EXIT_REASON)).toBe(ExitReason.EptMisconfig);
    expect(env.engine.counters.reflectedByReason[ExitReason.EptViolation]).toBe(1);
  });

  it("a PF that does not match L1's error-code filter stays in L0", () => {
    const env = setup();
    launch(env);
    const pf = encodeInterruptionInfo(14, InterruptionType.HardwareException, true);
    expect(
      env.engine.routeL2Exit(
        l2exit(0, (e) => {
          e.interruptionInfo = pf;
          e.interruptionErrorCode = 0;
        }),
      ),
    ).toBe(L2ExitRoute.HandledInL0);
    expect(
      env.engine.routeL2Exit(
        l2exit(0, (e) => {
          e.interruptionInfo = pf;
          e.interruptionErrorCode = 1;
        }),
      ),
    ).toBe(L2ExitRoute.ReflectedToL1);
  });
});

describe("reflection and the way back", () => {
  it("gives L1 exactly the state a VM exit of the SDM defines (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 8, maxLength: 8 }),
        fc.constantFrom(ExitReason.Cpuid, ExitReason.Hlt, ExitReason.Rdmsr),
        fc.integer({ min: 1, max: 15 }),
        (w, reason, len) => {
          const env = setup();
          launch(env);
          const { engine } = env;
          // L2 ran: its state moved on in VMCS02's guest area
          const v02 = engine.vmcs02;
          v02.set(F.GUEST_RIP, w[0]!, w[1]! & 0x7fff);
          v02.set(F.GUEST_RSP, w[2]!, 0);
          v02.set(F.GUEST_RFLAGS, (w[3]! & 0x3f_7fd7) | 2);
          v02.set(F.GUEST_CR3, w[4]! & ~0xfff);
          v02.set(F.GUEST_FS_BASE, w[5]!, w[6]! & 0x7fff);
          v02.set(F.GUEST_INTERRUPTIBILITY_INFO, w[7]! & 3);
          // reference: a single-level VM exit of the same guest state under VMCS12
          const expected = new Vmcs();
          expected.copyFrom(engine.vmcs12);
          const cpu = new RecordingCpu(env.space);
          for (const { encoding } of VMCS_FIELDS) {
            if (fieldKind(encoding) === FieldKind.Guest)
              cpu.state.set(encoding, [v02.get32(encoding), v02.getHi(encoding)]);
          }
          const e = l2exit(reason, (x) => {
            x.instructionLength = len;
            x.ecx = 0x10;
          });
          performVmExit(expected, e, { cpu, guestMsrs: cpu, hostMsrs: cpu, mem: env.space });
          expect(engine.routeL2Exit(e)).toBe(L2ExitRoute.ReflectedToL1);
          expect(engine.vmcs12.data).toEqual(expected.data);
          expect(cpu.writes.size).toBeGreaterThan(40);
          for (const field of cpu.writes) {
            const value = cpu.state.get(field);
            expect(
              [engine.vmcs01.get32(field), engine.vmcs01.getHi(field)],
              `field ${field.toString(16)}`,
            ).toEqual(value);
          }
          expect(engine.l1.operation).toBe(VmxOperation.Root);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("L1 reads the exit and writes guest state without exits; VMRESUME refreshes only what changed", () => {
    const env = setup();
    launch(env);
    const { engine, hw, hwcpu, l1cpu } = env;
    engine.routeL2Exit(l2exit(ExitReason.Cpuid, (e) => (e.instructionLength = 2)));
    // L1 runs on VMCS01 in non-root operation: its VMREAD/VMWRITE go through VMCS shadowing
    expect(vmreadInstruction(hw, hwcpu, F.VM_EXIT_REASON, 0)).toBe(S.Succeed);
    expect(hwcpu.written).toEqual([ExitReason.Cpuid, 0]);
    expect(vmreadInstruction(hw, hwcpu, F.VM_EXIT_INSTRUCTION_LEN, 0)).toBe(S.Succeed);
    expect(hwcpu.written).toEqual([2, 0]);
    expect(vmreadInstruction(hw, hwcpu, F.GUEST_RIP, 0)).toBe(S.Succeed);
    const rip = hwcpu.written![0];
    expect(vmwriteInstruction(hw, hwcpu, F.GUEST_RIP, 0, false, rip + 2, 0)).toBe(S.Succeed);
    expect(hw.shadowReads + hw.shadowWrites).toBe(4);
    // controls are not write-shadowed: that VMWRITE exits and L0 emulates it
    expect(vmwriteInstruction(hw, hwcpu, F.EXCEPTION_BITMAP, 0, false, 0, 0)).toBe(S.VmExit);
    expect(engine.vmlaunch(l1cpu, false)).toBe(S.EnterGuest);
    expect(engine.vmcs02.get32(F.GUEST_RIP)).toBe(rip + 2);
    expect(engine.counters.partialRefreshes).toBe(1);
    expect(engine.counters.fullMerges).toBe(1);
    engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    expect(engine.vmwrite(l1cpu, F.EXCEPTION_BITMAP, 0, false, 1 << 1, 0)).toBe(S.Succeed);
    expect(engine.vmlaunch(l1cpu, false)).toBe(S.EnterGuest);
    expect(engine.counters.fullMerges).toBe(2);
    expect(engine.vmcs02.get32(F.EXCEPTION_BITMAP) & 2).toBe(2);
  });

  it("VMLAUNCH of a bad VMCS12 fails the SDM way; VMCLEAR writes VMCS12 back", () => {
    const env = setup();
    launch(env);
    const { engine, l1cpu, space } = env;
    engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    expect(engine.vmlaunch(l1cpu, true)).toBe(S.FailValid); // already launched: error 4
    expect(engine.vmcs12.get32(F.VM_INSTRUCTION_ERROR)).toBe(4);
    engine.vmwrite(l1cpu, F.GUEST_RFLAGS, 0, false, 0, 0); // reserved bit 1 clear: invalid guest state
    expect(engine.vmlaunch(l1cpu, false)).toBe(S.EntryFailed);
    expect(engine.vmcs12.get32(F.VM_EXIT_REASON)).toBe(0x8000_0021);
    expect(engine.vmcs01.get32(F.GUEST_RIP)).toBe(0x1111_0000); // L1 continues at its host RIP
    expect(env.hw.current).toBe(engine.vmcs01);
    l1cpu.pointer(VMCS12);
    expect(engine.vmclear(l1cpu)).toBe(S.Succeed);
    expect(engine.shadowingActive).toBe(false);
    const back = new Vmcs();
    loadVmcs12(space, VMCS12, back);
    expect(back.get32(F.VM_EXIT_REASON)).toBe(0x8000_0021);
    expect(back.launchState).toBe(0);
  });

  it("L1's INVEPT reaches the shadow EPT; L2's VMFUNC EPTP switching is done by L0", () => {
    const env = setup();
    launch(env);
    const { engine, l1cpu, ept, space } = env;
    engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    l1cpu.operand = [EPTP12, 0, 0, 0];
    expect(engine.invept(l1cpu, 1, 0)).toBe(S.Succeed);
    expect(ept.log).toContain(`invept 1 ${EPTP12.toString(16)}`);
    // enable VMFUNC with an EPTP list in VMCS12
    engine.vmwrite(l1cpu, F.SECONDARY_VM_EXEC_CONTROL, 0, false, Proc2Ctl.Ept | Proc2Ctl.Vmfunc, 0);
    engine.vmwrite(l1cpu, F.VM_FUNCTION_CONTROLS, 0, false, 1, 0);
    engine.vmwrite(l1cpu, F.EPTP_LIST_ADDRESS, 0, false, 0x8_0000, 0);
    space.write64(0x8_0000 + 8, 0x9_001e, 0, 1);
    expect(engine.vmlaunch(l1cpu, false)).toBe(S.EnterGuest);
    expect(
      engine.routeL2Exit(
        l2exit(ExitReason.Vmfunc, (e) => {
          e.eax = 0;
          e.ecx = 1;
        }),
      ),
    ).toBe(L2ExitRoute.HandledInL0);
    expect(engine.vmcs12.get32(F.EPT_POINTER)).toBe(0x9_001e);
    expect(engine.vmcs02.get32(F.EPT_POINTER)).toBe(0x80_001e);
    expect(
      engine.routeL2Exit(
        l2exit(ExitReason.Vmfunc, (e) => {
          e.eax = 0;
          e.ecx = 2;
        }),
      ),
    ).toBe(L2ExitRoute.ReflectedToL1);
  });

  it("L2's VMREAD is served from L1's shadow VMCS when VMCS12 offers shadowing", () => {
    const env = setup();
    launch(env);
    const { engine, l1cpu, space } = env;
    engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    const SHADOW12 = 0xa_0000;
    const shadow = new Vmcs();
    shadow.revisionId = caps.revisionId;
    shadow.shadow = true;
    shadow.set(F.GUEST_RIP, 0x4321);
    storeVmcs12(space, SHADOW12, shadow);
    engine.vmwrite(l1cpu, F.SECONDARY_VM_EXEC_CONTROL, 0, false, Proc2Ctl.Ept | Proc2Ctl.VmcsShadowing, 0);
    engine.vmwrite(l1cpu, F.VMREAD_BITMAP, 0, false, 0xb_0000, 0);
    engine.vmwrite(l1cpu, F.VMWRITE_BITMAP, 0, false, 0xc_0000, 0);
    engine.vmwrite(l1cpu, F.VMCS_LINK_POINTER, 0, false, SHADOW12, 0);
    expect(engine.vmlaunch(l1cpu, false)).toBe(S.EnterGuest);
    expect(engine.routeL2Exit(l2exit(ExitReason.Vmread, (e) => (e.vmcsEncoding = F.GUEST_RIP)))).toBe(
      L2ExitRoute.ServeFromL1Shadow,
    );
    const l2cpu = new FakeCpu(space);
    expect(engine.l2ShadowAccess(l2cpu, false, F.GUEST_RIP, 0, false, 0, 0)).toBe(S.Succeed);
    expect(l2cpu.written).toEqual([0x4321, 0]);
    space.write8(0xb_0000 + (F.GUEST_RIP >>> 3), 1 << (F.GUEST_RIP & 7), 1);
    expect(engine.routeL2Exit(l2exit(ExitReason.Vmread, (e) => (e.vmcsEncoding = F.GUEST_RIP)))).toBe(
      L2ExitRoute.ReflectedToL1,
    );
  });

  it("an event interrupted by an exit L0 handles is re-injected into L2 through VMCS02", () => {
    const env = setup();
    launch(env);
    const info = encodeInterruptionInfo(14, InterruptionType.HardwareException, true);
    const route = env.engine.routeL2Exit(
      l2exit(ExitReason.EptViolation, (e) => {
        e.idtVectoringInfo = info;
        e.idtVectoringErrorCode = 6;
      }),
    );
    expect(route).toBe(L2ExitRoute.HandledInL0);
    expect(env.engine.vmcs02.get32(F.VM_ENTRY_INTR_INFO)).toBe(info);
    expect(env.engine.vmcs02.get32(F.VM_ENTRY_EXCEPTION_ERROR_CODE)).toBe(6);
  });

  it("CR0 bits only L0 owns reach VMCS12 as L2 sees them (VMCS02's read shadow)", () => {
    const env = setup();
    env.v01.set(F.CR0_GUEST_HOST_MASK, 1 << 16); // L0 owns CR0.WP
    launch(env);
    const { engine } = env;
    const v02 = engine.vmcs02;
    // L2 cleared WP; L0 emulated that write: the hardware keeps WP = 1, the read shadow shows 0
    v02.set(F.GUEST_CR0, v02.get32(F.GUEST_CR0) | (1 << 16) | 8); // and the hardware TS is 1
    v02.set(F.CR0_READ_SHADOW, v02.get32(F.CR0_READ_SHADOW) & ~(1 << 16));
    engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    expect(engine.vmcs12.get32(F.GUEST_CR0) & (1 << 16)).toBe(0);
    expect((engine.vmcs12.get32(F.GUEST_CR0) & 0x8000_0001) >>> 0).toBe(0x8000_0001); // PG, PE from the hardware
    expect(engine.vmcs12.get32(F.GUEST_CR0) & 8).toBe(0); // TS: L1 owns it, VMCS12 keeps its value (0)
  });

  it("an interrupt for L1 becomes L1's exit 1 (acknowledged) or is injected into L2", () => {
    const env = setup();
    launch(env);
    const { engine, l1cpu } = env;
    expect(engine.deliverL1Interrupt(0x30, exit)).toBe(L2ExitRoute.HandledInL0);
    expect(engine.vmcs02.get32(F.VM_ENTRY_INTR_INFO)).toBe(0x8000_0030);
    engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    engine.vmwrite(l1cpu, F.PIN_BASED_VM_EXEC_CONTROL, 0, false, caps.pinMust1 | PinCtl.ExtIntExiting, 0);
    engine.vmwrite(
      l1cpu,
      F.VM_EXIT_CONTROLS,
      0,
      false,
      engine.vmcs12.get32(F.VM_EXIT_CONTROLS) | ExitCtl.AckIntrOnExit,
      0,
    );
    expect(engine.vmlaunch(l1cpu, false)).toBe(S.EnterGuest);
    expect(engine.deliverL1Interrupt(0x31, exit)).toBe(L2ExitRoute.ReflectedToL1);
    expect(engine.vmcs12.get32(F.VM_EXIT_REASON)).toBe(ExitReason.ExternalInterrupt);
    expect(engine.vmcs12.get32(F.VM_EXIT_INTR_INFO)).toBe(0x8000_0031);
  });

  it("the shadow VMCS stays exact across reflections, exit-less writes and VMCS12 switches", () => {
    const env = setup();
    launch(env);
    const { engine, hw, hwcpu, l1cpu, space } = env;
    const read = (f: number) => {
      expect(vmreadInstruction(hw, hwcpu, f, 0)).toBe(S.Succeed);
      return hwcpu.written![0];
    };
    for (let i = 0; i < 5; i++) {
      engine.vmcs02.set(F.GUEST_RIP, 0x9000 + i);
      engine.routeL2Exit(
        l2exit(i % 2 === 0 ? ExitReason.Cpuid : ExitReason.Hlt, (e) => {
          e.instructionLength = i + 1;
        }),
      );
      expect(read(F.VM_EXIT_REASON)).toBe(i % 2 === 0 ? ExitReason.Cpuid : ExitReason.Hlt);
      expect(read(F.VM_EXIT_INSTRUCTION_LEN)).toBe(i + 1);
      expect(read(F.GUEST_RIP)).toBe(0x9000 + i);
      if (i % 2 === 1) vmwriteInstruction(hw, hwcpu, F.GUEST_RSP, 0, false, 0x7000 + i, 0);
      expect(engine.vmlaunch(l1cpu, false)).toBe(S.EnterGuest);
      if (i % 2 === 1) expect(engine.vmcs02.get32(F.GUEST_RSP)).toBe(0x7000 + i);
    }
    // a second VMCS12 made current: the shadow shows its fields, not the first one's
    engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    space.write32(0x2_1000, caps.revisionId, 1);
    l1cpu.pointer(0x2_1000);
    expect(engine.vmptrld(l1cpu)).toBe(S.Succeed);
    expect(read(F.VM_EXIT_REASON)).toBe(0);
    expect(read(F.GUEST_RIP)).toBe(0);
    l1cpu.pointer(VMCS12);
    expect(engine.vmptrld(l1cpu)).toBe(S.Succeed);
    expect(read(F.VM_EXIT_REASON)).toBe(ExitReason.Cpuid);
  });

  it("saves and restores nested state: the restored engine continues exactly like the original", () => {
    const a = setup();
    launch(a);
    a.engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    vmwriteInstruction(a.hw, a.hwcpu, F.GUEST_RSP, 0, false, 0x6666, 0); // exit-less write, not yet synced
    expect(a.engine.vmlaunch(a.l1cpu, false)).toBe(S.EnterGuest);
    a.engine.vmcs02.set(F.GUEST_RIP, 0xabc0); // L2 ran on
    const state = a.engine.saveNestedState();
    expect([state.vmxon, state.current, state.guestMode, state.vmcs12.length]).toEqual([
      VMXON,
      VMCS12,
      true,
      4096,
    ]);
    // a second machine: same memory contents, VMCS01 restored as hardware state
    const b = setup();
    const bytes = new Uint8Array(0x100_0000);
    a.space.readBytes(0, bytes, 0);
    b.space.writeBytes(0, bytes, 0);
    b.v01.copyFrom(a.engine.vmcs01);
    expect(b.engine.restoreNestedState(state)).toBe(0);
    expect(b.hw.current).toBe(b.engine.vmcs02);
    expect(b.engine.vmcs02.get32(F.GUEST_RIP)).toBe(0xabc0);
    expect(b.engine.vmcs02.get32(F.GUEST_RSP)).toBe(0x6666);
    for (const f of [
      F.CPU_BASED_VM_EXEC_CONTROL,
      F.EXCEPTION_BITMAP,
      F.EPT_POINTER,
      F.TSC_OFFSET,
      F.MSR_BITMAP,
    ]) {
      expect(b.engine.vmcs02.get32(f), f.toString(16)).toBe(a.engine.vmcs02.get32(f));
    }
    // both reflect the next exit identically
    for (const env of [a, b]) env.engine.routeL2Exit(l2exit(ExitReason.Hlt));
    expect(b.engine.vmcs12.data).toEqual(a.engine.vmcs12.data);
    expect(b.engine.vmcs01.data).toEqual(a.engine.vmcs01.data);
    expect(vmreadInstruction(b.hw, b.hwcpu, F.VM_EXIT_REASON, 0)).toBe(S.Succeed);
    expect(b.hwcpu.written).toEqual([ExitReason.Hlt, 0]);
    // outside VMX operation
    const c = setup();
    const off = c.engine.saveNestedState();
    expect([off.vmxon, off.current, off.guestMode]).toEqual([-1, -1, false]);
    expect(() => c.engine.restoreNestedState({ ...off, vmcs12: new Uint8Array(8) })).toThrow();
  });

  it("routing an L2 exit while L1 runs is an emulator bug and throws", () => {
    const env = setup();
    launch(env);
    env.engine.routeL2Exit(l2exit(ExitReason.Cpuid));
    expect(() => env.engine.routeL2Exit(l2exit(ExitReason.Cpuid))).toThrow(/L2 is not running/);
  });

  it("many exit-less VMWRITEs (beyond the write log) all reach VMCS02 on VMRESUME", () => {
    for (const writes of [3, 40]) {
      const env = setup();
      launch(env);
      const { engine, hw, hwcpu, l1cpu } = env;
      engine.routeL2Exit(l2exit(ExitReason.Cpuid));
      const fields = [F.GUEST_RIP, F.GUEST_RSP, F.GUEST_SYSENTER_ESP, F.GUEST_SYSENTER_EIP];
      const expected = new Map<number, number>();
      for (let i = 0; i < writes; i++) {
        const f = fields[i % fields.length]!;
        expect(vmwriteInstruction(hw, hwcpu, f, 0, false, 0x1000 + i, 0)).toBe(S.Succeed);
        expected.set(f, 0x1000 + i);
      }
      expect(engine.vmlaunch(l1cpu, false)).toBe(S.EnterGuest);
      for (const [f, v] of expected) expect(engine.vmcs02.get32(f), `${writes} writes, field ${f}`).toBe(v);
    }
  });
});
