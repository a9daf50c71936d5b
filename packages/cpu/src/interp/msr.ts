/** Numbers of the model-specific registers the interpreter implements (SDM vol. 4, Table 2-2). */
export const Msr = {
  TSC: 0x10,
  APIC_BASE: 0x1b,
  FEATURE_CONTROL: 0x3a,
  TSC_ADJUST: 0x3b,
  SPEC_CTRL: 0x48,
  PRED_CMD: 0x49,
  BIOS_SIGN_ID: 0x8b,
  MTRRCAP: 0xfe,
  ARCH_CAPABILITIES: 0x10a,
  SYSENTER_CS: 0x174,
  SYSENTER_ESP: 0x175,
  SYSENTER_EIP: 0x176,
  MCG_CAP: 0x179,
  MCG_STATUS: 0x17a,
  MISC_ENABLE: 0x1a0,
  /** IA32_MTRR_PHYSBASE0; PHYSBASEn = this + 2n, PHYSMASKn = this + 2n + 1. */
  MTRR_PHYSBASE0: 0x200,
  MTRR_PHYSMASK0: 0x201,
  MTRR_FIX64K_00000: 0x250,
  MTRR_FIX16K_80000: 0x258,
  MTRR_FIX16K_A0000: 0x259,
  /** IA32_MTRR_FIX4K_C0000; the eight 4K fixed-range MTRRs are 0x268-0x26F. */
  MTRR_FIX4K_C0000: 0x268,
  MTRR_FIX4K_F8000: 0x26f,
  PAT: 0x277,
  MTRR_DEF_TYPE: 0x2ff,
  /** IA32_MC0_CTL; bank i has CTL, STATUS, ADDR, MISC at 0x400 + 4i + 0..3. */
  MC0_CTL: 0x400,
  EFER: 0xc0000080,
  STAR: 0xc0000081,
  LSTAR: 0xc0000082,
  CSTAR: 0xc0000083,
  FMASK: 0xc0000084,
  FS_BASE: 0xc0000100,
  GS_BASE: 0xc0000101,
  KERNEL_GS_BASE: 0xc0000102,
  TSC_AUX: 0xc0000103,
} as const;

/**
 * A device that answers some MSRs itself, such as a local APIC (IA32_APIC_BASE, IA32_TSC_DEADLINE,
 * the x2APIC range). RDMSR/WRMSR of an index it handles go to it instead of the processor's table.
 */
export interface MsrDevice {
  /** Whether the device answers MSR `index`. */
  handlesMsr(index: number): boolean;
  /** RDMSR: writes the value to `out[0]` (low) and `out[1]` (high); false raises #GP(0). */
  readMsr(index: number, out: Uint32Array): boolean;
  /** WRMSR of `hi:lo` (unsigned halves); false raises #GP(0). */
  writeMsr(index: number, lo: number, hi: number): boolean;
}

/** The fixed-range MTRRs in the order {@link Msrs.mtrrFixed} stores them (SDM vol. 3, "Fixed Range MTRRs"). */
export const FIXED_MTRRS: readonly number[] = [
  0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
];

/** Variable-range MTRR pairs the processor has (IA32_MTRRCAP.VCNT). */
export const MTRR_VARIABLE_COUNT = 8;
/** Machine-check banks the processor has (IA32_MCG_CAP.Count). */
export const MC_BANK_COUNT = 4;

/** A JSON-safe copy of {@link Msrs} (each register as `[lo, hi]` halves, flattened per group). */
export interface MsrsSnapshot {
  /** Every stored group by name: the halves in order. */
  values: Record<string, number[]>;
  /** The time-stamp counter when the copy was made, as `[lo, hi]`. */
  tsc: number[];
}

/**
 * The values of the MSRs that are not part of {@link CpuState} (EFER and the FS/GS bases live
 * there), as lo/hi halves. The time-stamp counter is kept as an offset from the count of
 * retired instructions ({@link Msrs.tscOffset}).
 */
export class Msrs {
  /** IA32_SYSENTER_CS/ESP/EIP. */
  readonly sysenter = new Uint32Array(6);
  /** STAR. */
  readonly star = new Uint32Array(2);
  /** LSTAR. */
  readonly lstar = new Uint32Array(2);
  /** CSTAR. */
  readonly cstar = new Uint32Array(2);
  /** FMASK (SFMASK). */
  readonly fmask = new Uint32Array(2);
  /** KERNEL_GS_BASE (swapped with GS.base by SWAPGS). */
  readonly kernelGsBase = new Uint32Array(2);
  /** IA32_PAT. */
  readonly pat = new Uint32Array(2);
  /** IA32_APIC_BASE. */
  readonly apicBase = new Uint32Array(2);
  /** IA32_MISC_ENABLE. */
  readonly miscEnable = new Uint32Array(2);
  /** IA32_TSC_AUX. */
  readonly tscAux = new Uint32Array(2);
  /** IA32_MTRR_DEF_TYPE. */
  readonly mtrrDefType = new Uint32Array(2);
  /** IA32_SPEC_CTRL. */
  readonly specCtrl = new Uint32Array(2);
  /** IA32_FEATURE_CONTROL. */
  readonly featureControl = new Uint32Array(2);
  /** IA32_TSC_ADJUST (a signed 64-bit value). */
  readonly tscAdjust = new Uint32Array(2);
  /** TSC = retired instructions + this offset, modulo 2^64 (lo, hi). */
  readonly tscOffset = new Uint32Array(2);
  /** The 11 fixed-range MTRRs, in the order of {@link FIXED_MTRRS}. */
  readonly mtrrFixed = new Uint32Array(2 * FIXED_MTRRS.length);
  /** IA32_MTRR_PHYSBASEn/PHYSMASKn, in MSR order (base0, mask0, base1, ...). */
  readonly mtrrVariable = new Uint32Array(4 * MTRR_VARIABLE_COUNT);
  /** IA32_MCG_STATUS. */
  readonly mcgStatus = new Uint32Array(2);
  /** IA32_MCi_CTL/STATUS/ADDR/MISC, in MSR order. */
  readonly mcBanks = new Uint32Array(8 * MC_BANK_COUNT);
  /** IA32_BIOS_SIGN_ID (the microcode revision, bits 63:32). */
  readonly biosSignId = new Uint32Array(2);

  /** The stored groups by name (for snapshots and reset). */
  private groups(): Record<string, Uint32Array> {
    return {
      sysenter: this.sysenter,
      star: this.star,
      lstar: this.lstar,
      cstar: this.cstar,
      fmask: this.fmask,
      kernelGsBase: this.kernelGsBase,
      pat: this.pat,
      apicBase: this.apicBase,
      miscEnable: this.miscEnable,
      tscAux: this.tscAux,
      mtrrDefType: this.mtrrDefType,
      specCtrl: this.specCtrl,
      featureControl: this.featureControl,
      tscAdjust: this.tscAdjust,
      tscOffset: this.tscOffset,
      mtrrFixed: this.mtrrFixed,
      mtrrVariable: this.mtrrVariable,
      mcgStatus: this.mcgStatus,
      mcBanks: this.mcBanks,
      biosSignId: this.biosSignId,
    };
  }

  /**
   * Power-on values (SDM vol. 3, Table 10-1 and vol. 4): PAT = 0007040600070406, APIC enabled
   * at 0xFEE00000 as the BSP, MTRRs disabled, FEATURE_CONTROL unlocked, fast strings on.
   */
  reset(): void {
    for (const a of Object.values(this.groups())) a.fill(0);
    this.pat[0] = 0x00070406;
    this.pat[1] = 0x00070406;
    this.apicBase[0] = 0xfee00900; // enabled, BSP
    this.apicBase[1] = 0;
    // Fast strings; branch-trace store and PEBS unavailable (read-only 1s).
    this.miscEnable[0] = 0x1 | 0x800 | 0x1000;
    this.miscEnable[1] = 0;
    // MCi_CTL: every error type enabled (what firmware leaves behind).
    for (let k = 0; k < MC_BANK_COUNT; k++) {
      this.mcBanks[8 * k] = 0xffffffff;
      this.mcBanks[8 * k + 1] = 0xffffffff;
    }
  }

  /**
   * A JSON-safe copy of every stored MSR; `retired` is the processor's retired-instruction count,
   * so the copy holds the TSC value itself (restoring it elsewhere continues from that value).
   */
  save(retired: number): MsrsSnapshot {
    const values: Record<string, number[]> = {};
    for (const [name, a] of Object.entries(this.groups())) values[name] = Array.from(a);
    const t = new Uint32Array(2);
    add64(t, retired >>> 0, Math.floor(retired / 4294967296) >>> 0, this.tscOffset[0]!, this.tscOffset[1]!);
    return { values, tsc: Array.from(t) };
  }

  /**
   * Loads a copy made by {@link Msrs.save}. A malformed copy (a group missing or of the wrong
   * length, a value that is not an unsigned 32-bit integer) throws a `TypeError`.
   */
  load(snap: MsrsSnapshot, retired: number): void {
    const groups = this.groups();
    const t = snap.tsc;
    if (
      !Array.isArray(t) ||
      t.length !== 2 ||
      !t.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
    )
      throw new TypeError("snapshot.msrs.tsc: expected [lo, hi]");
    for (const [name, a] of Object.entries(groups)) {
      const src = snap.values[name];
      if (!Array.isArray(src) || src.length !== a.length)
        throw new TypeError(`snapshot.msrs.${name}: expected ${a.length} numbers`);
      for (const v of src)
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
          throw new TypeError(`snapshot.msrs.${name}: expected unsigned 32-bit integers`);
    }
    for (const [name, a] of Object.entries(groups)) a.set(snap.values[name]!);
    // TSC = retired + offset: the offset that makes the counter read the saved value now.
    sub64(this.tscOffset, t[0]!, t[1]!, retired >>> 0, Math.floor(retired / 4294967296) >>> 0);
  }
}

/** `out` = (aLo, aHi) + (bLo, bHi) modulo 2^64. */
export function add64(out: Uint32Array, aLo: number, aHi: number, bLo: number, bHi: number): void {
  const lo = (aLo >>> 0) + (bLo >>> 0);
  out[0] = lo >>> 0;
  out[1] = (aHi >>> 0) + (bHi >>> 0) + (lo > 0xffffffff ? 1 : 0);
}

/** `out` = (aLo, aHi) - (bLo, bHi) modulo 2^64. */
export function sub64(out: Uint32Array, aLo: number, aHi: number, bLo: number, bHi: number): void {
  const lo = (aLo >>> 0) - (bLo >>> 0);
  out[0] = lo >>> 0;
  out[1] = (aHi >>> 0) - (bHi >>> 0) - (lo < 0 ? 1 : 0);
}
