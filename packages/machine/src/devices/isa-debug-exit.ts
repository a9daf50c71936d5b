import type { DeviceAccessSize, PortIoHandler } from "@turtles/memory";
import type { Snapshottable } from "./snapshot.js";

/** QEMU's `isa-debug-exit` as kvm-unit-tests configure it: `iobase=0xf4,iosize=0x4`. */
export const ISA_DEBUG_EXIT_PORTS = {
  /** First port. */
  base: 0xf4,
  /** Number of ports. */
  size: 4,
} as const;

/** Where and how big QEMU's `isa-debug-exit` is (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`). */
export interface DebugExitPlacement {
  /** First port (default 0xF4). */
  readonly iobase: number;
  /** Number of ports (default 4). */
  readonly iosize: number;
}

/** The state of an {@link IsaDebugExit}, as plain data. */
export interface IsaDebugExitState {
  /** The exit status last requested, or null when none was. */
  lastStatus: number | null;
}

/**
 * QEMU's `isa-debug-exit` device: a write of value `v` (of any size, at any offset of the
 * window) asks the machine to exit with status `(v << 1) | 1` — so a guest can never report
 * status 0, and a test harness maps 1 (v = 0) to success by convention. Computed without
 * 32-bit overflow (`v * 2 + 1`); a process exit code keeps only its low 8 bits. Reads return 0.
 */
export class IsaDebugExit implements PortIoHandler, Snapshottable<IsaDebugExitState> {
  private lastStatus: number | null = null;

  /** `onExit` receives each requested status; the machine stops the run when it wants to. */
  constructor(private readonly onExit: (status: number) => void) {}

  /** The status last requested, if any. */
  get requestedStatus(): number | null {
    return this.lastStatus;
  }

  /** Port read: always 0. */
  read(_offset: number, _size: DeviceAccessSize): number {
    return 0;
  }

  /** Port write: requests exit with status `value * 2 + 1`. */
  write(_offset: number, _size: DeviceAccessSize, value: number): void {
    const status = value * 2 + 1;
    this.lastStatus = status;
    this.onExit(status);
  }

  /** A plain-data snapshot. */
  state(): IsaDebugExitState {
    return { lastStatus: this.lastStatus };
  }

  /** Restores a snapshot taken by {@link IsaDebugExit.state}. */
  fromState(s: IsaDebugExitState): void {
    this.lastStatus = s.lastStatus;
  }
}
