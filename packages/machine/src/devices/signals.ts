/** What a reset request asks for; the machine decides what each kind does. */
export const ResetKind = {
  /** Processor reset only (INIT-like): 8042 pulse, port 0x92 bit 0, port 0xCF9 soft reset. */
  Soft: "soft",
  /** Platform reset (port 0xCF9 with SYS_RST). */
  Hard: "hard",
  /** Full power cycle (port 0xCF9 with FULL_RST). */
  Full: "full",
} as const;

/** One of the {@link ResetKind} values. */
export type ResetKind = (typeof ResetKind)[keyof typeof ResetKind];

/**
 * The platform signals the reset and A20 devices emit. The machine acts on them: it resets the
 * processor or the platform, and gates address line 20 with the OR of every A20 source (port
 * 0x92 and the 8042's output port each drive their own input).
 */
export interface PlatformSignals {
  /** A reset is requested. */
  reset?(kind: ResetKind): void;
  /**
   * This device's A20 output changed (true = address line 20 enabled). The machine ORs the
   * sources, e.g. each one driving an output of a `SharedIrqLine` whose target gates A20.
   */
  a20?(enabled: boolean): void;
}
