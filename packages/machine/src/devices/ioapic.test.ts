import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { IoApic, type IoApicState } from "./ioapic.js";

function setup() {
  const sent: [number, number, boolean, number, boolean][] = [];
  const apic = new IoApic({ deliver: (...m) => sent.push(m) });
  const reg = (r: number, v?: number) => {
    apic.write(0x00, 4, r);
    if (v === undefined) return apic.read(0x10, 4);
    apic.write(0x10, 4, v);
    return v;
  };
  return { apic, sent, reg };
}

describe("IoApic", () => {
  it("exposes ID, version (24 entries) and arbitration through IOREGSEL/IOWIN", () => {
    const { apic, reg } = setup();
    reg(0x00, 0x0a00_0000);
    expect(reg(0x00)).toBe(0x0a00_0000);
    expect(reg(0x01)).toBe(0x0017_0020);
    expect(reg(0x02)).toBe(0x0a00_0000);
    expect(apic.read(0x00, 4)).toBe(0x02); // IOREGSEL reads back
    expect(reg(0x10)).toBe(0x0001_0000); // entries start masked
  });

  it("delivers an edge-triggered entry on each rising edge; masked edges are lost", () => {
    const { apic, sent, reg } = setup();
    reg(0x10 + 2 * 2 + 1, 0x0100_0000); // destination APIC 1
    reg(0x10 + 2 * 2, 0x0000_0030);
    apic.setIrq(2, true);
    apic.setIrq(2, true);
    apic.setIrq(2, false);
    expect(sent).toEqual([[0x30, 0, false, 1, false]]);
    reg(0x10 + 2 * 2, 0x0001_0030);
    apic.setIrq(2, true);
    reg(0x10 + 2 * 2, 0x0000_0830); // unmasked, logical: the earlier edge is not replayed
    expect(sent.length).toBe(1);
    apic.setIrq(2, false);
    apic.setIrq(2, true);
    expect(sent[1]).toEqual([0x30, 0, true, 1, false]);
  });

  it("holds Remote IRR for level-triggered entries until EOI and redelivers while asserted", () => {
    const { apic, sent, reg } = setup();
    reg(0x10 + 2 * 5, 0x0000_8041);
    apic.setIrq(5, true);
    apic.setIrq(5, true);
    expect(sent).toEqual([[0x41, 0, false, 0, true]]);
    expect(reg(0x10 + 2 * 5) & 0x4000).toBe(0x4000);
    apic.eoi(0x41);
    expect(sent.length).toBe(2); // still asserted
    apic.setIrq(5, false);
    apic.write(0x40, 4, 0x41); // EOI register
    expect(reg(0x10 + 2 * 5) & 0x4000).toBe(0);
    expect(sent.length).toBe(2);
    apic.eoi(0x42);
    apic.setIrq(5, true);
    expect(sent.length).toBe(3);
  });

  it("honours active-low polarity and delivers an asserted level input when unmasked", () => {
    const { apic, sent, reg } = setup();
    reg(0x10 + 2 * 9, 0x0001_a000 | 0x51); // level, active low, masked
    apic.setIrq(9, true);
    apic.setIrq(9, false); // asserted (low)
    expect(sent).toEqual([]);
    reg(0x10 + 2 * 9, 0x0000_a051);
    expect(sent).toEqual([[0x51, 0, false, 0, true]]);
    expect(() => apic.irqLine(24)).toThrow(RangeError);
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op =
      | { k: "pin"; n: number; level: boolean }
      | { k: "w"; r: number; v: number }
      | { k: "r"; r: number }
      | { k: "eoi"; v: number };
    const vec = fc.constantFrom(0x30, 0x31, 0x41);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant("pin" as const), n: fc.integer({ min: 0, max: 3 }), level: fc.boolean() }),
      fc.record({
        k: fc.constant("w" as const),
        r: fc.integer({ min: 0x10, max: 0x17 }),
        v: fc.oneof(
          fc.integer({ min: 0, max: 0xffff_ffff }),
          fc.tuple(vec, fc.constantFrom(0, 0x8000, 0xa000, 0x1_8000, 0x2000)).map(([v, f]) => v | f),
        ),
      }),
      fc.record({ k: fc.constant("r" as const), r: fc.integer({ min: 0, max: 0x17 }) }),
      fc.record({ k: fc.constant("eoi" as const), v: vec }),
    );
    checkRoundTrip<IoApicState, Op>((start) => {
      const log: unknown[] = [];
      const apic = new IoApic({ deliver: (...m) => log.push(m) });
      return {
        log,
        nowNs: () => start,
        state: () => apic.state(),
        fromState: (s) => apic.fromState(s),
        apply(o) {
          if (o.k === "pin") apic.setIrq(o.n, o.level);
          else if (o.k === "eoi") apic.eoi(o.v);
          else {
            apic.write(0, 4, o.r);
            if (o.k === "w") apic.write(0x10, 4, o.v);
            else log.push(apic.read(0x10, 4));
          }
        },
      };
    }, op);
  });
});
