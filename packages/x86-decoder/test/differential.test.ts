import { describe, expect, it } from "vitest";
import { allowed } from "./allow-list.js";
import { compareStream, newStats, randomBytes, type Stats } from "./compare.js";
import { readElfText } from "./elf.js";

// Random instructions per mode: moderate in CI, raise with X86_DIFF_RANDOM=300000.
const PER_MODE = Number(process.env.X86_DIFF_RANDOM ?? 20000);
// Bytes of the node binary's .text to compare, in four windows (X86_DIFF_TEXT to raise).
const TEXT_BYTES = Number(process.env.X86_DIFF_TEXT ?? 512 * 1024);

/** Minimum agreement levels reached so far (fractions); the test fails on a regression. */
const FLOORS = {
  random: { length: 0.9998, validity: 0.9998, mnemonic: 0.9997, text: 0.9997 },
  text: { length: 1, validity: 1, mnemonic: 1, text: 0.99995 },
};

function check(s: Stats, floor: { length: number; validity: number; mnemonic: number; text: number }): void {
  const r = (n: number) => n / s.total;
  expect(s.total).toBeGreaterThan(1000);
  expect(r(s.length)).toBeGreaterThanOrEqual(floor.length);
  expect(r(s.validity)).toBeGreaterThanOrEqual(floor.validity);
  expect(r(s.mnemonic)).toBeGreaterThanOrEqual(floor.mnemonic);
  expect(r(s.text)).toBeGreaterThanOrEqual(floor.text);
}

describe("differential against iced-x86", () => {
  for (const bits of [16, 32, 64] as const) {
    it(`random streams, ${bits}-bit`, () => {
      const s = newStats();
      let seed = bits * 7919;
      while (s.total < PER_MODE) compareStream(bits, randomBytes(seed++, 32768), 0x1000, s, 1000, allowed);
      check(s, FLOORS.random);
    });
  }

  it("real code: .text of the node executable", (ctx) => {
    const text = readElfText(process.execPath);
    if (text === undefined) {
      console.log(`no ELF .text at ${process.execPath}: real-code comparison skipped`);
      ctx.skip();
      return;
    }
    // Four windows spread over .text (the start, a third, two thirds, near the end).
    const s = newStats();
    const window = Math.min(TEXT_BYTES / 4, text.bytes.length / 4);
    for (const at of [0, 0.33, 0.66, 0.9]) {
      const from = Math.floor(text.bytes.length * at);
      compareStream(
        text.bitness,
        text.bytes.subarray(from, from + window),
        text.address + from,
        s,
        1000,
        allowed,
      );
    }
    check(s, FLOORS.text);
  });
});
