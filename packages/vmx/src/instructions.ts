import { AccessKind } from "@turtles/memory";
import { Proc2Ctl } from "./controls.js";
import { ExitReason } from "./exit-reason.js";
import { FieldWidth, fieldWidth } from "./field-encoding.js";
import { VmInstructionError } from "./instruction-error.js";
import { effectiveProc2 } from "./l1-routing.js";
import { CpuMode, type VmxProcessor } from "./processor.js";
import type { GuestStateAccess, MsrAccess } from "./state-access.js";
import { performVmEntry, VmEntryOutcome } from "./vm-entry.js";
import { type EntryCheckResult, isCanonical, isValidEptp } from "./vm-entry-checks.js";
import { performVmExit, type VmExitTargets } from "./vm-exit.js";
import type { VmExitRecord } from "./vm-exit-record.js";
import { LaunchState, type Vmcs } from "./vmcs.js";
import { VmcsField as F } from "./vmcs-fields.js";
import { loadVmcs12, storeVmcs12, vmcs12FieldOffset } from "./vmcs12-layout.js";
import { vmread as vmcsRead, vmwrite as vmcsWrite } from "./vmread-vmwrite.js";
import { INVALID_VMCS_POINTER, SHADOW_WRITE_LOG_SIZE, VmxOperation, type VmxState } from "./vmx-state.js";
import { VmxStatus } from "./vmx-status.js";

// The VMX instructions (Intel SDM vol. 3, chapter 32 "VMX Instruction Reference"), each check in
// the order of the SDM's pseudocode. VMX state lives in a VmxState; the processor is reached only
// through VmxProcessor. Results are VmxStatus values; flags are set here.

const IA32_FEATURE_CONTROL = 0x3a;
const CR4_VMXE = 1 << 13;
const op = new Uint32Array(4);

/** The #UD / VM exit / #GP prologue shared by VMX instructions other than VMXON (SDM 32.x). */
function prologue(s: VmxState, cpu: VmxProcessor): number {
  const mode = cpu.mode();
  if (
    s.operation === VmxOperation.Off ||
    mode === CpuMode.Real ||
    mode === CpuMode.Virtual8086 ||
    mode === CpuMode.Compatibility
  ) {
    return VmxStatus.UndefinedOpcode;
  }
  if (s.operation === VmxOperation.NonRoot) return VmxStatus.VmExit;
  if (cpu.cpl() > 0) return VmxStatus.GeneralProtection;
  return -1;
}

function succeed(cpu: VmxProcessor): VmxStatus {
  cpu.setVmxFlags(false, false);
  return VmxStatus.Succeed;
}

function failInvalid(cpu: VmxProcessor): VmxStatus {
  cpu.setVmxFlags(true, false);
  return VmxStatus.FailInvalid;
}

/** VMfail(error): VMfailValid when a current VMCS exists, else VMfailInvalid (SDM 31.2). */
function vmfail(s: VmxState, cpu: VmxProcessor, error: VmInstructionError): VmxStatus {
  if (!s.hasCurrent) return failInvalid(cpu);
  s.current.set(F.VM_INSTRUCTION_ERROR, error);
  cpu.setVmxFlags(false, true);
  return VmxStatus.FailValid;
}

/** A VMCS/VMXON pointer is 4 KiB aligned and within the physical-address width. */
function pointerOk(s: VmxState, lo: number, hi: number): boolean {
  const w = s.caps.features.maxPhysAddr;
  return (lo & 0xfff) === 0 && (w >= 64 || hi >>> (w - 32) === 0);
}

function fixedOk(v: number, fixed0: number, fixed1: number): boolean {
  return (v & fixed0) >>> 0 === fixed0 >>> 0 && (v & ~fixed1) === 0;
}

/** Writes the cached current VMCS back to its region and forgets it. */
function flushCurrent(s: VmxState, cpu: VmxProcessor): void {
  if (!s.hasCurrent) return;
  storeVmcs12(cpu.memory, s.currentPointer, s.current);
  s.currentPointer = INVALID_VMCS_POINTER;
}

/** VMXON (SDM "VMXON—Enter VMX Operation"). */
export function vmxon(s: VmxState, cpu: VmxProcessor): VmxStatus {
  const mode = cpu.mode();
  if (
    mode === CpuMode.Real ||
    (cpu.cr4() & CR4_VMXE) === 0 ||
    mode === CpuMode.Virtual8086 ||
    mode === CpuMode.Compatibility
  ) {
    return VmxStatus.UndefinedOpcode;
  }
  if (s.operation === VmxOperation.NonRoot) return VmxStatus.VmExit;
  if (s.operation === VmxOperation.Root) {
    if (cpu.cpl() > 0) return VmxStatus.GeneralProtection;
    return vmfail(s, cpu, VmInstructionError.VmxonInRoot);
  }
  const f = s.caps.features;
  const fc = new Uint32Array(2);
  const fcOk = cpu.readMsr(IA32_FEATURE_CONTROL, fc) && (fc[0]! & 1) === 1 && (fc[0]! & 4) === 4;
  if (
    cpu.cpl() > 0 ||
    !fixedOk(cpu.cr0(), f.cr0Fixed0, f.cr0Fixed1) ||
    !fixedOk(cpu.cr4(), f.cr4Fixed0, f.cr4Fixed1) ||
    !fcOk
  ) {
    return VmxStatus.GeneralProtection;
  }
  if (!cpu.readOperand(op, 2)) return VmxStatus.OperandFault;
  const lo = op[0]!;
  const hi = op[1]!;
  if (!pointerOk(s, lo, hi)) return failInvalid(cpu);
  const addr = hi * 0x1_0000_0000 + lo;
  const rev = cpu.memory.read32(addr, AccessKind.Read);
  if ((rev & 0x7fff_ffff) !== s.caps.revisionId || rev >>> 31 === 1) return failInvalid(cpu);
  s.operation = VmxOperation.Root;
  s.vmxonPointer = addr;
  s.currentPointer = INVALID_VMCS_POINTER;
  return succeed(cpu);
}

/** VMXOFF (SDM "VMXOFF—Leave VMX Operation"). The cached VMCS is written back to memory. */
export function vmxoff(s: VmxState, cpu: VmxProcessor): VmxStatus {
  const p = prologue(s, cpu);
  if (p >= 0) return p as VmxStatus;
  flushCurrent(s, cpu);
  s.operation = VmxOperation.Off;
  s.vmxonPointer = INVALID_VMCS_POINTER;
  return succeed(cpu);
}

/** VMCLEAR (SDM "VMCLEAR—Clear Virtual-Machine Control Structure"). */
export function vmclear(s: VmxState, cpu: VmxProcessor): VmxStatus {
  const p = prologue(s, cpu);
  if (p >= 0) return p as VmxStatus;
  if (!cpu.readOperand(op, 2)) return VmxStatus.OperandFault;
  const lo = op[0]!;
  const hi = op[1]!;
  if (!pointerOk(s, lo, hi)) return vmfail(s, cpu, VmInstructionError.VmclearInvalidAddress);
  const addr = hi * 0x1_0000_0000 + lo;
  if (addr === s.vmxonPointer) return vmfail(s, cpu, VmInstructionError.VmclearVmxonPointer);
  if (addr === s.currentPointer) {
    s.current.launchState = LaunchState.Clear;
    flushCurrent(s, cpu);
  } else {
    cpu.memory.write32(addr + 8, LaunchState.Clear, AccessKind.Write);
  }
  return succeed(cpu);
}

/** VMPTRLD (SDM "VMPTRLD—Load Pointer to Virtual-Machine Control Structure"). */
export function vmptrld(s: VmxState, cpu: VmxProcessor): VmxStatus {
  const p = prologue(s, cpu);
  if (p >= 0) return p as VmxStatus;
  if (!cpu.readOperand(op, 2)) return VmxStatus.OperandFault;
  const lo = op[0]!;
  const hi = op[1]!;
  if (!pointerOk(s, lo, hi)) return vmfail(s, cpu, VmInstructionError.VmptrldInvalidAddress);
  const addr = hi * 0x1_0000_0000 + lo;
  if (addr === s.vmxonPointer) return vmfail(s, cpu, VmInstructionError.VmptrldVmxonPointer);
  const rev = cpu.memory.read32(addr, AccessKind.Read);
  const shadowOk = (s.caps.proc2May1 & Proc2Ctl.VmcsShadowing) !== 0;
  if ((rev & 0x7fff_ffff) !== s.caps.revisionId || (rev >>> 31 === 1 && !shadowOk)) {
    return vmfail(s, cpu, VmInstructionError.VmptrldBadRevision);
  }
  if (addr !== s.currentPointer) {
    flushCurrent(s, cpu);
    loadVmcs12(cpu.memory, addr, s.current);
    s.currentPointer = addr;
  }
  return succeed(cpu);
}

/** VMPTRST (SDM "VMPTRST—Store Pointer to Virtual-Machine Control Structure"). */
export function vmptrst(s: VmxState, cpu: VmxProcessor): VmxStatus {
  const p = prologue(s, cpu);
  if (p >= 0) return p as VmxStatus;
  const ok = s.hasCurrent
    ? cpu.writeOperand(s.currentPointer >>> 0, Math.floor(s.currentPointer / 0x1_0000_0000) >>> 0)
    : cpu.writeOperand(0xffff_ffff, 0xffff_ffff);
  if (!ok) return VmxStatus.OperandFault;
  return succeed(cpu);
}

/**
 * Whether a non-root VMREAD/VMWRITE is served from the shadow VMCS (SDM 25.10): "VMCS shadowing"
 * is 1, the encoding has no bits above 14, and its bit in the VMREAD/VMWRITE bitmap is 0.
 * Otherwise the instruction causes a VM exit.
 */
function shadowAllows(s: VmxState, cpu: VmxProcessor, encLo: number, encHi: number, write: boolean): boolean {
  const v = s.current;
  if ((effectiveProc2(v) & Proc2Ctl.VmcsShadowing) === 0 || encHi !== 0 || encLo >>> 15 !== 0) return false;
  const bitmap = v.getNumber(write ? F.VMWRITE_BITMAP : F.VMREAD_BITMAP);
  return ((cpu.memory.read8(bitmap + (encLo >>> 3), AccessKind.Read) >>> (encLo & 7)) & 1) === 0;
}

function linkPointerValid(v: Vmcs): boolean {
  return !(v.get32(F.VMCS_LINK_POINTER) === 0xffff_ffff && v.getHi(F.VMCS_LINK_POINTER) === 0xffff_ffff);
}

/**
 * VMREAD (SDM "VMREAD—Read Field from Virtual-Machine Control Structure"). `encLo`/`encHi` is the
 * register holding the field encoding. In non-root operation with VMCS shadowing, fields whose
 * VMREAD-bitmap bit is 0 are read from the shadow VMCS without a VM exit (counted in
 * `s.shadowReads`).
 */
export function vmread(s: VmxState, cpu: VmxProcessor, encLo: number, encHi: number): VmxStatus {
  const mode = cpu.mode();
  if (
    s.operation === VmxOperation.Off ||
    mode === CpuMode.Real ||
    mode === CpuMode.Virtual8086 ||
    mode === CpuMode.Compatibility
  ) {
    return VmxStatus.UndefinedOpcode;
  }
  const nonRoot = s.operation === VmxOperation.NonRoot;
  if (nonRoot && !shadowAllows(s, cpu, encLo, encHi, false)) return VmxStatus.VmExit;
  if (cpu.cpl() > 0) return VmxStatus.GeneralProtection;
  if (nonRoot) {
    if (!linkPointerValid(s.current)) return failInvalid(cpu);
    if (!s.caps.isFieldSupported(encLo)) return vmfail(s, cpu, VmInstructionError.UnsupportedComponent);
    const at = s.current.getNumber(F.VMCS_LINK_POINTER) + vmcs12FieldOffset(encLo);
    cpu.memory.read64(at, AccessKind.Read, op, 0);
    if ((encLo & 1) === 1) op[1] = 0;
    s.shadowReads++;
    if (!cpu.writeOperand(op[0]!, op[1]!)) return VmxStatus.OperandFault;
    return succeed(cpu);
  }
  if (!s.hasCurrent) return failInvalid(cpu);
  const err = vmcsRead(s.current, s.caps, encLo, encHi, op);
  if (err !== VmInstructionError.None) return vmfail(s, cpu, err);
  if (!cpu.writeOperand(op[0]!, op[1]!)) return VmxStatus.OperandFault;
  return succeed(cpu);
}

/**
 * VMWRITE (SDM "VMWRITE—Write Field to Virtual-Machine Control Structure"). The value is the
 * register `valLo`/`valHi`, or (when `fromMemory`) the memory operand. Shadowing as for
 * {@link vmread} (counted in `s.shadowWrites`).
 */
export function vmwrite(
  s: VmxState,
  cpu: VmxProcessor,
  encLo: number,
  encHi: number,
  fromMemory: boolean,
  valLo: number,
  valHi: number,
): VmxStatus {
  const mode = cpu.mode();
  if (
    s.operation === VmxOperation.Off ||
    mode === CpuMode.Real ||
    mode === CpuMode.Virtual8086 ||
    mode === CpuMode.Compatibility
  ) {
    return VmxStatus.UndefinedOpcode;
  }
  const nonRoot = s.operation === VmxOperation.NonRoot;
  if (nonRoot && !shadowAllows(s, cpu, encLo, encHi, true)) return VmxStatus.VmExit;
  if (cpu.cpl() > 0) return VmxStatus.GeneralProtection;
  if (nonRoot ? !linkPointerValid(s.current) : !s.hasCurrent) return failInvalid(cpu);
  if (encHi !== 0 || !s.caps.isFieldSupported(encLo)) {
    return vmfail(s, cpu, VmInstructionError.UnsupportedComponent);
  }
  if ((encLo >>> 10) % 4 === 1 && !s.caps.features.misc.vmwriteAnyField) {
    return vmfail(s, cpu, VmInstructionError.ReadOnlyComponent);
  }
  let lo = valLo;
  let hi = valHi;
  if (fromMemory) {
    const long = mode === CpuMode.Long64;
    if (!cpu.readOperand(op, long ? 2 : 1)) return VmxStatus.OperandFault;
    lo = op[0]!;
    hi = long ? op[1]! : 0;
  }
  if (nonRoot) {
    // write into the shadow VMCS region, truncated as the field's width requires
    const at = s.current.getNumber(F.VMCS_LINK_POINTER) + vmcs12FieldOffset(encLo & ~1);
    if ((encLo & 1) === 1) {
      cpu.memory.write32(at + 4, lo, AccessKind.Write);
    } else {
      const w = fieldWidth(encLo);
      const keepHi = w === FieldWidth.Bits64 || w === FieldWidth.Natural;
      cpu.memory.write64(at, w === FieldWidth.Bits16 ? lo & 0xffff : lo, keepHi ? hi : 0, AccessKind.Write);
    }
    s.shadowWrites++;
    if (s.shadowWriteCount < SHADOW_WRITE_LOG_SIZE) s.shadowWriteLog[s.shadowWriteCount] = encLo & ~1;
    s.shadowWriteCount++;
    return succeed(cpu);
  }
  vmcsWrite(s.current, s.caps, encLo, 0, lo, hi);
  return succeed(cpu);
}

/** Where VMLAUNCH/VMRESUME load the guest: a processor's state and the guest's MSRs. */
export interface VmEntryTarget {
  /** Receives the guest state. */
  readonly cpu: GuestStateAccess;
  /** Receives the VM-entry MSR-load area. */
  readonly guestMsrs: MsrAccess;
}

/**
 * VMLAUNCH (`launch` = true) and VMRESUME (SDM "VMLAUNCH/VMRESUME—Launch/Resume Virtual
 * Machine"): instruction checks, then VM entry (SDM chapter 27) into `target`. On
 * {@link VmxStatus.EnterGuest} the processor is in VMX non-root operation. Pass
 * `controlsAndHostUnchanged` only when the current VMCS's control and host-state fields are those
 * of a VMCS that already passed the checks (see {@link checkVmEntry}).
 */
export function vmlaunch(
  s: VmxState,
  cpu: VmxProcessor,
  launch: boolean,
  target: VmEntryTarget,
  result: EntryCheckResult,
  controlsAndHostUnchanged = false,
): VmxStatus {
  const p = prologue(s, cpu);
  if (p >= 0) return p as VmxStatus;
  if (!s.hasCurrent || s.current.shadow) return failInvalid(cpu);
  if (cpu.blockedByMovSs()) return vmfail(s, cpu, VmInstructionError.EntryEventsBlockedByMovSs);
  if (launch && s.current.launchState !== LaunchState.Clear) {
    return vmfail(s, cpu, VmInstructionError.VmlaunchNonClear);
  }
  if (!launch && s.current.launchState !== LaunchState.Launched) {
    return vmfail(s, cpu, VmInstructionError.VmresumeNonLaunched);
  }
  const ctx = s.entryContext;
  ctx.vmcs = s.current;
  ctx.caps = s.caps;
  ctx.mem = cpu.memory;
  const mode = cpu.mode();
  ctx.hostLongMode = mode === CpuMode.Long64 || mode === CpuMode.Compatibility;
  const outcome = performVmEntry(
    ctx,
    result,
    target.cpu,
    target.guestMsrs,
    cpu.memory,
    controlsAndHostUnchanged,
  );
  if (outcome === VmEntryOutcome.FailValid) return vmfail(s, cpu, result.error);
  if (outcome === VmEntryOutcome.Failed) return VmxStatus.EntryFailed;
  if (launch) s.current.launchState = LaunchState.Launched;
  s.operation = VmxOperation.NonRoot;
  return VmxStatus.EnterGuest;
}

/** INVEPT (SDM "INVEPT—Invalidate Translations Derived from EPT"). `type` is the register operand. */
export function invept(s: VmxState, cpu: VmxProcessor, typeLo: number, typeHi: number): VmxStatus {
  const e = s.caps.features.eptVpid;
  if ((s.caps.proc2May1 & Proc2Ctl.Ept) === 0 || !e.invept) return VmxStatus.UndefinedOpcode;
  const p = prologue(s, cpu);
  if (p >= 0) return p as VmxStatus;
  const supported = typeHi === 0 && ((typeLo === 1 && e.inveptSingle) || (typeLo === 2 && e.inveptAll));
  if (!supported) return vmfail(s, cpu, VmInstructionError.InvalidInveptInvvpidOperand);
  if (!cpu.readOperand(op, 4)) return VmxStatus.OperandFault;
  if (typeLo === 1 && !isValidEptp(s.caps, op[0]!, op[1]!)) {
    return vmfail(s, cpu, VmInstructionError.InvalidInveptInvvpidOperand);
  }
  cpu.invalidateEpt(typeLo, op[0]!, op[1]!);
  return succeed(cpu);
}

/** INVVPID (SDM "INVVPID—Invalidate Translations Based on VPID"). `type` is the register operand. */
export function invvpid(s: VmxState, cpu: VmxProcessor, typeLo: number, typeHi: number): VmxStatus {
  const e = s.caps.features.eptVpid;
  if ((s.caps.proc2May1 & Proc2Ctl.Vpid) === 0 || !e.invvpid) return VmxStatus.UndefinedOpcode;
  const p = prologue(s, cpu);
  if (p >= 0) return p as VmxStatus;
  const types = [e.invvpidAddress, e.invvpidSingle, e.invvpidAll, e.invvpidSingleRetainGlobals];
  if (typeHi !== 0 || typeLo > 3 || !types[typeLo]) {
    return vmfail(s, cpu, VmInstructionError.InvalidInveptInvvpidOperand);
  }
  if (!cpu.readOperand(op, 4)) return VmxStatus.OperandFault;
  const vpid = op[0]! & 0xffff;
  if (op[0]! >>> 16 !== 0 || op[1] !== 0)
    return vmfail(s, cpu, VmInstructionError.InvalidInveptInvvpidOperand);
  if (typeLo !== 2 && vpid === 0) return vmfail(s, cpu, VmInstructionError.InvalidInveptInvvpidOperand);
  if (typeLo === 0 && !isCanonical(op[2]!, op[3]!, s.caps.features.linearAddressBits)) {
    return vmfail(s, cpu, VmInstructionError.InvalidInveptInvvpidOperand);
  }
  cpu.invalidateVpid(typeLo, vpid, op[2]!, op[3]!);
  return succeed(cpu);
}

/** VMCALL (SDM "VMCALL—Call to VM Monitor"). The dual-monitor treatment of SMM is not offered. */
export function vmcall(s: VmxState, cpu: VmxProcessor): VmxStatus {
  if (s.operation === VmxOperation.Off) return VmxStatus.UndefinedOpcode;
  if (s.operation === VmxOperation.NonRoot) return VmxStatus.VmExit;
  const mode = cpu.mode();
  if (mode === CpuMode.Virtual8086 || mode === CpuMode.Compatibility) return VmxStatus.UndefinedOpcode;
  if (cpu.cpl() > 0) return VmxStatus.GeneralProtection;
  return vmfail(s, cpu, VmInstructionError.VmcallInRoot);
}

/**
 * EPTP switching (VM function 0, SDM 26.5.6.3): loads entry `index` of the EPTP list of `vmcs`
 * into its EPT pointer. False when the function must cause a VM exit instead (index >= 512, or
 * the entry is not a valid EPTP).
 */
export function eptpSwitch(s: VmxState, vmcs: Vmcs, mem: VmxProcessor["memory"], index: number): boolean {
  if (index >>> 0 >= 512) return false;
  mem.read64(vmcs.getNumber(F.EPTP_LIST_ADDRESS) + index * 8, AccessKind.Read, op, 0);
  if (!isValidEptp(s.caps, op[0]!, op[1]!)) return false;
  vmcs.set(F.EPT_POINTER, op[0]!, op[1]!);
  if (s.caps.isFieldSupported(F.EPTP_INDEX)) vmcs.set(F.EPTP_INDEX, index);
  return true;
}

/**
 * VMFUNC (SDM "VMFUNC—Invoke VM function"), valid only in VMX non-root operation with "enable VM
 * functions" set. Returns {@link VmxStatus.Succeed} (flags untouched), #UD, or VmExit.
 */
export function vmfunc(s: VmxState, cpu: VmxProcessor, eax: number, ecx: number): VmxStatus {
  if (s.operation !== VmxOperation.NonRoot) return VmxStatus.UndefinedOpcode;
  const v = s.current;
  if ((effectiveProc2(v) & Proc2Ctl.Vmfunc) === 0) return VmxStatus.UndefinedOpcode;
  const fn = eax >>> 0;
  if (fn > 63) return VmxStatus.VmExit;
  const ctl = fn < 32 ? v.get32(F.VM_FUNCTION_CONTROLS) : v.getHi(F.VM_FUNCTION_CONTROLS);
  if (((ctl >>> (fn & 31)) & 1) === 0) return VmxStatus.VmExit;
  if (fn === 0) return eptpSwitch(s, v, cpu.memory, ecx) ? VmxStatus.Succeed : VmxStatus.VmExit;
  return VmxStatus.VmExit;
}

/** The basic exit reason of each VMX instruction when executed in VMX non-root operation. */
export const VMX_INSTRUCTION_EXIT_REASON = {
  /** VMCALL. */
  vmcall: ExitReason.Vmcall,
  /** VMCLEAR. */
  vmclear: ExitReason.Vmclear,
  /** VMLAUNCH. */
  vmlaunch: ExitReason.Vmlaunch,
  /** VMPTRLD. */
  vmptrld: ExitReason.Vmptrld,
  /** VMPTRST. */
  vmptrst: ExitReason.Vmptrst,
  /** VMREAD. */
  vmread: ExitReason.Vmread,
  /** VMRESUME. */
  vmresume: ExitReason.Vmresume,
  /** VMWRITE. */
  vmwrite: ExitReason.Vmwrite,
  /** VMXOFF. */
  vmxoff: ExitReason.Vmxoff,
  /** VMXON. */
  vmxon: ExitReason.Vmxon,
  /** INVEPT. */
  invept: ExitReason.Invept,
  /** INVVPID. */
  invvpid: ExitReason.Invvpid,
  /** VMFUNC. */
  vmfunc: ExitReason.Vmfunc,
} as const;

/**
 * A VM exit of the guest running under `s.current` (SDM chapter 28, see {@link performVmExit}),
 * after which the processor is in VMX root operation. Returns the VMX-abort indicator (0 = none).
 */
export function vmexit(s: VmxState, exit: VmExitRecord, targets: VmExitTargets): number {
  const abort = performVmExit(s.current, exit, targets);
  s.operation = VmxOperation.Root;
  return abort;
}
