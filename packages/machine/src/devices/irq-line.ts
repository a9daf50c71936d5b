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
