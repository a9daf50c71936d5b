import { createRamSpace } from "@turtles/memory";
import type { VmxCapabilities } from "./capabilities.js";
import { ExitCtl, PinCtl, Proc2Ctl, ProcCtl } from "./controls.js";
import { EXIT_REASON_LIMIT, ExitReason } from "./exit-reason.js";
import { FieldKind, fieldKind } from "./field-encoding.js";
import { ForwardingProcessor } from "./forwarding-processor.js";
import { VmInstructionError } from "./instruction-error.js";
import {
  eptpSwitch,
  invept,
  invvpid,
  vmclear,
  vmlaunch,
  vmptrld,
  vmptrst,
  vmread,
  vmwrite,
  vmxoff,
  vmxon,
} from "./instructions.js";
import { L0_RULES } from "./l0-routing.js";
import { effectiveProc2, l1WantsExit } from "./l1-routing.js";
import { loadMsrArea, storeMsrArea } from "./msr-area.js";
import { NestedCounters } from "./nested-counters.js";
import { EptFaultOutcome, L2ExitRoute, type NestedHost, type NestedVmxState } from "./nested-host.js";
import type { VmxProcessor } from "./processor.js";
import {
  initShadowVmcs,
  SHADOW_READ_FIELDS,
  syncFromShadow,
  syncLoggedFromShadow,
  syncToShadow,
} from "./shadow-vmcs.js";
import { VmcsGuestView } from "./state-access.js";
import { loadGuestState } from "./vm-entry.js";
import type { EntryCheckResult } from "./vm-entry-checks.js";
import { loadHostState, recordExit, saveGuestState, VmxAbort } from "./vm-exit.js";
import type { VmExitRecord } from "./vm-exit-record.js";
import { LaunchState, VMCS_SLOT_COUNT, Vmcs, vmcsSlot } from "./vmcs.js";
import { VmcsField as F, VMCS_FIELDS } from "./vmcs-fields.js";
import {
  controlsChanged,
  copyEventInjection,
  type MergeContext,
  mergeVmcs02Controls,
} from "./vmcs02-merge.js";
import { loadVmcs12, storeVmcs12, VMCS12_SIZE, vmcs12FieldOffset } from "./vmcs12-layout.js";
import { SHADOW_WRITE_LOG_SIZE, VmxOperation, VmxState } from "./vmx-state.js";
import { VmxStatus } from "./vmx-status.js";

/** Slots of the guest-state fields (copied VMCS01 -> VMCS02 at every entry to L2). */
const GUEST_SLOTS = Int32Array.from(
  VMCS_FIELDS.flatMap((f, slot) => (fieldKind(f.encoding) === FieldKind.Guest ? [slot] : [])),
);
const SHADOW_READ_SET = new Set(SHADOW_READ_FIELDS);

/**
 * The nested engine of L0 (ARCHITECTURE.md, "Levels" and "Data flow of one L2 exit"): it emulates
 * L1's VMX instructions against VMCS12, builds VMCS02 from VMCS01 and VMCS12, routes every L2
 * exit (L0's intercepts first, then VMCS12's table), reflects exits to L1, and offers L1 VMCS
 * shadowing so most of its VMREAD/VMWRITEs never exit.
 *
 * The "hardware" is a {@link VmxState}: the engine switches `hw.current` between VMCS01 (L1 runs)
 * and VMCS02 (L2 runs), as L0 does with VMPTRLD on silicon.
 */
export class NestedVmx {
  /** L1's VMX state: VMXON, current VMCS12 (cached), launch states — what L1 believes. */
  readonly l1: VmxState;
  /** The hardware's VMX state (its current VMCS is VMCS01 or VMCS02). */
  readonly hw: VmxState;
  /** L0's VMCS for L1. */
  readonly vmcs01: Vmcs;
  /** The VMCS the hardware runs L2 on. */
  readonly vmcs02 = new Vmcs();
  /** What crossed each step. */
  readonly counters = new NestedCounters();
  /** Result of the last VM-entry checks on VMCS12 (which check failed, if any). */
  readonly entryResult: EntryCheckResult = { failed: null, error: VmInstructionError.None };
  private readonly host: NestedHost;
  private readonly view01: VmcsGuestView;
  private readonly view02: VmcsGuestView;
  private readonly lastMerged = new Vmcs();
  private merged = false;
  private shadowActive = false;
  /** What the shadow VMCS holds (indexed like Vmcs.data), valid after a full push. */
  private readonly mirror = new Uint32Array(VMCS_SLOT_COUNT * 2);
  private mirrorValid = false;
  /** `hw.shadowWrites` when the shadow VMCS and VMCS12 last agreed. */
  private pulledWrites = 0;
  private readonly l1proc: ForwardingProcessor;
  private readonly l2view: VmxState;
  private readonly eptScratch = new Uint32Array(2);
  private readonly mergeContext: MergeContext;

  /**
   * @param caps what L1 is offered (and what the hardware implements).
   * @param hw the hardware's VMX state; its current VMCS at this point is VMCS01.
   * @param host what L0's machine provides.
   */
  constructor(caps: VmxCapabilities, hw: VmxState, host: NestedHost) {
    this.l1 = new VmxState(caps);
    this.hw = hw;
    this.vmcs01 = hw.current;
    this.host = host;
    this.view01 = new VmcsGuestView(this.vmcs01);
    this.view02 = new VmcsGuestView(this.vmcs02);
    this.l1proc = new ForwardingProcessor(host.ept);
    this.l2view = new VmxState(caps);
    this.l2view.operation = VmxOperation.NonRoot;
    this.vmcs02.revisionId = caps.revisionId;
    this.mergeContext = {
      caps,
      hostMem: host.hostMem,
      l1mem: host.l1mem,
      l1paToHpa: (a) => host.l1paToHpa(a),
      pages: host.pages,
      vpid02: host.vpid02,
      ept02Pointer: (lo, hi, out) => host.ept.ept02Pointer(lo, hi, out),
    };
    if (host.shadowing !== false && (caps.proc2May1 & Proc2Ctl.VmcsShadowing) !== 0) {
      initShadowVmcs(host.hostMem, host.pages, caps, this.lastMerged);
    }
  }

  /** The cached VMCS12 (L1's current VMCS). */
  get vmcs12(): Vmcs {
    return this.l1.current;
  }

  // --- L1's VMX instructions (each one an exit of L1 under VMCS01) ----------------------------

  /** L1 executed VMXON. */
  vmxon(proc: VmxProcessor): VmxStatus {
    this.count(ExitReason.Vmxon);
    return vmxon(this.l1, proc);
  }

  /** L1 executed VMXOFF. */
  vmxoff(proc: VmxProcessor): VmxStatus {
    this.count(ExitReason.Vmxoff);
    this.pullShadow();
    const r = vmxoff(this.l1, proc);
    this.updateShadowing();
    return r;
  }

  /** L1 executed VMCLEAR. */
  vmclear(proc: VmxProcessor): VmxStatus {
    this.count(ExitReason.Vmclear);
    this.pullShadow();
    const r = vmclear(this.l1, proc);
    this.updateShadowing();
    return r;
  }

  /** L1 executed VMPTRLD. */
  vmptrld(proc: VmxProcessor): VmxStatus {
    this.count(ExitReason.Vmptrld);
    this.pullShadow();
    const before = this.l1.currentPointer;
    const r = vmptrld(this.l1, proc);
    if (this.l1.currentPointer !== before) this.merged = false;
    this.updateShadowing();
    return r;
  }

  /** L1 executed VMPTRST. */
  vmptrst(proc: VmxProcessor): VmxStatus {
    this.count(ExitReason.Vmptrst);
    return vmptrst(this.l1, proc);
  }

  /** L1 executed a VMREAD that exited (a field outside the shadowed set, or no shadowing). */
  vmread(proc: VmxProcessor, encLo: number, encHi: number): VmxStatus {
    this.count(ExitReason.Vmread);
    this.counters.emulatedVmreads++;
    this.pullShadow();
    return vmread(this.l1, proc, encLo, encHi);
  }

  /** L1 executed a VMWRITE that exited. */
  vmwrite(
    proc: VmxProcessor,
    encLo: number,
    encHi: number,
    fromMemory: boolean,
    lo: number,
    hi: number,
  ): VmxStatus {
    this.count(ExitReason.Vmwrite);
    this.counters.emulatedVmwrites++;
    this.pullShadow();
    const r = vmwrite(this.l1, proc, encLo, encHi, fromMemory, lo, hi);
    if (r === VmxStatus.Succeed && this.shadowActive) {
      const full = encLo & ~1;
      if (SHADOW_READ_SET.has(full)) {
        const lo = this.vmcs12.get32(full);
        const hi = this.vmcs12.getHi(full);
        this.host.hostMem.write64(this.host.pages.shadowVmcs + vmcs12FieldOffset(full), lo, hi, 1);
        const slot = vmcsSlot(full) * 2;
        this.mirror[slot] = lo;
        this.mirror[slot + 1] = hi;
      }
    }
    return r;
  }

  /** L1 executed INVEPT: invalidates the shadow EPT02 that depends on it. */
  invept(proc: VmxProcessor, typeLo: number, typeHi: number): VmxStatus {
    this.count(ExitReason.Invept);
    this.l1proc.target = proc;
    return invept(this.l1, this.l1proc, typeLo, typeHi);
  }

  /** L1 executed INVVPID (VPID02 is L0's: the processor's invalidation applies). */
  invvpid(proc: VmxProcessor, typeLo: number, typeHi: number): VmxStatus {
    this.count(ExitReason.Invvpid);
    return invvpid(this.l1, proc, typeLo, typeHi);
  }

  /**
   * L1 executed VMLAUNCH (`launch`) or VMRESUME. On {@link VmxStatus.EnterGuest} the hardware's
   * current VMCS is VMCS02: run L2. On {@link VmxStatus.EntryFailed} VMCS12 holds the failure and
   * VMCS01 L1's host state: resume L1. Other results are L1's instruction outcome.
   */
  vmlaunch(proc: VmxProcessor, launch: boolean): VmxStatus {
    this.count(launch ? ExitReason.Vmlaunch : ExitReason.Vmresume);
    this.pullShadow();
    // the processor state at VM entry is L1's: VMCS02's guest area starts from VMCS01's
    const d01 = this.vmcs01.data;
    const d02 = this.vmcs02.data;
    for (let i = 0; i < GUEST_SLOTS.length; i++) {
      const s = GUEST_SLOTS[i]! * 2;
      d02[s] = d01[s]!;
      d02[s + 1] = d01[s + 1]!;
    }
    const v12 = this.vmcs12;
    const launchBefore = v12.launchState;
    // VMCS12's controls and host state as at the last merge: skip their re-merge and re-check
    const unchanged = this.merged && this.l1.hasCurrent && !controlsChanged(v12, this.lastMerged);
    const r = vmlaunch(
      this.l1,
      proc,
      launch,
      { cpu: this.view02, guestMsrs: this.host.l2Msrs },
      this.entryResult,
      unchanged,
    );
    if (r === VmxStatus.EntryFailed) {
      this.loadL1Host();
      this.pushShadow();
      return r;
    }
    if (r !== VmxStatus.EnterGuest) return r;
    if (!unchanged) {
      const err = mergeVmcs02Controls(this.vmcs02, this.vmcs01, v12, this.mergeContext);
      if (err !== VmInstructionError.None) {
        this.l1.operation = VmxOperation.Root;
        v12.launchState = launchBefore;
        v12.set(F.VM_INSTRUCTION_ERROR, err);
        proc.setVmxFlags(false, true);
        return VmxStatus.FailValid;
      }
      this.lastMerged.copyFrom(v12);
      this.merged = true;
      this.counters.fullMerges++;
    } else {
      this.counters.partialRefreshes++;
    }
    copyEventInjection(this.vmcs02, v12);
    this.hw.current = this.vmcs02;
    return r;
  }

  // --- L2 exits ---------------------------------------------------------------------------------

  /**
   * Routes one exit of L2 (the hardware just left VMCS02, whose guest area holds L2's state):
   * L0's own reasons first, then VMCS12's exit table; reflects to L1 when L1 wants it.
   */
  routeL2Exit(exit: VmExitRecord): L2ExitRoute {
    this.expectL2Running("routeL2Exit");
    const r = exit.reason;
    if (r < EXIT_REASON_LIMIT) this.counters.l2ExitsByReason[r]!++;
    if (this.l0WantsExit(exit)) {
      this.counters.handledInL0++;
      this.reinjectIdtVectoring(exit);
      return L2ExitRoute.HandledInL0;
    }
    if ((r === ExitReason.Vmread || r === ExitReason.Vmwrite) && this.l1ShadowServes(exit)) {
      this.counters.handledInL0++;
      return L2ExitRoute.ServeFromL1Shadow;
    }
    if (l1WantsExit(this.vmcs12, exit, this.host.l1mem)) return this.reflectToL1(exit);
    this.counters.handledInL0++;
    this.reinjectIdtVectoring(exit);
    return L2ExitRoute.HandledInL0;
  }

  /**
   * L0 has an external interrupt for L1 while L2 runs. When VMCS12 asks for external-interrupt
   * exiting it becomes L1's exit 1 (with the vector acknowledged into the exit interruption
   * information when VMCS12 sets "acknowledge interrupt on exit", SDM 28.2.2); otherwise L1
   * would have let it reach its guest, so it is injected into L2 through VMCS02. The caller has
   * checked that L2 can take an interrupt now (RFLAGS.IF, interruptibility) and that no other
   * event is pending injection in VMCS02.
   */
  deliverL1Interrupt(vector: number, exit: VmExitRecord): L2ExitRoute {
    this.expectL2Running("deliverL1Interrupt");
    const v12 = this.vmcs12;
    if ((v12.get32(F.PIN_BASED_VM_EXEC_CONTROL) & PinCtl.ExtIntExiting) === 0) {
      this.vmcs02.set(F.VM_ENTRY_INTR_INFO, (0x8000_0000 | (vector & 0xff)) >>> 0);
      return L2ExitRoute.HandledInL0;
    }
    exit.clear();
    exit.reason = ExitReason.ExternalInterrupt;
    if ((v12.get32(F.VM_EXIT_CONTROLS) & ExitCtl.AckIntrOnExit) !== 0) {
      exit.interruptionInfo = (0x8000_0000 | (vector & 0xff)) >>> 0;
    }
    return this.reflectToL1(exit);
  }

  /**
   * An exit L0 handles may have interrupted the delivery of an event to L2 (IDT-vectoring
   * information valid, SDM 28.2.4): L0 re-injects it through VMCS02 before resuming L2.
   */
  private reinjectIdtVectoring(exit: VmExitRecord): void {
    const info = exit.idtVectoringInfo;
    if (info >>> 31 === 0) return;
    this.vmcs02.set(F.VM_ENTRY_INTR_INFO, (info & 0x8000_0fff) >>> 0);
    this.vmcs02.set(F.VM_ENTRY_EXCEPTION_ERROR_CODE, exit.idtVectoringErrorCode);
    this.vmcs02.set(F.VM_ENTRY_INSTRUCTION_LEN, exit.instructionLength);
  }

  /** L0's own intercepts (KVM's `nested_vmx_l0_wants_exit`), by exit reason, then the host's. */
  l0WantsExit(exit: VmExitRecord): boolean {
    const rule = exit.reason < EXIT_REASON_LIMIT ? L0_RULES[exit.reason] : undefined;
    if (rule?.(this, exit)) return true;
    return this.host.l0Wants?.(exit) ?? false;
  }

  /** Asks the shadow EPT about an EPT exit of L2; marks EPT12 faults for L1. True when L0 keeps it. */
  resolveEptFault(exit: VmExitRecord): boolean {
    const usesEpt12 = (effectiveProc2(this.vmcs12) & Proc2Ctl.Ept) !== 0;
    const v12 = this.vmcs12;
    const outcome = this.host.ept.resolveL2Fault(
      exit,
      v12.get32(F.EPT_POINTER),
      v12.getHi(F.EPT_POINTER),
      usesEpt12,
    );
    if (outcome === EptFaultOutcome.FilledByL0 || outcome === EptFaultOutcome.L0Emulation) return true;
    exit.inEpt12 = true;
    exit.reason =
      outcome === EptFaultOutcome.Ept12Misconfig ? ExitReason.EptMisconfig : ExitReason.EptViolation;
    return false;
  }

  /** EPTP switching requested by L2 (VMFUNC 0 in VMCS12's terms): done by L0 when it is valid. */
  emulateL2Vmfunc(exit: VmExitRecord): boolean {
    const v12 = this.vmcs12;
    if ((effectiveProc2(v12) & Proc2Ctl.Vmfunc) === 0 || exit.eax !== 0) return false;
    if ((v12.get32(F.VM_FUNCTION_CONTROLS) & 1) === 0) return false;
    if (!eptpSwitch(this.l1, v12, this.host.l1mem, exit.ecx)) return false;
    this.host.ept.ept02Pointer(v12.get32(F.EPT_POINTER), v12.getHi(F.EPT_POINTER), this.eptScratch);
    this.vmcs02.set(F.EPT_POINTER, this.eptScratch[0]!, this.eptScratch[1]!);
    this.lastMerged.set(F.EPT_POINTER, v12.get32(F.EPT_POINTER), v12.getHi(F.EPT_POINTER));
    return true;
  }

  private l1ShadowServes(exit: VmExitRecord): boolean {
    // VMCS shadowing offered to L1: L2's VMREAD/VMWRITE is served from L1's shadow VMCS when
    // VMCS12 enables shadowing and its bitmap lets the field through (SDM 25.10).
    const v12 = this.vmcs12;
    if ((effectiveProc2(v12) & Proc2Ctl.VmcsShadowing) === 0) return false;
    const enc = exit.vmcsEncoding >>> 0;
    if (enc >>> 15 !== 0) return false;
    const bitmap = v12.getNumber(exit.reason === ExitReason.Vmread ? F.VMREAD_BITMAP : F.VMWRITE_BITMAP);
    return ((this.host.l1mem.read8(bitmap + (enc >>> 3), 0) >>> (enc & 7)) & 1) === 0;
  }

  /**
   * Serves an L2 VMREAD (`write` false) or VMWRITE from L1's shadow VMCS (after the route
   * {@link L2ExitRoute.ServeFromL1Shadow}); `l2proc` is L2's processor with L1-physical memory.
   */
  l2ShadowAccess(
    l2proc: VmxProcessor,
    write: boolean,
    encLo: number,
    encHi: number,
    fromMemory: boolean,
    lo: number,
    hi: number,
  ): VmxStatus {
    this.counters.l2ShadowAccesses++;
    this.l2view.current = this.vmcs12;
    return write
      ? vmwrite(this.l2view, l2proc, encLo, encHi, fromMemory, lo, hi)
      : vmread(this.l2view, l2proc, encLo, encHi);
  }

  /**
   * Reflects an L2 exit to L1 (SDM chapter 28 as L1 sees it): writes the exit into VMCS12, syncs
   * L2's state from VMCS02 into VMCS12, stores L2's MSRs, loads L1's host state from VMCS12 into
   * VMCS01, loads L1's MSRs, and switches the hardware to VMCS01.
   */
  reflectToL1(exit: VmExitRecord): L2ExitRoute {
    const v12 = this.vmcs12;
    this.counters.reflected++;
    if (exit.reason < EXIT_REASON_LIMIT) this.counters.reflectedByReason[exit.reason]!++;
    recordExit(v12, exit);
    this.syncL2State();
    this.l1.operation = VmxOperation.Root;
    this.hw.current = this.vmcs01;
    const n = v12.get32(F.VM_EXIT_MSR_STORE_COUNT);
    if (
      n !== 0 &&
      storeMsrArea(this.host.l1mem, v12.getNumber(F.EXIT_MSR_STORE_ADDR), n, this.host.l2Msrs) !== 0
    ) {
      v12.abortIndicator = VmxAbort.SaveGuestMsrs;
      return L2ExitRoute.L1Abort;
    }
    if (!this.loadL1Host()) return L2ExitRoute.L1Abort;
    this.pushShadow();
    return L2ExitRoute.ReflectedToL1;
  }

  /** Copies L2's state from VMCS02 into VMCS12 as a VM exit saves it (SDM 28.3), CR0/CR4 composed. */
  private syncL2State(): void {
    const v12 = this.vmcs12;
    const cr0Lo = v12.get32(F.GUEST_CR0);
    const cr0Hi = v12.getHi(F.GUEST_CR0);
    const cr4Lo = v12.get32(F.GUEST_CR4);
    const cr4Hi = v12.getHi(F.GUEST_CR4);
    saveGuestState(v12, this.view02);
    this.composeCr(F.GUEST_CR0, F.CR0_GUEST_HOST_MASK, F.CR0_READ_SHADOW, cr0Lo, cr0Hi);
    this.composeCr(F.GUEST_CR4, F.CR4_GUEST_HOST_MASK, F.CR4_READ_SHADOW, cr4Lo, cr4Hi);
  }

  /**
   * CR0/CR4 as L1 must see them in VMCS12: bits L1 owns keep VMCS12's value, bits only L0 owns
   * come from VMCS02's read shadow (what L2 believes), the rest from the hardware value.
   */
  private composeCr(guest: number, mask: number, shadow: number, oldLo: number, oldHi: number): void {
    const v12 = this.vmcs12;
    const m01lo = this.vmcs01.get32(mask);
    const m01hi = this.vmcs01.getHi(mask);
    const m12lo = v12.get32(mask);
    const m12hi = v12.getHi(mask);
    const lo =
      (v12.get32(guest) & ~(m01lo | m12lo)) | (oldLo & m12lo) | (this.vmcs02.get32(shadow) & m01lo & ~m12lo);
    const hi =
      (v12.getHi(guest) & ~(m01hi | m12hi)) | (oldHi & m12hi) | (this.vmcs02.getHi(shadow) & m01hi & ~m12hi);
    v12.set(guest, lo >>> 0, hi >>> 0);
  }

  /** Loads VMCS12's host state into VMCS01 and its VM-exit MSR-load area into L1's MSRs. */
  private loadL1Host(): boolean {
    const v12 = this.vmcs12;
    loadHostState(v12, this.view01);
    const n = v12.get32(F.VM_EXIT_MSR_LOAD_COUNT);
    if (
      n !== 0 &&
      loadMsrArea(this.host.l1mem, v12.getNumber(F.EXIT_MSR_LOAD_ADDR), n, this.host.l1Msrs, false) !== 0
    ) {
      v12.abortIndicator = VmxAbort.LoadHostMsrs;
      return false;
    }
    return true;
  }

  /** Routing an L2 exit while L1 runs is an emulator bug, not guest behaviour: it throws. */
  private expectL2Running(what: string): void {
    if (this.hw.current !== this.vmcs02) throw new Error(`NestedVmx.${what}: L2 is not running`);
  }

  /** Counts an exit of L1 handled by the machine itself (e.g. CPUID of L1), for the per-level figures. */
  countL1Exit(reason: number): void {
    this.count(reason);
  }

  // --- VMCS shadowing for L1 ------------------------------------------------------------------

  /** L1 VMREADs served by VMCS shadowing without an exit (counted by the hardware state). */
  get exitlessVmreads(): number {
    return this.hw.shadowReads;
  }

  /** L1 VMWRITEs served by VMCS shadowing without an exit. */
  get exitlessVmwrites(): number {
    return this.hw.shadowWrites;
  }

  /** True while VMCS01 lets L1 VMREAD/VMWRITE the shadowed VMCS12 fields without exits. */
  get shadowingActive(): boolean {
    return this.shadowActive;
  }

  private updateShadowing(): void {
    const want =
      this.host.shadowing !== false &&
      (this.l1.caps.proc2May1 & Proc2Ctl.VmcsShadowing) !== 0 &&
      this.l1.operation !== VmxOperation.Off &&
      this.l1.hasCurrent;
    const v = this.vmcs01;
    const proc = v.get32(F.CPU_BASED_VM_EXEC_CONTROL);
    const p2 = v.get32(F.SECONDARY_VM_EXEC_CONTROL);
    if (want) {
      v.set(F.CPU_BASED_VM_EXEC_CONTROL, proc | ProcCtl.SecondaryControls);
      v.set(F.SECONDARY_VM_EXEC_CONTROL, p2 | Proc2Ctl.VmcsShadowing);
      v.setNumber(F.VMCS_LINK_POINTER, this.host.pages.shadowVmcs);
      v.setNumber(F.VMREAD_BITMAP, this.host.pages.vmreadBitmap);
      v.setNumber(F.VMWRITE_BITMAP, this.host.pages.vmwriteBitmap);
      this.shadowActive = true;
      this.mirrorValid = false;
      this.pushShadow();
    } else {
      v.set(F.SECONDARY_VM_EXEC_CONTROL, p2 & ~Proc2Ctl.VmcsShadowing);
      v.set(F.VMCS_LINK_POINTER, 0xffff_ffff, 0xffff_ffff);
      this.shadowActive = false;
    }
  }

  /** Copies L1's exit-less VMWRITEs into VMCS12 — only if the hardware served any since the last pull. */
  private pullShadow(): void {
    if (!this.shadowActive || !this.l1.hasCurrent || !this.mirrorValid) return;
    const hw = this.hw;
    if (hw.shadowWrites === this.pulledWrites) return;
    const n = hw.shadowWrites - this.pulledWrites;
    if (n <= SHADOW_WRITE_LOG_SIZE && hw.shadowWriteCount === n) {
      syncLoggedFromShadow(
        this.host.hostMem,
        this.host.pages.shadowVmcs,
        this.vmcs12,
        hw.shadowWriteLog,
        n,
        this.mirror,
      );
    } else {
      syncFromShadow(this.host.hostMem, this.host.pages.shadowVmcs, this.vmcs12, this.mirror);
    }
    this.pulledWrites = hw.shadowWrites;
    hw.shadowWriteCount = 0;
  }

  /** Copies VMCS12's shadowed fields into the shadow VMCS — only those that changed since the last push. */
  private pushShadow(): void {
    if (!this.shadowActive || !this.l1.hasCurrent) return;
    if (this.mirrorValid) {
      syncToShadow(this.host.hostMem, this.host.pages.shadowVmcs, this.vmcs12, this.mirror);
    } else {
      syncToShadow(this.host.hostMem, this.host.pages.shadowVmcs, this.vmcs12);
      this.mirror.set(this.vmcs12.data);
      this.mirrorValid = true;
    }
    this.pulledWrites = this.hw.shadowWrites;
    this.hw.shadowWriteCount = 0;
  }

  private count(reason: number): void {
    this.counters.l1ExitsByReason[reason]!++;
  }

  /** True when VMCS12 is the current VMCS and has been launched. */
  get l2Launched(): boolean {
    return this.l1.hasCurrent && this.vmcs12.launchState === LaunchState.Launched;
  }

  // --- snapshots ------------------------------------------------------------------------------

  /**
   * The nested state of this vCPU (the role of KVM's KVM_GET_NESTED_STATE): L1's VMXON and
   * current-VMCS pointers, whether L2 is running, and VMCS12 in the frozen VMCS12 layout — with
   * L2's current state synced into it when L2 is running. VMCS01 is hardware state: the machine
   * saves it with the processor.
   */
  saveNestedState(): NestedVmxState {
    this.pullShadow();
    const guestMode = this.hw.current === this.vmcs02;
    if (guestMode) this.syncL2State();
    const { space } = createRamSpace(VMCS12_SIZE);
    if (this.l1.hasCurrent) storeVmcs12(space, 0, this.vmcs12);
    const vmcs12 = new Uint8Array(VMCS12_SIZE);
    space.readBytes(0, vmcs12, 0);
    return {
      version: 1,
      vmxon: this.l1.operation === VmxOperation.Off ? -1 : this.l1.vmxonPointer,
      current: this.l1.hasCurrent ? this.l1.currentPointer : -1,
      guestMode,
      vmcs12,
    };
  }

  /**
   * Restores a {@link NestedVmx.saveNestedState} snapshot into this engine, whose hardware VMCS01
   * the machine has restored already. When L2 was running, VMCS02 is rebuilt (L1's state from
   * VMCS01, L2's from VMCS12, controls merged) and made current; no event is re-injected.
   * @throws Error on a snapshot of another version or size (an emulator bug, not guest input).
   */
  restoreNestedState(state: NestedVmxState): VmInstructionError {
    if (state.version !== 1 || state.vmcs12.length !== VMCS12_SIZE)
      throw new Error("NestedVmx: bad nested state");
    const l1 = this.l1;
    l1.operation =
      state.vmxon < 0 ? VmxOperation.Off : state.guestMode ? VmxOperation.NonRoot : VmxOperation.Root;
    l1.vmxonPointer = state.vmxon;
    l1.currentPointer = state.current;
    if (state.current >= 0) {
      const { space } = createRamSpace(VMCS12_SIZE);
      space.writeBytes(0, state.vmcs12, 0);
      loadVmcs12(space, 0, l1.current);
    }
    this.merged = false;
    this.hw.current = this.vmcs01;
    this.updateShadowing();
    if (!state.guestMode) return VmInstructionError.None;
    const d01 = this.vmcs01.data;
    const d02 = this.vmcs02.data;
    for (let i = 0; i < GUEST_SLOTS.length; i++) {
      const s = GUEST_SLOTS[i]! * 2;
      d02[s] = d01[s]!;
      d02[s + 1] = d01[s + 1]!;
    }
    loadGuestState(this.vmcs12, this.view02);
    const err = mergeVmcs02Controls(this.vmcs02, this.vmcs01, this.vmcs12, this.mergeContext);
    if (err !== VmInstructionError.None) return err;
    this.lastMerged.copyFrom(this.vmcs12);
    this.merged = true;
    this.vmcs02.set(F.VM_ENTRY_INTR_INFO, 0);
    this.hw.current = this.vmcs02;
    return VmInstructionError.None;
  }
}
