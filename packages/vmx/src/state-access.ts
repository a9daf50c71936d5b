import type { Vmcs } from "./vmcs.js";

/**
 * A processor's architectural state, addressed by the guest-state VMCS field that describes each
 * piece (GUEST_CR0 for CR0, GUEST_CS_AR_BYTES for CS's access rights, ...). VM entry writes it,
 * VM exit reads it and then writes the host state into it. A processor implements this; so does
 * {@link VmcsGuestView}, which lets the nested engine load L1's host state into VMCS01.
 */
export interface GuestStateAccess {
  /** Reads the state `guestField` describes into `out[0]` (low) and `out[1]` (high). */
  readState(guestField: number, out: Uint32Array): void;
  /** Sets the state `guestField` describes to `hi:lo`. */
  writeState(guestField: number, lo: number, hi: number): void;
}

/** MSR access of one context, for the MSR-load and MSR-store areas (SDM 27.4, 28.4, 28.6). */
export interface MsrAccess {
  /** Reads an MSR into `out[0..1]`; false when the read would #GP. */
  readMsr(index: number, out: Uint32Array): boolean;
  /** Writes an MSR; false when the write would #GP (the value is then not written). */
  writeMsr(index: number, lo: number, hi: number): boolean;
}

/** The guest-state area of a VMCS seen as a processor's state (e.g. VMCS01 holding L1's state). */
export class VmcsGuestView implements GuestStateAccess {
  /** The VMCS whose guest-state area this view reads and writes. */
  readonly vmcs: Vmcs;

  /** Views `vmcs`'s guest-state area. */
  constructor(vmcs: Vmcs) {
    this.vmcs = vmcs;
  }

  /** Reads a guest-state field. */
  readState(guestField: number, out: Uint32Array): void {
    out[0] = this.vmcs.get32(guestField);
    out[1] = this.vmcs.getHi(guestField);
  }

  /** Writes a guest-state field. */
  writeState(guestField: number, lo: number, hi: number): void {
    this.vmcs.set(guestField, lo, hi);
  }
}
