import type { PhysicalMemory } from "@turtles/memory";
import { AccessKind } from "@turtles/memory";
import { PinCtl, Proc2Ctl, ProcCtl } from "./controls.js";
import { CrAccessType, InterruptionType, interruptionType, interruptionVector } from "./exit-info.js";
import { EXIT_REASON_LIMIT, ExitReason } from "./exit-reason.js";
import type { VmExitRecord } from "./vm-exit-record.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F } from "./vmcs-fields.js";

/**
 * How the guest hypervisor's VMCS12 decides whether an exit of its guest is its own (SDM vol. 3,
 * 26.1-26.2 "Instructions That Cause VM Exits" / "Other Causes of VM Exits"):
 * - `always`: exits unconditionally in VMX non-root operation;
 * - `never`: never L1's (L0 keeps or emulates it — e.g. PML-full of the hardware log);
 * - `pin`/`proc`/`proc2`: exits when that control bit (mask) is 1 in VMCS12;
 * - `custom`: the decision reads more of VMCS12 (bitmaps, masks, shadows) or L1 memory.
 */
export type ExitRule =
  | { readonly kind: "always" }
  | { readonly kind: "never" }
  | { readonly kind: "pin" | "proc" | "proc2"; readonly mask: number }
  | {
      readonly kind: "custom";
      readonly decide: (vmcs12: Vmcs, exit: VmExitRecord, l1mem: PhysicalMemory) => boolean;
    };

/** One row of the exit table: the rule that routes the reason and which exit fields it fills. */
export interface ExitTableEntry {
  /** Basic exit reason. */
  readonly reason: number;
  /** Whether L1 wants the exit. */
  readonly rule: ExitRule;
  /** The exit qualification is defined for this reason (SDM 28.2.1). */
  readonly qualification: boolean;
  /** The VM-exit instruction-length field is defined (SDM 28.2.5). */
  readonly instructionLength: boolean;
  /** The VM-exit instruction-information field is defined (SDM 28.2.5). */
  readonly instructionInfo: boolean;
}

/** The secondary controls in effect: 0 unless "activate secondary controls" is 1. */
export function effectiveProc2(vmcs: Vmcs): number {
  return (vmcs.get32(F.CPU_BASED_VM_EXEC_CONTROL) & ProcCtl.SecondaryControls) !== 0
    ? vmcs.get32(F.SECONDARY_VM_EXEC_CONTROL)
    : 0;
}

// --- custom rules -------------------------------------------------------------------------

/** Exception or NMI: pin-based NMI exiting, else the exception bitmap (SDM 26.2). */
function exceptionRule(v: Vmcs, exit: VmExitRecord): boolean {
  const info = exit.interruptionInfo;
  if (interruptionType(info) === InterruptionType.Nmi) {
    return (v.get32(F.PIN_BASED_VM_EXEC_CONTROL) & PinCtl.NmiExiting) !== 0;
  }
  const vector = interruptionVector(info);
  if (vector > 31) return false;
  const bit = (v.get32(F.EXCEPTION_BITMAP) >>> vector) & 1;
  if (vector !== 14) return bit === 1;
  // #PF: the error-code mask/match decides whether bit 14 means "exit" or "don't exit".
  const match =
    (exit.interruptionErrorCode & v.get32(F.PAGE_FAULT_ERROR_CODE_MASK)) >>> 0 ===
    v.get32(F.PAGE_FAULT_ERROR_CODE_MATCH);
  return match ? bit === 1 : bit === 0;
}

function crMaskedChange(v: Vmcs, maskField: number, shadowField: number, lo: number, hi: number): boolean {
  const maskLo = v.get32(maskField);
  const maskHi = v.getHi(maskField);
  const shLo = v.get32(shadowField);
  const shHi = v.getHi(shadowField);
  return ((lo ^ shLo) & maskLo) !== 0 || ((hi ^ shHi) & maskHi) !== 0;
}

function cr3TargetHit(v: Vmcs, lo: number, hi: number): boolean {
  const count = Math.min(v.get32(F.CR3_TARGET_COUNT), 4);
  for (let i = 0; i < count; i++) {
    const field = F.CR3_TARGET_VALUE0 + 2 * i;
    if (v.get32(field) === lo >>> 0 && v.getHi(field) === hi >>> 0) return true;
  }
  return false;
}

/** Control-register accesses (SDM 26.1.3): masks and read shadows, CR3 targets, CR8 controls. */
function crAccessRule(v: Vmcs, exit: VmExitRecord): boolean {
  const q = exit.qualLo;
  const cr = q & 0xf;
  const access = (q >>> 4) & 3;
  const proc = v.get32(F.CPU_BASED_VM_EXEC_CONTROL);
  switch (access) {
    case CrAccessType.MovToCr:
      if (cr === 0)
        return crMaskedChange(v, F.CR0_GUEST_HOST_MASK, F.CR0_READ_SHADOW, exit.crValueLo, exit.crValueHi);
      if (cr === 4)
        return crMaskedChange(v, F.CR4_GUEST_HOST_MASK, F.CR4_READ_SHADOW, exit.crValueLo, exit.crValueHi);
      if (cr === 3)
        return (proc & ProcCtl.Cr3LoadExiting) !== 0 && !cr3TargetHit(v, exit.crValueLo, exit.crValueHi);
      if (cr === 8) return (proc & ProcCtl.Cr8LoadExiting) !== 0;
      return true;
    case CrAccessType.MovFromCr:
      if (cr === 3) return (proc & ProcCtl.Cr3StoreExiting) !== 0;
      if (cr === 8) return (proc & ProcCtl.Cr8StoreExiting) !== 0;
      return false; // CR0/CR4 reads are served from the read shadows
    case CrAccessType.Clts: {
      const ts = 1 << 3;
      return (v.get32(F.CR0_GUEST_HOST_MASK) & ts) !== 0 && (v.get32(F.CR0_READ_SHADOW) & ts) !== 0;
    }
    default: {
      // LMSW: only CR0 bits 3:0 can be written; PE cannot be cleared by LMSW.
      const src = (q >>> 16) & 0xf;
      const mask = v.get32(F.CR0_GUEST_HOST_MASK) & 0xf;
      const shadow = v.get32(F.CR0_READ_SHADOW) & 0xf;
      if ((mask & 1) !== 0 && (shadow & 1) === 0 && (src & 1) !== 0) return true;
      return (mask & 0xe & (shadow ^ src)) !== 0;
    }
  }
}

/** Whether the I/O bitmaps of `v` intercept `size` bytes at `port` (SDM 26.1.3, 25.6.4). */
export function ioBitmapIntercepts(v: Vmcs, l1mem: PhysicalMemory, port: number, size: number): boolean {
  if (port + size - 1 > 0xffff) return true; // wraps around the I/O space
  for (let p = port; p < port + size; p++) {
    const base = p < 0x8000 ? v.getNumber(F.IO_BITMAP_A) : v.getNumber(F.IO_BITMAP_B);
    const bit = p & 0x7fff;
    if (((l1mem.read8(base + (bit >>> 3), AccessKind.Read) >>> (bit & 7)) & 1) !== 0) return true;
  }
  return false;
}

function ioRule(v: Vmcs, exit: VmExitRecord, l1mem: PhysicalMemory): boolean {
  const proc = v.get32(F.CPU_BASED_VM_EXEC_CONTROL);
  if ((proc & ProcCtl.UseIoBitmaps) !== 0) {
    return ioBitmapIntercepts(v, l1mem, exit.qualLo >>> 16, (exit.qualLo & 7) + 1);
  }
  return (proc & ProcCtl.UncondIoExiting) !== 0;
}

/** Whether the MSR bitmap of `v` intercepts a read (or write) of MSR `ecx` (SDM 25.6.9). */
export function msrBitmapIntercepts(v: Vmcs, l1mem: PhysicalMemory, ecx: number, write: boolean): boolean {
  if ((v.get32(F.CPU_BASED_VM_EXEC_CONTROL) & ProcCtl.UseMsrBitmaps) === 0) return true;
  const msr = ecx >>> 0;
  let offset: number;
  if (msr <= 0x1fff) offset = write ? 2048 : 0;
  else if (msr >= 0xc000_0000 && msr <= 0xc000_1fff) offset = write ? 3072 : 1024;
  else return true;
  const bit = msr & 0x1fff;
  const byte = l1mem.read8(v.getNumber(F.MSR_BITMAP) + offset + (bit >>> 3), AccessKind.Read);
  return ((byte >>> (bit & 7)) & 1) !== 0;
}

function enclsRule(v: Vmcs, exit: VmExitRecord): boolean {
  if ((effectiveProc2(v) & Proc2Ctl.EnclsExiting) === 0) return false;
  const leaf = Math.min(exit.eax >>> 0, 63);
  const word = leaf < 32 ? v.get32(F.ENCLS_EXITING_BITMAP) : v.getHi(F.ENCLS_EXITING_BITMAP);
  return ((word >>> (leaf & 31)) & 1) !== 0;
}

/** XSAVES/XRSTORS: any bit set in EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap (SDM 26.1.3). */
function xssRule(v: Vmcs, exit: VmExitRecord): boolean {
  if ((effectiveProc2(v) & Proc2Ctl.Xsaves) === 0) return false;
  return (
    (v.get32(F.XSS_EXIT_BITMAP) & exit.eax & exit.xssLo) !== 0 ||
    (v.getHi(F.XSS_EXIT_BITMAP) & exit.edx & exit.xssHi) !== 0
  );
}

// --- the table ------------------------------------------------------------------------------

const always: ExitRule = { kind: "always" };
const never: ExitRule = { kind: "never" };
const pin = (mask: number): ExitRule => ({ kind: "pin", mask });
const proc = (mask: number): ExitRule => ({ kind: "proc", mask });
const proc2 = (mask: number): ExitRule => ({ kind: "proc2", mask });
const custom = (decide: (v: Vmcs, e: VmExitRecord, m: PhysicalMemory) => boolean): ExitRule => ({
  kind: "custom",
  decide,
});

/** Instruction exits: instruction length defined; `info` = instruction information defined. */
const instr = (reason: number, rule: ExitRule, qual = false, info = false): ExitTableEntry => ({
  reason,
  rule,
  qualification: qual,
  instructionLength: true,
  instructionInfo: info,
});
const event = (reason: number, rule: ExitRule, qual = false): ExitTableEntry => ({
  reason,
  rule,
  qualification: qual,
  instructionLength: false,
  instructionInfo: false,
});

const R = ExitReason;
const ROWS: readonly ExitTableEntry[] = [
  event(R.ExceptionOrNmi, custom(exceptionRule), true),
  event(R.ExternalInterrupt, pin(PinCtl.ExtIntExiting)),
  event(R.TripleFault, always),
  event(R.InitSignal, always),
  event(R.Sipi, always, true),
  event(R.IoSmi, always, true),
  event(R.OtherSmi, always),
  event(R.InterruptWindow, proc(ProcCtl.IntrWindowExiting)),
  event(R.NmiWindow, proc(ProcCtl.NmiWindowExiting)),
  instr(R.TaskSwitch, always, true),
  instr(R.Cpuid, always),
  instr(R.Getsec, always),
  instr(R.Hlt, proc(ProcCtl.HltExiting)),
  instr(R.Invd, always),
  instr(R.Invlpg, proc(ProcCtl.InvlpgExiting), true),
  instr(R.Rdpmc, proc(ProcCtl.RdpmcExiting)),
  instr(R.Rdtsc, proc(ProcCtl.RdtscExiting)),
  instr(R.Rsm, always),
  instr(R.Vmcall, always),
  instr(R.Vmclear, always, true, true),
  instr(R.Vmlaunch, always),
  instr(R.Vmptrld, always, true, true),
  instr(R.Vmptrst, always, true, true),
  instr(R.Vmread, always, true, true),
  instr(R.Vmresume, always),
  instr(R.Vmwrite, always, true, true),
  instr(R.Vmxoff, always),
  instr(R.Vmxon, always, true, true),
  instr(R.CrAccess, custom(crAccessRule), true),
  instr(R.MovDr, proc(ProcCtl.MovDrExiting), true),
  instr(R.IoInstruction, custom(ioRule), true, true),
  instr(
    R.Rdmsr,
    custom((v, e, m) => msrBitmapIntercepts(v, m, e.ecx, false)),
  ),
  instr(
    R.Wrmsr,
    custom((v, e, m) => msrBitmapIntercepts(v, m, e.ecx, true)),
  ),
  event(R.EntryFailGuestState, always, true),
  event(R.EntryFailMsrLoad, always, true),
  instr(R.Mwait, proc(ProcCtl.MwaitExiting)),
  event(R.MonitorTrapFlag, proc(ProcCtl.MonitorTrapFlag)),
  instr(R.Monitor, proc(ProcCtl.MonitorExiting)),
  instr(
    R.Pause,
    custom(
      (v) =>
        (v.get32(F.CPU_BASED_VM_EXEC_CONTROL) & ProcCtl.PauseExiting) !== 0 ||
        (effectiveProc2(v) & Proc2Ctl.PauseLoopExiting) !== 0,
    ),
  ),
  event(R.EntryFailMachineCheck, always),
  event(R.TprBelowThreshold, proc(ProcCtl.TprShadow)),
  event(R.ApicAccess, proc2(Proc2Ctl.VirtApicAccesses), true),
  event(R.VirtualizedEoi, proc2(Proc2Ctl.VirtIntrDelivery), true),
  instr(R.GdtrIdtrAccess, proc2(Proc2Ctl.DescTableExiting), true, true),
  instr(R.LdtrTrAccess, proc2(Proc2Ctl.DescTableExiting), true, true),
  event(
    R.EptViolation,
    custom((v, e) => e.inEpt12 && (effectiveProc2(v) & Proc2Ctl.Ept) !== 0),
    true,
  ),
  event(
    R.EptMisconfig,
    custom((v, e) => e.inEpt12 && (effectiveProc2(v) & Proc2Ctl.Ept) !== 0),
  ),
  instr(R.Invept, always, true, true),
  instr(R.Rdtscp, proc(ProcCtl.RdtscExiting)),
  event(R.PreemptionTimer, pin(PinCtl.PreemptionTimer)),
  instr(R.Invvpid, always, true, true),
  instr(R.Wbinvd, proc2(Proc2Ctl.WbinvdExiting)),
  instr(R.Xsetbv, always),
  event(R.ApicWrite, always, true),
  instr(R.Rdrand, proc2(Proc2Ctl.RdrandExiting), false, true),
  instr(R.Invpcid, proc(ProcCtl.InvlpgExiting), true, true),
  instr(R.Vmfunc, always),
  instr(R.Encls, custom(enclsRule)),
  instr(R.Rdseed, proc2(Proc2Ctl.RdseedExiting), false, true),
  event(R.PmlFull, never),
  instr(R.Xsaves, custom(xssRule), false, true),
  instr(R.Xrstors, custom(xssRule), false, true),
  instr(R.Pconfig, always),
  event(R.SppEvent, never, true),
  instr(R.Umwait, proc(ProcCtl.RdtscExiting), false, true),
  instr(R.Tpause, proc(ProcCtl.RdtscExiting), false, true),
  instr(R.Loadiwkey, always, false, true),
  instr(R.Enclv, always),
  event(R.EnqcmdPasidFailure, always),
  event(R.EnqcmdsPasidFailure, always),
  event(R.BusLock, proc2(Proc2Ctl.BusLockDetection)),
  event(R.InstructionTimeout, proc2(Proc2Ctl.InstructionTimeout)),
  instr(R.Seamcall, always),
  instr(R.Tdcall, always),
  instr(R.Rdmsrlist, always, false, true),
  instr(R.Wrmsrlist, always, false, true),
];

/** The exit table, indexed by basic exit reason (undefined for numbers the SDM leaves unused). */
export const EXIT_TABLE: readonly (ExitTableEntry | undefined)[] = (() => {
  const t: (ExitTableEntry | undefined)[] = new Array(EXIT_REASON_LIMIT).fill(undefined);
  for (const row of ROWS) t[row.reason] = row;
  return t;
})();

/**
 * Does the guest hypervisor (L1) want this exit of its guest? Decided from VMCS12 alone (and
 * the bitmaps it points to in L1 memory), by the exit table — one rule per basic exit reason.
 * Reasons with no row (unused numbers) go to L1: it is the only level that can make sense of them.
 */
export function l1WantsExit(vmcs12: Vmcs, exit: VmExitRecord, l1mem: PhysicalMemory): boolean {
  const row = EXIT_TABLE[exit.reason];
  if (row === undefined) return true;
  const rule = row.rule;
  switch (rule.kind) {
    case "always":
      return true;
    case "never":
      return false;
    case "pin":
      return (vmcs12.get32(F.PIN_BASED_VM_EXEC_CONTROL) & rule.mask) !== 0;
    case "proc":
      return (vmcs12.get32(F.CPU_BASED_VM_EXEC_CONTROL) & rule.mask) !== 0;
    case "proc2":
      return (effectiveProc2(vmcs12) & rule.mask) !== 0;
    default:
      return rule.decide(vmcs12, exit, l1mem);
  }
}
