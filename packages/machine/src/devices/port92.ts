import type { DeviceAccessSize, PortIoHandler } from "@turtles/memory";
import { type PlatformSignals, ResetKind } from "./signals.js";
import type { Snapshottable } from "./snapshot.js";

/** System control port A. */
export const PORT92 = 0x92;

/** The state of a {@link Port92}, as plain data. */
export interface Port92State {
  /** The register as last written (bit 1 = A20, bit 0 = reset). */
  value: number;
}

/**
 * System control port A (0x92, "fast A20 and reset"): bit 1 enables address line 20; a 0-to-1
 * transition of bit 0 requests a processor reset. Reads return the register as written.
 */
export class Port92 implements PortIoHandler, Snapshottable<Port92State> {
  private value = 0;

  /** `signals` receives the A20 level and reset requests. */
  constructor(private readonly signals: PlatformSignals = {}) {}

  /** Whether this port enables A20 now. */
  get a20(): boolean {
    return (this.value & 2) !== 0;
  }

  /** Port read (only offset 0 exists; wider reads see 0xFF above it). */
  read(offset: number, size: DeviceAccessSize): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= (offset + k === 0 ? this.value : 0xff) << (8 * k);
    return v >>> 0;
  }

  /** Port write: updates A20 and requests a reset on a rising bit 0. */
  write(offset: number, _size: DeviceAccessSize, value: number): void {
    if (offset !== 0) return;
    const old = this.value;
    this.value = value & 0xff;
    if ((old ^ this.value) & 2) this.signals.a20?.(this.a20);
    if (this.value & 1 && !(old & 1)) this.signals.reset?.(ResetKind.Soft);
  }

  /** A plain-data snapshot. */
  state(): Port92State {
    return { value: this.value };
  }

  /** Restores a snapshot taken by {@link Port92.state} and re-announces its A20 level. */
  fromState(s: Port92State): void {
    this.value = s.value & 0xff;
    this.signals.a20?.(this.a20);
  }
}
