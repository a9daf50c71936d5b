import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ManualClock } from "./clock.js";
import { Uart16550, type Uart16550State } from "./uart16550.js";

const RBR = 0;
const IER = 1;
const IIR = 2;
const FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

function setup() {
  const clock = new ManualClock();
  const sent: number[] = [];
  let irq = false;
  const uart = new Uart16550({ clock, irq: { set: (l) => (irq = l) }, sink: (b) => sent.push(b) });
  const w = (o: number, v: number) => uart.ports.write(o, 1, v);
  const r = (o: number) => uart.ports.read(o, 1);
  return { clock, uart, sent, w, r, irq: () => irq };
}

describe("Uart16550", () => {
  it("reaches the divisor latch only with DLAB set", () => {
    const { uart, w, r, sent } = setup();
    w(LCR, 0x83);
    w(0, 0x01); // DLL
    w(1, 0x02); // DLM
    expect(r(0)).toBe(0x01);
    expect(r(1)).toBe(0x02);
    expect(uart.divisor).toBe(0x0201);
    expect(sent).toEqual([]);
    w(LCR, 0x03);
    expect(r(IER)).toBe(0);
    w(SCR, 0x5a);
    expect(r(SCR)).toBe(0x5a);
    expect(r(LCR)).toBe(0x03);
  });

  it("sends THR writes to the sink with THRE and TEMT set", () => {
    const { w, r, sent } = setup();
    for (const c of "hi\n") w(0, c.charCodeAt(0));
    expect(String.fromCharCode(...sent)).toBe("hi\n");
    expect(r(LSR)).toBe(0x60);
  });

  it("raises THRE when ETBEI is enabled with THR empty; IIR read clears it, a THR write re-raises it", () => {
    const s = setup();
    expect(s.r(IIR)).toBe(0x01);
    s.w(IER, 0x02);
    expect(s.irq()).toBe(true);
    expect(s.r(IIR)).toBe(0x02);
    expect(s.irq()).toBe(false);
    expect(s.r(IIR)).toBe(0x01);
    s.w(0, 0x41);
    expect(s.irq()).toBe(true);
    s.w(IER, 0x00);
    expect(s.irq()).toBe(false);
  });

  it("reports interrupts in IIR priority order: RLS, RDA, THRE, MS", () => {
    const s = setup();
    s.uart.receive([1, 2]); // no FIFO: the second byte overruns
    s.uart.setModemLines({ cts: false, dsr: true, ri: false, dcd: true });
    s.w(IER, 0x0f);
    expect(s.r(IIR)).toBe(0x06);
    expect(s.r(LSR) & 0x03).toBe(0x03); // OE and DR; reading LSR clears OE
    expect(s.r(IIR)).toBe(0x04);
    expect(s.r(RBR)).toBe(1);
    expect(s.r(IIR)).toBe(0x02);
    expect(s.r(IIR)).toBe(0x00);
    expect(s.r(MSR)).toBe(0xa1); // DCD, DSR, delta CTS
    expect(s.r(IIR)).toBe(0x01);
    expect(s.irq()).toBe(false);
  });

  it("FIFO mode: trigger level, character timeout after four character times, FIFO bits in IIR", () => {
    const s = setup();
    s.w(LCR, 0x83);
    s.w(0, 1); // 115200 baud: 10 bits per 8N1 character = 86,806 ns
    s.w(LCR, 0x03);
    s.w(FCR, 0x81); // FIFO on, trigger 8
    s.w(IER, 0x01);
    expect(s.uart.receive([1, 2, 3, 4, 5, 6, 7])).toBe(7);
    expect(s.r(IIR)).toBe(0xc1);
    const due = s.uart.nextDeadlineNs();
    expect(due).toBe(4 * Math.ceil((10 * 16 * 1e9) / 1_843_200));
    s.clock.set(due - 1);
    s.uart.poll();
    expect(s.irq()).toBe(false);
    s.clock.set(due);
    s.uart.poll();
    expect(s.irq()).toBe(true);
    expect(s.r(IIR)).toBe(0xcc);
    expect(s.r(RBR)).toBe(1); // reading restarts the timeout
    expect(s.irq()).toBe(false);
    s.uart.receive([8, 9]);
    expect(s.r(IIR)).toBe(0xc4); // 8 bytes: at the trigger level
    expect(s.uart.rxFree).toBe(8);
    s.w(FCR, 0x83); // clear the receiver FIFO
    expect(s.r(LSR) & 1).toBe(0);
    expect(s.irq()).toBe(false);
    expect(s.uart.receive(new Array(20).fill(0x55))).toBe(16);
    expect(s.r(LSR) & 0x02).toBe(0x02);
  });

  it("loopback: THR goes to RBR, not the sink; MCR drives MSR", () => {
    const s = setup();
    s.w(MCR, 0x10);
    s.r(MSR);
    s.w(0, 0x33);
    expect(s.sent).toEqual([]);
    expect(s.r(LSR) & 1).toBe(1);
    expect(s.r(RBR)).toBe(0x33);
    s.w(MCR, 0x10 | 0x0f);
    expect(s.r(MSR)).toBe(0xf0 | 0x0b); // all lines up; deltas for CTS, DSR, DCD (RI only on trailing edge)
    s.w(MCR, 0x10);
    expect(s.r(MSR)).toBe(0x0f);
    expect(s.uart.receive([1])).toBe(0); // the line is disconnected in loopback
  });

  it("gates the interrupt with MCR.OUT2 when asked to, as PC boards do", () => {
    let irq = false;
    const uart = new Uart16550({
      clock: new ManualClock(),
      irq: { set: (l) => (irq = l) },
      irqNeedsOut2: true,
    });
    uart.ports.write(IER, 1, 0x02);
    expect(irq).toBe(false);
    expect(uart.ports.read(IIR, 1)).toBe(0x02); // the interrupt is pending, only the pin is gated
    uart.ports.write(IER, 1, 0x00);
    uart.ports.write(IER, 1, 0x02);
    uart.ports.write(MCR, 1, 0x08);
    expect(irq).toBe(true);
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op =
      | { k: "w"; o: number; v: number }
      | { k: "r"; o: number }
      | { k: "rx"; bytes: number[] }
      | { k: "t"; ns: number }
      | { k: "modem"; v: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        k: fc.constant("w" as const),
        o: fc.integer({ min: 0, max: 7 }),
        v: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ k: fc.constant("r" as const), o: fc.integer({ min: 0, max: 7 }) }),
      fc.record({
        k: fc.constant("rx" as const),
        bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }),
      }),
      fc.record({ k: fc.constant("t" as const), ns: fc.integer({ min: 0, max: 5_000_000 }) }),
      fc.record({ k: fc.constant("modem" as const), v: fc.integer({ min: 0, max: 15 }) }),
    );
    checkRoundTrip<Uart16550State, Op>((start) => {
      const clock = new ManualClock(start);
      const log: unknown[] = [];
      const uart = new Uart16550({
        clock,
        irq: { set: (l) => log.push(["irq", l]) },
        sink: (b) => log.push(["tx", b]),
      });
      return {
        log,
        nowNs: () => clock.nowNs(),
        state: () => uart.state(),
        fromState: (st) => uart.fromState(st),
        apply(o) {
          if (o.k === "w") uart.ports.write(o.o, 1, o.v);
          else if (o.k === "r") log.push(uart.ports.read(o.o, 1));
          else if (o.k === "rx") log.push(uart.receive(o.bytes));
          else if (o.k === "modem")
            uart.setModemLines({
              cts: (o.v & 1) !== 0,
              dsr: (o.v & 2) !== 0,
              ri: (o.v & 4) !== 0,
              dcd: (o.v & 8) !== 0,
            });
          else {
            clock.advance(o.ns);
            uart.poll();
            log.push(uart.nextDeadlineNs());
          }
        },
      };
    }, op);
  });
});
