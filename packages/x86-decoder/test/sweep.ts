import { Decoder } from "../src/decoder.js";
import { IntelFormatter } from "../src/format/intel.js";
import { Instruction } from "../src/instruction.js";
import { allowed } from "./allow-list.js";
import type { Mismatch } from "./compare.js";
import { icedDecodeChunks } from "./oracle.js";

// Every opcode of every map, with representative prefixes and ModRM/SIB bytes, in all three modes,
// each case alone in a 16-byte chunk (followed by filler bytes), compared with iced-x86.
const STRIDE = 16;
const FILL = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01];
// ModRM: every reg field with a register form and a few memory forms (SIB, disp8, disp32, RIP/abs).
const MODRMS = [
  0x00, 0x0c, 0x15, 0x1c, 0x24, 0x2d, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x84, 0x94, 0xc0, 0xc9, 0xd2, 0xdb, 0xe4,
  0xed, 0xf6, 0xff,
];

function cases(bitness: 16 | 32 | 64): number[][] {
  const out: number[][] = [];
  const legacy: number[][] = [[], [0x66], [0xf3], [0xf2], [0xf0], [0x67]];
  if (bitness === 64) legacy.push([0x48], [0x45], [0x66, 0x48]);
  for (const pfx of legacy) {
    for (const esc of [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]]) {
      for (let op = 0; op < 256; op++) {
        if (esc.length === 0 && (op === 0x0f || op === 0xc4 || op === 0xc5 || op === 0x62 || op === 0x8f))
          continue;
        for (const m of MODRMS) out.push([...pfx, ...esc, op, m]);
      }
    }
  }
  // VEX (3-byte form): maps 1-3, every pp, L and W; R/X/B clear (inverted) and vvvv = 1111b.
  for (let map = 1; map <= 3; map++) {
    for (let ppLW = 0; ppLW < 16; ppLW++) {
      const pp = ppLW & 3;
      const l = (ppLW >> 2) & 1;
      const w = ppLW >> 3;
      for (let op = 0; op < 256; op++) {
        for (const m of [0x00, 0x54, 0xc1, 0xd9, 0xe2]) {
          out.push([0xc4, 0xe0 | map, (w << 7) | 0x78 | (l << 2) | pp, op, m]);
          if (ppLW === 1 || ppLW === 5) out.push([0xc4, 0xe0 | map, (w << 7) | 0x40 | (l << 2) | pp, op, m]);
        }
      }
    }
  }
  return out;
}

/** EVEX cases: maps 1-3, 5, 6; every pp, W and vector length; plain (no mask, no broadcast). */
export function evexCases(): number[][] {
  const out: number[][] = [];
  for (const map of [1, 2, 3, 5, 6]) {
    for (let ppW = 0; ppW < 8; ppW++) {
      const pp = ppW & 3;
      const w = ppW >> 2;
      for (const ll of [0, 1, 2]) {
        for (let op = 0; op < 256; op++) {
          for (const m of [0x00, 0x54, 0xc1, 0xd9]) {
            out.push([0x62, 0xf0 | map, (w << 7) | 0x7c | pp, (ll << 5) | 0x08, op, m]);
          }
        }
      }
    }
  }
  return out;
}

/** XOP cases: maps 8, 9, 0Ah; W and L; vvvv = 1111b. */
export function xopCases(): number[][] {
  const out: number[][] = [];
  for (const map of [8, 9, 10]) {
    for (const wl of [0, 1, 2, 3]) {
      const w = wl >> 1;
      const l = wl & 1;
      for (let op = 0; op < 256; op++) {
        for (const m of [0x00, 0x54, 0xc1, 0xd9])
          out.push([0x8f, 0xe0 | map, (w << 7) | 0x78 | (l << 2), op, m]);
      }
    }
  }
  return out;
}

export function sweep(
  bitness: 16 | 32 | 64,
  evex: boolean | "xop" = false,
): { total: number; agreed: number; mismatches: Mismatch[] } {
  const list = evex === "xop" ? xopCases() : evex ? evexCases() : cases(bitness);
  const bytes = new Uint8Array(list.length * STRIDE);
  list.forEach((c, i) => {
    for (let j = 0; j < STRIDE; j++) bytes[i * STRIDE + j] = j < c.length ? c[j]! : FILL[j]!;
  });
  const theirs = icedDecodeChunks(bitness, bytes, STRIDE, 0x10000);
  const d = new Decoder(bitness, bytes);
  const ins = new Instruction();
  const f = new IntelFormatter();
  const mismatches: Mismatch[] = [];
  let agreed = 0;
  theirs.forEach((t, i) => {
    d.position = i * STRIDE;
    d.ip = 0x10000 + i * STRIDE;
    d.decodeOut(ins);
    const text = f.format(ins);
    const hex = Array.from(bytes.subarray(i * STRIDE, i * STRIDE + Math.max(1, t.length)), (x) =>
      x.toString(16).padStart(2, "0"),
    ).join("");
    let m: Mismatch | undefined;
    if (t.length !== ins.length)
      m = { kind: "length", hex, iced: `${t.length} ${t.text}`, ours: `${ins.length} ${text}` };
    else if (t.invalid !== ins.invalid) m = { kind: "validity", hex, iced: t.text, ours: text };
    else if (t.mnemonic !== ins.mnemonic) m = { kind: "mnemonic", hex, iced: t.mnemonic, ours: ins.mnemonic };
    else if (t.text !== text) m = { kind: "text", hex, iced: t.text, ours: text };
    if (m === undefined || allowed(m)) agreed++;
    else mismatches.push(m);
  });
  return { total: theirs.length, agreed, mismatches };
}
