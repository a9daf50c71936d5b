/** Why {@link Cpu.run} returned. */
export const StopReason = {
  /** The instruction budget was spent. */
  Budget: 0,
  /** HLT with no interrupt pending (or interrupts disabled): nothing to do until an interrupt arrives. */
  Halted: 1,
  /** A triple fault: the processor shut down (SDM vol. 3, 6.15 "Interrupt 8"). Call `reset()` to restart. */
  Shutdown: 2,
  /** {@link Cpu.requestStop} was called (for example by a device callback). */
  Stopped: 3,
  /**
   * The interpreter reached an instruction it does not implement (an emulator gap, not guest
   * behaviour): see {@link Cpu.unimplemented} for its name and address.
   */
  Unimplemented: 4,
  /**
   * An intercept point asked {@link Cpu.intercepts} and was told to exit: see {@link Cpu.exit}
   * for the reason and qualification; RIP is at the intercepted instruction (or the boundary
   * where the event was to be taken). Added last: the other values keep their numbers.
   */
  VmExit: 5,
} as const;

/** One of the {@link StopReason} values. */
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

/** Names of the {@link StopReason} values, indexed by value. */
export const STOP_REASON_NAMES: readonly string[] = [
  "Budget",
  "Halted",
  "Shutdown",
  "Stopped",
  "Unimplemented",
  "VmExit",
];
