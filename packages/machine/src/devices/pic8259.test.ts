import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { PicPair, type PicPairState } from "./pic8259.js";

function setup(): { pic: PicPair; intr: boolean[] } {
  const intr: boolean[] = [];
  const pic = new PicPair({ set: (l) => intr.push(l) });
  return { pic, intr };
}

const out = (h: { write(o: number, s: 1, v: number): void }, o: number, v: number) => h.write(o, 1, v);

/** The PC BIOS programming: master vectors 0x08, slave 0x70, cascade on IR2, 8086 mode. */
function initPc(pic: PicPair, icw4 = 0x01): void {
  out(pic.masterPorts, 0, 0x11);
  out(pic.masterPorts, 1, 0x08);
  out(pic.masterPorts, 1, 0x04);
  out(pic.masterPorts, 1, icw4);
  out(pic.slavePorts, 0, 0x11);
  out(pic.slavePorts, 1, 0x70);
  out(pic.slavePorts, 1, 0x02);
  out(pic.slavePorts, 1, icw4 & ~0x10);
}

const pulse = (pic: PicPair, n: number) => {
  pic.setIrq(n, true);
  pic.setIrq(n, false);
};

describe("PicPair (8259A)", () => {
  it("resolves priority: the lowest IRQ number wins, vectors come from ICW2", () => {
    const { pic, intr } = setup();
    initPc(pic);
    expect(pic.hasInterrupt()).toBe(false);
    pulse(pic, 5);
    pulse(pic, 3);
    expect(intr.at(-1)).toBe(true);
    expect(pic.acknowledge()).toBe(0x0b);
    expect(pic.isr).toBe(1 << 3);
    // IRQ5 has lower priority than IRQ3 in service: INT drops until EOI.
    expect(pic.hasInterrupt()).toBe(false);
    expect(intr.at(-1)).toBe(false);
    out(pic.masterPorts, 0, 0x20); // non-specific EOI
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x0d);
  });

  it("lets a higher-priority request nest over one in service", () => {
    const { pic } = setup();
    initPc(pic);
    pulse(pic, 4);
    expect(pic.acknowledge()).toBe(0x0c);
    pulse(pic, 1);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x09);
    expect(pic.isr).toBe((1 << 4) | (1 << 1));
    out(pic.masterPorts, 0, 0x20); // non-specific EOI clears the highest in service: IRQ1
    expect(pic.isr).toBe(1 << 4);
  });

  it("cascades the slave through IR2 and needs EOI on both chips", () => {
    const { pic } = setup();
    initPc(pic);
    pulse(pic, 12);
    expect(pic.irr & 0x04).toBe(0x04);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x74);
    expect(pic.isr).toBe((1 << 12) | (1 << 2));
    pulse(pic, 9);
    expect(pic.hasInterrupt()).toBe(false); // IR2 still in service on the master
    out(pic.slavePorts, 0, 0x20);
    out(pic.masterPorts, 0, 0x20);
    expect(pic.isr).toBe(0);
    expect(pic.acknowledge()).toBe(0x71);
  });

  it("specific EOI clears exactly the named level", () => {
    const { pic } = setup();
    initPc(pic);
    pulse(pic, 6);
    pic.acknowledge();
    pulse(pic, 0);
    pic.acknowledge();
    out(pic.masterPorts, 0, 0x60 | 6); // specific EOI IR6
    expect(pic.isr).toBe(1);
  });

  it("masks through OCW1 and reads IMR back", () => {
    const { pic } = setup();
    initPc(pic);
    out(pic.masterPorts, 1, 0x02); // mask IRQ1 only
    expect(pic.masterPorts.read(1, 1)).toBe(0x02);
    pulse(pic, 1);
    expect(pic.hasInterrupt()).toBe(false);
    expect(pic.irr & 2).toBe(2); // the request is latched, just masked
    out(pic.masterPorts, 1, 0x00);
    expect(pic.acknowledge()).toBe(0x09);
  });

  it("auto-EOI leaves ISR clear", () => {
    const { pic } = setup();
    initPc(pic, 0x03);
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x0b);
    expect(pic.isr).toBe(0);
    pulse(pic, 4);
    expect(pic.hasInterrupt()).toBe(true);
  });

  it("answers a spurious IRQ7 when nothing is pending, and IRQ15 from an empty slave", () => {
    const { pic } = setup();
    initPc(pic);
    expect(pic.acknowledge()).toBe(0x0f);
    expect(pic.isr).toBe(0);
    // Make the master see IR2 without a slave request: raise IRQ10 level-triggered then drop it.
    out(pic.elcrPorts, 1, 0x04);
    pic.setIrq(10, true);
    expect(pic.irr & 4).toBe(4);
    pic.setIrq(10, false); // the slave's request vanishes, the master's IR2 edge stays latched
    expect(pic.acknowledge()).toBe(0x77);
    expect(pic.isr).toBe(1 << 2);
  });

  it("level-triggered inputs (ELCR) follow the line and re-request after EOI", () => {
    const { pic } = setup();
    initPc(pic);
    out(pic.elcrPorts, 0, 0xff);
    expect(pic.elcrPorts.read(0, 1)).toBe(0xf8); // IRQ0-2 cannot be level-triggered
    out(pic.elcrPorts, 0, 0x20); // only IRQ5 level-triggered
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x0d);
    out(pic.masterPorts, 0, 0x20);
    expect(pic.hasInterrupt()).toBe(true); // still high: requests again
    pic.setIrq(5, false);
    expect(pic.hasInterrupt()).toBe(false);
    // Edge-triggered: a held line requests once.
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x0b);
    out(pic.masterPorts, 0, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
    expect(pic.elcrPorts.read(0, 2)).toBe(0x20);
  });

  it("poll command returns 0x80 | level and acknowledges it", () => {
    const { pic } = setup();
    initPc(pic);
    out(pic.masterPorts, 0, 0x0c); // OCW3 poll
    expect(pic.masterPorts.read(0, 1)).toBe(0);
    pulse(pic, 6);
    out(pic.masterPorts, 0, 0x0c);
    expect(pic.masterPorts.read(0, 1)).toBe(0x86);
    expect(pic.isr).toBe(1 << 6);
    expect(pic.masterPorts.read(0, 1)).toBe(0); // back to IRR
  });

  it("reads IRR or ISR as selected by OCW3", () => {
    const { pic } = setup();
    initPc(pic);
    pulse(pic, 4);
    pulse(pic, 5);
    pic.acknowledge();
    out(pic.masterPorts, 0, 0x0a);
    expect(pic.masterPorts.read(0, 1)).toBe(0x20);
    out(pic.masterPorts, 0, 0x0b);
    expect(pic.masterPorts.read(0, 1)).toBe(0x10);
  });

  it("rotates priorities: rotate on non-specific EOI and set priority", () => {
    const { pic } = setup();
    initPc(pic);
    pulse(pic, 1);
    expect(pic.acknowledge()).toBe(0x09);
    out(pic.masterPorts, 0, 0xa0); // rotate on non-specific EOI: IR1 becomes lowest
    pulse(pic, 1);
    pulse(pic, 6);
    expect(pic.acknowledge()).toBe(0x0e); // IR2 highest now, then ... IR6 before IR1
    out(pic.masterPorts, 0, 0xc0 | 6); // set priority: IR6 lowest, IR7 highest
    out(pic.masterPorts, 0, 0x66); // specific EOI IR6
    pulse(pic, 7);
    expect(pic.acknowledge()).toBe(0x0f);
    expect(pic.isr).toBe(0x80);
  });

  it("special mask mode lets lower-priority requests through while one is in service", () => {
    const { pic } = setup();
    initPc(pic);
    pulse(pic, 3);
    pic.acknowledge();
    pulse(pic, 5);
    expect(pic.hasInterrupt()).toBe(false);
    out(pic.masterPorts, 1, 0x08); // mask IR3 (in service)
    out(pic.masterPorts, 0, 0x68); // OCW3: set special mask mode
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x0d);
    out(pic.masterPorts, 0, 0x48); // reset special mask mode
    pulse(pic, 6);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it("special fully nested mode lets a higher-priority slave request through IR2 in service", () => {
    for (const sfnm of [false, true]) {
      const { pic } = setup();
      initPc(pic, sfnm ? 0x11 : 0x01);
      pulse(pic, 12);
      expect(pic.acknowledge()).toBe(0x74);
      pulse(pic, 3); // lower than IR2 on the master: blocked either way
      expect(pic.hasInterrupt()).toBe(false);
      pulse(pic, 9);
      expect(pic.hasInterrupt()).toBe(sfnm);
      if (sfnm) expect(pic.acknowledge()).toBe(0x71);
      pulse(pic, 1); // higher than IR2: accepted either way
      expect(pic.acknowledge()).toBe(0x09);
    }
  });

  it("ICW1 needs a fresh edge and clears masks and ISR", () => {
    const { pic } = setup();
    initPc(pic);
    pic.setIrq(4, true);
    pic.acknowledge();
    out(pic.masterPorts, 1, 0xff);
    initPc(pic);
    expect(pic.isr).toBe(0);
    expect(pic.imr).toBe(0);
    expect(pic.hasInterrupt()).toBe(false); // IRQ4 is still high but edge sense was reset
    pic.setIrq(4, false);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x0c);
  });

  it("16-bit accesses reach the command and data ports in order", () => {
    const { pic } = setup();
    initPc(pic);
    out(pic.masterPorts, 1, 0x5a);
    pulse(pic, 1);
    expect(pic.masterPorts.read(0, 2)).toBe(0x5a02);
    expect(() => pic.irqLine(16)).toThrow(RangeError);
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op =
      | { k: "irq"; n: number; level: boolean }
      | { k: "out"; slave: boolean; port: number; v: number }
      | { k: "in"; slave: boolean; port: number }
      | { k: "elcr"; port: number; v: number }
      | { k: "ack" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant("irq" as const), n: fc.integer({ min: 0, max: 15 }), level: fc.boolean() }),
      fc.record({
        k: fc.constant("out" as const),
        slave: fc.boolean(),
        port: fc.integer({ min: 0, max: 1 }),
        v: fc.oneof(
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom(0x11, 0x20, 0x0c, 0x0b, 0x68, 0xa0, 0x01),
        ),
      }),
      fc.record({ k: fc.constant("in" as const), slave: fc.boolean(), port: fc.integer({ min: 0, max: 1 }) }),
      fc.record({
        k: fc.constant("elcr" as const),
        port: fc.integer({ min: 0, max: 1 }),
        v: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ k: fc.constant("ack" as const) }),
    );
    checkRoundTrip<PicPairState, Op>(() => {
      const log: unknown[] = [];
      const pic = new PicPair({ set: (l) => log.push(["intr", l]) });
      initPc(pic);
      return {
        log,
        nowNs: () => 0,
        state: () => pic.state(),
        fromState: (s) => pic.fromState(s),
        apply(o) {
          if (o.k === "irq") pic.setIrq(o.n, o.level);
          else if (o.k === "out") (o.slave ? pic.slavePorts : pic.masterPorts).write(o.port, 1, o.v);
          else if (o.k === "in") log.push((o.slave ? pic.slavePorts : pic.masterPorts).read(o.port, 1));
          else if (o.k === "elcr") pic.elcrPorts.write(o.port, 1, o.v);
          else if (pic.hasInterrupt()) log.push(pic.acknowledge());
        },
      };
    }, op);
  });
});
