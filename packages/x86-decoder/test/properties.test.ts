import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decoder } from "../src/decoder.js";
import { AttFormatter } from "../src/format/att.js";
import { IntelFormatter } from "../src/format/intel.js";
import { Instruction } from "../src/instruction.js";

const intel = new IntelFormatter();
const att = new AttFormatter();

function first(
  bitness: 16 | 32 | 64,
  data: Uint8Array,
  end: number,
): [number, number, number, string, string] {
  const ins = new Instruction();
  new Decoder(bitness, data, 0x7000, 0, end).decodeOut(ins);
  return [ins.length, ins.opcode, ins.invalidReason, intel.format(ins), att.format(ins)];
}

const bitness = fc.constantFrom(16 as const, 32 as const, 64 as const);
// Bytes biased towards prefixes and escapes, where the decoder has the most paths.
const byte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(
    0x0f,
    0x38,
    0x3a,
    0x66,
    0x67,
    0xf2,
    0xf3,
    0xf0,
    0x48,
    0x4f,
    0xc4,
    0xc5,
    0x62,
    0x8f,
    0x2e,
    0x64,
  ),
);
const code = fc.array(byte, { minLength: 1, maxLength: 24 }).map((a) => Uint8Array.from(a));

describe("decoder properties", () => {
  it("never throws, and every length is between 1 and 15 and within the bytes", () => {
    fc.assert(
      fc.property(bitness, code, (bits, data) => {
        const d = new Decoder(bits, data);
        const ins = new Instruction();
        let pos = 0;
        while (d.canDecode) {
          d.decodeOut(ins);
          expect(ins.length).toBeGreaterThanOrEqual(1);
          expect(ins.length).toBeLessThanOrEqual(15);
          pos += ins.length;
          expect(pos).toBeLessThanOrEqual(data.length);
          intel.format(ins);
          att.format(ins);
        }
        expect(pos).toBe(data.length);
      }),
      { numRuns: 3000 },
    );
  });

  it("never reads past the given end: bytes after it do not change the result", () => {
    fc.assert(
      fc.property(bitness, code, code, (bits, data, tail) => {
        const a = new Uint8Array(data.length + tail.length);
        a.set(data);
        a.set(tail, data.length);
        const b = new Uint8Array(data.length + tail.length);
        b.set(data);
        expect(first(bits, a, data.length)).toEqual(first(bits, b, data.length));
      }),
      { numRuns: 2000 },
    );
  });

  it("is deterministic and independent of the previous instruction", () => {
    fc.assert(
      fc.property(bitness, code, code, (bits, before, data) => {
        const ins = new Instruction();
        const d = new Decoder(bits, before);
        while (d.canDecode) d.decodeOut(ins); // leave state behind in the same object
        d.reset(data, 0x7000);
        d.decodeOut(ins);
        const again = first(bits, data, data.length);
        expect([ins.length, ins.opcode, ins.invalidReason, intel.format(ins), att.format(ins)]).toEqual(
          again,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
