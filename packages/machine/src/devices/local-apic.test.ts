import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { ManualClock } from "./clock.js";
import { IoApic } from "./ioapic.js";
import {
  ApicError,
  ApicMsr,
  DeliveryMode,
  LocalApic,
  type LocalApicOptions,
  type LocalApicState,
  MsrAccess,
} from "./local-apic.js";
import { Lvt } from "./local-apic-registers.js";
import { PicPair } from "./pic8259.js";

const { Ok, GeneralProtection: GP } = MsrAccess;

function make(extra: Partial<LocalApicOptions> = {}) {
  const clock = new ManualClock();
  const ipis: number[][] = [];
  const eois: number[] = [];
  const signals: string[] = [];
  const apic = new LocalApic({
    clock,
    eoiBroadcast: (v) => eois.push(v),
    sendIpi: (vector, mode, logical, dest, assert, level, sh) =>
      ipis.push([vector, mode, logical ? 1 : 0, dest, assert ? 1 : 0, level ? 1 : 0, sh]),
    signals: {
      nmi: () => signals.push("nmi"),
      init: () => signals.push("init"),
      startup: (v) => signals.push(`sipi ${v}`),
      smi: () => signals.push("smi"),
    },
    ...extra,
  });
  const r = (off: number) => apic.read(off, 4);
  const w = (off: number, v: number) => apic.write(off, 4, v);
  return { clock, apic, ipis, eois, signals, r, w };
}

function enable(m: ReturnType<typeof make>) {
  m.w(0xf0, 0x1ff); // SVR: enabled, spurious 0xFF
}

function toX2apic(apic: LocalApic) {
  expect(apic.writeMsr(ApicMsr.ApicBase, 0xfee0_0000 | 0xd00, 0)).toBe(Ok);
}

describe("local APIC: registers (xAPIC)", () => {
  it("starts as after reset", () => {
    const { apic, r } = make();
    expect(apic.readMsr(ApicMsr.ApicBase)).toBe(Ok);
    expect([apic.msrLo, apic.msrHi]).toEqual([0xfee0_0900, 0]);
    expect(r(0x30)).toBe(0x0106_0014);
    expect(r(0xf0)).toBe(0xff);
    expect(r(0xe0)).toBe(0xffff_ffff);
    expect(r(0x320)).toBe(0x1_0000);
    expect(r(0x350)).toBe(0x700); // LINT0 ExtINT on the BSP
    expect(r(0x360)).toBe(0x1_0000);
    expect(make({ bsp: false }).r(0x350)).toBe(0x1_0000);
  });

  it("reads and writes ID, LDR, DFR, TPR with their writable bits", () => {
    const { r, w, apic } = make({ apicId: 3 });
    expect(r(0x20)).toBe(0x0300_0000);
    w(0x20, 0x05ff_ffff);
    expect(r(0x20)).toBe(0x0500_0000);
    expect(apic.apicId).toBe(5);
    w(0xd0, 0xffff_ffff);
    expect(r(0xd0)).toBe(0xff00_0000);
    w(0xe0, 0x0000_0000);
    expect(r(0xe0)).toBe(0x0fff_ffff);
    w(0x80, 0x1ff);
    expect(r(0x80)).toBe(0xff);
    expect(apic.read(0x22, 2)).toBe(0x0500); // upper half of ID
    expect(apic.read(0x23, 1)).toBe(5);
  });

  it("ignores writes to read-only registers and flags reserved offsets in ESR", () => {
    const { r, w } = make();
    w(0x30, 0);
    expect(r(0x30)).toBe(0x0106_0014);
    expect(r(0x40)).toBe(0);
    w(0x280, 0);
    expect(r(0x280)).toBe(ApicError.IllegalRegisterAddress);
    w(0x280, 0);
    expect(r(0x280)).toBe(0);
    expect(r(0xb0)).toBe(0); // EOI is write-only
  });

  it("masks every LVT when software-disabled and keeps them masked", () => {
    const m = make();
    enable(m);
    m.w(0x320, 0x40);
    expect(m.r(0x320)).toBe(0x40);
    m.w(0xf0, 0xff);
    expect(m.r(0x320)).toBe(0x1_0040);
    expect(m.r(0x350)).toBe(0x1_0700);
    m.w(0x320, 0x41);
    expect(m.r(0x320)).toBe(0x1_0041);
  });
});

describe("local APIC: acceptance, priority, EOI", () => {
  it("delivers the highest vector above PPR and tracks ISR", () => {
    const m = make();
    enable(m);
    const { apic } = m;
    apic.deliver(0x31, DeliveryMode.Fixed, false, 0, false);
    apic.deliver(0x52, DeliveryMode.Fixed, false, 0, false);
    expect(m.r(0x200 + 0x10)).toBe(1 << 0x11); // IRR dword 1 holds 0x31
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x52);
    expect(m.r(0xa0)).toBe(0x50); // PPR = ISR class
    expect(apic.hasInterrupt()).toBe(false); // 0x31 is below 0x50
    apic.deliver(0x65, DeliveryMode.Fixed, false, 0, false);
    expect(apic.acknowledge()).toBe(0x65); // nests
    m.w(0xb0, 0);
    expect(m.r(0xa0)).toBe(0x50);
    m.w(0xb0, 0);
    expect(m.r(0xa0)).toBe(0);
    m.w(0x80, 0x30); // TPR blocks class 3
    expect(apic.hasInterrupt()).toBe(false);
    expect(m.r(0xa0)).toBe(0x30);
    m.w(0x80, 0x2f);
    expect(apic.acknowledge()).toBe(0x31);
    expect(m.eois).toEqual([]); // edge: no broadcast
  });

  it("returns the spurious vector when the interrupt went away before the acknowledge", () => {
    const m = make();
    m.w(0xf0, 0x1e7);
    m.apic.deliver(0x40, DeliveryMode.Fixed, false, 0, false);
    expect(m.apic.hasInterrupt()).toBe(true);
    m.apic.taskPriority = 0x40;
    expect(m.apic.acknowledge()).toBe(0xe7);
    expect(m.r(0x100 + 0x20)).toBe(0); // nothing in service
  });

  it("drops fixed interrupts while software-disabled and flags illegal vectors", () => {
    const m = make();
    m.apic.deliver(0x40, DeliveryMode.Fixed, false, 0, false);
    expect(m.apic.hasInterrupt()).toBe(false);
    enable(m);
    m.apic.deliver(0x05, DeliveryMode.Fixed, false, 0, false);
    m.w(0x280, 0);
    expect(m.r(0x280)).toBe(ApicError.ReceiveIllegalVector);
  });

  it("matches physical, flat and cluster logical destinations", () => {
    const m = make({ apicId: 2 });
    enable(m);
    const { apic } = m;
    expect(apic.matchesDestination(2, false)).toBe(true);
    expect(apic.matchesDestination(3, false)).toBe(false);
    expect(apic.matchesDestination(0xff, false)).toBe(true);
    m.w(0xd0, 0x0400_0000);
    expect(apic.matchesDestination(0x04, true)).toBe(true);
    expect(apic.matchesDestination(0x03, true)).toBe(false);
    m.w(0xe0, 0x0fff_ffff); // cluster model
    m.w(0xd0, 0x2100_0000); // cluster 2, member bit 0
    expect(apic.matchesDestination(0x21, true)).toBe(true);
    expect(apic.matchesDestination(0x11, true)).toBe(false);
    expect(apic.matchesDestination(0x22, true)).toBe(false);
    apic.deliver(0x44, DeliveryMode.Fixed, true, 0x11, false);
    expect(apic.hasInterrupt()).toBe(false);
  });

  it("level interrupts from the I/O APIC: remote IRR, EOI broadcast, redelivery", () => {
    const clock = new ManualClock();
    let apic!: LocalApic;
    const ioapic = new IoApic({ deliver: (...a) => apic.deliver(...a) });
    apic = new LocalApic({ clock, eoiBroadcast: (v) => ioapic.eoi(v) });
    apic.write(0xf0, 4, 0x1ff);
    ioapic.write(0, 4, 0x10 + 2 * 9);
    ioapic.write(0x10, 4, 0x8000 | 0x39); // level, active high, vector 0x39
    ioapic.setIrq(9, true);
    expect(apic.acknowledge()).toBe(0x39);
    expect(apic.read(0x180 + 0x10, 4)).toBe(1 << (0x39 - 32)); // TMR
    apic.write(0xb0, 4, 0); // EOI: broadcast; line still high -> delivered again
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x39);
    ioapic.setIrq(9, false);
    apic.write(0xb0, 4, 0);
    expect(apic.hasInterrupt()).toBe(false);
    // With EOI-broadcast suppression the I/O APIC keeps Remote IRR.
    apic.write(0xf0, 4, 0x11ff);
    ioapic.setIrq(9, true);
    expect(apic.acknowledge()).toBe(0x39);
    apic.write(0xb0, 4, 0);
    ioapic.write(0, 4, 0x10 + 2 * 9);
    expect(ioapic.read(0x10, 4) & 0x4000).toBe(0x4000);
  });
});

describe("local APIC: MSI", () => {
  it("decodes the message address and data", () => {
    const m = make({ apicId: 3 });
    enable(m);
    expect(m.apic.deliverMsi(0xfee0_3000, 0x0045)).toBe(true); // physical 3, fixed, vector 0x45
    expect(m.apic.acknowledge()).toBe(0x45);
    m.w(0xb0, 0);
    expect(m.apic.deliverMsi(0xfee0_4000, 0x0046)).toBe(true); // physical 4: not for us
    expect(m.apic.hasInterrupt()).toBe(false);
    m.w(0xd0, 0x0100_0000); // logical flat, bit 0
    expect(m.apic.deliverMsi(0xfee0_100c, 0x8047)).toBe(true); // RH + logical dest 1, level
    expect(m.apic.acknowledge()).toBe(0x47);
    expect(m.r(0x180 + 0x20) & (1 << 7)).not.toBe(0); // TMR: level
    expect(m.apic.deliverMsi(0xfee0_3000, 0x0400)).toBe(true); // NMI
    expect(m.signals).toEqual(["nmi"]);
    expect(m.apic.deliverMsi(0xfed0_0000, 0x45)).toBe(false);
  });
});

describe("local APIC: IPIs", () => {
  it("loops self IPIs back and sends the rest to the bus", () => {
    const m = make({ apicId: 1 });
    enable(m);
    m.w(0x300, (1 << 18) | 0x41); // self
    expect(m.apic.acknowledge()).toBe(0x41);
    m.w(0xb0, 0);
    m.w(0x310, 0x0100_0000); // dest 1 = me
    m.w(0x300, 0x42);
    expect(m.ipis).toEqual([]);
    expect(m.apic.acknowledge()).toBe(0x42);
    m.w(0xb0, 0);
    m.w(0x310, 0x0200_0000);
    m.w(0x300, 0x43);
    expect(m.ipis).toEqual([[0x43, 0, 0, 2, 0, 0, 0]]);
    expect(m.apic.hasInterrupt()).toBe(false);
    m.w(0x300, (2 << 18) | 0x44); // all including self
    expect(m.apic.acknowledge()).toBe(0x44);
    m.w(0x300, (3 << 18) | 0x4500 | 0x4000); // all excluding self, INIT assert
    expect(m.ipis.at(-1)).toEqual([0, 5, 0, 2, 1, 0, 3]);
    m.w(0x300, (3 << 18) | 0x608); // SIPI to others
    expect(m.ipis.at(-1)).toEqual([8, 6, 0, 2, 0, 0, 3]);
    m.w(0x300, (1 << 18) | 0x400); // NMI to self
    expect(m.signals).toEqual(["nmi"]);
    expect(m.r(0x300) & 0x1000).toBe(0); // delivery status idle
  });

  it("flags illegal vectors and lowest-priority IPIs, ignores INIT de-assert", () => {
    const m = make();
    enable(m);
    m.w(0x300, (1 << 18) | 0x0f);
    m.w(0x300, (3 << 18) | 0x140);
    m.w(0x300, (3 << 18) | 0x8500); // INIT level de-assert
    expect(m.ipis).toEqual([]);
    m.w(0x280, 0);
    expect(m.r(0x280)).toBe(ApicError.SendIllegalVector | ApicError.RedirectableIpi);
  });

  it("raises the error LVT on an error", () => {
    const m = make();
    enable(m);
    m.w(0x370, 0xfe);
    m.w(0x300, (1 << 18) | 0x01);
    expect(m.apic.acknowledge()).toBe(0xfe);
  });
});

describe("local APIC: timer", () => {
  it("one-shot: counts down at bus/divide and fires once", () => {
    const m = make();
    enable(m);
    m.w(0x3e0, 0x3); // divide by 16
    m.w(0x320, 0x30);
    m.w(0x380, 100);
    expect(m.apic.nextDeadlineNs()).toBe(1600);
    m.clock.advance(160);
    expect(m.r(0x390)).toBe(90);
    m.clock.advance(1439);
    m.apic.poll();
    expect(m.apic.hasInterrupt()).toBe(false);
    expect(m.r(0x390)).toBe(1);
    m.clock.advance(1);
    expect(m.r(0x390)).toBe(0);
    m.apic.poll();
    expect(m.apic.acknowledge()).toBe(0x30);
    expect(m.apic.nextDeadlineNs()).toBe(Number.POSITIVE_INFINITY);
  });

  it("periodic: reloads, coalesces missed periods; the divider code maps as the SDM says", () => {
    const m = make();
    enable(m);
    m.w(0x3e0, 0xb); // divide by 1
    m.w(0x320, 0x2_0031);
    m.w(0x380, 10);
    m.clock.advance(10);
    expect(m.r(0x390)).toBe(10);
    m.apic.poll();
    expect(m.apic.acknowledge()).toBe(0x31);
    m.w(0xb0, 0);
    m.clock.advance(35);
    m.apic.poll();
    expect(m.apic.acknowledge()).toBe(0x31);
    expect(m.apic.hasInterrupt()).toBe(false);
    expect(m.apic.nextDeadlineNs()).toBe(50);
    expect(m.r(0x390)).toBe(5);
    for (const [code, div] of [
      [0, 2],
      [1, 4],
      [2, 8],
      [3, 16],
      [8, 32],
      [9, 64],
      [10, 128],
      [11, 1],
    ] as const) {
      const t = make();
      t.w(0x3e0, code);
      t.w(0x380, 1000);
      t.clock.advance(div * 10);
      expect(t.r(0x390)).toBe(990);
    }
  });

  it("keeps the count across a divider change; a mode change disarms; masked timers count silently", () => {
    const m = make();
    enable(m);
    m.w(0x3e0, 0xb);
    m.w(0x320, 0x1_0032);
    m.w(0x380, 100);
    m.clock.advance(40);
    m.w(0x3e0, 0x0); // divide by 2 from now
    expect(m.r(0x390)).toBe(60);
    expect(m.apic.nextDeadlineNs()).toBe(40 + 120);
    m.clock.advance(120);
    m.apic.poll();
    expect(m.apic.hasInterrupt()).toBe(false); // masked
    m.w(0x380, 100);
    m.w(0x320, 0x4_0032); // TSC-deadline mode: disarmed, TMICT cleared
    expect(m.r(0x380)).toBe(0);
    expect(m.apic.nextDeadlineNs()).toBe(Number.POSITIVE_INFINITY);
  });

  it("one-shot <-> periodic keeps TMICT and the count (kvm-unit-tests' apic change-mode sequence)", () => {
    const m = make();
    enable(m);
    m.w(0x3e0, 0xb);
    const tmict = 1000;
    const mode = (bits: number) => m.w(0x320, (m.r(0x320) & ~0x6_0000) | bits);
    m.w(0x380, tmict);
    mode(0x2_0000);
    expect(m.r(0x380)).toBe(tmict); // TMICT not reset
    mode(0);
    m.w(0x380, tmict);
    expect(m.r(0x390)).toBe(tmict);
    m.clock.advance(tmict);
    expect(m.r(0x390)).toBe(0); // one-shot ran out
    m.w(0x380, tmict);
    m.clock.advance(600);
    mode(0x2_0000); // periodic from 400
    expect(m.r(0x390)).toBe(400);
    m.clock.advance(500); // wraps: reloaded
    expect(m.r(0x390)).toBe(900);
    m.clock.advance(700);
    mode(0); // one-shot from 200, not reset
    expect(m.r(0x390)).toBe(200);
    m.clock.advance(200);
    expect(m.r(0x390)).toBe(0);
    mode(0x2_0000); // a one-shot that ran out stays at 0
    expect(m.r(0x390)).toBe(0);
    m.clock.advance(5000);
    expect(m.r(0x390)).toBe(0);
  });

  it("TSC deadline: arms through the MSR, fires at the TSC and clears it", () => {
    const m = make();
    enable(m);
    m.w(0x380, 100); // ignored in deadline mode? not yet in it: arms one-shot
    m.w(0x320, 0x4_0033); // deadline mode: disarms
    m.w(0x380, 100);
    expect(m.r(0x380)).toBe(0);
    expect(m.r(0x390)).toBe(0);
    expect(m.apic.writeMsr(ApicMsr.TscDeadline, 5000, 0)).toBe(Ok);
    expect(m.apic.nextDeadlineNs()).toBe(5000);
    m.clock.advance(4999);
    m.apic.poll();
    expect(m.apic.hasInterrupt()).toBe(false);
    m.clock.advance(1);
    m.apic.poll();
    expect(m.apic.acknowledge()).toBe(0x33);
    m.apic.readMsr(ApicMsr.TscDeadline);
    expect(m.apic.msrLo).toBe(0);
    m.w(0x320, 0x33); // one-shot: the MSR is ignored and reads 0
    m.apic.writeMsr(ApicMsr.TscDeadline, 9000, 0);
    m.apic.readMsr(ApicMsr.TscDeadline);
    expect(m.apic.msrLo).toBe(0);
    expect(m.apic.nextDeadlineNs()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("local APIC: IA32_APIC_BASE and x2APIC", () => {
  // States: D = disabled (EN=0,EXTD=0), X = xAPIC, X2 = x2APIC, I = invalid (EN=0,EXTD=1).
  const bits = { D: 0, X: 0x800, X2: 0xc00, I: 0x400 } as const;
  const allowed: Record<string, readonly string[]> = { D: ["D", "X"], X: ["D", "X", "X2"], X2: ["D", "X2"] };
  for (const from of ["D", "X", "X2"] as const) {
    for (const to of ["D", "X", "X2", "I"] as const) {
      it(`${from} -> ${to} is ${allowed[from]!.includes(to) ? "allowed" : "#GP"}`, () => {
        const { apic } = make();
        if (from === "D") expect(apic.writeMsr(0x1b, 0xfee0_0100, 0)).toBe(Ok);
        if (from === "X2") toX2apic(apic);
        const result = apic.writeMsr(0x1b, 0xfee0_0100 | bits[to], 0);
        expect(result).toBe(allowed[from]!.includes(to) ? Ok : GP);
        apic.readMsr(0x1b);
        expect(apic.msrLo).toBe((0xfee0_0100 | bits[result === Ok ? to : from]) >>> 0);
      });
    }
  }

  it("rejects reserved base bits and reports a moved window", () => {
    const moves: number[][] = [];
    const { apic } = make({ baseMoved: (a, b) => moves.push([a, b]) });
    expect(apic.writeMsr(0x1b, 0xfee0_0901, 0)).toBe(GP);
    expect(apic.writeMsr(0x1b, 0xfee0_0b00, 0)).toBe(GP); // bit 9
    expect(apic.writeMsr(0x1b, 0xfee0_0900, 0x0010_0000)).toBe(GP); // bit 52
    expect(make({ physAddressBits: 39 }).apic.writeMsr(0x1b, 0xfee0_0900, 0x80)).toBe(GP); // bit 39
    expect(make({ physAddressBits: 39 }).apic.writeMsr(0x1b, 0xfee0_0900, 0x40)).toBe(Ok);
    expect(apic.writeMsr(0x1b, 0xfed0_0900, 0x1)).toBe(Ok);
    expect(apic.mmioBase).toBe(0x1_fed0_0000);
    expect(moves).toEqual([[0xfee0_0000, 0x1_fed0_0000]]);
  });

  it("a global disable resets the registers; the 8259A then reaches the processor directly", () => {
    const m = make();
    enable(m);
    m.w(0x80, 0x20);
    m.apic.writeMsr(0x1b, 0xfee0_0100, 0);
    expect(m.r(0x80)).toBe(0xffff_ffff); // window unclaimed
    m.apic.writeMsr(0x1b, 0xfee0_0900, 0);
    expect(m.r(0x80)).toBe(0);
    expect(m.r(0xf0)).toBe(0xff);
  });

  it("serves x2APIC MSRs only in x2APIC mode, with the #GP rules", () => {
    const { apic } = make({ apicId: 0x1_2345 });
    expect(apic.readMsr(0x802)).toBe(GP);
    toX2apic(apic);
    expect(apic.read(0x20, 4)).toBe(0xffff_ffff); // MMIO gone
    expect(apic.readMsr(0x802)).toBe(Ok);
    expect(apic.msrLo).toBe(0x1_2345);
    expect(apic.readMsr(0x80d)).toBe(Ok);
    expect(apic.msrLo).toBe((0x1234 << 16) | (1 << 5));
    for (const gpRead of [0x800, 0x809, 0x80b, 0x80c, 0x80e, 0x831, 0x83f, 0x840, 0x8ff])
      expect(apic.readMsr(gpRead)).toBe(GP);
    for (const roWrite of [0x802, 0x803, 0x80a, 0x80d, 0x810, 0x820, 0x839])
      expect(apic.writeMsr(roWrite, 0, 0)).toBe(GP);
    expect(apic.writeMsr(0x808, 0x100, 0)).toBe(GP); // TPR reserved bits
    expect(apic.writeMsr(0x808, 0x10, 1)).toBe(GP); // bits 63:32
    expect(apic.writeMsr(0x808, 0x10, 0)).toBe(Ok);
    expect(apic.writeMsr(0x80b, 1, 0)).toBe(GP); // EOI must be 0
    expect(apic.writeMsr(0x828, 1, 0)).toBe(GP); // ESR must be 0
    expect(apic.writeMsr(0x83f, 0x100, 0)).toBe(GP); // SELF IPI reserved bits
    expect(apic.writeMsr(0x832, 0x8_0000, 0)).toBe(GP); // LVT timer reserved bit 19
    expect(apic.writeMsr(0x835, 0x1_4700, 0)).toBe(Ok); // remote IRR bit is read-only, not a fault
    expect(apic.writeMsr(0x80f, 0x1ff, 0)).toBe(Ok);
    expect(apic.writeMsr(0x83f, 0x66, 0)).toBe(Ok);
    expect(apic.acknowledge()).toBe(0x66);
    expect(apic.writeMsr(0x80b, 0, 0)).toBe(Ok);
    expect(() => apic.readMsr(0x10)).toThrow(RangeError);
  });

  it("x2APIC ICR is one 64-bit MSR with a 32-bit destination", () => {
    const m = make({ apicId: 7 });
    toX2apic(m.apic);
    m.apic.writeMsr(0x80f, 0x1ff, 0);
    expect(m.apic.writeMsr(0x830, 0x51, 0x0001_0000)).toBe(Ok); // physical, another APIC
    expect(m.ipis).toEqual([[0x51, 0, 0, 0x0001_0000, 0, 0, 0]]);
    expect(m.apic.readMsr(0x830)).toBe(Ok);
    expect([m.apic.msrLo, m.apic.msrHi]).toEqual([0x51, 0x0001_0000]);
    expect(m.apic.writeMsr(0x830, 0x52, 7)).toBe(Ok); // physical to myself
    expect(m.apic.acknowledge()).toBe(0x52);
    m.apic.writeMsr(0x80b, 0, 0);
    expect(m.apic.writeMsr(0x830, 0x2000, 0)).toBe(GP); // reserved bit 13
    expect(m.apic.writeMsr(0x830, 0x53, 0xffff_ffff)).toBe(Ok); // broadcast
    expect(m.apic.acknowledge()).toBe(0x53);
    expect(m.ipis.at(-1)).toEqual([0x53, 0, 0, 0xffff_ffff, 0, 0, 0]);
    m.apic.writeMsr(0x80b, 0, 0);
    // Logical: cluster 0, bit 7 is this APIC (LDR = 0x80); others may share the cluster.
    expect(m.apic.writeMsr(0x830, 0x800 | 0x64, 0x80)).toBe(Ok);
    expect(m.apic.acknowledge()).toBe(0x64);
    expect(m.ipis.at(-1)).toEqual([0x64, 0, 1, 0x80, 0, 0, 0]);
    expect(m.apic.matchesDestination(0x1_0080, true)).toBe(false);
  });
});

describe("local APIC: LINT0/LINT1", () => {
  it("virtual wire: the 8259A's interrupt comes through LINT0 ExtINT", () => {
    const clock = new ManualClock();
    let apic!: LocalApic;
    const pic = new PicPair({ set: (l) => apic.lint0Line.set(l) });
    apic = new LocalApic({ clock, extInt: pic });
    for (const [port, v] of [
      [0, 0x11],
      [1, 0x20],
      [1, 0x04],
      [1, 0x01],
    ] as const)
      pic.masterPorts.write(port, 1, v);
    pic.irqLine(1).set(true);
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x21);
    pic.masterPorts.write(0, 1, 0x20);
    pic.irqLine(1).set(false);
    apic.write(0xf0, 4, 0x1ff);
    apic.write(0x350, 4, 0x1_0700); // mask LINT0
    pic.irqLine(1).set(true);
    expect(apic.hasInterrupt()).toBe(false);
    apic.writeMsr(0x1b, 0xfee0_0100, 0); // globally disabled: PIC straight to the CPU
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x21);
  });

  it("LINT1 as NMI on a rising edge; fixed level LINT with remote IRR", () => {
    const m = make();
    enable(m);
    m.w(0x360, 0x400);
    m.apic.lint1Line.set(true);
    m.apic.lint1Line.set(true);
    m.apic.lint1Line.set(false);
    m.apic.lint1Line.set(true);
    expect(m.signals).toEqual(["nmi", "nmi"]);
    m.w(0x350, 0x8000 | 0x61); // LINT0 fixed, level
    m.apic.lint0Line.set(true);
    expect(m.r(0x350) & 0x4000).toBe(0x4000);
    expect(m.apic.acknowledge()).toBe(0x61);
    m.w(0xb0, 0); // EOI: remote IRR clears; still asserted: again
    expect(m.apic.acknowledge()).toBe(0x61);
    m.apic.lint0Line.set(false);
    m.w(0xb0, 0);
    expect(m.r(0x350) & 0x4000).toBe(0);
    expect(m.apic.hasInterrupt()).toBe(false);
  });

  it("thermal/perf/CMCI sources go through their LVT", () => {
    const m = make();
    enable(m);
    m.w(0x340, 0x90);
    m.apic.signalLvt(Lvt.Perf);
    m.apic.signalLvt(Lvt.Thermal); // masked
    expect(m.apic.acknowledge()).toBe(0x90);
    expect(m.apic.hasInterrupt()).toBe(false);
  });
});

describe("local APIC: snapshots", () => {
  it("state()/fromState() round-trips", () => {
    type Op =
      | { k: "w"; off: number; v: number }
      | { k: "r"; off: number }
      | { k: "msr"; idx: number; lo: number; hi: number }
      | { k: "deliver"; v: number; level: boolean }
      | { k: "ack" }
      | { k: "time"; ns: number }
      | { k: "lint"; n: 0 | 1; level: boolean };
    const offsets = [
      0x20, 0x80, 0xb0, 0xd0, 0xe0, 0xf0, 0x280, 0x300, 0x310, 0x320, 0x350, 0x360, 0x370, 0x380, 0x390,
      0x3e0, 0x100, 0x200,
    ];
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        k: fc.constant("w" as const),
        off: fc.constantFrom(...offsets),
        v: fc.oneof(fc.nat(0x3_ffff), fc.constantFrom(0x1ff, 0x2_0040, 0x4_0041, 0x700, 0xb)),
      }),
      fc.record({ k: fc.constant("r" as const), off: fc.constantFrom(...offsets) }),
      fc.record({
        k: fc.constant("msr" as const),
        idx: fc.constantFrom(0x1b, 0x6e0, 0x802, 0x808, 0x80b, 0x80f, 0x830, 0x832, 0x838, 0x83f),
        lo: fc.oneof(fc.constantFrom(0xfee0_0900, 0xfee0_0d00, 0xfee0_0100, 0x1ff, 0x40), fc.nat(0xffff)),
        hi: fc.constantFrom(0, 1),
      }),
      fc.record({
        k: fc.constant("deliver" as const),
        v: fc.integer({ min: 0, max: 255 }),
        level: fc.boolean(),
      }),
      fc.record({ k: fc.constant("ack" as const) }),
      fc.record({ k: fc.constant("time" as const), ns: fc.nat(5000) }),
      fc.record({
        k: fc.constant("lint" as const),
        n: fc.constantFrom(0 as const, 1 as const),
        level: fc.boolean(),
      }),
    );
    checkRoundTrip<LocalApicState, Op>((startNs) => {
      const clock = new ManualClock(startNs);
      const log: unknown[] = [];
      const apic = new LocalApic({
        clock,
        eoiBroadcast: (v) => log.push(["eoi", v]),
        sendIpi: (...a) => log.push(["ipi", ...a]),
        signals: { nmi: () => log.push("nmi") },
        extInt: { hasInterrupt: () => true, acknowledge: () => 0x20 },
      });
      return {
        log,
        nowNs: () => clock.nowNs(),
        apply(o) {
          if (o.k === "w") apic.write(o.off, 4, o.v);
          else if (o.k === "r") log.push(apic.read(o.off, 4));
          else if (o.k === "msr") {
            log.push(apic.writeMsr(o.idx, o.lo, o.hi), apic.readMsr(o.idx), apic.msrLo, apic.msrHi);
          } else if (o.k === "deliver") apic.deliver(o.v, DeliveryMode.Fixed, false, 0, o.level);
          else if (o.k === "ack") log.push(apic.hasInterrupt(), apic.acknowledge());
          else if (o.k === "time") {
            clock.advance(o.ns);
            if (clock.nowNs() >= apic.nextDeadlineNs()) apic.poll();
            log.push(apic.nextDeadlineNs());
          } else (o.n === 0 ? apic.lint0Line : apic.lint1Line).set(o.level);
        },
        state: () => apic.state(),
        fromState: (s) => apic.fromState(s),
      };
    }, op);
  });
});
