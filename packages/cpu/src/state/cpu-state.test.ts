import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CpuState } from "./cpu-state.js";
import { FLAG_OP_COUNT, FlagOp } from "./lazy-flags.js";
import { Gpr } from "./registers.js";
import { restore, snapshot } from "./snapshot.js";

describe("register views", () => {
  it("AH/CH/DH/BH without REX, SPL/BPL/SIL/DIL with REX", () => {
    const s = new CpuState();
    s.set64(Gpr.RAX, 0x11223344, 0x55667788);
    s.set64(Gpr.RSP, 0xaabbccdd, 0);
    expect(s.get8(4, false)).toBe(0x33); // AH
    expect(s.get8(4, true)).toBe(0xdd); // SPL
    s.set8(4, false, 0xfe); // AH
    expect(s.lo(Gpr.RAX)).toBe(0x1122fe44);
    expect(s.hi(Gpr.RAX)).toBe(0x55667788);
    s.set8(4, true, 0x01); // SPL
    expect(s.lo(Gpr.RSP)).toBe(0xaabbcc01);
    s.set8(Gpr.R15, true, 0x7f);
    expect(s.get8(Gpr.R15, true)).toBe(0x7f);
  });

  it("16-bit writes merge, 32-bit writes zero-extend", () => {
    const s = new CpuState();
    s.set64(Gpr.RBX, 0xffffffff, 0xffffffff);
    s.set16(Gpr.RBX, 0x1234);
    expect(s.lo(Gpr.RBX)).toBe(0xffff1234);
    expect(s.hi(Gpr.RBX)).toBe(0xffffffff);
    s.set32(Gpr.RBX, 0x80000000);
    expect(s.get32(Gpr.RBX)).toBe(0x80000000);
    expect(s.hi(Gpr.RBX)).toBe(0);
    s.setSized(Gpr.RBX, 8, 0xab, 0, false);
    expect(s.get16(Gpr.RBX)).toBe(0xab);
  });

  it("starts in the power-up state of SDM Table 10-1", () => {
    const s = new CpuState();
    expect(s.rip).toBe(0xfff0);
    expect(s.segSelector[1]).toBe(0xf000);
    expect(s.segBase[2]).toBe(0xffff0000);
    expect(s.flags.read()).toBe(2);
    expect(s.cr[0]).toBe(0x60000010);
  });
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u32s = (n: number) => fc.array(u32, { minLength: n, maxLength: n });

/** A random state, including lazily held flags. */
const arbState = fc
  .record({
    gpr: u32s(32),
    rip: fc.integer({ min: -(2 ** 47), max: 2 ** 47 - 1 }),
    op: fc.integer({ min: 0, max: FLAG_OP_COUNT - 1 }),
    size: fc.constantFrom(8, 16, 32, 64),
    lazy: u32s(6),
    cin: fc.integer({ min: 0, max: 1 }),
    bits: u32,
    sel: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
    base: u32s(16),
    limit: u32s(8),
    access: u32s(8),
    dt: u32s(4),
    dtLimit: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 2, maxLength: 2 }),
    cr: u32s(32),
    dr: u32s(16),
    efer: u32s(2),
    xcr0: u32s(2),
  })
  .map((r) => {
    const s = new CpuState();
    s.gpr.set(r.gpr);
    s.rip = r.rip;
    const [aLo, aHi, bLo, bHi, rLo, rHi] = r.lazy as [number, number, number, number, number, number];
    s.flags.bits = r.bits;
    s.flags.set(r.op as FlagOp, r.size as 8 | 16 | 32 | 64, aLo, aHi, bLo, bHi, rLo, rHi);
    s.flags.cin = r.cin;
    s.segSelector.set(r.sel);
    s.segBase.set(r.base);
    s.segLimit.set(r.limit);
    s.segAccess.set(r.access);
    s.gdtr.baseLo = r.dt[0]!;
    s.gdtr.baseHi = r.dt[1]!;
    s.idtr.baseLo = r.dt[2]!;
    s.idtr.baseHi = r.dt[3]!;
    s.gdtr.limit = r.dtLimit[0]!;
    s.idtr.limit = r.dtLimit[1]!;
    s.cr.set(r.cr);
    s.dr.set(r.dr);
    s.efer.set(r.efer);
    s.xcr0.set(r.xcr0);
    return s;
  });

describe("snapshot/restore", () => {
  it("restore(snapshot(s)) snapshots identically, through JSON too", () => {
    fc.assert(
      fc.property(arbState, (s) => {
        const snap = snapshot(s);
        expect(snapshot(restore(snap))).toEqual(snap);
        const viaJson = JSON.parse(JSON.stringify(snap));
        expect(snapshot(restore(viaJson))).toEqual(snap);
      }),
    );
  });

  it("keeps lazy flags lazy and reads the same RFLAGS", () => {
    fc.assert(
      fc.property(arbState, (s) => {
        const t = restore(snapshot(s));
        expect(t.flags.op).toBe(s.flags.op);
        expect(t.flags.read()).toBe(s.flags.read());
      }),
    );
  });

  it("distinguishes states that differ in one register", () => {
    const s = new CpuState();
    const before = snapshot(s);
    s.dr[14] = 0x401;
    expect(snapshot(s)).not.toEqual(before);
    s.flags.set(FlagOp.Add, 8, 1, 0, 2, 0, 3, 0);
    expect(snapshot(s).flags.op).toBe(FlagOp.Add);
  });

  it("rejects malformed snapshots with a TypeError", () => {
    const snap = snapshot(new CpuState());
    expect(() => restore({ ...snap, gpr: [1, 2] })).toThrow(TypeError);
    expect(() => restore({ ...snap, flags: { ...snap.flags, op: 99 } })).toThrow(TypeError);
    expect(() => restore({ ...snap, cr: snap.cr.map(() => -1) })).toThrow(TypeError);
  });
});
