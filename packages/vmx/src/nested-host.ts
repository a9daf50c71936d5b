import type { PhysicalMemory } from "@turtles/memory";
import type { ShadowVmcsPages } from "./shadow-vmcs.js";
import type { MsrAccess } from "./state-access.js";
import type { VmExitRecord } from "./vm-exit-record.js";

// What L0's machine provides to the nested engine, including the small piece of
// multi-dimensional paging it needs (so that @turtles/ept, or a fake, can provide it).

/** What L0 did with an EPT violation or misconfiguration of L2 (see {@link ShadowEpt}). */
export const EptFaultOutcome = {
  /** L0 filled the shadow EPT02 (from EPT12 x EPT01): resume L2. */
  FilledByL0: 0,
  /** The translation is missing or forbidden in L1's EPT12: an EPT violation for L1. */
  Ept12Violation: 1,
  /** EPT12 is misconfigured: an EPT misconfiguration for L1. */
  Ept12Misconfig: 2,
  /** The L1-physical address is not RAM (a device L0 emulates): L0 handles the access. */
  L0Emulation: 3,
} as const;
/** One of the {@link EptFaultOutcome} values. */
export type EptFaultOutcome = (typeof EptFaultOutcome)[keyof typeof EptFaultOutcome];

/**
 * The small piece of multi-dimensional paging the engine needs (implemented by `@turtles/ept`'s
 * shadow EPT, or by a test fake): EPT02 pointers, EPT02 faults, and L1's INVEPT.
 */
export interface ShadowEpt {
  /** The host EPT pointer of the shadow EPT02 that compresses EPT12 (`eptp12`) with EPT01. */
  ept02Pointer(eptp12Lo: number, eptp12Hi: number, out: Uint32Array): void;
  /**
   * Resolves an EPT violation/misconfiguration of L2 (`exit.guestPhysical`, `exit.qualLo`) under
   * the EPT02 built for `eptp12`. `usesEpt12` is false when L1 runs L2 without EPT
   * (L2-physical = L1-physical: only EPT01 is involved). For an EPT12 fault the implementation
   * rewrites `exit.qualLo` (and `exit.guestPhysical`, for misconfigurations) with what L1 must see:
   * the access and EPT12's permissions, as a walk of EPT12 alone would report them.
   */
  resolveL2Fault(exit: VmExitRecord, eptp12Lo: number, eptp12Hi: number, usesEpt12: boolean): EptFaultOutcome;
  /** L1 executed INVEPT (type 1: one EPTP12; type 2: all): drop what depends on it. */
  invalidate(type: number, eptp12Lo: number, eptp12Hi: number): void;
}

/** What L0's machine provides to the nested engine. */
export interface NestedHost {
  /** Host-physical memory (L0's scratch pages, VMCS01's bitmaps). */
  readonly hostMem: PhysicalMemory;
  /** L1-physical memory (VMCS12 regions, L1's bitmaps and MSR areas). */
  readonly l1mem: PhysicalMemory;
  /** Translates an L1-physical address to host-physical (-1 when not RAM). */
  l1paToHpa(l1pa: number): number;
  /** Shadow EPT02 management. */
  readonly ept: ShadowEpt;
  /** L1's MSRs (VMCS12's VM-exit MSR-load area). */
  readonly l1Msrs: MsrAccess;
  /** L2's MSRs (VMCS12's VM-entry MSR-load and VM-exit MSR-store areas). */
  readonly l2Msrs: MsrAccess;
  /** Host pages L0 owns for the engine (4 KiB each). */
  readonly pages: ShadowVmcsPages & {
    readonly ioBitmapA: number;
    readonly ioBitmapB: number;
    readonly msrBitmap: number;
  };
  /** VPID for L2 (0: none). */
  readonly vpid02: number;
  /** Offer L1 exit-less VMREAD/VMWRITE through VMCS shadowing in VMCS01 (default true). */
  readonly shadowing?: boolean;
  /** L0's own reasons to keep an L2 exit (assigned devices, debugging); consulted last. */
  l0Wants?(exit: VmExitRecord): boolean;
}

/** Where an L2 exit went. */
export const L2ExitRoute = {
  /** L0 handled it (or must now handle it, e.g. an external interrupt); resume L2 on VMCS02. */
  HandledInL0: 0,
  /** Reflected: VMCS12 holds the exit, VMCS01 holds L1's host state; resume L1 on VMCS01. */
  ReflectedToL1: 1,
  /** Reflecting failed in the MSR areas: L1 suffered a VMX abort and must shut down. */
  L1Abort: 2,
  /** A VMREAD/VMWRITE of L2 that L1's VMCS shadowing serves: call {@link NestedVmx.l2ShadowAccess}. */
  ServeFromL1Shadow: 3,
} as const;
/** One of the {@link L2ExitRoute} values. */
export type L2ExitRoute = (typeof L2ExitRoute)[keyof typeof L2ExitRoute];

/** A snapshot of nested VMX state (see {@link NestedVmx.saveNestedState}). */
export interface NestedVmxState {
  /** Format version (1). */
  readonly version: 1;
  /** L1's VMXON pointer, -1 outside VMX operation. */
  readonly vmxon: number;
  /** L1's current-VMCS pointer, -1 when none. */
  readonly current: number;
  /** L2 was running (the hardware was on VMCS02). */
  readonly guestMode: boolean;
  /** VMCS12 in the frozen VMCS12 layout (4096 bytes; all zero when there is no current VMCS). */
  readonly vmcs12: Uint8Array;
}
