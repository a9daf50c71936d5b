import { ENTRY_DEFAULT1, EXIT_DEFAULT1, PIN_DEFAULT1, PROC_DEFAULT1, ProcCtl } from "./controls.js";
import type { ControlFeature, VmxFeatures } from "./features.js";
import { highestFieldIndex, supportedFieldMap } from "./field-support.js";

/** Indices of the VMX capability MSRs (SDM appendix A, table 2-2 of vol. 4). */
export const VmxMsr = {
  /** IA32_VMX_BASIC. */
  BASIC: 0x480,
  /** IA32_VMX_PINBASED_CTLS. */
  PINBASED_CTLS: 0x481,
  /** IA32_VMX_PROCBASED_CTLS. */
  PROCBASED_CTLS: 0x482,
  /** IA32_VMX_EXIT_CTLS. */
  EXIT_CTLS: 0x483,
  /** IA32_VMX_ENTRY_CTLS. */
  ENTRY_CTLS: 0x484,
  /** IA32_VMX_MISC. */
  MISC: 0x485,
  /** IA32_VMX_CR0_FIXED0. */
  CR0_FIXED0: 0x486,
  /** IA32_VMX_CR0_FIXED1. */
  CR0_FIXED1: 0x487,
  /** IA32_VMX_CR4_FIXED0. */
  CR4_FIXED0: 0x488,
  /** IA32_VMX_CR4_FIXED1. */
  CR4_FIXED1: 0x489,
  /** IA32_VMX_VMCS_ENUM. */
  VMCS_ENUM: 0x48a,
  /** IA32_VMX_PROCBASED_CTLS2. */
  PROCBASED_CTLS2: 0x48b,
  /** IA32_VMX_EPT_VPID_CAP. */
  EPT_VPID_CAP: 0x48c,
  /** IA32_VMX_TRUE_PINBASED_CTLS. */
  TRUE_PINBASED_CTLS: 0x48d,
  /** IA32_VMX_TRUE_PROCBASED_CTLS. */
  TRUE_PROCBASED_CTLS: 0x48e,
  /** IA32_VMX_TRUE_EXIT_CTLS. */
  TRUE_EXIT_CTLS: 0x48f,
  /** IA32_VMX_TRUE_ENTRY_CTLS. */
  TRUE_ENTRY_CTLS: 0x490,
  /** IA32_VMX_VMFUNC. */
  VMFUNC: 0x491,
} as const;

/** Bits 31:0 are the allowed-0 settings (must be 1), bits 63:32 the allowed-1 settings. */
interface Allowed {
  readonly must1: number;
  readonly may1: number;
}

function controlMsr(f: ControlFeature, default1: number, trueMsr: boolean): Allowed {
  const must1 = trueMsr ? default1 & ~f.flexibleDefault1 : default1;
  return { must1: must1 >>> 0, may1: (f.allowed1 | default1) >>> 0 };
}

const b = (cond: boolean, bit: number): number => (cond ? 2 ** bit : 0);

/**
 * The VMX capability MSRs and everything derived from one {@link VmxFeatures} description:
 * MSR values, the allowed settings the VM-entry checks test against, and the supported VMCS
 * fields. Immutable once built.
 */
export class VmxCapabilities {
  /** The description everything here is computed from. */
  readonly features: VmxFeatures;
  /** Supported field encodings (index = encoding; 1 = supported, high aliases included). */
  readonly supportedFields: Uint8Array;
  /** Pin-based controls: bits that must be 1 (TRUE MSR). */
  readonly pinMust1: number;
  /** Pin-based controls: bits that may be 1. */
  readonly pinMay1: number;
  /** Primary processor-based controls: bits that must be 1 (TRUE MSR). */
  readonly procMust1: number;
  /** Primary processor-based controls: bits that may be 1. */
  readonly procMay1: number;
  /** Secondary processor-based controls: bits that may be 1. */
  readonly proc2May1: number;
  /** VM-exit controls: bits that must be 1 (TRUE MSR). */
  readonly exitMust1: number;
  /** VM-exit controls: bits that may be 1. */
  readonly exitMay1: number;
  /** VM-entry controls: bits that must be 1 (TRUE MSR). */
  readonly entryMust1: number;
  /** VM-entry controls: bits that may be 1. */
  readonly entryMay1: number;
  private readonly msrs = new Map<number, readonly [number, number]>();

  /** Computes every capability from `features`. */
  constructor(features: VmxFeatures) {
    this.features = features;
    this.supportedFields = supportedFieldMap(features);
    const pinT = controlMsr(features.pin, PIN_DEFAULT1, true);
    const procT = controlMsr(features.proc, PROC_DEFAULT1, true);
    const exitT = controlMsr(features.exit, EXIT_DEFAULT1, true);
    const entryT = controlMsr(features.entry, ENTRY_DEFAULT1, true);
    this.pinMust1 = pinT.must1;
    this.pinMay1 = pinT.may1;
    this.procMust1 = procT.must1;
    this.procMay1 = procT.may1;
    this.proc2May1 = (features.proc.allowed1 & ProcCtl.SecondaryControls) !== 0 ? features.proc2 >>> 0 : 0;
    this.exitMust1 = exitT.must1;
    this.exitMay1 = exitT.may1;
    this.entryMust1 = entryT.must1;
    this.entryMay1 = entryT.may1;

    const set = (index: number, lo: number, hi: number) => this.msrs.set(index, [lo >>> 0, hi >>> 0]);
    // IA32_VMX_BASIC (SDM A.1): revision id, region size 4096 (bits 44:32), WB (bits 53:50 = 6),
    // INS/OUTS information (bit 54), TRUE controls (bit 55).
    set(
      VmxMsr.BASIC,
      features.revisionId & 0x7fff_ffff,
      4096 | (6 << 18) | (features.insOutsInfo ? 1 << 22 : 0) | (1 << 23),
    );
    const pair = (index: number, a: Allowed) => set(index, a.must1, a.may1);
    pair(VmxMsr.PINBASED_CTLS, controlMsr(features.pin, PIN_DEFAULT1, false));
    pair(VmxMsr.PROCBASED_CTLS, controlMsr(features.proc, PROC_DEFAULT1, false));
    pair(VmxMsr.EXIT_CTLS, controlMsr(features.exit, EXIT_DEFAULT1, false));
    pair(VmxMsr.ENTRY_CTLS, controlMsr(features.entry, ENTRY_DEFAULT1, false));
    pair(VmxMsr.TRUE_PINBASED_CTLS, pinT);
    pair(VmxMsr.TRUE_PROCBASED_CTLS, procT);
    pair(VmxMsr.TRUE_EXIT_CTLS, exitT);
    pair(VmxMsr.TRUE_ENTRY_CTLS, entryT);
    set(VmxMsr.PROCBASED_CTLS2, 0, this.proc2May1);
    const m = features.misc;
    set(
      VmxMsr.MISC,
      (m.preemptionTimerRate & 0x1f) +
        b(m.storesLma, 5) +
        b(m.activityHlt, 6) +
        b(m.activityShutdown, 7) +
        b(m.activityWaitForSipi, 8) +
        (m.cr3TargetCount & 0x1ff) * 2 ** 16 +
        (m.msrListLog & 7) * 2 ** 25 +
        b(m.vmwriteAnyField, 29) +
        b(m.injectZeroLength, 30),
      0,
    );
    set(VmxMsr.CR0_FIXED0, features.cr0Fixed0, 0);
    set(VmxMsr.CR0_FIXED1, features.cr0Fixed1, 0);
    set(VmxMsr.CR4_FIXED0, features.cr4Fixed0, 0);
    set(VmxMsr.CR4_FIXED1, features.cr4Fixed1, 0);
    set(VmxMsr.VMCS_ENUM, highestFieldIndex(this.supportedFields) << 1, 0);
    const e = features.eptVpid;
    set(
      VmxMsr.EPT_VPID_CAP,
      b(e.executeOnly, 0) +
        b(e.walk4, 6) +
        b(e.walk5, 7) +
        b(e.memTypeUc, 8) +
        b(e.memTypeWb, 14) +
        b(e.pages2M, 16) +
        b(e.pages1G, 17) +
        b(e.invept, 20) +
        b(e.accessedDirty, 21) +
        b(e.advancedExitInfo, 22) +
        b(e.inveptSingle, 25) +
        b(e.inveptAll, 26),
      b(e.invvpid, 0) +
        b(e.invvpidAddress, 8) +
        b(e.invvpidSingle, 9) +
        b(e.invvpidAll, 10) +
        b(e.invvpidSingleRetainGlobals, 11),
    );
    set(VmxMsr.VMFUNC, features.vmfunc, 0);
  }

  /** The revision identifier every VMCS region of this implementation carries. */
  get revisionId(): number {
    return this.features.revisionId & 0x7fff_ffff;
  }

  /** True when the field encoding names a field this implementation supports. */
  isFieldSupported(encoding: number): boolean {
    return encoding >= 0 && encoding < 0x8000 && this.supportedFields[encoding] === 1;
  }

  /** Reads capability MSR `index` into `out[0]` (low half) and `out[1]`; false for other MSRs. */
  readMsr(index: number, out: Uint32Array): boolean {
    const v = this.msrs.get(index);
    if (v === undefined) return false;
    out[0] = v[0];
    out[1] = v[1];
    return true;
  }

  /** Indices of every capability MSR this implementation answers. */
  msrIndices(): number[] {
    return [...this.msrs.keys()];
  }
}
