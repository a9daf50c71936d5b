// Segment checks from the SDM (vol. 3, chapter 5 "Protection"; vol. 2 MOV/POP Sreg, JMP, LAR,
// LSL, VERR/VERW): limits (expand-up, expand-down with B = 0 and 1, granularity), types,
// null selectors, RPL/DPL/CPL rules with their #GP/#SS/#NP error codes, the accessed bit,
// conforming code, LAR/LSL/VERR/VERW over every descriptor type, and the CS limit inside a block.
import { describe, expect, it } from "vitest";
import { Gpr, Seg, StopReason } from "../src/index.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";
import { le32 } from "./snippet.js";

/** A segment descriptor's two dwords. */
function descriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const hi =
    (((base >>> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000)) >>> 0;
  return [lo, hi];
}

/** Extra GDT entries (selector → descriptor) for these tests. */
const X = {
  NOT_PRESENT: 0x60,
  READ_ONLY: 0x68,
  EXEC_ONLY: 0x70,
  CODE_READ: 0x78,
  CONFORMING_READ: 0x80,
  CONFORMING_EXEC: 0x88,
  DOWN32: 0x90,
  DOWN16: 0x98,
  GRANULAR: 0xa0,
  SHORT_CODE: 0xa8,
  DATA_DPL3: 0xb0,
  LDT: 0xb8,
  UNACCESSED: 0xc0,
  CODE_NOT_PRESENT: 0xc8,
  DATA_DPL1: 0xd0,
  PROBE: 0xd8,
  BEYOND: 0xe0,
} as const;

const EXTRA: [number, [number, number]][] = [
  [X.NOT_PRESENT, descriptor(0, 0xfffff, 0x12, 0xc)],
  [X.READ_ONLY, descriptor(0, 0xfffff, 0x90, 0xc)],
  [X.EXEC_ONLY, descriptor(0, 0xfffff, 0x98, 0xc)],
  [X.CODE_READ, descriptor(0, 0xfffff, 0x9a, 0xc)],
  [X.CONFORMING_READ, descriptor(0, 0xfffff, 0x9e, 0xc)],
  [X.CONFORMING_EXEC, descriptor(0, 0xfffff, 0x9c, 0xc)],
  [X.DOWN32, descriptor(0, 0xfff, 0x96, 0x4)],
  [X.DOWN16, descriptor(0, 0xfff, 0x96, 0x0)],
  [X.GRANULAR, descriptor(0, 0, 0x92, 0xc)],
  [X.SHORT_CODE, descriptor(L.CODE, 5, 0x9a, 0x4)],
  [X.DATA_DPL3, descriptor(0, 0xfffff, 0xf2, 0xc)],
  [X.LDT, descriptor(0x5000, 0x7f, 0x82, 0)],
  [X.UNACCESSED, descriptor(0, 0xfffff, 0x92, 0xc)],
  [X.CODE_NOT_PRESENT, descriptor(0, 0xfffff, 0x1a, 0xc)],
  [X.DATA_DPL1, descriptor(0, 0xfffff, 0xb2, 0xc)],
  [X.PROBE, [0, 0]],
];

const INT3 = 0xcc;

function setDescriptor(m: TestMachine, sel: number, [lo, hi]: [number, number]): void {
  m.write32(L.GDT + (sel & ~7), lo);
  m.write32(L.GDT + (sel & ~7) + 4, hi);
}

/** A 32-bit protected-mode machine with the extra descriptors; every exception halts in a handler. */
function machine(mode: "protected" | "long" = "protected"): TestMachine {
  const m = createMachine(mode);
  for (const [sel, d] of EXTRA) setDescriptor(m, sel, d);
  m.cpu.state.gdtr.limit = X.BEYOND - 1;
  for (let v = 0; v < 32; v++) m.gate(v, L.HANDLER, { dpl: 3 });
  m.load(L.HANDLER, [0xf4]);
  return m;
}

const RING3 = new WeakSet<TestMachine>();

/** Puts the machine at CPL 3 (flat user code and data); {@link run} keeps it there. */
function toRing3(m: TestMachine): void {
  RING3.add(m);
  const s = m.cpu.state;
  const flat = (seg: number, sel: number, ar: number): void => {
    s.segSelector[seg] = sel;
    s.segAccess[seg] = ar;
    s.segBase[2 * seg] = 0;
    s.segLimit[seg] = 0xffffffff;
  };
  flat(Seg.CS, SEL.CODE32_U, 0xc0fb);
  for (const seg of [Seg.SS, Seg.DS, Seg.ES]) flat(seg, SEL.DATA_U, 0xc0f3);
}

interface Outcome {
  /** The exception raised (undefined: the code ran to its INT3). */
  vector: number | undefined;
  /** Its error code, when it has one. */
  error: number | undefined;
  /** EIP of the faulting instruction (from the exception frame). */
  eip: number | undefined;
}

/** Runs `code` + INT3 at L.CODE; reports the first exception. */
function run(m: TestMachine, code: number[], regs: Partial<Record<number, number>> = {}): Outcome {
  m.load(L.CODE, [...code, INT3]);
  m.cpu.invalidateAllBlocks(); // the bytes were written behind the block cache's back
  const s = m.cpu.state;
  if (RING3.has(m)) toRing3(m);
  s.rip = L.CODE;
  s.set64(Gpr.RSP, L.STACK, 0);
  m.cpu.halted = false;
  for (const [r, v] of Object.entries(regs)) s.set64(Number(r), v! >>> 0, 0);
  const before = Array.from(m.cpu.eventCounts.subarray(0, 32));
  expect(m.cpu.run(50)).toBe(StopReason.Halted);
  const vector = before.findIndex((n, v) => m.cpu.eventCounts[v]! > n);
  if (vector === 3 || vector < 0) return { vector: undefined, error: undefined, eip: undefined };
  const hasError = [8, 10, 11, 12, 13, 14, 17].includes(vector);
  const sp = s.lo(Gpr.RSP);
  return {
    vector,
    error: hasError ? m.read32(sp) : undefined,
    eip: m.read32(sp + (hasError ? 4 : 0)),
  };
}

const MOV_DS_AX = [0x8e, 0xd8];
const MOV_SS_AX = [0x8e, 0xd0];
const MOV_ES_AX = [0x8e, 0xc0];
const LOAD_ES_EBX = [0x26, 0x8b, 0x03]; // mov eax, es:[ebx]
const STORE_ES_EBX = [0x26, 0x89, 0x03]; // mov es:[ebx], eax
const GP = 13;
const SS = 12;
const NP = 11;

describe("data-segment loads (MOV DS/ES: SDM vol. 2, MOV 'Operation')", () => {
  it("a null selector loads into DS without a fault; using DS then raises #GP(0)", () => {
    const m = machine();
    expect(run(m, MOV_DS_AX, { [Gpr.RAX]: 3 })).toEqual({
      vector: undefined,
      error: undefined,
      eip: undefined,
    });
    expect(m.cpu.state.segSelector[Seg.DS]).toBe(3);
    const m2 = machine();
    expect(run(m2, [...MOV_DS_AX, 0x8b, 0x03], { [Gpr.RAX]: 0, [Gpr.RBX]: 0x1000 })).toMatchObject({
      vector: GP,
      error: 0,
      eip: L.CODE + 2,
    });
  });

  it("a selector beyond the GDT limit, or into an absent LDT, raises #GP(selector)", () => {
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: X.BEYOND })).toMatchObject({ vector: GP, error: X.BEYOND });
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: 0x0c | 3 })).toMatchObject({ vector: GP, error: 0x0c });
  });

  it("a system descriptor or an execute-only code segment raises #GP(selector); readable code loads", () => {
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: X.LDT })).toMatchObject({ vector: GP, error: X.LDT });
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: SEL.TSS })).toMatchObject({ vector: GP, error: SEL.TSS });
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: X.EXEC_ONLY })).toMatchObject({
      vector: GP,
      error: X.EXEC_ONLY,
    });
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: X.CODE_READ }).vector).toBeUndefined();
  });

  it("privilege: DPL < CPL or DPL < RPL raises #GP(selector); the error code drops the RPL", () => {
    const m = machine();
    toRing3(m);
    expect(run(m, MOV_DS_AX, { [Gpr.RAX]: SEL.DATA | 3 })).toMatchObject({ vector: GP, error: SEL.DATA });
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: X.DATA_DPL1 | 2 })).toMatchObject({
      vector: GP,
      error: X.DATA_DPL1,
    });
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: X.DATA_DPL1 | 1 }).vector).toBeUndefined();
    const m3 = machine();
    toRing3(m3);
    expect(run(m3, MOV_DS_AX, { [Gpr.RAX]: X.DATA_DPL3 | 3 }).vector).toBeUndefined();
  });

  it("a conforming readable code segment loads at any CPL (no privilege check)", () => {
    const m = machine();
    toRing3(m);
    expect(run(m, MOV_DS_AX, { [Gpr.RAX]: X.CONFORMING_READ | 3 }).vector).toBeUndefined();
    const m2 = machine();
    toRing3(m2);
    expect(run(m2, MOV_DS_AX, { [Gpr.RAX]: X.CONFORMING_EXEC | 3 })).toMatchObject({
      vector: GP,
      error: X.CONFORMING_EXEC,
    });
  });

  it("a not-present segment raises #NP(selector), after the type and privilege checks", () => {
    expect(run(machine(), MOV_DS_AX, { [Gpr.RAX]: X.NOT_PRESENT })).toMatchObject({
      vector: NP,
      error: X.NOT_PRESENT,
    });
    const m = machine();
    toRing3(m);
    expect(run(m, MOV_DS_AX, { [Gpr.RAX]: X.NOT_PRESENT | 3 })).toMatchObject({
      vector: GP,
      error: X.NOT_PRESENT,
    });
  });

  it("the load sets the descriptor's accessed bit; a faulting load does not", () => {
    const m = machine();
    const at = L.GDT + X.UNACCESSED + 4;
    expect(m.read32(at) & 0x100).toBe(0);
    expect(run(m, MOV_DS_AX, { [Gpr.RAX]: X.UNACCESSED }).vector).toBeUndefined();
    expect(m.read32(at) & 0x100).toBe(0x100);
    expect(m.cpu.state.segAccess[Seg.DS]! & 1).toBe(1);
    const m2 = machine();
    toRing3(m2);
    run(m2, MOV_DS_AX, { [Gpr.RAX]: X.UNACCESSED | 3 });
    expect(m2.read32(at) & 0x100).toBe(0);
  });
});

describe("selectors into the LDT (TI = 1)", () => {
  // LLDT X.LDT (base 0x5000, limit 0x7F), then MOV DS with LDT selectors.
  const LLDT_BX = [0x0f, 0x00, 0xd3];

  it("loads a data descriptor from the LDT; past the LDT limit the error code keeps TI", () => {
    const m = machine();
    m.write32(0x5008, 0x0000ffff);
    m.write32(0x500c, 0x00cf9300);
    expect(
      run(m, [...LLDT_BX, ...MOV_DS_AX], { [Gpr.RBX]: X.LDT, [Gpr.RAX]: 0x08 | 4 }).vector,
    ).toBeUndefined();
    expect(m.cpu.state.segSelector[Seg.DS]).toBe(0x0c);
    expect(run(m, MOV_DS_AX, { [Gpr.RAX]: 0x80 | 4 | 1 })).toMatchObject({ vector: GP, error: 0x84 });
  });

  it("POP DS applies the same checks as MOV DS", () => {
    // push eax; pop ds
    expect(run(machine(), [0x50, 0x1f], { [Gpr.RAX]: X.EXEC_ONLY })).toMatchObject({
      vector: GP,
      error: X.EXEC_ONLY,
    });
    expect(run(machine(), [0x50, 0x1f], { [Gpr.RAX]: X.NOT_PRESENT })).toMatchObject({
      vector: NP,
      error: X.NOT_PRESENT,
    });
  });
});

describe("stack-segment loads (MOV SS)", () => {
  it("64-bit mode: a null SS loads at CPL 0 with RPL = CPL, and #GP(0) with RPL ≠ CPL", () => {
    const m = machine("long");
    expect(run(m, MOV_SS_AX, { [Gpr.RAX]: 0 }).vector).toBeUndefined();
    expect(m.cpu.state.segSelector[Seg.SS]).toBe(0);
    expect(run(machine("long"), MOV_SS_AX, { [Gpr.RAX]: 2 })).toMatchObject({ vector: GP, error: 0 });
  });

  it("a null selector raises #GP(0) outside 64-bit mode", () => {
    expect(run(machine(), MOV_SS_AX, { [Gpr.RAX]: 0 })).toMatchObject({ vector: GP, error: 0 });
  });

  it("RPL ≠ CPL, DPL ≠ CPL, read-only data or code raise #GP(selector)", () => {
    expect(run(machine(), MOV_SS_AX, { [Gpr.RAX]: SEL.DATA | 1 })).toMatchObject({
      vector: GP,
      error: SEL.DATA,
    });
    expect(run(machine(), MOV_SS_AX, { [Gpr.RAX]: X.DATA_DPL1 })).toMatchObject({
      vector: GP,
      error: X.DATA_DPL1,
    });
    expect(run(machine(), MOV_SS_AX, { [Gpr.RAX]: X.READ_ONLY })).toMatchObject({
      vector: GP,
      error: X.READ_ONLY,
    });
    expect(run(machine(), MOV_SS_AX, { [Gpr.RAX]: X.CODE_READ })).toMatchObject({
      vector: GP,
      error: X.CODE_READ,
    });
  });

  it("a not-present stack segment raises #SS(selector)", () => {
    expect(run(machine(), MOV_SS_AX, { [Gpr.RAX]: X.NOT_PRESENT })).toMatchObject({
      vector: SS,
      error: X.NOT_PRESENT,
    });
  });

  it("a writable DPL-0 data segment loads at CPL 0", () => {
    expect(run(machine(), MOV_SS_AX, { [Gpr.RAX]: X.UNACCESSED }).vector).toBeUndefined();
  });
});

describe("limit and type checks on accesses (SDM vol. 3, 5.3 and 5.4)", () => {
  it("expand-up: the last byte of the access must be within the limit; #SS(0) through SS", () => {
    const small = (code: number[], ebx: number): Outcome => {
      const m = machine();
      return run(m, [...MOV_ES_AX, ...code], { [Gpr.RAX]: SEL.SMALL, [Gpr.RBX]: ebx });
    };
    expect(small(LOAD_ES_EBX, 12).vector).toBeUndefined();
    expect(small(LOAD_ES_EBX, 13)).toMatchObject({ vector: GP, error: 0, eip: L.CODE + 2 });
    expect(small([0x26, 0x8a, 0x03], 15).vector).toBeUndefined(); // mov al, es:[ebx]
    expect(small([0x26, 0x8a, 0x03], 16)).toMatchObject({ vector: GP, error: 0 });
    // mov ss, ax; mov eax, [ebp] with EBP past the limit
    const m = machine();
    // (ESP = 16: the #SS frame fits in the 16-byte stack segment.)
    expect(
      run(m, [...MOV_SS_AX, 0x8b, 0x45, 0x00], { [Gpr.RAX]: SEL.SMALL, [Gpr.RBP]: 14, [Gpr.RSP]: 16 }),
    ).toMatchObject({
      vector: SS,
      error: 0,
    });
  });

  it("granularity: G = 1 with limit 0 covers bytes 0 to 0xFFF", () => {
    const at = (ebx: number): Outcome =>
      run(machine(), [...MOV_ES_AX, ...LOAD_ES_EBX], { [Gpr.RAX]: X.GRANULAR, [Gpr.RBX]: ebx });
    expect(at(0xffc).vector).toBeUndefined();
    expect(at(0xffd)).toMatchObject({ vector: GP, error: 0 });
  });

  it("expand-down with B = 1: valid offsets are limit + 1 to 0xFFFFFFFF", () => {
    const at = (ebx: number): Outcome =>
      run(machine(), [...MOV_ES_AX, 0x26, 0x8a, 0x03], { [Gpr.RAX]: X.DOWN32, [Gpr.RBX]: ebx });
    expect(at(0xfff)).toMatchObject({ vector: GP, error: 0 });
    expect(at(0x1000).vector).toBeUndefined();
    expect(at(0xfffff).vector).toBeUndefined();
    expect(at(0xffffffff).vector).toBeUndefined();
  });

  it("expand-down with B = 0: the upper bound is 0xFFFF", () => {
    const at = (ebx: number, code = LOAD_ES_EBX): Outcome =>
      run(machine(), [...MOV_ES_AX, ...code], { [Gpr.RAX]: X.DOWN16, [Gpr.RBX]: ebx });
    expect(at(0x1000).vector).toBeUndefined();
    expect(at(0xfff)).toMatchObject({ vector: GP, error: 0 });
    expect(at(0xfffc).vector).toBeUndefined();
    expect(at(0xfffd)).toMatchObject({ vector: GP, error: 0 }); // the dword runs past 0xFFFF
    expect(at(0x10000, [0x26, 0x8a, 0x03])).toMatchObject({ vector: GP, error: 0 });
  });

  it("writes to read-only data or code, and reads of execute-only code, raise #GP(0)", () => {
    expect(
      run(machine(), [...MOV_ES_AX, ...STORE_ES_EBX], { [Gpr.RAX]: X.READ_ONLY, [Gpr.RBX]: 0x1000 }),
    ).toMatchObject({ vector: GP, error: 0 });
    expect(
      run(machine(), [...MOV_ES_AX, ...LOAD_ES_EBX], { [Gpr.RAX]: X.READ_ONLY, [Gpr.RBX]: 0x1000 }).vector,
    ).toBe(undefined);
    expect(run(machine(), [0x2e, 0x89, 0x03], { [Gpr.RBX]: 0x1000 })).toMatchObject({ vector: GP, error: 0 });
    expect(run(machine(), [0x2e, 0x8b, 0x03], { [Gpr.RBX]: 0x1000 }).vector).toBeUndefined();
    // Far jump to the execute-only code segment, then read through CS.
    const m = machine();
    const after = L.CODE + 7;
    expect(
      run(m, [0xea, ...le32(after), X.EXEC_ONLY, 0, 0x2e, 0x8b, 0x03], { [Gpr.RBX]: 0x1000 }),
    ).toMatchObject({ vector: GP, error: 0, eip: after });
  });
});

describe("far JMP to code segments: conforming and non-conforming (SDM vol. 3, 5.8.1)", () => {
  const jmp = (sel: number): number[] => [0xea, ...le32(L.CODE + 7), sel, 0];

  it("non-conforming: DPL must equal CPL and RPL ≤ CPL, else #GP(selector)", () => {
    const m = machine();
    toRing3(m);
    expect(run(m, jmp(SEL.CODE32 | 3))).toMatchObject({ vector: GP, error: SEL.CODE32 });
    const m2 = machine();
    expect(run(m2, jmp(SEL.CODE32_U & ~3))).toMatchObject({ vector: GP, error: SEL.CODE32_U & ~3 });
    expect(run(machine(), jmp(X.CODE_READ | 1))).toMatchObject({ vector: GP, error: X.CODE_READ });
    expect(run(machine(), jmp(X.CODE_READ)).vector).toBeUndefined();
  });

  it("conforming: DPL ≤ CPL; the CPL does not change", () => {
    const m = machine();
    toRing3(m);
    expect(run(m, jmp(X.CONFORMING_EXEC | 3)).vector).toBeUndefined();
    // The INT3 frame on the ring-0 stack: EIP, then CS as it was at the INT3.
    const sp = m.cpu.state.lo(Gpr.RSP);
    expect(m.read32(sp)).toBe(L.CODE + 8); // INT3 is a trap: the EIP after it
    expect(m.read32(sp + 4)).toBe(X.CONFORMING_EXEC | 3);
  });

  it("loading CS sets the code descriptor's accessed bit (SDM vol. 3, 3.4.5.1)", () => {
    const m = machine();
    const at = L.GDT + X.CODE_READ + 4;
    expect(m.read32(at) & 0x100).toBe(0);
    expect(run(m, jmp(X.CODE_READ)).vector).toBeUndefined();
    expect(m.read32(at) & 0x100).toBe(0x100);
    expect(run(machine(), jmp(X.CODE_READ | 1)).vector).toBe(GP);
  });

  it("a data segment as the target raises #GP(selector); a not-present code segment #NP(selector)", () => {
    expect(run(machine(), jmp(SEL.DATA))).toMatchObject({ vector: GP, error: SEL.DATA });
    expect(run(machine(), jmp(X.CODE_NOT_PRESENT))).toMatchObject({ vector: NP, error: X.CODE_NOT_PRESENT });
  });
});

describe("LAR, LSL, VERR, VERW over every descriptor type (SDM vol. 2A, LAR/LSL/VERR)", () => {
  const LAR = [0x0f, 0x02, 0xc3];
  const LSL = [0x0f, 0x03, 0xc3];
  const VERR = [0x0f, 0x00, 0xe3];
  const VERW = [0x0f, 0x00, 0xeb];
  const SENTINEL = 0x5a5a5a5a;
  const LAR_LEGACY = [1, 2, 3, 4, 5, 9, 0xb, 0xc];
  // IA-32e mode, as the SDM tables give it: LAR marks the LDT invalid; LSL accepts type 0,
  // "upper 8 bytes of a 16-byte descriptor".
  const LAR_IA32E = [9, 0xb, 0xc];
  const LSL_LEGACY = [1, 2, 3, 9, 0xb];
  const LSL_IA32E = [0, 2, 9, 0xb];

  function query(m: TestMachine, code: number[], sel: number): { zf: boolean; eax: number } {
    expect(run(m, code, { [Gpr.RAX]: SENTINEL, [Gpr.RBX]: sel }).vector).toBeUndefined();
    return { zf: (m.cpu.state.flags.read() & 0x40) !== 0, eax: m.cpu.state.lo(Gpr.RAX) };
  }

  for (const mode of ["protected", "long"] as const) {
    it(`${mode} mode: each of the 32 types (S × type), DPL 0 at CPL 0`, () => {
      for (let s = 0; s <= 1; s++) {
        for (let type = 0; type < 16; type++) {
          const access = 0x80 | (s << 4) | type;
          const d = descriptor(0x12345, 0xabcde, access, 0x4);
          const ctx = `S=${s} type=${type.toString(16)}`;
          const m = machine(mode);
          setDescriptor(m, X.PROBE, d);
          const ia32e = mode === "long";
          const lar = query(m, LAR, X.PROBE);
          const larOk = s === 1 || (ia32e ? LAR_IA32E : LAR_LEGACY).includes(type);
          expect(lar.zf, `LAR ${ctx}`).toBe(larOk);
          expect(lar.eax, `LAR value ${ctx}`).toBe(larOk ? (d[1] & 0x00f0ff00) >>> 0 : SENTINEL);
          const lsl = query(m, LSL, X.PROBE);
          const lslOk = s === 1 || (ia32e ? LSL_IA32E : LSL_LEGACY).includes(type);
          expect(lsl.zf, `LSL ${ctx}`).toBe(lslOk);
          expect(lsl.eax, `LSL value ${ctx}`).toBe(lslOk ? 0xabcde : SENTINEL);
          const readable = s === 1 && (type < 8 || (type & 2) !== 0);
          expect(query(m, VERR, X.PROBE).zf, `VERR ${ctx}`).toBe(readable);
          const writable = s === 1 && type < 8 && (type & 2) !== 0;
          expect(query(m, VERW, X.PROBE).zf, `VERW ${ctx}`).toBe(writable);
        }
      }
    });
  }

  it("visibility: DPL < CPL or DPL < RPL clears ZF, except for conforming code; null and out-of-table selectors too", () => {
    const m = machine();
    toRing3(m);
    expect(query(m, LAR, SEL.DATA | 3).zf).toBe(false);
    expect(query(m, VERR, SEL.DATA | 3).zf).toBe(false);
    expect(query(m, LAR, X.CONFORMING_READ | 3).zf).toBe(true);
    expect(query(m, VERR, X.CONFORMING_READ | 3).zf).toBe(true);
    expect(query(m, LAR, SEL.DATA_U).zf).toBe(true);
    expect(query(m, VERW, SEL.DATA_U).zf).toBe(true);
    const m0 = machine();
    expect(query(m0, LAR, SEL.DATA | 3).zf).toBe(false);
    expect(query(m0, LAR, 0).zf).toBe(false);
    expect(query(m0, LAR, X.BEYOND).zf).toBe(false);
    expect(query(m0, LSL, X.LDT).eax).toBe(0x7f);
  });

  it("LAR ignores the present bit; LSL applies the granularity", () => {
    const m = machine();
    expect(query(m, LAR, X.NOT_PRESENT).zf).toBe(true);
    expect(query(m, LSL, X.GRANULAR).eax).toBe(0xfff);
  });
});

describe("the CS limit inside a block (SDM vol. 3, 5.3)", () => {
  // CS = SHORT_CODE: base L.CODE, limit 5. At offset 0: inc eax; inc eax; mov ebx, imm32 (bytes 2-6).
  const CODE = [0x40, 0x40, 0xbb, 0x44, 0x33, 0x22, 0x11];

  function shortCs(m: TestMachine, limit: number): void {
    setDescriptor(m, X.SHORT_CODE, descriptor(L.CODE, limit, 0x9a, 0x4));
    const s = m.cpu.state;
    s.segSelector[Seg.CS] = X.SHORT_CODE;
    s.segBase[2 * Seg.CS] = L.CODE;
    s.segLimit[Seg.CS] = limit;
    s.segAccess[Seg.CS] = 0x409b;
    s.rip = 0;
  }

  it("an instruction whose last byte is past the limit raises #GP(0) at that instruction; those before ran", () => {
    const m = machine();
    m.load(L.CODE, CODE);
    shortCs(m, 5);
    m.cpu.state.set64(Gpr.RAX, 0, 0);
    m.cpu.state.set64(Gpr.RBX, 0, 0);
    expect(m.cpu.run(20)).toBe(StopReason.Halted);
    expect(m.cpu.eventCounts[GP]).toBe(1);
    const sp = m.cpu.state.lo(Gpr.RSP);
    expect(m.read32(sp)).toBe(0); // error code
    expect(m.read32(sp + 4)).toBe(2); // EIP of the MOV
    expect(m.read32(sp + 8)).toBe(X.SHORT_CODE);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(2);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0);
  });

  it("the same bytes with a limit that covers them run (the block is rebuilt for the new limit)", () => {
    const m = machine();
    m.load(L.CODE, [...CODE, INT3]);
    shortCs(m, 5);
    m.cpu.run(20);
    expect(m.cpu.eventCounts[GP]).toBe(1);
    shortCs(m, 7);
    m.cpu.halted = false;
    m.cpu.state.set64(Gpr.RSP, L.STACK, 0);
    m.cpu.run(20);
    expect(m.cpu.eventCounts[GP]).toBe(1);
    expect(m.cpu.eventCounts[3]).toBe(1);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0x11223344);
  });

  it("a jump to an instruction that crosses the limit faults at the instruction, not at the jump", () => {
    // jmp short +0 ... : at 0: jmp $+4 (EB 02); 2: nop; nop; 4: mov ebx, imm32 (4-8), limit 6.
    const m = machine();
    m.load(L.CODE, [0xeb, 0x02, 0x90, 0x90, 0xbb, 1, 2, 3, 4]);
    shortCs(m, 6);
    m.cpu.run(20);
    expect(m.cpu.eventCounts[GP]).toBe(1);
    expect(m.read32(m.cpu.state.lo(Gpr.RSP) + 4)).toBe(4);
  });

  it("a jump whose target is past the limit raises #GP(0) at the jump", () => {
    const m = machine();
    m.load(L.CODE, [0x40, 0xeb, 0x10]); // inc eax; jmp +0x10 (target 0x13 > limit)
    shortCs(m, 0x12);
    m.cpu.state.set64(Gpr.RAX, 0, 0);
    m.cpu.run(20);
    expect(m.cpu.eventCounts[GP]).toBe(1);
    expect(m.read32(m.cpu.state.lo(Gpr.RSP) + 4)).toBe(1);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(1);
  });
});
