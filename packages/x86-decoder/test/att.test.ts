import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { Decoder } from "../src/decoder.js";
import { AttFormatter } from "../src/format/att.js";
import { Instruction } from "../src/instruction.js";
import { randomBytes } from "./compare.js";
import { readElfText } from "./elf.js";

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: the wasm module's types are not imported statically
const iced: any = require("iced-x86");

/** Fraction of valid instructions whose AT&T text equals iced-x86's GAS formatter. */
function attAgreement(
  bitness: 16 | 32 | 64,
  bytes: Uint8Array,
  ip: number,
): { n: number; ok: number; bad: string[] } {
  const d = new iced.Decoder(bitness, bytes, iced.DecoderOptions.None);
  d.ip = BigInt(ip);
  const f = new iced.Formatter(iced.FormatterSyntax.Gas);
  const ii = new iced.Instruction();
  const ours = new Decoder(bitness, bytes, ip);
  const ins = new Instruction();
  const att = new AttFormatter();
  const r = { n: 0, ok: 0, bad: [] as string[] };
  let pos = 0;
  let tpos = 0;
  try {
    while (d.canDecode) {
      d.decodeOut(ii);
      while (pos < tpos) {
        ours.decodeOut(ins);
        pos += ins.length;
      }
      const len = ii.length as number;
      if (pos !== tpos) {
        tpos += len;
        continue;
      }
      ours.decodeOut(ins);
      pos += ins.length;
      tpos += len;
      if (ii.isInvalid) continue;
      r.n++;
      const a = f.format(ii) as string;
      const b = att.format(ins);
      if (a === b) r.ok++;
      // iced-x86's npm build prints only the low half of a MOVABS imm64 (see the allow-list).
      else if (a.startsWith("movabs $") && b.startsWith("movabs $")) r.ok++;
      else if (r.bad.length < 10) r.bad.push(`${a} | ${b}`);
    }
  } finally {
    ii.free();
    f.free();
    d.free();
  }
  return r;
}

describe("AT&T formatter against iced-x86's GAS formatter", () => {
  it("random streams (GNU as quirks such as `(%esp,)` for a SIB without index are not copied)", () => {
    for (const bits of [16, 32, 64] as const) {
      const r = attAgreement(bits, randomBytes(bits * 101, 40000), 0x1000);
      expect(r.ok / r.n).toBeGreaterThanOrEqual(0.99);
    }
  });

  it("real code", (ctx) => {
    const text = readElfText(process.execPath);
    if (text === undefined) {
      ctx.skip();
      return;
    }
    const r = attAgreement(text.bitness, text.bytes.subarray(0, 256 * 1024), text.address);
    if (r.bad.length > 0) console.log(r.bad.join("\n"));
    expect(r.ok / r.n).toBeGreaterThanOrEqual(0.9999);
  });
});
