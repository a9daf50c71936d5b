import type { PhysicalMemory } from "@turtles/memory";

/** Operating modes that matter to VMX instructions (SDM vol. 3, 2.2 / 31.3). */
export const CpuMode = {
  /** Real-address mode (CR0.PE = 0). */
  Real: 0,
  /** Virtual-8086 mode (RFLAGS.VM = 1). */
  Virtual8086: 1,
  /** Legacy protected mode (EFER.LMA = 0). */
  Protected: 2,
  /** Compatibility mode (EFER.LMA = 1, CS.L = 0). */
  Compatibility: 3,
  /** 64-bit mode (EFER.LMA = 1, CS.L = 1). */
  Long64: 4,
} as const;
/** One of the {@link CpuMode} values. */
export type CpuMode = (typeof CpuMode)[keyof typeof CpuMode];

/**
 * What the VMX instructions need from a processor — and nothing more, so that any emulator can
 * adopt this package. The processor decodes the instruction, passes register operands as
 * arguments, and serves its memory operand through {@link VmxProcessor.readOperand} /
 * {@link VmxProcessor.writeOperand} (which raise the architectural fault themselves and return
 * false when the access faults).
 */
export interface VmxProcessor {
  /** Current operating mode. */
  mode(): CpuMode;
  /** Current privilege level (0-3). */
  cpl(): number;
  /** Low 32 bits of CR0. */
  cr0(): number;
  /** Low 32 bits of CR4. */
  cr4(): number;
  /** Reads an MSR (IA32_FEATURE_CONTROL at least) into `out[0..1]`; false if it does not exist. */
  readMsr(index: number, out: Uint32Array): boolean;
  /** True while events are blocked by MOV SS (VMLAUNCH/VMRESUME fail with error 26). */
  blockedByMovSs(): boolean;
  /**
   * Sets the arithmetic flags as VMX instructions report their outcome (SDM 31.2): CF and ZF as
   * given, PF, AF, SF and OF cleared.
   */
  setVmxFlags(cf: boolean, zf: boolean): void;
  /** Reads `words` 32-bit words (1 outside 64-bit mode for VMWRITE) of the instruction's memory operand into `out`; false if it faulted. */
  readOperand(out: Uint32Array, words: 1 | 2 | 4): boolean;
  /** Writes the instruction's destination (register or memory) with `hi:lo`; false if it faulted. */
  writeOperand(lo: number, hi: number): boolean;
  /** Physical memory of this processor (VMXON and VMCS regions, bitmaps, MSR areas). */
  readonly memory: PhysicalMemory;
  /** INVEPT: drop mappings derived from EPT (type 1: the EPTP `hi:lo`; type 2: all). */
  invalidateEpt(type: number, eptpLo: number, eptpHi: number): void;
  /** INVVPID: drop mappings of a VPID (type 0: one linear address `hi:lo`; 1 and 3: one VPID; 2: all). */
  invalidateVpid(type: number, vpid: number, addrLo: number, addrHi: number): void;
}
