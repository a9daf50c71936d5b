import { EntryCtl, ExitCtl, PinCtl, Proc2Ctl, ProcCtl } from "./controls.js";

/**
 * One class of VMX controls as implemented: which bits may be 1, and which default1 bits may be
 * cleared (reported through the TRUE_* capability MSRs, SDM A.2).
 */
export interface ControlFeature {
  /** Bits (besides the default1 bits) that software may set. */
  readonly allowed1: number;
  /** Default1 bits that software may clear when it uses the TRUE_* MSRs. */
  readonly flexibleDefault1: number;
}

/** IA32_VMX_MISC contents (SDM A.6). */
export interface MiscFeature {
  /** Bits 4:0: the VMX-preemption timer counts down by 1 every 2^rate TSC ticks. */
  readonly preemptionTimerRate: number;
  /** Bit 5: VM exits store EFER.LMA into the "IA-32e mode guest" entry control. */
  readonly storesLma: boolean;
  /** Bit 6: the HLT activity state is supported. */
  readonly activityHlt: boolean;
  /** Bit 7: the shutdown activity state is supported. */
  readonly activityShutdown: boolean;
  /** Bit 8: the wait-for-SIPI activity state is supported. */
  readonly activityWaitForSipi: boolean;
  /** Bits 24:16: number of CR3-target values (0-4 are architectural). */
  readonly cr3TargetCount: number;
  /** Bits 27:25: N, where 512 * (N + 1) is the recommended maximum of MSR-list entries. */
  readonly msrListLog: number;
  /** Bit 29: VMWRITE may write any supported field, including the VM-exit information fields. */
  readonly vmwriteAnyField: boolean;
  /** Bit 30: software interrupts and exceptions may be injected with an instruction length of 0. */
  readonly injectZeroLength: boolean;
}

/** IA32_VMX_EPT_VPID_CAP contents (SDM A.10). */
export interface EptVpidFeature {
  /** Bit 0: execute-only EPT translations. */
  readonly executeOnly: boolean;
  /** Bit 6: 4-level EPT page walks. */
  readonly walk4: boolean;
  /** Bit 7: 5-level EPT page walks. */
  readonly walk5: boolean;
  /** Bit 8: uncacheable EPT paging-structure memory type. */
  readonly memTypeUc: boolean;
  /** Bit 14: write-back EPT paging-structure memory type. */
  readonly memTypeWb: boolean;
  /** Bit 16: 2-MByte EPT pages. */
  readonly pages2M: boolean;
  /** Bit 17: 1-GByte EPT pages. */
  readonly pages1G: boolean;
  /** Bit 20: INVEPT. */
  readonly invept: boolean;
  /** Bit 21: accessed and dirty flags for EPT. */
  readonly accessedDirty: boolean;
  /** Bit 22: advanced VM-exit information for EPT violations. */
  readonly advancedExitInfo: boolean;
  /** Bit 25: single-context INVEPT. */
  readonly inveptSingle: boolean;
  /** Bit 26: all-context INVEPT. */
  readonly inveptAll: boolean;
  /** Bit 32: INVVPID. */
  readonly invvpid: boolean;
  /** Bit 40: individual-address INVVPID. */
  readonly invvpidAddress: boolean;
  /** Bit 41: single-context INVVPID. */
  readonly invvpidSingle: boolean;
  /** Bit 42: all-context INVVPID. */
  readonly invvpidAll: boolean;
  /** Bit 43: single-context-retaining-globals INVVPID. */
  readonly invvpidSingleRetainGlobals: boolean;
}

/**
 * The one description of what this VMX implementation offers. Every capability MSR is computed
 * from it, the VMCS fields that exist follow from it, and the VM-entry checks test controls
 * against it — so what is advertised is exactly what is implemented.
 */
export interface VmxFeatures {
  /** VMCS revision identifier (bits 30:0 of IA32_VMX_BASIC and of every VMCS region). */
  readonly revisionId: number;
  /** IA32_VMX_BASIC bit 54: INS/OUTS exits report instruction information. */
  readonly insOutsInfo: boolean;
  /** Pin-based VM-execution controls. */
  readonly pin: ControlFeature;
  /** Primary processor-based VM-execution controls. */
  readonly proc: ControlFeature;
  /** Secondary processor-based VM-execution controls that may be 1 (no default1 bits). */
  readonly proc2: number;
  /** VM-exit controls. */
  readonly exit: ControlFeature;
  /** VM-entry controls. */
  readonly entry: ControlFeature;
  /** IA32_VMX_MISC. */
  readonly misc: MiscFeature;
  /** CR0 bits that must be 1 in VMX operation (IA32_VMX_CR0_FIXED0, low 32 bits). */
  readonly cr0Fixed0: number;
  /** CR0 bits that may be 1 in VMX operation (IA32_VMX_CR0_FIXED1, low 32 bits). */
  readonly cr0Fixed1: number;
  /** CR4 bits that must be 1 in VMX operation (IA32_VMX_CR4_FIXED0). */
  readonly cr4Fixed0: number;
  /** CR4 bits that may be 1 in VMX operation (IA32_VMX_CR4_FIXED1). */
  readonly cr4Fixed1: number;
  /** IA32_VMX_EPT_VPID_CAP. */
  readonly eptVpid: EptVpidFeature;
  /** IA32_VMX_VMFUNC: the VM functions that may be enabled (bit 0: EPTP switching). */
  readonly vmfunc: number;
  /** The processor's physical-address width (MAXPHYADDR), used by address checks. */
  readonly maxPhysAddr: number;
  /** Linear-address width: 48, or 57 with 5-level paging; "canonical" means sign-extended from it. */
  readonly linearAddressBits: 48 | 57;
  /**
   * Bits of IA32_PERF_GLOBAL_CTRL that may be 1 (low half: general-purpose counters, high half:
   * fixed counters), for the VM-entry checks of its host and guest fields.
   */
  readonly perfGlobalCtrlValid: { readonly lo: number; readonly hi: number };
}

/**
 * What `@turtles/vmx` offers by default: the set a Linux KVM L1 expects of nested VMX (see the
 * package README), with a revision id of our own.
 */
export const DEFAULT_VMX_FEATURES: VmxFeatures = {
  revisionId: 0x7475_7274 & 0x7fff_ffff, // "turt", bit 31 clear
  insOutsInfo: true,
  pin: {
    allowed1:
      PinCtl.ExtIntExiting |
      PinCtl.NmiExiting |
      PinCtl.VirtualNmis |
      PinCtl.PreemptionTimer |
      PinCtl.PostedInterrupts,
    flexibleDefault1: 0,
  },
  proc: {
    allowed1:
      ProcCtl.IntrWindowExiting |
      ProcCtl.TscOffsetting |
      ProcCtl.HltExiting |
      ProcCtl.InvlpgExiting |
      ProcCtl.MwaitExiting |
      ProcCtl.RdpmcExiting |
      ProcCtl.RdtscExiting |
      ProcCtl.Cr3LoadExiting |
      ProcCtl.Cr3StoreExiting |
      ProcCtl.Cr8LoadExiting |
      ProcCtl.Cr8StoreExiting |
      ProcCtl.TprShadow |
      ProcCtl.NmiWindowExiting |
      ProcCtl.MovDrExiting |
      ProcCtl.UncondIoExiting |
      ProcCtl.UseIoBitmaps |
      ProcCtl.MonitorTrapFlag |
      ProcCtl.UseMsrBitmaps |
      ProcCtl.MonitorExiting |
      ProcCtl.PauseExiting |
      ProcCtl.SecondaryControls,
    flexibleDefault1: ProcCtl.Cr3LoadExiting | ProcCtl.Cr3StoreExiting,
  },
  proc2:
    Proc2Ctl.VirtApicAccesses |
    Proc2Ctl.Ept |
    Proc2Ctl.DescTableExiting |
    Proc2Ctl.Rdtscp |
    Proc2Ctl.VirtX2apic |
    Proc2Ctl.Vpid |
    Proc2Ctl.WbinvdExiting |
    Proc2Ctl.UnrestrictedGuest |
    Proc2Ctl.ApicRegisterVirt |
    Proc2Ctl.VirtIntrDelivery |
    Proc2Ctl.PauseLoopExiting |
    Proc2Ctl.RdrandExiting |
    Proc2Ctl.Invpcid |
    Proc2Ctl.Vmfunc |
    Proc2Ctl.VmcsShadowing |
    Proc2Ctl.RdseedExiting |
    Proc2Ctl.Pml |
    Proc2Ctl.Xsaves |
    Proc2Ctl.TscScaling,
  exit: {
    allowed1:
      ExitCtl.SaveDebugControls |
      ExitCtl.HostAddrSpaceSize |
      ExitCtl.LoadPerfGlobalCtrl |
      ExitCtl.AckIntrOnExit |
      ExitCtl.SavePat |
      ExitCtl.LoadPat |
      ExitCtl.SaveEfer |
      ExitCtl.LoadEfer |
      ExitCtl.SavePreemptionTimer,
    flexibleDefault1: ExitCtl.SaveDebugControls,
  },
  entry: {
    allowed1:
      EntryCtl.LoadDebugControls |
      EntryCtl.Ia32eModeGuest |
      EntryCtl.LoadPerfGlobalCtrl |
      EntryCtl.LoadPat |
      EntryCtl.LoadEfer,
    flexibleDefault1: EntryCtl.LoadDebugControls,
  },
  misc: {
    preemptionTimerRate: 5,
    storesLma: true,
    activityHlt: true,
    activityShutdown: false,
    activityWaitForSipi: true,
    cr3TargetCount: 4,
    msrListLog: 0,
    vmwriteAnyField: true,
    injectZeroLength: true,
  },
  cr0Fixed0: 0x8000_0021, // PG, NE, PE
  cr0Fixed1: 0xffff_ffff,
  cr4Fixed0: 0x0000_2000, // VMXE
  // VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP VMXE FSGSBASE PCIDE OSXSAVE SMEP SMAP
  cr4Fixed1: 0x0037_2fff,
  eptVpid: {
    executeOnly: true,
    walk4: true,
    walk5: true,
    memTypeUc: true,
    memTypeWb: true,
    pages2M: true,
    pages1G: true,
    invept: true,
    accessedDirty: true,
    advancedExitInfo: false,
    inveptSingle: true,
    inveptAll: true,
    invvpid: true,
    invvpidAddress: true,
    invvpidSingle: true,
    invvpidAll: true,
    invvpidSingleRetainGlobals: true,
  },
  vmfunc: 1,
  maxPhysAddr: 46,
  linearAddressBits: 48,
  perfGlobalCtrlValid: { lo: 0xf, hi: 0x7 }, // 4 general-purpose and 3 fixed counters
};
