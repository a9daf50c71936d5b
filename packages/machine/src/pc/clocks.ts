import type { Clock } from "../devices/clock.js";

/** Something that counts retired instructions (the CPU's `instructions` counter). */
export interface InstructionCounter {
  /** Instructions retired so far; never decreases. */
  readonly instructions: number;
}

/**
 * The clock a machine runs on: devices read {@link Clock.nowNs}; the run loop moves it past idle
 * time (HLT) with {@link MachineClock.idleUntil}.
 */
export interface MachineClock extends Clock {
  /** Whether time is the host's (wall-clock) rather than derived from executed instructions. */
  readonly host: boolean;
  /** The processor is idle until `ns` (or an interrupt): jump there (virtual) or wait (host). */
  idleUntil(ns: number): void;
}

/**
 * Virtual time driven by executed instructions: `instructions * nsPerInstruction` plus the time
 * skipped while the processor was halted. Runs are deterministic: the same guest sees the same
 * times at the same instructions. The counter is read at the start of each executed block, so a
 * device read inside a block sees the time at which the block started.
 */
export class InstructionClock implements MachineClock {
  /** Always false: this is virtual time. */
  readonly host = false;
  private idleNs = 0;
  private counter: InstructionCounter = { instructions: 0 };
  private base = 0;

  /**
   * @param nsPerInstruction nanoseconds each instruction takes (a positive integer, default 1).
   * @throws RangeError for a non-integer or non-positive rate.
   */
  constructor(readonly nsPerInstruction = 1) {
    if (!Number.isSafeInteger(nsPerInstruction) || nsPerInstruction < 1) {
      throw new RangeError(
        `InstructionClock: nsPerInstruction must be a positive integer, not ${nsPerInstruction}`,
      );
    }
  }

  /** Connects the clock to the processor whose instructions drive it; time continues from now. */
  attach(counter: InstructionCounter): void {
    const now = this.nowNs();
    this.counter = counter;
    this.base = counter.instructions;
    this.idleNs = now;
  }

  /** Nanoseconds since the machine started. */
  nowNs(): number {
    return (this.counter.instructions - this.base) * this.nsPerInstruction + this.idleNs;
  }

  /** Skips forward to `ns` (no-op when it is not later than now). */
  idleUntil(ns: number): void {
    const now = this.nowNs();
    if (ns > now) this.idleNs += Math.ceil(ns - now);
  }
}

/**
 * Host time: nanoseconds of the host's monotonic clock since the clock was made. Runs are not
 * deterministic; idle time is spent sleeping.
 */
export class HostClock implements MachineClock {
  /** Always true. */
  readonly host = true;
  private readonly start = performance.now();
  private last = 0;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  /** Nanoseconds since construction (monotonic, whole). */
  nowNs(): number {
    const ns = Math.floor((performance.now() - this.start) * 1e6);
    if (ns > this.last) this.last = ns;
    return this.last;
  }

  /** Sleeps until `ns` (at most 100 ms at a time, so timeouts stay responsive). */
  idleUntil(ns: number): void {
    const ms = Math.min(100, (ns - this.nowNs()) / 1e6);
    if (ms > 0) Atomics.wait(this.sleeper, 0, 0, ms);
  }
}
