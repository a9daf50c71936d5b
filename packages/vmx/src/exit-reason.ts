// Basic exit reasons (Intel SDM vol. 3, appendix C "VMX Basic Exit Reasons").

/** Basic exit reasons (bits 15:0 of the exit-reason field), numbered as in SDM appendix C. */
export const ExitReason = {
  /** Exception or non-maskable interrupt. */
  ExceptionOrNmi: 0,
  /** External interrupt. */
  ExternalInterrupt: 1,
  /** Triple fault. */
  TripleFault: 2,
  /** INIT signal. */
  InitSignal: 3,
  /** Start-up IPI. */
  Sipi: 4,
  /** I/O system-management interrupt. */
  IoSmi: 5,
  /** Other SMI. */
  OtherSmi: 6,
  /** Interrupt window. */
  InterruptWindow: 7,
  /** NMI window. */
  NmiWindow: 8,
  /** Task switch. */
  TaskSwitch: 9,
  /** CPUID. */
  Cpuid: 10,
  /** GETSEC. */
  Getsec: 11,
  /** HLT. */
  Hlt: 12,
  /** INVD. */
  Invd: 13,
  /** INVLPG. */
  Invlpg: 14,
  /** RDPMC. */
  Rdpmc: 15,
  /** RDTSC. */
  Rdtsc: 16,
  /** RSM in SMM. */
  Rsm: 17,
  /** VMCALL. */
  Vmcall: 18,
  /** VMCLEAR. */
  Vmclear: 19,
  /** VMLAUNCH. */
  Vmlaunch: 20,
  /** VMPTRLD. */
  Vmptrld: 21,
  /** VMPTRST. */
  Vmptrst: 22,
  /** VMREAD. */
  Vmread: 23,
  /** VMRESUME. */
  Vmresume: 24,
  /** VMWRITE. */
  Vmwrite: 25,
  /** VMXOFF. */
  Vmxoff: 26,
  /** VMXON. */
  Vmxon: 27,
  /** Control-register access. */
  CrAccess: 28,
  /** MOV DR. */
  MovDr: 29,
  /** I/O instruction. */
  IoInstruction: 30,
  /** RDMSR. */
  Rdmsr: 31,
  /** WRMSR. */
  Wrmsr: 32,
  /** VM-entry failure due to invalid guest state. */
  EntryFailGuestState: 33,
  /** VM-entry failure due to MSR loading. */
  EntryFailMsrLoad: 34,
  /** MWAIT. */
  Mwait: 36,
  /** Monitor trap flag. */
  MonitorTrapFlag: 37,
  /** MONITOR. */
  Monitor: 39,
  /** PAUSE. */
  Pause: 40,
  /** VM-entry failure due to machine-check event. */
  EntryFailMachineCheck: 41,
  /** TPR below threshold. */
  TprBelowThreshold: 43,
  /** APIC access. */
  ApicAccess: 44,
  /** Virtualized EOI. */
  VirtualizedEoi: 45,
  /** Access to GDTR or IDTR. */
  GdtrIdtrAccess: 46,
  /** Access to LDTR or TR. */
  LdtrTrAccess: 47,
  /** EPT violation. */
  EptViolation: 48,
  /** EPT misconfiguration. */
  EptMisconfig: 49,
  /** INVEPT. */
  Invept: 50,
  /** RDTSCP. */
  Rdtscp: 51,
  /** VMX-preemption timer expired. */
  PreemptionTimer: 52,
  /** INVVPID. */
  Invvpid: 53,
  /** WBINVD or WBNOINVD. */
  Wbinvd: 54,
  /** XSETBV. */
  Xsetbv: 55,
  /** APIC write. */
  ApicWrite: 56,
  /** RDRAND. */
  Rdrand: 57,
  /** INVPCID. */
  Invpcid: 58,
  /** VMFUNC. */
  Vmfunc: 59,
  /** ENCLS. */
  Encls: 60,
  /** RDSEED. */
  Rdseed: 61,
  /** Page-modification log full. */
  PmlFull: 62,
  /** XSAVES. */
  Xsaves: 63,
  /** XRSTORS. */
  Xrstors: 64,
  /** PCONFIG. */
  Pconfig: 65,
  /** SPP-related event. */
  SppEvent: 66,
  /** UMWAIT. */
  Umwait: 67,
  /** TPAUSE. */
  Tpause: 68,
  /** LOADIWKEY. */
  Loadiwkey: 69,
  /** ENCLV. */
  Enclv: 70,
  /** ENQCMD PASID translation failure. */
  EnqcmdPasidFailure: 72,
  /** ENQCMDS PASID translation failure. */
  EnqcmdsPasidFailure: 73,
  /** Bus lock. */
  BusLock: 74,
  /** Instruction timeout. */
  InstructionTimeout: 75,
  /** SEAMCALL. */
  Seamcall: 76,
  /** TDCALL. */
  Tdcall: 77,
  /** RDMSRLIST. */
  Rdmsrlist: 78,
  /** WRMSRLIST. */
  Wrmsrlist: 79,
} as const;
/** One of the {@link ExitReason} values. */
export type ExitReason = (typeof ExitReason)[keyof typeof ExitReason];

/** Number of slots of the per-reason tables (reasons 0 .. EXIT_REASON_LIMIT - 1). */
export const EXIT_REASON_LIMIT = 80;

/** Bit 31 of the exit-reason field: VM-entry failure. */
export const EXIT_REASON_ENTRY_FAILURE = 0x8000_0000;

/** Name of each basic exit reason, indexed by number (undefined for unused numbers). */
export const exitReasonNames: readonly (string | undefined)[] = (() => {
  const names: (string | undefined)[] = new Array(EXIT_REASON_LIMIT).fill(undefined);
  for (const [name, n] of Object.entries(ExitReason)) names[n] = name;
  return names;
})();
