/**
 * An interrupt request wire from a device to an interrupt controller. The device drives its
 * level; an edge-triggered input latches the low-to-high transition, a level-triggered input
 * follows the level. Devices never see what the line is connected to.
 */
export interface IrqLine {
  /** Drives the line high (`true`) or low (`false`). Setting the current level again is harmless. */
  set(level: boolean): void;
}

/**
 * The processor-facing side of an interrupt controller: what the CPU asks when it is ready to
 * take an external interrupt (the INTR pin and the interrupt-acknowledge cycle).
 */
export interface InterruptAcknowledge {
  /** Whether the controller asserts INTR now. */
  hasInterrupt(): boolean;
  /**
   * The interrupt-acknowledge cycle (INTA): the controller commits to its highest-priority
   * request and returns its vector (0-255). Called only when the CPU accepts the interrupt.
   */
  acknowledge(): number;
}

/** A line connected to nothing: levels are dropped. */
export const noIrqLine: IrqLine = { set() {} };

/**
 * One output driving several inputs (e.g. the PIT's OUT0 to PIC IRQ0 and I/O APIC pin 2): each
 * `set` is passed to every line in order.
 */
export function fanOut(...lines: IrqLine[]): IrqLine {
  return {
    set(level: boolean): void {
      for (const line of lines) line.set(level);
    },
  };
}

/**
 * A wired-OR of several outputs onto one input: the input is high while any output drives it
 * high. Each call of {@link SharedIrqLine.output} makes one more output.
 */
export class SharedIrqLine {
  private levels = 0;
  private count = 0;
  private level = false;

  /** `target` receives the combined level on every change. */
  constructor(private readonly target: IrqLine) {}

  /** A new output of this line (at most 31). */
  output(): IrqLine {
    if (this.count >= 31) throw new RangeError("SharedIrqLine: at most 31 outputs");
    const bit = 1 << this.count++;
    return {
      set: (high: boolean) => {
        this.levels = high ? this.levels | bit : this.levels & ~bit;
        const level = this.levels !== 0;
        if (level !== this.level) {
          this.level = level;
          this.target.set(level);
        }
      },
    };
  }

  /** The combined level. */
  get high(): boolean {
    return this.level;
  }
}
