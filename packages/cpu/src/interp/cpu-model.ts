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
  /** Protection keys for supervisor-mode pages (CR4.PKS, IA32_PKRS, CPUID.7.0:ECX[31]). Absent means false. */
  readonly pks?: boolean;
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
    brand: "Turtles interpreter x86-64",
    la57: false,
    pcid: true,
    pku: true,
  };
}
