import { describe, expect, it } from "vitest";
import { fanOut, type IrqLine, SharedIrqLine } from "./irq-line.js";

describe("IRQ line helpers", () => {
  it("fanOut passes each level to every line", () => {
    const seen: string[] = [];
    const line = (name: string): IrqLine => ({ set: (l) => seen.push(`${name}${l ? 1 : 0}`) });
    const both = fanOut(line("a"), line("b"));
    both.set(true);
    both.set(false);
    expect(seen).toEqual(["a1", "b1", "a0", "b0"]);
  });

  it("SharedIrqLine is a wired-OR that reports only changes", () => {
    const seen: boolean[] = [];
    const shared = new SharedIrqLine({ set: (l) => seen.push(l) });
    const a = shared.output();
    const b = shared.output();
    a.set(true);
    b.set(true);
    a.set(false);
    expect(shared.high).toBe(true);
    b.set(false);
    expect(seen).toEqual([true, false]);
  });
});
