import { Decoder } from "../src/decoder.js";
import { IntelFormatter } from "../src/format/intel.js";
import { Instruction } from "../src/instruction.js";
import { icedDecodeAll } from "./oracle.js";

/** One disagreement with iced-x86. */
export interface Mismatch {
  kind: "length" | "validity" | "mnemonic" | "text";
  hex: string;
  iced: string;
  ours: string;
}

/** Agreement counts over a stream. */
export interface Stats {
  total: number;
  length: number;
  validity: number;
  mnemonic: number;
  text: number;
  /** Disagreements explained by the allow-list (counted as agreement above). */
  allowed: number;
  mismatches: Mismatch[];
}

/** An empty Stats. */
export function newStats(): Stats {
  return { total: 0, length: 0, validity: 0, mnemonic: 0, text: 0, allowed: 0, mismatches: [] };
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes from a seed. */
export function randomBytes(seed: number, n: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

const hex = (b: Uint8Array, s: number, n: number) =>
  Array.from(b.subarray(s, s + n), (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * Decodes `bytes` with iced-x86 and with this package, instruction by instruction from the same
 * offsets, and adds the comparison to `stats`. Where the lengths differ, both walk on and the
 * comparison resumes at the next offset where both start an instruction.
 */
export function compareStream(
  bitness: 16 | 32 | 64,
  bytes: Uint8Array,
  ip: number,
  stats: Stats,
  maxMismatches = 200,
  allow?: (m: Mismatch) => boolean,
): void {
  const theirs = icedDecodeAll(bitness, bytes, ip);
  const d = new Decoder(bitness, bytes, ip);
  const ins = new Instruction();
  const f = new IntelFormatter();
  let pos = 0;
  let ti = 0;
  let tpos = 0;
  const note = (m: Mismatch) => {
    if (allow?.(m)) {
      stats.allowed++;
      return true;
    }
    if (stats.mismatches.length < maxMismatches) stats.mismatches.push(m);
    return false;
  };
  while (ti < theirs.length) {
    const t = theirs[ti]!;
    // Bring our decoder to tpos.
    while (pos < tpos) {
      d.decodeOut(ins);
      pos += ins.length;
    }
    if (pos !== tpos) {
      tpos += t.length;
      ti++;
      continue;
    }
    d.decodeOut(ins);
    pos += ins.length;
    stats.total++;
    const h = hex(bytes, tpos, Math.max(t.length, ins.length));
    const ourText = f.format(ins);
    let ok = true;
    if (
      t.length === ins.length ||
      note({ kind: "length", hex: h, iced: `${t.length} ${t.text}`, ours: `${ins.length} ${ourText}` })
    )
      stats.length++;
    else ok = false;
    if (t.invalid === ins.invalid || note({ kind: "validity", hex: h, iced: t.text, ours: ourText }))
      stats.validity++;
    else ok = false;
    if (ok) {
      if (
        t.mnemonic === ins.mnemonic ||
        note({ kind: "mnemonic", hex: h, iced: t.mnemonic, ours: ins.mnemonic })
      )
        stats.mnemonic++;
      if (t.text === ourText || note({ kind: "text", hex: h, iced: t.text, ours: ourText })) stats.text++;
    }
    tpos += t.length;
    ti++;
  }
}
