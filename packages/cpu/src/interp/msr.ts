/** Numbers of the model-specific registers the interpreter implements (SDM vol. 4). */
export const Msr = {
  TSC: 0x10,
  APIC_BASE: 0x1b,
  FEATURE_CONTROL: 0x3a,
  TSC_ADJUST: 0x3b,
  SPEC_CTRL: 0x48,
  BIOS_SIGN_ID: 0x8b,
  MTRRCAP: 0xfe,
  SYSENTER_CS: 0x174,
  SYSENTER_ESP: 0x175,
  SYSENTER_EIP: 0x176,
  MISC_ENABLE: 0x1a0,
  PAT: 0x277,
  PKRS: 0x6e1,
  MTRR_DEF_TYPE: 0x2ff,
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
 * The values of the MSRs that are not part of {@link CpuState} (EFER and the FS/GS bases live
 * there), as lo/hi halves.
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

  /** Power-on values. */
  reset(): void {
    for (const a of [
      this.sysenter,
      this.star,
      this.lstar,
      this.cstar,
      this.fmask,
      this.kernelGsBase,
      this.tscAux,
      this.mtrrDefType,
      this.specCtrl,
    ])
      a.fill(0);
    this.pat[0] = 0x00070406;
    this.pat[1] = 0x00070406;
    this.apicBase[0] = 0xfee00900; // enabled, BSP
    this.apicBase[1] = 0;
    this.miscEnable[0] = 1; // fast strings
    this.miscEnable[1] = 0;
  }
}
