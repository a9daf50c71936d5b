// The local APIC's acceptance and priority rules against a tiny reference model of SDM §11.8.3-5:
// requests sit in a set; INTR is up when the highest request's class beats the processor
// priority; INTA takes it into service; EOI retires the highest in-service vector.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { DeliveryMode, LocalApic } from "./local-apic.js";

type Op = { k: "deliver"; vector: number } | { k: "ack" } | { k: "eoi" } | { k: "tpr"; value: number };

class Model {
  irr = new Set<number>();
  isr = new Set<number>();
  tpr = 0;
  ppr(): number {
    const isrv = Math.max(0, ...this.isr);
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr : isrv & 0xf0;
  }
  pending(): number | undefined {
    const v = Math.max(-1, ...this.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr() & 0xf0) ? v : undefined;
  }
}

describe("local APIC priority (model-based)", () => {
  it("agrees with the reference model on INTR, INTA, PPR and ISR/IRR", () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant("deliver" as const), vector: fc.integer({ min: 16, max: 255 }) }),
      fc.record({ k: fc.constant("ack" as const) }),
      fc.record({ k: fc.constant("eoi" as const) }),
      fc.record({ k: fc.constant("tpr" as const), value: fc.integer({ min: 0, max: 255 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const apic = new LocalApic({ clock: new ManualClock() });
        apic.write(0xf0, 4, 0x1ff);
        const m = new Model();
        for (const o of ops) {
          if (o.k === "deliver") {
            apic.deliver(o.vector, DeliveryMode.Fixed, false, 0, false);
            m.irr.add(o.vector);
          } else if (o.k === "tpr") {
            apic.write(0x80, 4, o.value);
            m.tpr = o.value;
          } else if (o.k === "eoi") {
            apic.write(0xb0, 4, 0);
            if (m.isr.size > 0) m.isr.delete(Math.max(...m.isr));
          } else {
            const want = m.pending();
            expect(apic.hasInterrupt()).toBe(want !== undefined);
            expect(apic.acknowledge()).toBe(want ?? 0xff);
            if (want !== undefined) {
              m.irr.delete(want);
              m.isr.add(want);
            }
          }
          expect(apic.read(0xa0, 4)).toBe(m.ppr());
          for (let i = 0; i < 8; i++) {
            const bits = (set: Set<number>) =>
              [...set].filter((v) => v >> 5 === i).reduce((a, v) => (a | (1 << (v & 31))) >>> 0, 0);
            expect(apic.read(0x200 + 0x10 * i, 4)).toBe(bits(m.irr));
            expect(apic.read(0x100 + 0x10 * i, 4)).toBe(bits(m.isr));
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
