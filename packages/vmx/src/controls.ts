// Bit positions of the VMX controls (Intel SDM vol. 3, 25.6 "VM-Execution Control Fields",
// 25.7 "VM-Exit Control Fields", 25.8 "VM-Entry Control Fields"), as masks.

/** Pin-based VM-execution controls (SDM 25.6.1). */
export const PinCtl = {
  /** External-interrupt exiting. */
  ExtIntExiting: 1 << 0,
  /** NMI exiting. */
  NmiExiting: 1 << 3,
  /** Virtual NMIs. */
  VirtualNmis: 1 << 5,
  /** Activate VMX-preemption timer. */
  PreemptionTimer: 1 << 6,
  /** Process posted interrupts. */
  PostedInterrupts: 1 << 7,
} as const;

/** Primary processor-based VM-execution controls (SDM 25.6.2). */
export const ProcCtl = {
  /** Interrupt-window exiting. */
  IntrWindowExiting: 1 << 2,
  /** Use TSC offsetting. */
  TscOffsetting: 1 << 3,
  /** HLT exiting. */
  HltExiting: 1 << 7,
  /** INVLPG exiting. */
  InvlpgExiting: 1 << 9,
  /** MWAIT exiting. */
  MwaitExiting: 1 << 10,
  /** RDPMC exiting. */
  RdpmcExiting: 1 << 11,
  /** RDTSC exiting. */
  RdtscExiting: 1 << 12,
  /** CR3-load exiting. */
  Cr3LoadExiting: 1 << 15,
  /** CR3-store exiting. */
  Cr3StoreExiting: 1 << 16,
  /** Activate tertiary controls. */
  TertiaryControls: 1 << 17,
  /** CR8-load exiting. */
  Cr8LoadExiting: 1 << 19,
  /** CR8-store exiting. */
  Cr8StoreExiting: 1 << 20,
  /** Use TPR shadow. */
  TprShadow: 1 << 21,
  /** NMI-window exiting. */
  NmiWindowExiting: 1 << 22,
  /** MOV-DR exiting. */
  MovDrExiting: 1 << 23,
  /** Unconditional I/O exiting. */
  UncondIoExiting: 1 << 24,
  /** Use I/O bitmaps. */
  UseIoBitmaps: 1 << 25,
  /** Monitor trap flag. */
  MonitorTrapFlag: 1 << 27,
  /** Use MSR bitmaps. */
  UseMsrBitmaps: 1 << 28,
  /** MONITOR exiting. */
  MonitorExiting: 1 << 29,
  /** PAUSE exiting. */
  PauseExiting: 1 << 30,
  /** Activate secondary controls. */
  SecondaryControls: 1 << 31,
} as const;

/** Secondary processor-based VM-execution controls (SDM 25.6.2). */
export const Proc2Ctl = {
  /** Virtualize APIC accesses. */
  VirtApicAccesses: 1 << 0,
  /** Enable EPT. */
  Ept: 1 << 1,
  /** Descriptor-table exiting. */
  DescTableExiting: 1 << 2,
  /** Enable RDTSCP. */
  Rdtscp: 1 << 3,
  /** Virtualize x2APIC mode. */
  VirtX2apic: 1 << 4,
  /** Enable VPID. */
  Vpid: 1 << 5,
  /** WBINVD exiting. */
  WbinvdExiting: 1 << 6,
  /** Unrestricted guest. */
  UnrestrictedGuest: 1 << 7,
  /** APIC-register virtualization. */
  ApicRegisterVirt: 1 << 8,
  /** Virtual-interrupt delivery. */
  VirtIntrDelivery: 1 << 9,
  /** PAUSE-loop exiting. */
  PauseLoopExiting: 1 << 10,
  /** RDRAND exiting. */
  RdrandExiting: 1 << 11,
  /** Enable INVPCID. */
  Invpcid: 1 << 12,
  /** Enable VM functions. */
  Vmfunc: 1 << 13,
  /** VMCS shadowing. */
  VmcsShadowing: 1 << 14,
  /** Enable ENCLS exiting. */
  EnclsExiting: 1 << 15,
  /** RDSEED exiting. */
  RdseedExiting: 1 << 16,
  /** Enable PML. */
  Pml: 1 << 17,
  /** EPT-violation #VE. */
  EptViolationVe: 1 << 18,
  /** Conceal VMX from PT. */
  ConcealVmxFromPt: 1 << 19,
  /** Enable XSAVES/XRSTORS. */
  Xsaves: 1 << 20,
  /** PASID translation. */
  PasidTranslation: 1 << 21,
  /** Mode-based execute control for EPT. */
  ModeBasedExec: 1 << 22,
  /** Sub-page write permissions for EPT. */
  SubPagePermissions: 1 << 23,
  /** Intel PT uses guest physical addresses. */
  PtUsesGpa: 1 << 24,
  /** Use TSC scaling. */
  TscScaling: 1 << 25,
  /** Enable user wait and pause. */
  UserWaitPause: 1 << 26,
  /** Enable PCONFIG. */
  Pconfig: 1 << 27,
  /** Enable ENCLV exiting. */
  EnclvExiting: 1 << 28,
  /** VMM bus-lock detection. */
  BusLockDetection: 1 << 30,
  /** Instruction timeout. */
  InstructionTimeout: 1 << 31,
} as const;

/** Primary VM-exit controls (SDM 25.7.1). */
export const ExitCtl = {
  /** Save debug controls. */
  SaveDebugControls: 1 << 2,
  /** Host address-space size. */
  HostAddrSpaceSize: 1 << 9,
  /** Load IA32_PERF_GLOBAL_CTRL. */
  LoadPerfGlobalCtrl: 1 << 12,
  /** Acknowledge interrupt on exit. */
  AckIntrOnExit: 1 << 15,
  /** Save IA32_PAT. */
  SavePat: 1 << 18,
  /** Load IA32_PAT. */
  LoadPat: 1 << 19,
  /** Save IA32_EFER. */
  SaveEfer: 1 << 20,
  /** Load IA32_EFER. */
  LoadEfer: 1 << 21,
  /** Save VMX-preemption timer value. */
  SavePreemptionTimer: 1 << 22,
  /** Clear IA32_BNDCFGS. */
  ClearBndcfgs: 1 << 23,
  /** Conceal VMX from PT. */
  ConcealVmxFromPt: 1 << 24,
  /** Clear IA32_RTIT_CTL. */
  ClearRtitCtl: 1 << 25,
  /** Clear IA32_LBR_CTL. */
  ClearLbrCtl: 1 << 26,
  /** Load CET state. */
  LoadCetState: 1 << 28,
  /** Load PKRS. */
  LoadPkrs: 1 << 29,
  /** Save IA32_PERF_GLOBAL_CTRL. */
  SavePerfGlobalCtrl: 1 << 30,
  /** Activate secondary VM-exit controls. */
  SecondaryControls: 1 << 31,
} as const;

/** VM-entry controls (SDM 25.8.1). */
export const EntryCtl = {
  /** Load debug controls. */
  LoadDebugControls: 1 << 2,
  /** IA-32e mode guest. */
  Ia32eModeGuest: 1 << 9,
  /** Entry to SMM. */
  EntryToSmm: 1 << 10,
  /** Deactivate dual-monitor treatment. */
  DeactivateDualMonitor: 1 << 11,
  /** Load IA32_PERF_GLOBAL_CTRL. */
  LoadPerfGlobalCtrl: 1 << 13,
  /** Load IA32_PAT. */
  LoadPat: 1 << 14,
  /** Load IA32_EFER. */
  LoadEfer: 1 << 15,
  /** Load IA32_BNDCFGS. */
  LoadBndcfgs: 1 << 16,
  /** Conceal VMX from PT. */
  ConcealVmxFromPt: 1 << 17,
  /** Load IA32_RTIT_CTL. */
  LoadRtitCtl: 1 << 18,
  /** Load CET state. */
  LoadCetState: 1 << 20,
  /** Load guest IA32_LBR_CTL. */
  LoadLbrCtl: 1 << 21,
  /** Load PKRS. */
  LoadPkrs: 1 << 22,
} as const;

/** Default1 bits of the pin-based controls (SDM A.3.1): 1, 2 and 4. */
export const PIN_DEFAULT1 = 0x0000_0016;
/** Default1 bits of the primary processor-based controls (SDM A.3.2): 1, 4-6, 8, 13-16, 26. */
export const PROC_DEFAULT1 = 0x0401_e172;
/** Default1 bits of the VM-exit controls (SDM A.4): 0-8, 10, 11, 13, 14, 16, 17. */
export const EXIT_DEFAULT1 = 0x0003_6dff;
/** Default1 bits of the VM-entry controls (SDM A.5): 0-8 and 12. */
export const ENTRY_DEFAULT1 = 0x0000_11ff;
