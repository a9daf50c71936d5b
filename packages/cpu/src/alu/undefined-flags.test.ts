import { describe, expect, it } from "vitest";
import { Rflags } from "../state/rflags.js";
import { RESULT_UNDEFINED, UNDEFINED_FLAGS, undefinedFlags } from "./undefined-flags.js";

const { CF, PF, AF, ZF, SF, OF } = Rflags;

describe("undefined-flags table", () => {
  it("cites an SDM volume for every rule", () => {
    for (const [m, rule] of Object.entries(UNDEFINED_FLAGS)) expect(rule.sdm, m).toMatch(/^vol\. 2[AB], /);
  });

  it("arithmetic leaves nothing undefined, logic leaves AF, unknown mnemonics nothing", () => {
    expect(undefinedFlags("adc", 64)).toBe(0);
    expect(undefinedFlags("xor", 8)).toBe(AF);
    expect(undefinedFlags("mov", 32)).toBe(0);
  });

  it("shifts depend on the masked count", () => {
    expect(undefinedFlags("shl", 32, 0)).toBe(0);
    expect(undefinedFlags("shl", 32, 1)).toBe(AF);
    expect(undefinedFlags("shl", 32, 2)).toBe(AF | OF);
    expect(undefinedFlags("shl", 32, 32)).toBe(0); // masked to 0
    expect(undefinedFlags("shl", 8, 8)).toBe(AF | OF | CF);
    expect(undefinedFlags("sar", 8, 8)).toBe(AF | OF); // SAR's CF stays defined
    expect(undefinedFlags("shr", 64, 65)).toBe(AF); // masked to 1
  });

  it("rotates leave only OF, above a count of 1", () => {
    expect(undefinedFlags("rcl", 8, 1)).toBe(0);
    expect(undefinedFlags("rcl", 8, 9)).toBe(OF);
    expect(undefinedFlags("ror", 64, 64)).toBe(0);
  });

  it("SHLD/SHRD counts above the operand size leave the result undefined", () => {
    expect(undefinedFlags("shld", 16, 17)).toBe(RESULT_UNDEFINED);
    expect(undefinedFlags("shld", 16, 16)).toBe(AF | OF);
    expect(undefinedFlags("shrd", 32, 33)).toBe(AF);
  });

  it("multiply, divide and scans", () => {
    expect(undefinedFlags("mul", 64)).toBe(SF | ZF | AF | PF);
    expect(undefinedFlags("idiv", 8)).toBe(CF | OF | SF | ZF | AF | PF);
    expect(undefinedFlags("bsf", 16)).toBe(CF | OF | SF | AF | PF);
    expect(undefinedFlags("tzcnt", 32)).toBe(OF | SF | PF | AF);
  });
});
