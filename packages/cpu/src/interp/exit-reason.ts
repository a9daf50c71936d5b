/**
 * The basic exit reasons this processor reports (SDM vol. 3, appendix C "VMX Basic Exit
 * Reasons"): the subset of `@turtles/vmx`'s `ExitReason` that has an intercept point here, with
 * the same numbers. `@turtles/cpu` does not depend on `@turtles/vmx` yet, so the numbers are
 * copied; `test/intercepts.test.ts` reads `packages/vmx/src/exit-reason.ts` and fails on any
 * difference.
 */
export const VmExitReason = {
  /** An exception (hardware, INT3/INTO, INT1) or an NMI, before delivery. */
  ExceptionOrNmi: 0,
  /** An external interrupt (INTR), before it is acknowledged. */
  ExternalInterrupt: 1,
  /** A triple fault (instead of the shutdown). */
  TripleFault: 2,
  /** The INIT signal. */
  InitSignal: 3,
  /** A start-up IPI. */
  Sipi: 4,
  /** The interrupt window opened (RFLAGS.IF = 1, no STI/MOV SS shadow). */
  InterruptWindow: 7,
  /** The NMI window opened. */
  NmiWindow: 8,
  /** A task switch (CALL, JMP, IRET, or an IDT task gate). */
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
  /** MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW. */
  CrAccess: 28,
  /** MOV to/from a debug register. */
  MovDr: 29,
  /** IN, OUT, INS, OUTS. */
  IoInstruction: 30,
  /** RDMSR. */
  Rdmsr: 31,
  /** WRMSR. */
  Wrmsr: 32,
  /** MWAIT. */
  Mwait: 36,
  /** MONITOR. */
  Monitor: 39,
  /** PAUSE. */
  Pause: 40,
  /** LGDT, LIDT, SGDT, SIDT. */
  GdtrIdtrAccess: 46,
  /** LLDT, LTR, SLDT, STR. */
  LdtrTrAccess: 47,
  /** INVEPT. */
  Invept: 50,
  /** RDTSCP. */
  Rdtscp: 51,
  /** INVVPID. */
  Invvpid: 53,
  /** WBINVD or WBNOINVD. */
  Wbinvd: 54,
  /** XSETBV. */
  Xsetbv: 55,
  /** RDRAND. */
  Rdrand: 57,
  /** INVPCID. */
  Invpcid: 58,
  /** VMFUNC. */
  Vmfunc: 59,
  /** RDSEED. */
  Rdseed: 61,
} as const;

/** One of the {@link VmExitReason} values. */
export type VmExitReason = (typeof VmExitReason)[keyof typeof VmExitReason];
