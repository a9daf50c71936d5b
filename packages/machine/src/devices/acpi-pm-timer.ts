import type { DeviceAccessSize, PortIoHandler } from "@turtles/memory";
import { type Clock, nsToTicks } from "./clock.js";
import type { Snapshottable } from "./snapshot.js";

/** The ACPI power-management timer's frequency in Hz. */
export const ACPI_PM_TIMER_HZ = 3_579_545;

/** Construction options of an {@link AcpiPmTimer}. */
export interface AcpiPmTimerOptions {
  /** The virtual clock. */
  clock: Clock;
  /** Counter width: 24 bits (default) or 32 (the FADT's TMR_VAL_EXT flag). */
  width?: 24 | 32;
}

/** The state of an {@link AcpiPmTimer}, as plain data (the count follows the clock). */
export interface AcpiPmTimerState {
  /** The counter width. */
  width: 24 | 32;
}

/**
 * The ACPI power-management timer (ACPI spec, "Power Management Timer"): a free-running,
 * read-only counter at 3.579545 MHz, 24 or 32 bits wide, in the 4-byte PM_TMR block (the
 * machine registers it at PMBASE + 8 and describes it in the FADT). Its value is a pure function
 * of the clock. The overflow status bit and its SCI belong to the PM1 event block, not here.
 */
export class AcpiPmTimer implements PortIoHandler, Snapshottable<AcpiPmTimerState> {
  private readonly clock: Clock;
  private width: 24 | 32;

  /** Creates the timer; it reads 0 at clock time 0. */
  constructor(options: AcpiPmTimerOptions) {
    this.clock = options.clock;
    this.width = options.width ?? 24;
  }

  /** The counter now. */
  get value(): number {
    const ticks = nsToTicks(this.clock.nowNs(), ACPI_PM_TIMER_HZ);
    return this.width === 32 ? ticks % 0x1_0000_0000 : ticks % 0x100_0000;
  }

  /** Port read: the counter's bytes from `offset` (a 32-bit read at offset 0 is the norm). */
  read(offset: number, size: DeviceAccessSize): number {
    const v = Math.floor(this.value / 2 ** (8 * offset));
    return size === 4 ? v % 0x1_0000_0000 : v & (size === 2 ? 0xffff : 0xff);
  }

  /** Port write: ignored (the register is read-only). */
  write(_offset: number, _size: DeviceAccessSize, _value: number): void {}

  /** A plain-data snapshot. */
  state(): AcpiPmTimerState {
    return { width: this.width };
  }

  /** Restores a snapshot taken by {@link AcpiPmTimer.state}. */
  fromState(s: AcpiPmTimerState): void {
    if (s.width !== 24 && s.width !== 32)
      throw new RangeError("AcpiPmTimer.fromState: width must be 24 or 32");
    this.width = s.width;
  }
}
