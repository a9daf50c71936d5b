/**
 * The identity and features a {@link Cpu} reports through CPUID. The defaults advertise only what
 * the interpreter implements (no x87/SSE/AVX, no VMX).
 */
export interface CpuModel {
  /** The 12-character vendor string (CPUID leaf 0). */
  readonly vendor: string;
  /** Family, model and stepping as CPUID.1:EAX encodes them. */
  readonly signature: number;
  /** EDX after reset (the processor signature). */
  readonly resetEdx: number;
  /** MAXPHYADDR in bits (32..52). */
  readonly maxPhysAddr: number;
  /** Linear-address bits (48). */
  readonly linearAddressBits: number;
  /** Whether 1-GByte pages are supported. */
  readonly pages1G: boolean;
  /** Whether the execute-disable bit is supported (CPUID.80000001H:EDX.NX, EFER.NXE). */
  readonly nx: boolean;
  /** The brand string (CPUID 0x80000002-4), at most 47 characters. */
  readonly brand: string;
  /**
   * 5-level paging (CR4.LA57, CPUID.7.0:ECX[16]; CPUID 0x80000008 then reports 57 linear bits).
   * Absent means false.
   */
  readonly la57?: boolean;
  /** Process-context identifiers (CR4.PCIDE, CPUID.1:ECX[17]) and INVPCID (CPUID.7.0:EBX[10]). Absent means true. */
  readonly pcid?: boolean;
  /** Protection keys for user-mode pages (CR4.PKE, RDPKRU/WRPKRU, CPUID.7.0:ECX[3]). Absent means true. */
  readonly pku?: boolean;
  /** The caches CPUID leaves 4, 0x80000005 and 0x80000006 describe, innermost first. */
  readonly caches: readonly CacheInfo[];
  /** Logical processors per core (CPUID leaves 0xB/0x1F; the interpreter runs one). */
  readonly threadsPerCore: number;
  /** Cores per package (CPUID leaves 4, 0xB/0x1F). */
  readonly coresPerPackage: number;
  /** This processor's (x2)APIC ID: CPUID.1:EBX[31:24] and CPUID.0BH:EDX. */
  readonly apicId: number;
  /**
   * Whether CPUID.80000007H:EDX[8] reports an invariant TSC. The interpreter's TSC counts
   * retired instructions and stops in HLT, so the default is false.
   */
  readonly invariantTsc: boolean;
  /**
   * Whether IA32_SPEC_CTRL, IA32_PRED_CMD and IA32_ARCH_CAPABILITIES exist (CPUID.7.0:EDX bits
   * 26, 27, 29, 31). An interpreter does not speculate: the controls are stored, with no effect.
   */
  readonly speculationControl: boolean;
  /** The value of IA32_ARCH_CAPABILITIES when {@link CpuModel.speculationControl} is set. */
  readonly archCapabilities: number;
}

/** One cache as CPUID leaf 4 describes it (SDM vol. 2A, CPUID, "Deterministic Cache Parameters"). */
export interface CacheInfo {
  /** 1 = data, 2 = instruction, 3 = unified. */
  readonly type: 1 | 2 | 3;
  /** Cache level, from 1. */
  readonly level: number;
  /** Size in bytes (ways × sets × line size). */
  readonly size: number;
  /** Ways of associativity. */
  readonly ways: number;
  /** Line size in bytes. */
  readonly lineSize: number;
  /** Logical processors sharing the cache. */
  readonly sharedBy: number;
  /** Whether the cache includes the lower levels. */
  readonly inclusive: boolean;
}

/** The default model: a family-6 "TurtlesCPU" with the integer, system and paging features implemented. */
export function defaultCpuModel(): CpuModel {
  return {
    vendor: "TurtlesTurtl",
    signature: 0x000906a3,
    resetEdx: 0x000906a3,
    maxPhysAddr: 46,
    linearAddressBits: 48,
    pages1G: true,
    nx: true,
    brand: "Turtles interpreter x86-64",
    caches: [
      { type: 1, level: 1, size: 32 * 1024, ways: 8, lineSize: 64, sharedBy: 1, inclusive: false },
      { type: 2, level: 1, size: 32 * 1024, ways: 8, lineSize: 64, sharedBy: 1, inclusive: false },
      { type: 3, level: 2, size: 1024 * 1024, ways: 16, lineSize: 64, sharedBy: 1, inclusive: false },
      { type: 3, level: 3, size: 8 * 1024 * 1024, ways: 16, lineSize: 64, sharedBy: 1, inclusive: true },
    ],
    threadsPerCore: 1,
    coresPerPackage: 1,
    apicId: 0,
    invariantTsc: false,
    speculationControl: true,
    // RDCL_NO, SSB_NO, MDS_NO, IF_PSCHANGE_MC_NO, TAA_NO: nothing speculates, nothing leaks.
    archCapabilities: 0x1 | 0x10 | 0x20 | 0x40 | 0x100,
    la57: false,
    pcid: true,
    pku: true,
  };
}
