/**
 * The only source of time for devices: a monotonic virtual clock in nanoseconds since the
 * machine started. The machine drives it from executed instructions, so runs are deterministic;
 * devices never read host time.
 */
export interface Clock {
  /** Nanoseconds since the machine started; never decreases; below 2^53. */
  nowNs(): number;
}

/**
 * A device that has something to do at a known time (a timer expiring, an interrupt to raise).
 * The machine calls {@link TimedDevice.poll} once the clock has reached
 * {@link TimedDevice.nextDeadlineNs}; calling it earlier or more often is harmless.
 */
export interface TimedDevice {
  /**
   * The clock time (ns) of the device's first event after it was last brought up to date, or
   * `Infinity` when none is pending. Once the clock has reached it, it stays there (in the past)
   * until {@link TimedDevice.poll} handles the event.
   */
  nextDeadlineNs(): number;
  /** Brings the device up to the clock's current time (raising or lowering its lines). */
  poll(): void;
}

/** A clock that moves only when told to: for tests and for machines that step time themselves. */
export class ManualClock implements Clock {
  private now: number;

  /** Starts at `startNs` (default 0). */
  constructor(startNs = 0) {
    checkNs(startNs);
    this.now = startNs;
  }

  /** The current time in nanoseconds. */
  nowNs(): number {
    return this.now;
  }

  /**
   * Moves time forward by `ns` nanoseconds.
   * @throws RangeError for a negative or non-integer step.
   */
  advance(ns: number): void {
    checkNs(ns);
    this.now += ns;
  }

  /**
   * Sets the time to `ns`, which must not be earlier than now.
   * @throws RangeError when time would go backwards.
   */
  set(ns: number): void {
    checkNs(ns);
    if (ns < this.now) throw new RangeError(`ManualClock.set: ${ns} is before ${this.now}`);
    this.now = ns;
  }
}

function checkNs(ns: number): void {
  if (!Number.isSafeInteger(ns) || ns < 0) throw new RangeError(`clock: bad time step ${ns}`);
}

const NS_PER_S = 1_000_000_000;

/** floor(x / d) for non-negative safe integers, exact despite floating-point division. */
function floorDiv(x: number, d: number): number {
  let q = Math.floor(x / d);
  if (q * d > x) q--;
  else if ((q + 1) * d <= x) q++;
  return q;
}

/**
 * Whole ticks of a `hz` oscillator elapsed after `ns` nanoseconds: floor(ns * hz / 1e9),
 * computed exactly in double precision (`hz` is an integer below 8,000,000).
 */
export function nsToTicks(ns: number, hz: number): number {
  const s = floorDiv(ns, NS_PER_S);
  const rem = ns - s * NS_PER_S;
  return s * hz + floorDiv(rem * hz, NS_PER_S);
}

/**
 * The first nanosecond at which `ticks` whole ticks of a `hz` oscillator have elapsed: the
 * smallest `ns` with `nsToTicks(ns, hz) >= ticks`.
 */
export function ticksToNs(ticks: number, hz: number): number {
  const s = floorDiv(ticks, hz);
  const rem = ticks - s * hz;
  return s * NS_PER_S + floorDiv(rem * NS_PER_S + hz - 1, hz);
}
