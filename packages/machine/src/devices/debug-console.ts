import type { DeviceAccessSize, PortIoHandler } from "@turtles/memory";
import type { Snapshottable } from "./snapshot.js";

/** The Bochs/QEMU debug console port. */
export const DEBUG_CONSOLE_PORT = 0xe9;

/** The state of a {@link DebugConsole}, as plain data (it has none). */
export type DebugConsoleState = Record<string, never>;

/**
 * The 0xE9 debug console (Bochs "port E9 hack", QEMU `isa-debugcon`): every byte written is
 * appended to the sink (a wider write is its bytes in little-endian order); a read returns the
 * readback value, 0xE9 by default, so a guest can detect the device.
 */
export class DebugConsole implements PortIoHandler, Snapshottable<DebugConsoleState> {
  /** `sink` receives each byte written; `readback` is what reads return. */
  constructor(
    private readonly sink: (byte: number) => void,
    private readonly readback = 0xe9,
  ) {}

  /** Port read: the readback value in every byte. */
  read(_offset: number, size: DeviceAccessSize): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= (this.readback & 0xff) << (8 * k);
    return v >>> 0;
  }

  /** Port write: appends the written bytes to the sink. */
  write(_offset: number, size: DeviceAccessSize, value: number): void {
    for (let k = 0; k < size; k++) this.sink((value >>> (8 * k)) & 0xff);
  }

  /** A plain-data snapshot (empty: the device keeps no state). */
  state(): DebugConsoleState {
    return {};
  }

  /** Restores a snapshot taken by {@link DebugConsole.state} (nothing to restore). */
  fromState(_s: DebugConsoleState): void {}
}
