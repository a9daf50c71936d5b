import { RunEnd, type RunResult } from "./run-result.js";

/**
 * The `turtles` command's exit statuses. A guest's `isa-debug-exit` write of v gives `(v << 1) | 1`
 * (always odd), as QEMU; every status the command chooses itself is even.
 */
export const EXIT_STATUS = {
  /** The guest shut down: a reset request (8042, 0xCF9, port 0x92) with `-no-reboot`. */
  shutdown: 0,
  /** Bad host input: an unknown flag, a bad value, a missing or malformed image. */
  badInput: 2,
  /** `--max-instructions` spent. */
  budget: 4,
  /** `--timeout` passed. */
  timeout: 6,
  /** The processor halted with nothing that can wake it. */
  haltedForever: 8,
  /** The processor met an instruction it does not implement. */
  unimplemented: 10,
  /** A triple fault with `-no-reboot` (QEMU exits 0 there; we say what happened). */
  tripleFault: 12,
  /** An emulator error (a bug: an exception escaped the machine). */
  emulatorError: 14,
} as const;

/** The exit status the `turtles` command gives for a run's result. */
export function exitStatusOf(result: RunResult): number {
  switch (result.end) {
    case RunEnd.DebugExit:
      return (result.exitStatus ?? 1) & 0xff;
    case RunEnd.Shutdown:
    case RunEnd.Stopped:
      return EXIT_STATUS.shutdown;
    case RunEnd.TripleFault:
      return EXIT_STATUS.tripleFault;
    case RunEnd.Budget:
      return EXIT_STATUS.budget;
    case RunEnd.Timeout:
      return EXIT_STATUS.timeout;
    case RunEnd.HaltedForever:
      return EXIT_STATUS.haltedForever;
    case RunEnd.Unimplemented:
      return EXIT_STATUS.unimplemented;
  }
}
