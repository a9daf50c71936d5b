import fc from "fast-check";
import { expect } from "vitest";

/** A device under test with its environment (clock, lines, sinks) folded in. */
export interface RoundTripSubject<S, Op> {
  /** Performs one operation; everything observable goes to `log`. */
  apply(op: Op): void;
  /** Outputs observed so far (read values, line levels, sink bytes, callbacks). */
  readonly log: unknown[];
  /** The clock time of the subject's environment. */
  nowNs(): number;
  state(): S;
  fromState(s: S): void;
}

/**
 * The state()/fromState() law: after any operation sequence, a snapshot (through JSON, so it is
 * plain data) restored into a fresh device makes it continue exactly like the original.
 */
export function checkRoundTrip<S, Op>(
  make: (startNs: number) => RoundTripSubject<S, Op>,
  op: fc.Arbitrary<Op>,
  numRuns = Number(process.env.ROUNDTRIP_RUNS ?? 150),
): void {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.array(op, { maxLength: 60 }), (before, after) => {
      const a = make(0);
      for (const o of before) a.apply(o);
      const snapshot = JSON.parse(JSON.stringify(a.state())) as S;
      expect(snapshot).toEqual(a.state());
      const b = make(a.nowNs());
      b.fromState(snapshot);
      expect(b.state()).toEqual(a.state());
      a.log.length = 0;
      b.log.length = 0;
      for (const o of after) {
        a.apply(o);
        b.apply(o);
      }
      expect(b.log).toEqual(a.log);
      expect(b.state()).toEqual(a.state());
    }),
    { numRuns },
  );
}
