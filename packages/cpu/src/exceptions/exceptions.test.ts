import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Combination,
  combineExceptions,
  DOUBLE_FAULT_TABLE,
  deliversErrorCode,
  EventType,
} from "./events.js";
import { ExceptionClass, ExceptionKind, exceptionClass, VECTORS, Vector } from "./vectors.js";

const where = (pred: (v: (typeof VECTORS)[number]) => boolean) => VECTORS.filter(pred).map((v) => v.vector);

describe("vector table (SDM 6.3.1, 6.15)", () => {
  it("has one entry per vector 0-31, in order", () => {
    expect(VECTORS.map((v) => v.vector)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    for (const [name, n] of Object.entries(Vector)) expect(VECTORS[n]!.mnemonic.replace("#", "")).toBe(name);
  });

  it("reserves 15 and 22-31", () => {
    expect(where((v) => v.kind === ExceptionKind.Reserved)).toEqual([
      15, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    ]);
  });

  it("pushes error codes for #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP only", () => {
    expect(where((v) => v.errorCode)).toEqual([8, 10, 11, 12, 13, 14, 17, 21]);
  });

  it("classes: contributory #DE #TS #NP #SS #GP #CP, page-fault class #PF #VE", () => {
    expect(where((v) => v.class === ExceptionClass.Contributory)).toEqual([0, 10, 11, 12, 13, 21]);
    expect(where((v) => v.class === ExceptionClass.PageFault)).toEqual([14, 20]);
    expect(exceptionClass(32)).toBe(ExceptionClass.Benign);
    expect(exceptionClass(255)).toBe(ExceptionClass.Benign);
  });

  it("kinds: traps #BP #OF, aborts #DF #MC, #DB either", () => {
    expect(where((v) => v.kind === ExceptionKind.Trap)).toEqual([3, 4]);
    expect(where((v) => v.kind === ExceptionKind.Abort)).toEqual([8, 18]);
    expect(VECTORS[1]!.kind).toBe(ExceptionKind.FaultOrTrap);
    expect(VECTORS[2]!.kind).toBe(ExceptionKind.Interrupt);
  });
});

describe("error-code delivery", () => {
  it("only hardware exceptions in protected mode", () => {
    expect(deliversErrorCode(Vector.GP, EventType.HardwareException, true)).toBe(true);
    expect(deliversErrorCode(Vector.GP, EventType.HardwareException, false)).toBe(false);
    expect(deliversErrorCode(Vector.GP, EventType.SoftwareInterrupt, true)).toBe(false);
    expect(deliversErrorCode(Vector.GP, EventType.ExternalInterrupt, true)).toBe(false);
    expect(deliversErrorCode(Vector.UD, EventType.HardwareException, true)).toBe(false);
    expect(deliversErrorCode(Vector.BP, EventType.SoftwareException, true)).toBe(false);
    expect(deliversErrorCode(0x80, EventType.SoftwareInterrupt, true)).toBe(false);
  });
});

describe("double faults (SDM Table 6-5)", () => {
  it("the table: contributory then contributory, page fault then contributory or page fault", () => {
    expect(DOUBLE_FAULT_TABLE).toEqual([
      [Combination.Serial, Combination.Serial, Combination.Serial],
      [Combination.Serial, Combination.DoubleFault, Combination.Serial],
      [Combination.Serial, Combination.DoubleFault, Combination.DoubleFault],
    ]);
  });

  it.each([
    [Vector.PF, Vector.PF, Combination.DoubleFault],
    [Vector.PF, Vector.GP, Combination.DoubleFault],
    [Vector.GP, Vector.PF, Combination.Serial],
    [Vector.GP, Vector.NP, Combination.DoubleFault],
    [Vector.DE, Vector.TS, Combination.DoubleFault],
    [Vector.VE, Vector.PF, Combination.DoubleFault],
    [Vector.UD, Vector.GP, Combination.Serial],
    [Vector.PF, Vector.UD, Combination.Serial],
    [0x20, Vector.GP, Combination.Serial],
    [Vector.DF, Vector.GP, Combination.TripleFault],
    [Vector.DF, Vector.PF, Combination.TripleFault],
    [Vector.DF, Vector.NMI, Combination.Serial],
  ])("first %i then %i", (first, second, expected) => {
    expect(combineExceptions(first, second)).toBe(expected);
  });

  it("a double fault arises exactly when a contributory or page-fault-class first meets the table's cases", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (first, second) => {
        const c = combineExceptions(first, second);
        const f = exceptionClass(first);
        const s = exceptionClass(second);
        if (c === Combination.TripleFault) expect(first).toBe(Vector.DF);
        if (c === Combination.DoubleFault) {
          expect(f).not.toBe(ExceptionClass.Benign);
          expect(s).not.toBe(ExceptionClass.Benign);
          expect(f === ExceptionClass.Contributory && s === ExceptionClass.PageFault).toBe(false);
        }
        if (s === ExceptionClass.Benign) expect(c).toBe(Combination.Serial);
      }),
    );
  });
});
