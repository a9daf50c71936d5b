/** Why a {@link PcMachine.run} ended. */
export const RunEnd = {
  /** The guest wrote to `isa-debug-exit`: see {@link RunResult.exitStatus}. */
  DebugExit: "debug-exit",
  /** The guest asked for a reset (8042 0xFE, port 0xCF9, port 0x92) with `noReboot`: a clean shutdown. */
  Shutdown: "shutdown",
  /** The processor triple-faulted with `noReboot`. */
  TripleFault: "triple-fault",
  /** The instruction budget (`maxInstructions`) was spent. */
  Budget: "instruction-budget",
  /** The host-time limit (`timeoutSeconds`) passed. */
  Timeout: "timeout",
  /** HLT with nothing that can wake the processor (interrupts disabled, or no timer that reaches it). */
  HaltedForever: "halted-forever",
  /** The processor met an instruction it does not implement (an emulator gap). */
  Unimplemented: "unimplemented",
  /** {@link PcMachine.stop} was called. */
  Stopped: "stopped",
} as const;

/** One of the {@link RunEnd} values. */
export type RunEnd = (typeof RunEnd)[keyof typeof RunEnd];

/** What a {@link PcMachine.run} did and why it ended. */
export interface RunResult {
  /** Why the run ended. */
  readonly end: RunEnd;
  /** With {@link RunEnd.DebugExit}: the status QEMU would exit with, `(value << 1) | 1`. */
  readonly exitStatus: number | undefined;
  /** One line saying why the run ended. */
  readonly message: string;
  /**
   * For an end the guest did not ask for (triple fault, halted forever, unimplemented instruction,
   * budget, timeout): the processor's registers, RIP and the instruction bytes there.
   */
  readonly report: string | undefined;
  /** Instructions executed in this run. */
  readonly instructions: number;
  /** Host seconds the run took. */
  readonly seconds: number;
  /** Millions of instructions per host second. */
  readonly mips: number;
  /** Virtual (or host) nanoseconds of machine time that passed, idle time included. */
  readonly machineNs: number;
  /** How often the processor's run loop returned each reason (`Budget`, `Halted`, ...). */
  readonly stopReasons: Readonly<Record<string, number>>;
  /** Exceptions and interrupts delivered in this run, by vector (only vectors that occurred). */
  readonly events: Readonly<Record<number, number>>;
  /** Machine resets (reboots) during the run. */
  readonly resets: number;
  /** With {@link RunEnd.Unimplemented}: the instruction's name and address. */
  readonly unimplemented: { readonly name: string; readonly rip: number } | undefined;
}
