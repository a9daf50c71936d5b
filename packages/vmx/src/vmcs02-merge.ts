import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import type { VmxCapabilities } from "./capabilities.js";
import { EntryCtl, ExitCtl, PinCtl, Proc2Ctl, ProcCtl } from "./controls.js";
import { FieldKind, fieldKind } from "./field-encoding.js";
import { VmInstructionError } from "./instruction-error.js";
import { effectiveProc2 } from "./l1-routing.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F, VMCS_FIELDS } from "./vmcs-fields.js";

// Building VMCS02 (what the hardware runs L2 on) from VMCS01 (L0's intercepts for L1) and
// VMCS12 (what L1 asked for): the paper's "Levels" merge, and KVM's prepare_vmcs02.

/** What a merge needs besides the three VMCSs. */
export interface MergeContext {
  /** The capabilities of the hardware that runs VMCS02. */
  readonly caps: VmxCapabilities;
  /** Host-physical memory (VMCS01's bitmaps, L0's scratch pages). */
  readonly hostMem: PhysicalMemory;
  /** L1-physical memory (VMCS12's bitmaps). */
  readonly l1mem: PhysicalMemory;
  /** Translates an L1-physical address to host-physical; -1 when it is not RAM. */
  readonly l1paToHpa: (l1pa: number) => number;
  /** Host pages L0 owns for VMCS02's merged bitmaps. */
  readonly pages: { readonly ioBitmapA: number; readonly ioBitmapB: number; readonly msrBitmap: number };
  /** VPID L0 uses for L2 (0 when VPIDs are not used). */
  readonly vpid02: number;
  /** Writes the EPT pointer of the shadow EPT02 for VMCS12's EPTP into `out` (lo, hi). */
  readonly ept02Pointer: (eptp12Lo: number, eptp12Hi: number, out: Uint32Array) => void;
}

/** Secondary controls of VMCS12 that go to the hardware unchanged. */
const PROC2_FROM_12 =
  Proc2Ctl.DescTableExiting |
  Proc2Ctl.Rdtscp |
  Proc2Ctl.WbinvdExiting |
  Proc2Ctl.UnrestrictedGuest |
  Proc2Ctl.RdrandExiting |
  Proc2Ctl.Invpcid |
  Proc2Ctl.RdseedExiting |
  Proc2Ctl.Xsaves |
  Proc2Ctl.PauseLoopExiting |
  Proc2Ctl.VirtApicAccesses |
  Proc2Ctl.VirtX2apic |
  Proc2Ctl.ApicRegisterVirt |
  Proc2Ctl.VirtIntrDelivery;
/** Secondary controls of VMCS01 that L0 keeps for itself while L2 runs. */
const PROC2_FROM_01 = Proc2Ctl.Ept | Proc2Ctl.Vpid;

const tmp = new Uint32Array(2);

/** An intercept set of one level: "all", "none" or "bitmap". */
function ioMode(proc: number): 0 | 1 | 2 {
  if ((proc & ProcCtl.UseIoBitmaps) !== 0) return 2;
  return (proc & ProcCtl.UncondIoExiting) !== 0 ? 1 : 0;
}

function orPages(
  ctx: MergeContext,
  a: number,
  aInHost: boolean,
  b: number,
  bInHost: boolean,
  out: number,
): void {
  for (let i = 0; i < 4096; i += 4) {
    const va = a < 0 ? 0 : (aInHost ? ctx.hostMem : ctx.l1mem).read32(a + i, AccessKind.Read);
    const vb = b < 0 ? 0 : (bInHost ? ctx.hostMem : ctx.l1mem).read32(b + i, AccessKind.Read);
    ctx.hostMem.write32(out + i, (va | vb) >>> 0, AccessKind.Write);
  }
}

const ONE = 1n << 48n; // a TSC multiplier of 1.0 (bits 47:0 are the fraction)
const MASK64 = (1n << 64n) - 1n;
const tscResult = { offsetting: false, scaling: false };

function get64(v: Vmcs, f: number): bigint {
  return (BigInt(v.getHi(f)) << 32n) | BigInt(v.get32(f));
}

function set64(v: Vmcs, f: number, x: bigint): void {
  const u = x & MASK64;
  v.set(f, Number(u & 0xffff_ffffn), Number(u >> 32n));
}

/**
 * Composes the TSC offsets and multipliers of both levels into VMCS02. Only on full merges (not
 * a hot path): the 64 x 64-bit fixed-point products use BigInt.
 */
function composeTsc(
  vmcs02: Vmcs,
  vmcs01: Vmcs,
  vmcs12: Vmcs,
  proc01: number,
  proc12: number,
  p2of01: number,
  p2of12: number,
): typeof tscResult {
  const off01 = (proc01 & ProcCtl.TscOffsetting) !== 0 ? BigInt.asIntN(64, get64(vmcs01, F.TSC_OFFSET)) : 0n;
  const off12 = (proc12 & ProcCtl.TscOffsetting) !== 0 ? BigInt.asIntN(64, get64(vmcs12, F.TSC_OFFSET)) : 0n;
  const scale01 = (p2of01 & Proc2Ctl.TscScaling) !== 0;
  const scale12 = (p2of12 & Proc2Ctl.TscScaling) !== 0;
  const m01 = scale01 ? get64(vmcs01, F.TSC_MULTIPLIER) : ONE;
  const m12 = scale12 ? get64(vmcs12, F.TSC_MULTIPLIER) : ONE;
  tscResult.scaling = scale01 || scale12;
  tscResult.offsetting = ((proc01 | proc12) & ProcCtl.TscOffsetting) !== 0;
  if (tscResult.scaling) set64(vmcs02, F.TSC_MULTIPLIER, (m01 * m12) >> 48n);
  set64(vmcs02, F.TSC_OFFSET, ((off01 * m12) >> 48n) + off12);
  return tscResult;
}

/** A level that never exits on #PF: bit 14 clear and a filter that always matches (SDM 26.2). */
function pfNever(v: Vmcs): boolean {
  const matchAlways =
    (v.get32(F.PAGE_FAULT_ERROR_CODE_MASK) & 0xffff_ffff) === 0 &&
    v.get32(F.PAGE_FAULT_ERROR_CODE_MATCH) === 0;
  const bit = (v.get32(F.EXCEPTION_BITMAP) >>> 14) & 1;
  if (matchAlways) return bit === 0;
  // mask/match can differ: then bit 14 = 0 exits on the mismatching codes, = 1 on the matching ones;
  // a match value with bits outside the mask never matches, so bit 14 = 1 then never exits.
  const neverMatches =
    (v.get32(F.PAGE_FAULT_ERROR_CODE_MATCH) & ~v.get32(F.PAGE_FAULT_ERROR_CODE_MASK)) !== 0;
  return neverMatches && bit === 1;
}

function copyField(dst: Vmcs, src: Vmcs, f: number): void {
  dst.set(f, src.get32(f), src.getHi(f));
}

/**
 * Merges the controls of VMCS02 (SDM 25.6-25.8 for each field's meaning): pin/processor/secondary
 * controls as unions of both levels' intercepts, exception bitmap and #PF filter, I/O and MSR
 * bitmaps as unions of intercepts, CR masks and read shadows, TSC offsets added, the EPTP of the
 * shadow EPT02, exit/entry controls that keep VMCS02's guest area complete, VMCS01's host state.
 * Intercepts of VMCS02 are a superset of both levels' (exactly their union for I/O, MSRs,
 * exceptions and, when one level never exits on #PF, page faults).
 *
 * @returns {@link VmInstructionError.None}, or {@link VmInstructionError.EntryInvalidControls}
 *   when an address in VMCS12 names no L1 RAM (KVM fails VM entry the same way).
 */
export function mergeVmcs02Controls(
  vmcs02: Vmcs,
  vmcs01: Vmcs,
  vmcs12: Vmcs,
  ctx: MergeContext,
): VmInstructionError {
  const pin01 = vmcs01.get32(F.PIN_BASED_VM_EXEC_CONTROL);
  const pin12 = vmcs12.get32(F.PIN_BASED_VM_EXEC_CONTROL);
  const proc01 = vmcs01.get32(F.CPU_BASED_VM_EXEC_CONTROL);
  const proc12 = vmcs12.get32(F.CPU_BASED_VM_EXEC_CONTROL);
  const p2of01 = effectiveProc2(vmcs01);
  const p2of12 = effectiveProc2(vmcs12);

  // pin-based: L0 always takes external interrupts and NMIs; L1's timer/virtual NMIs pass through
  let pin = pin01 | pin12 | PinCtl.ExtIntExiting | PinCtl.NmiExiting;
  pin &= ~PinCtl.PostedInterrupts; // L0 delivers L2's posted interrupts itself (not yet offered through)
  vmcs02.set(F.PIN_BASED_VM_EXEC_CONTROL, (pin | ctx.caps.pinMust1) & ctx.caps.pinMay1);

  // primary processor-based: union of intercepts; bitmaps and TSC handled below
  let proc = (proc01 | proc12) & ~(ProcCtl.UseIoBitmaps | ProcCtl.UncondIoExiting | ProcCtl.UseMsrBitmaps);
  proc &= ~ProcCtl.TscOffsetting;
  // I/O: "all" on either side wins; else a union of bitmaps
  const io01 = ioMode(proc01);
  const io12 = ioMode(proc12);
  if (io01 === 1 || io12 === 1) proc |= ProcCtl.UncondIoExiting;
  else if (io01 === 2 || io12 === 2) {
    proc |= ProcCtl.UseIoBitmaps;
    for (const [f, page] of [
      [F.IO_BITMAP_A, ctx.pages.ioBitmapA],
      [F.IO_BITMAP_B, ctx.pages.ioBitmapB],
    ] as const) {
      orPages(
        ctx,
        io01 === 2 ? vmcs01.getNumber(f) : -1,
        true,
        io12 === 2 ? vmcs12.getNumber(f) : -1,
        false,
        page,
      );
      vmcs02.setNumber(f, page);
    }
  }
  // MSRs: without a bitmap a level intercepts every MSR access
  if ((proc01 & ProcCtl.UseMsrBitmaps) !== 0 && (proc12 & ProcCtl.UseMsrBitmaps) !== 0) {
    proc |= ProcCtl.UseMsrBitmaps;
    orPages(
      ctx,
      vmcs01.getNumber(F.MSR_BITMAP),
      true,
      vmcs12.getNumber(F.MSR_BITMAP),
      false,
      ctx.pages.msrBitmap,
    );
    vmcs02.setNumber(F.MSR_BITMAP, ctx.pages.msrBitmap);
  }
  // TSC: L2's TSC = ((host * m01 >> 48) + off01) * m12 >> 48 + off12 (SDM 26.3 / 27.6.5)
  const tsc = composeTsc(vmcs02, vmcs01, vmcs12, proc01, proc12, p2of01, p2of12);
  if (tsc.offsetting) proc |= ProcCtl.TscOffsetting;
  // TPR shadow: L1's virtual-APIC page, translated to host memory
  if ((proc12 & ProcCtl.TprShadow) !== 0) {
    const hpa = ctx.l1paToHpa(vmcs12.getNumber(F.VIRTUAL_APIC_PAGE_ADDR));
    if (hpa < 0) return VmInstructionError.EntryInvalidControls;
    vmcs02.setNumber(F.VIRTUAL_APIC_PAGE_ADDR, hpa);
    copyField(vmcs02, vmcs12, F.TPR_THRESHOLD);
  } else proc &= ~ProcCtl.TprShadow;
  // CR3-target values: usable only when L0 itself does not intercept CR3 loads
  if ((proc01 & ProcCtl.Cr3LoadExiting) === 0) {
    copyField(vmcs02, vmcs12, F.CR3_TARGET_COUNT);
    for (let i = 0; i < 4; i++) copyField(vmcs02, vmcs12, F.CR3_TARGET_VALUE0 + 2 * i);
  } else vmcs02.set(F.CR3_TARGET_COUNT, 0);

  // secondary
  let p2 = (p2of01 & PROC2_FROM_01) | (p2of12 & PROC2_FROM_12);
  if ((p2of12 & Proc2Ctl.VirtApicAccesses) !== 0) {
    const hpa = ctx.l1paToHpa(vmcs12.getNumber(F.APIC_ACCESS_ADDR));
    if (hpa < 0) return VmInstructionError.EntryInvalidControls;
    vmcs02.setNumber(F.APIC_ACCESS_ADDR, hpa);
  }
  if ((p2of12 & Proc2Ctl.VirtIntrDelivery) !== 0) {
    for (let i = 0; i < 4; i++) copyField(vmcs02, vmcs12, F.EOI_EXIT_BITMAP0 + 2 * i);
    copyField(vmcs02, vmcs12, F.GUEST_INTERRUPT_STATUS);
  }
  if ((p2of12 & Proc2Ctl.PauseLoopExiting) !== 0) {
    copyField(vmcs02, vmcs12, F.PLE_GAP);
    copyField(vmcs02, vmcs12, F.PLE_WINDOW);
  }
  if ((p2of12 & Proc2Ctl.Xsaves) !== 0) copyField(vmcs02, vmcs12, F.XSS_EXIT_BITMAP);
  if (tsc.scaling) p2 |= Proc2Ctl.TscScaling;
  if ((p2of01 & Proc2Ctl.Ept) !== 0) {
    if ((p2of12 & Proc2Ctl.Ept) !== 0) {
      ctx.ept02Pointer(vmcs12.get32(F.EPT_POINTER), vmcs12.getHi(F.EPT_POINTER), tmp);
      vmcs02.set(F.EPT_POINTER, tmp[0]!, tmp[1]!);
    } else {
      copyField(vmcs02, vmcs01, F.EPT_POINTER); // L2-physical = L1-physical: EPT01 serves
    }
  }
  if ((p2 & Proc2Ctl.Vpid) !== 0) vmcs02.set(F.VIRTUAL_PROCESSOR_ID, ctx.vpid02);
  p2 &= ctx.caps.proc2May1;
  if (p2 !== 0) proc |= ProcCtl.SecondaryControls;
  else proc &= ~ProcCtl.SecondaryControls;
  vmcs02.set(F.SECONDARY_VM_EXEC_CONTROL, p2);
  vmcs02.set(F.CPU_BASED_VM_EXEC_CONTROL, ((proc | ctx.caps.procMust1) & ctx.caps.procMay1) >>> 0);

  // exception bitmap; #PF: one level's filter when the other never exits on #PF, else every #PF
  const eb01 = vmcs01.get32(F.EXCEPTION_BITMAP);
  const eb12 = vmcs12.get32(F.EXCEPTION_BITMAP);
  let eb = (eb01 | eb12) & ~(1 << 14);
  const pfFrom = pfNever(vmcs01) ? vmcs12 : pfNever(vmcs12) ? vmcs01 : null;
  if (pfFrom !== null) {
    eb |= pfFrom.get32(F.EXCEPTION_BITMAP) & (1 << 14);
    copyField(vmcs02, pfFrom, F.PAGE_FAULT_ERROR_CODE_MASK);
    copyField(vmcs02, pfFrom, F.PAGE_FAULT_ERROR_CODE_MATCH);
  } else {
    eb |= 1 << 14;
    vmcs02.set(F.PAGE_FAULT_ERROR_CODE_MASK, 0);
    vmcs02.set(F.PAGE_FAULT_ERROR_CODE_MATCH, 0);
  }
  vmcs02.set(F.EXCEPTION_BITMAP, eb >>> 0);

  // CR0/CR4: union of ownership; the read shadow shows L2 what L1 lets it see
  for (const [mask, shadow, guest] of [
    [F.CR0_GUEST_HOST_MASK, F.CR0_READ_SHADOW, F.GUEST_CR0],
    [F.CR4_GUEST_HOST_MASK, F.CR4_READ_SHADOW, F.GUEST_CR4],
  ] as const) {
    const m12lo = vmcs12.get32(mask);
    const m12hi = vmcs12.getHi(mask);
    vmcs02.set(mask, vmcs01.get32(mask) | m12lo, vmcs01.getHi(mask) | m12hi);
    vmcs02.set(
      shadow,
      (vmcs12.get32(shadow) & m12lo) | (vmcs12.get32(guest) & ~m12lo),
      (vmcs12.getHi(shadow) & m12hi) | (vmcs12.getHi(guest) & ~m12hi),
    );
  }

  // exit controls: L0's, plus saving everything so VMCS02's guest area always holds L2's state
  const exitMay = ctx.caps.exitMay1;
  vmcs02.set(
    F.VM_EXIT_CONTROLS,
    ((vmcs01.get32(F.VM_EXIT_CONTROLS) | ExitCtl.SaveDebugControls | ExitCtl.SavePat | ExitCtl.SaveEfer) &
      exitMay &
      ~ExitCtl.SavePreemptionTimer) |
      (vmcs12.get32(F.VM_EXIT_CONTROLS) & ExitCtl.SavePreemptionTimer & exitMay),
  );
  vmcs02.set(F.VM_EXIT_MSR_STORE_COUNT, 0);
  vmcs02.set(F.VM_EXIT_MSR_LOAD_COUNT, 0);
  // entry controls: load everything from VMCS02's (complete) guest area
  const entry12 = vmcs12.get32(F.VM_ENTRY_CONTROLS);
  vmcs02.set(
    F.VM_ENTRY_CONTROLS,
    (ctx.caps.entryMust1 |
      EntryCtl.LoadDebugControls |
      EntryCtl.LoadPat |
      EntryCtl.LoadEfer |
      (entry12 & (EntryCtl.Ia32eModeGuest | EntryCtl.LoadPerfGlobalCtrl))) &
      ctx.caps.entryMay1,
  );
  vmcs02.set(F.VM_ENTRY_MSR_LOAD_COUNT, 0);
  vmcs02.set(F.VMCS_LINK_POINTER, 0xffff_ffff, 0xffff_ffff);

  // host state: L2's exits return to L0, exactly like L1's
  for (const { encoding } of VMCS_FIELDS) {
    if (fieldKind(encoding) === FieldKind.Host) copyField(vmcs02, vmcs01, encoding);
  }
  return VmInstructionError.None;
}

/** Copies event injection (SDM 25.8.3) from VMCS12 to VMCS02: done on every entry to L2. */
export function copyEventInjection(vmcs02: Vmcs, vmcs12: Vmcs): void {
  copyField(vmcs02, vmcs12, F.VM_ENTRY_INTR_INFO);
  copyField(vmcs02, vmcs12, F.VM_ENTRY_EXCEPTION_ERROR_CODE);
  copyField(vmcs02, vmcs12, F.VM_ENTRY_INSTRUCTION_LEN);
}

/**
 * Slots of VMCS12 whose change requires a full merge and a full run of the control/host entry
 * checks: every control field except event injection, and every host-state field.
 */
const CONTROL_SLOTS: readonly number[] = VMCS_FIELDS.flatMap((f, slot) => {
  const k = fieldKind(f.encoding);
  const injection =
    f.encoding === F.VM_ENTRY_INTR_INFO ||
    f.encoding === F.VM_ENTRY_EXCEPTION_ERROR_CODE ||
    f.encoding === F.VM_ENTRY_INSTRUCTION_LEN;
  return (k === FieldKind.Control && !injection) || k === FieldKind.Host ? [slot] : [];
}).concat(
  // read shadows depend on guest CR0/CR4 too
  [F.GUEST_CR0, F.GUEST_CR4].map((enc) => VMCS_FIELDS.findIndex((f) => f.encoding === enc)),
);

/** True when any control or host-state field of `now` differs from `then` (the VMCS12 of the last merge). */
export function controlsChanged(now: Vmcs, then: Vmcs): boolean {
  const a = now.data;
  const b = then.data;
  for (const slot of CONTROL_SLOTS) {
    if (a[slot * 2] !== b[slot * 2] || a[slot * 2 + 1] !== b[slot * 2 + 1]) return true;
  }
  return false;
}
