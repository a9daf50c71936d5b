import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ExitReason,
  encodeInterruptionInfo,
  VmcsField as F,
  fillLongModeVmcs,
  InterruptionType,
  ioBitmapIntercepts,
  l1WantsExit,
  type MergeContext,
  mergeVmcs02Controls,
  msrBitmapIntercepts,
  Proc2Ctl,
  ProcCtl,
  Vmcs,
  VmExitRecord,
} from "../src/index.js";
import { caps } from "./fake-processor.js";

const { space: host } = createRamSpace(0x40_0000);
const { space: l1 } = createRamSpace(0x40_0000);
const ctx: MergeContext = {
  caps,
  hostMem: host,
  l1mem: l1,
  l1paToHpa: (a) => a,
  pages: { ioBitmapA: 0x30_0000, ioBitmapB: 0x30_1000, msrBitmap: 0x30_2000 },
  vpid02: 1,
  ept02Pointer: (lo, hi, out) => out.set([lo, hi]),
};
const opts = {
  hostRip: 0x1000,
  hostRsp: 0x2000,
  hostCr3: 0x3000,
  guestRip: 0x4000,
  guestRsp: 0x5000,
  guestCr3: 0x6000,
};

/** Does a level exit on `port`? (SDM 26.1.3) */
function ioWants(v: Vmcs, mem: typeof host, port: number): boolean {
  const proc = v.get32(F.CPU_BASED_VM_EXEC_CONTROL);
  if ((proc & ProcCtl.UseIoBitmaps) !== 0) return ioBitmapIntercepts(v, mem, port, 1);
  return (proc & ProcCtl.UncondIoExiting) !== 0;
}

const ioMode = fc.constantFrom(0, ProcCtl.UncondIoExiting, ProcCtl.UseIoBitmaps);
const ports = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 0, maxLength: 20 });
const msrs = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 0x1fff }), fc.integer({ min: 0xc000_0000, max: 0xc000_1fff })),
  { maxLength: 20 },
);

function pair(proc01: number, proc12: number): [Vmcs, Vmcs, Vmcs] {
  const v01 = new Vmcs();
  const v12 = new Vmcs();
  fillLongModeVmcs(v01, caps, opts);
  fillLongModeVmcs(v12, caps, opts);
  v01.set(F.CPU_BASED_VM_EXEC_CONTROL, caps.procMust1 | proc01);
  v12.set(F.CPU_BASED_VM_EXEC_CONTROL, caps.procMust1 | proc12);
  v01.set(F.IO_BITMAP_A, 0x10_0000);
  v01.set(F.IO_BITMAP_B, 0x10_1000);
  v01.set(F.MSR_BITMAP, 0x10_2000);
  v12.set(F.IO_BITMAP_A, 0x20_0000);
  v12.set(F.IO_BITMAP_B, 0x20_1000);
  v12.set(F.MSR_BITMAP, 0x20_2000);
  for (const m of [host, l1])
    for (let i = 0; i < 0x40_0000; i += 0x1000) m.writeBytes(i, new Uint8Array(0x1000), 1);
  return [v01, v12, new Vmcs()];
}
const setBit = (m: typeof host, base: number, bit: number) =>
  m.write8(base + (bit >>> 3), m.read8(base + (bit >>> 3), 0) | (1 << (bit & 7)), 1);

describe("VMCS02 intercepts are the union of VMCS01's and VMCS12's", () => {
  it("I/O: every combination of none / unconditional / bitmaps on both levels", () => {
    fc.assert(
      fc.property(ioMode, ioMode, ports, ports, ports, (m01, m12, set01, set12, probe) => {
        const [v01, v12, v02] = pair(m01, m12);
        for (const p of set01) setBit(host, p < 0x8000 ? 0x10_0000 : 0x10_1000, p & 0x7fff);
        for (const p of set12) setBit(l1, p < 0x8000 ? 0x20_0000 : 0x20_1000, p & 0x7fff);
        expect(mergeVmcs02Controls(v02, v01, v12, ctx)).toBe(0);
        for (const p of [...probe, ...set01, ...set12]) {
          expect(ioWants(v02, host, p), `port ${p}`).toBe(ioWants(v01, host, p) || ioWants(v12, l1, p));
        }
      }),
      { numRuns: 60 },
    );
  });

  it("MSRs: bitmaps ORed when both use them, every access intercepted otherwise", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        msrs,
        msrs,
        msrs,
        fc.boolean(),
        (b01, b12, set01, set12, probe, write) => {
          const [v01, v12, v02] = pair(b01 ? ProcCtl.UseMsrBitmaps : 0, b12 ? ProcCtl.UseMsrBitmaps : 0);
          const quarter = (msr: number) => (msr >= 0xc000_0000 ? 1024 : 0) + (write ? 2048 : 0);
          for (const m of set01) setBit(host, 0x10_2000 + quarter(m), m & 0x1fff);
          for (const m of set12) setBit(l1, 0x20_2000 + quarter(m), m & 0x1fff);
          mergeVmcs02Controls(v02, v01, v12, ctx);
          for (const m of [...probe, ...set01, ...set12, 0x4000_0000]) {
            const want = msrBitmapIntercepts(v01, host, m, write) || msrBitmapIntercepts(v12, l1, m, write);
            expect(msrBitmapIntercepts(v02, host, m, write), `msr ${m.toString(16)}`).toBe(want);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("exceptions and page faults (exact when one level never exits on #PF, a superset otherwise)", () => {
    const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
    const small = fc.integer({ min: 0, max: 7 });
    fc.assert(
      fc.property(
        u32,
        u32,
        small,
        small,
        small,
        small,
        small,
        fc.integer({ min: 0, max: 31 }),
        (eb01, eb12, mk01, mt01, mk12, mt12, pfec, vector) => {
          const [v01, v12, v02] = pair(0, 0);
          v01.set(F.EXCEPTION_BITMAP, eb01);
          v12.set(F.EXCEPTION_BITMAP, eb12);
          v01.set(F.PAGE_FAULT_ERROR_CODE_MASK, mk01);
          v01.set(F.PAGE_FAULT_ERROR_CODE_MATCH, mt01);
          v12.set(F.PAGE_FAULT_ERROR_CODE_MASK, mk12);
          v12.set(F.PAGE_FAULT_ERROR_CODE_MATCH, mt12);
          mergeVmcs02Controls(v02, v01, v12, ctx);
          const exit = new VmExitRecord();
          exit.reason = ExitReason.ExceptionOrNmi;
          exit.interruptionInfo = encodeInterruptionInfo(
            vector,
            InterruptionType.HardwareException,
            vector === 14,
          );
          exit.interruptionErrorCode = pfec;
          const w01 = l1WantsExit(v01, exit, host);
          const w12 = l1WantsExit(v12, exit, l1);
          const w02 = l1WantsExit(v02, exit, host);
          if (w01 || w12) expect(w02).toBe(true);
          if (vector !== 14) expect(w02).toBe(w01 || w12);
          // exact when a level never exits on #PF
          const never = (v: Vmcs) =>
            [0, 1, 2, 3, 4, 5, 6, 7].every((code) => {
              exit.interruptionErrorCode = code;
              return !l1WantsExit(v, exit, host);
            });
          exit.interruptionErrorCode = pfec;
          if (vector === 14 && (never(v01) || never(v12))) {
            exit.interruptionErrorCode = pfec;
            expect(l1WantsExit(v02, exit, host)).toBe(w01 || w12);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("TSC offsets add with carry; CR read shadows show L2 what L1 lets it see", () => {
    const [v01, v12, v02] = pair(ProcCtl.TscOffsetting, ProcCtl.TscOffsetting);
    v01.set(F.TSC_OFFSET, 0xffff_ffff, 0xffff_ffff); // -1
    v12.set(F.TSC_OFFSET, 5, 0);
    v12.set(F.CR0_GUEST_HOST_MASK, 0x8);
    v12.set(F.CR0_READ_SHADOW, 0x0);
    v12.set(F.GUEST_CR0, 0x8000_003b);
    v01.set(F.CR0_GUEST_HOST_MASK, 0x1_0000);
    mergeVmcs02Controls(v02, v01, v12, ctx);
    expect([v02.get32(F.TSC_OFFSET), v02.getHi(F.TSC_OFFSET)]).toEqual([4, 0]);
    expect(v02.get32(F.CR0_GUEST_HOST_MASK)).toBe(0x1_0008);
    expect(v02.get32(F.CR0_READ_SHADOW) >>> 0).toBe(0x8000_0033); // TS from L1's shadow, the rest from L2's CR0
  });

  it("TSC scaling composes: multipliers multiply, L0's offset is scaled by L1's multiplier", () => {
    const [v01, v12, v02] = pair(
      ProcCtl.TscOffsetting | ProcCtl.SecondaryControls,
      ProcCtl.TscOffsetting | ProcCtl.SecondaryControls,
    );
    v01.set(F.SECONDARY_VM_EXEC_CONTROL, Proc2Ctl.TscScaling);
    v12.set(F.SECONDARY_VM_EXEC_CONTROL, Proc2Ctl.TscScaling);
    v01.set(F.TSC_MULTIPLIER, 0, 2 << 16); // 2.0
    v12.set(F.TSC_MULTIPLIER, 0, 1 << 15); // 0.5
    v01.set(F.TSC_OFFSET, 100);
    v12.set(F.TSC_OFFSET, 10);
    mergeVmcs02Controls(v02, v01, v12, ctx);
    expect([v02.get32(F.TSC_MULTIPLIER), v02.getHi(F.TSC_MULTIPLIER)]).toEqual([0, 1 << 16]); // 1.0
    expect(v02.get32(F.TSC_OFFSET)).toBe(60);
    expect(v02.get32(F.SECONDARY_VM_EXEC_CONTROL) & Proc2Ctl.TscScaling).not.toBe(0);
    // only L1 scales; L0's negative offset is scaled too
    v01.set(F.SECONDARY_VM_EXEC_CONTROL, 0);
    v12.set(F.TSC_MULTIPLIER, 0, 3 << 16); // 3.0
    v01.set(F.TSC_OFFSET, 0xffff_fff9, 0xffff_ffff); // -7
    mergeVmcs02Controls(v02, v01, v12, ctx);
    expect(v02.getHi(F.TSC_MULTIPLIER)).toBe(3 << 16);
    expect([v02.get32(F.TSC_OFFSET), v02.getHi(F.TSC_OFFSET)]).toEqual([0xffff_fff5, 0xffff_ffff]); // -7 * 3 + 10 = -11
  });
});
