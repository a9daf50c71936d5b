import type { DeviceAccessSize, PortIoHandler } from "@turtles/memory";
import { type PlatformSignals, ResetKind } from "./signals.js";
import type { Snapshottable } from "./snapshot.js";

/**
 * The reset control register's port. It sits inside the PCI configuration window 0xCF8-0xCFF:
 * the PCI host bridge that owns that window forwards byte accesses at 0xCF9 here.
 */
export const RESET_CONTROL_PORT = 0xcf9;

/** The state of a {@link ResetControl}, as plain data. */
export interface ResetControlState {
  /** The register's SYS_RST (bit 1) and FULL_RST (bit 3) bits. */
  value: number;
}

/**
 * The chipset reset control register (port 0xCF9, as on PIIX3/ICH): a write with RST_CPU (bit 2)
 * set requests a reset — hard with SYS_RST (bit 1), full when FULL_RST (bit 3) is set as well,
 * otherwise soft.
 * SYS_RST and FULL_RST read back; RST_CPU reads as 0.
 */
export class ResetControl implements PortIoHandler, Snapshottable<ResetControlState> {
  private value = 0;

  /** `signals.reset` receives the requests. */
  constructor(private readonly signals: PlatformSignals = {}) {}

  /** Port read (one byte register). */
  read(offset: number, size: DeviceAccessSize): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= (offset + k === 0 ? this.value : 0xff) << (8 * k);
    return v >>> 0;
  }

  /** Port write: keeps bits 1 and 3, and acts on bit 2. */
  write(offset: number, _size: DeviceAccessSize, value: number): void {
    if (offset !== 0) return;
    this.value = value & 0x0a;
    if (value & 0x04) {
      const kind = (value & 0x0a) === 0x0a ? ResetKind.Full : value & 0x02 ? ResetKind.Hard : ResetKind.Soft;
      this.signals.reset?.(kind);
    }
  }

  /** A plain-data snapshot. */
  state(): ResetControlState {
    return { value: this.value };
  }

  /** Restores a snapshot taken by {@link ResetControl.state}. */
  fromState(s: ResetControlState): void {
    this.value = s.value & 0x0a;
  }
}
