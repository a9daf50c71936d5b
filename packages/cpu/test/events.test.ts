// NMI, INTR priorities, the interrupt shadows, INIT and the startup IPI (SDM vol. 3, 6.7.1,
// 6.9 Table 6-2, 10.1.1 Table 10-1, 10.4.4), written from the SDM with hand-assembled code.
import { describe, expect, it } from "vitest";
import { Gpr, restore, Seg, StopReason, snapshot } from "../src/index.js";
import { createMachine, L } from "./modes.js";

const INC_RCX = [0x48, 0xff, 0xc1];
const INC_RBX = [0x48, 0xff, 0xc3];
const IRETQ = [0x48, 0xcf];
const HLT = [0xf4];

/** An INTR line the test drives. */
function line(vector: number) {
  const l = {
    pending: false,
    acks: 0,
    hasInterrupt: () => l.pending,
    acknowledge: () => {
      l.pending = false;
      l.acks++;
      return vector;
    },
  };
  return l;
}

describe("NMI", () => {
  it("is delivered as vector 2 and blocks further NMIs, even across HLT, until IRET", () => {
    const m = createMachine("long");
    m.load(L.CODE, [...INC_RCX, 0xeb, 0xfb]); // loop: inc rcx; jmp loop
    m.load(L.HANDLER, [...INC_RBX, ...HLT, ...IRETQ]);
    m.gate(2, L.HANDLER);
    expect(m.cpu.run(50)).toBe(StopReason.Budget);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0);
    m.cpu.raiseNmi();
    expect(m.cpu.nmiPending).toBe(true);
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[2]).toBe(1);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(1);
    expect(m.cpu.state.interruptibility & 8).toBe(8);
    // A second NMI while the handler runs stays pending: it does not wake this HLT.
    m.cpu.raiseNmi();
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[2]).toBe(1);
    expect(m.cpu.nmiPending).toBe(true);
    // Resume past HLT: IRETQ unblocks NMIs and the pending one is taken at once.
    m.cpu.halted = false;
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[2]).toBe(2);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(2);
    expect(m.cpu.nmiPending).toBe(false);
  });

  it("wakes HLT with RFLAGS.IF = 0 and returns after the HLT", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0xfa, ...HLT, 0xb8, 7, 0, 0, 0, ...HLT]); // cli; hlt; mov eax, 7; hlt
    m.load(L.HANDLER, IRETQ);
    m.gate(2, L.HANDLER);
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.run(50)).toBe(StopReason.Halted); // nothing wakes it
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(0);
    m.cpu.raiseNmi();
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(7);
    expect(m.cpu.eventCounts[2]).toBe(1);
  });

  it("has priority over INTR (Table 6-2: NMI 5, maskable interrupts 6)", () => {
    const intr = line(0x40);
    const m = createMachine("long", intr);
    let nmisAtAck = -1;
    const ack = intr.acknowledge;
    intr.acknowledge = () => {
      nmisAtAck = m.cpu.eventCounts[2]!;
      return ack();
    };
    m.load(L.CODE, [0xfb, 0x90, ...HLT, ...HLT]); // sti; nop; hlt; hlt
    m.load(L.HANDLER, IRETQ);
    m.load(L.HANDLER + 0x100, IRETQ);
    m.gate(2, L.HANDLER);
    m.gate(0x40, L.HANDLER + 0x100);
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    intr.pending = true;
    m.cpu.raiseNmi();
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[2]).toBe(1);
    expect(m.cpu.eventCounts[0x40]).toBe(1);
    expect(nmisAtAck).toBe(1); // the NMI was delivered before INTA
  });

  it("is held for one instruction by the MOV SS shadow", () => {
    const m = createMachine("long");
    // mov eax, ss; mov ss, eax; inc rcx; inc rcx; hlt
    m.load(L.CODE, [0x8c, 0xd0, 0x8e, 0xd0, ...INC_RCX, ...INC_RCX, ...HLT]);
    m.load(L.HANDLER, [0x48, 0x89, 0xca, ...IRETQ]); // mov rdx, rcx; iretq
    m.gate(2, L.HANDLER);
    expect(m.cpu.run(2)).toBe(StopReason.Budget);
    expect(m.cpu.state.interruptibility & 2).toBe(2);
    m.cpu.raiseNmi();
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RDX)).toBe(1); // one INC ran before the NMI
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(2);
  });

  it("is not held by the STI shadow, which holds INTR only (SDM STI)", () => {
    const intr = line(0x40);
    const m = createMachine("long", intr);
    m.load(L.CODE, [0xfb, ...INC_RCX, ...INC_RCX, ...HLT]); // sti; inc rcx; inc rcx; hlt
    m.load(L.HANDLER, [0x48, 0x89, 0xca, ...IRETQ]); // NMI: mov rdx, rcx; iretq
    m.load(L.HANDLER + 0x100, [0x48, 0x89, 0xce, ...IRETQ]); // INTR: mov rsi, rcx; iretq
    m.gate(2, L.HANDLER);
    m.gate(0x40, L.HANDLER + 0x100);
    m.cpu.state.gpr[2 * Gpr.RDX] = 99;
    expect(m.cpu.run(1)).toBe(StopReason.Budget);
    expect(m.cpu.state.interruptibility & 1).toBe(1);
    m.cpu.raiseNmi();
    intr.pending = true;
    expect(m.cpu.run(50)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RDX)).toBe(0); // NMI before the first INC
    // The NMI's delivery ended the shadow; after IRETQ (IF = 1 again) INTR is taken at once.
    expect(m.cpu.state.lo(Gpr.RSI)).toBe(0);
    expect(intr.acks).toBe(1);
  });

  it("in real mode goes through IVT entry 2, and IRET unblocks NMIs", () => {
    const m = createMachine("real");
    m.load(0x7c00, [0x41, 0xeb, 0xfd]); // loop: inc cx; jmp loop
    m.load(0x8000, [0x43, 0xcf]); // inc bx; iret
    m.write32(2 * 4, 0x00008000); // IVT[2] = 0000:8000
    m.cpu.raiseNmi();
    m.cpu.run(20);
    m.cpu.raiseNmi();
    m.cpu.run(20);
    expect(m.cpu.eventCounts[2]).toBe(2);
    expect(m.cpu.state.get16(Gpr.RBX)).toBe(2);
  });

  it("a delivery that cannot reach a handler triple-faults (shutdown)", () => {
    const m = createMachine("long");
    m.load(L.CODE, [...INC_RCX, 0xeb, 0xfb]);
    m.cpu.state.idtr.limit = 0;
    m.cpu.raiseNmi();
    expect(m.cpu.run(50)).toBe(StopReason.Shutdown);
  });

  it("the event state survives a snapshot (halted, NMI blocked, NMI pending)", () => {
    const m = createMachine("long");
    m.load(L.CODE, [...INC_RCX, 0xeb, 0xfb]);
    m.load(L.HANDLER, [...INC_RBX, ...HLT, ...IRETQ]);
    m.gate(2, L.HANDLER);
    m.cpu.raiseNmi();
    m.cpu.run(50);
    m.cpu.raiseNmi();
    const snap = JSON.parse(JSON.stringify(snapshot(m.cpu.state)));
    expect(snap.events).toEqual({ activity: 1, interruptibility: 8, nmiPending: 1 });
    const n = createMachine("long");
    n.ram.bytes.set(m.ram.bytes);
    restore(snap, n.cpu.state);
    expect(n.cpu.halted).toBe(true);
    expect(n.cpu.run(50)).toBe(StopReason.Halted); // still blocked
    n.cpu.halted = false;
    n.cpu.run(50);
    expect(n.cpu.state.lo(Gpr.RBX)).toBe(2);
    // An activity state this processor does not have is a caller error.
    expect(() => restore({ ...snap, events: { activity: 2, interruptibility: 0, nmiPending: 0 } })).toThrow(
      TypeError,
    );
    // An old snapshot without the field restores as active with nothing pending.
    delete snap.events;
    expect(restore(snap).activity).toBe(0);
  });
});

describe("INIT and SIPI", () => {
  it("INIT on the bootstrap processor resets registers but keeps MSRs, XCR0, CR0.CD/NW and the TSC", () => {
    const m = createMachine("long");
    m.load(L.CODE, [...INC_RCX, 0xeb, 0xfb]);
    m.cpu.run(100);
    const c = m.cpu;
    c.msrs.pat[0] = 0x01010101;
    c.msrs.star[1] = 0x00230010;
    c.state.cr[0] = (c.state.cr[0]! | 0x40000000) >>> 0; // CD
    c.state.xcr0[0] = 1;
    const tscBefore = c.tsc();
    c.init();
    const s = c.state;
    expect(s.rip).toBe(0xfff0);
    expect(s.segSelector[Seg.CS]).toBe(0xf000);
    expect(s.segBase[2 * Seg.CS]).toBe(0xffff0000);
    expect(s.efer[0]).toBe(0);
    expect(s.cr[0]).toBe(0x40000010);
    expect(s.cr[8]).toBe(0);
    expect(s.lo(Gpr.RCX)).toBe(0);
    expect(s.lo(Gpr.RDX)).toBe(c.model.resetEdx);
    expect(c.msrs.pat[0]).toBe(0x01010101);
    expect(c.msrs.star[1]).toBe(0x00230010);
    expect(c.tsc()).toBe(tscBefore);
    expect(c.waitingForSipi).toBe(false);
    // A power-on reset, by contrast, sets CD and NW and the MSRs' reset values.
    c.reset();
    expect(s.cr[0]).toBe(0x60000010);
    expect(c.msrs.pat[0]).toBe(0x00070406);
  });

  it("INIT brings a processor out of shutdown (a triple fault)", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0x0f, 0x0b]); // ud2 with an empty IDT: triple fault
    m.cpu.state.idtr.limit = 0;
    expect(m.cpu.run(10)).toBe(StopReason.Shutdown);
    expect(m.cpu.run(10)).toBe(StopReason.Shutdown);
    m.load(0xffff0, [0xf4]); // what F000:FFF0 finds (RAM below 1 MiB stands in for the ROM here)
    m.cpu.init();
    m.cpu.state.segBase[2 * Seg.CS] = 0xf0000;
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(0xfff1);
  });

  it("INIT on an application processor waits for a SIPI, ignoring INTR and NMI until then", () => {
    const intr = line(0x40);
    const m = createMachine("long", intr);
    const c = m.cpu;
    c.msrs.apicBase[0] = c.msrs.apicBase[0]! & ~0x100; // not the BSP
    expect(c.startup(0x10)).toBe(false); // a SIPI outside wait-for-SIPI is ignored
    c.init();
    expect(c.waitingForSipi).toBe(true);
    intr.pending = true;
    c.state.flags.write(0x202);
    expect(c.run(100)).toBe(StopReason.Halted);
    expect(c.instructions).toBe(0);
    expect(intr.acks).toBe(0);
    // The trampoline at 9A000h: mov ax, 1234h; cli; hlt (16-bit real mode).
    m.load(0x9a000, [0xb8, 0x34, 0x12, 0xfa, 0xf4]);
    expect(c.startup(0x9a)).toBe(true);
    expect(c.state.segSelector[Seg.CS]).toBe(0x9a00);
    expect(c.state.segBase[2 * Seg.CS]).toBe(0x9a000);
    expect(c.state.rip).toBe(0);
    intr.pending = false;
    expect(c.run(100)).toBe(StopReason.Halted);
    expect(c.state.get16(Gpr.RAX)).toBe(0x1234);
    expect(c.state.rip).toBe(5);
    expect(c.startup(0x9a)).toBe(false);
  });
});
