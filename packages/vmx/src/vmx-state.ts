import type { PhysicalMemory } from "@turtles/memory";
import type { VmxCapabilities } from "./capabilities.js";
import type { EntryCheckContext } from "./vm-entry-checks.js";
import { Vmcs } from "./vmcs.js";

/** Where a logical processor stands with respect to VMX (SDM 24.3). */
export const VmxOperation = {
  /** Outside VMX operation. */
  Off: 0,
  /** VMX root operation. */
  Root: 1,
  /** VMX non-root operation. */
  NonRoot: 2,
} as const;
/** One of the {@link VmxOperation} values. */
export type VmxOperation = (typeof VmxOperation)[keyof typeof VmxOperation];

const fail = (): never => {
  throw new Error("VmxState: no memory attached yet");
};
const NO_MEMORY: PhysicalMemory = {
  read8: fail,
  read16: fail,
  read32: fail,
  read64: fail,
  write8: fail,
  write16: fail,
  write32: fail,
  write64: fail,
  readBytes: fail,
  writeBytes: fail,
};

/** Capacity of {@link VmxState.shadowWriteLog}. */
export const SHADOW_WRITE_LOG_SIZE = 32;

/** The "no current VMCS" value of the current-VMCS pointer (FFFFFFFF_FFFFFFFFH), as a number. */
export const INVALID_VMCS_POINTER = -1;

/**
 * The VMX state of one logical processor: its VMX operation, VMXON pointer, current-VMCS pointer
 * and the cached copy of the current VMCS (written back to memory on VMCLEAR and when another
 * VMCS is made current).
 */
export class VmxState {
  /** Capabilities this processor implements. */
  readonly caps: VmxCapabilities;
  /** VMX operation. */
  operation: VmxOperation = VmxOperation.Off;
  /** Physical address of the VMXON region (-1 when outside VMX operation). */
  vmxonPointer = INVALID_VMCS_POINTER;
  /** Physical address of the current VMCS, or {@link INVALID_VMCS_POINTER}. */
  currentPointer = INVALID_VMCS_POINTER;
  /**
   * Cached copy of the current VMCS (meaningful only while `currentPointer` is valid). A nested
   * engine may swap the object (VMCS01 <-> VMCS02) to switch the "hardware" VMCS.
   */
  current = new Vmcs();

  /** VMREAD instructions served from a shadow VMCS without a VM exit. */
  shadowReads = 0;
  /** VMWRITE instructions served into a shadow VMCS without a VM exit. */
  shadowWrites = 0;
  /**
   * Encodings of the fields written into the shadow VMCS since a reader last reset
   * {@link VmxState.shadowWriteCount} (the first {@link SHADOW_WRITE_LOG_SIZE}; beyond that only
   * the count grows). Lets a nested engine copy back just those fields.
   */
  readonly shadowWriteLog = new Int32Array(SHADOW_WRITE_LOG_SIZE);
  /** Exit-less VMWRITEs since the last reset (may exceed the log size). */
  shadowWriteCount = 0;
  /** Reused by VM entry (no allocation per VMLAUNCH/VMRESUME). */
  readonly entryContext: { -readonly [K in keyof EntryCheckContext]: EntryCheckContext[K] };

  /** A processor outside VMX operation, implementing `caps`. */
  constructor(caps: VmxCapabilities) {
    this.caps = caps;
    this.entryContext = { vmcs: this.current, caps, mem: NO_MEMORY, hostLongMode: false };
  }

  /** True when a current VMCS exists. */
  get hasCurrent(): boolean {
    return this.currentPointer !== INVALID_VMCS_POINTER;
  }
}
