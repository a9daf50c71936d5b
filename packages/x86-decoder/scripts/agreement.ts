/**
 * Measures agreement with iced-x86 over random streams (per mode) and over the .text of the
 * running node binary. Usage (from the repo root):
 *   node --import tsx packages/x86-decoder/scripts/agreement.ts [randomInstructionsPerMode] [textBytes]
 */

import { allowed } from "../test/allow-list.js";
import { compareStream, newStats, randomBytes, type Stats } from "../test/compare.js";
import { readElfText } from "../test/elf.js";

const perMode = Number(process.argv[2] ?? 100000);
const textLimit = Number(process.argv[3] ?? 4 * 1024 * 1024);
const showMismatches = Number(process.env.SHOW ?? 30);
// NOALLOW=1: count allow-listed differences as disagreements; ONLY=<regex>: report only mismatches
// whose bytes match (e.g. ONLY=^62 for EVEX).
const allowFn = process.env.NOALLOW === "1" ? undefined : allowed;
const only = process.env.ONLY !== undefined ? new RegExp(process.env.ONLY) : undefined;

function pct(n: number, d: number): string {
  return d === 0 ? "-" : `${((100 * n) / d).toFixed(3)}%`;
}

function report(name: string, s: Stats): void {
  console.log(
    `${name.padEnd(18)} n=${String(s.total).padStart(8)}  length ${pct(s.length, s.total)}  validity ${pct(s.validity, s.total)}  mnemonic ${pct(s.mnemonic, s.total)}  text ${pct(s.text, s.total)}  (differences: ${s.total - s.length}/${s.total - s.validity}/${s.total - s.mnemonic}/${s.total - s.text}; allow-listed ${s.allowed})`,
  );
}

const all: Stats[] = [];
for (const bits of [16, 32, 64] as const) {
  const s = newStats();
  // Random bytes give about 1 instruction per 3.5 bytes.
  let seed = bits * 1000;
  while (s.total < perMode) compareStream(bits, randomBytes(seed++, 65536), 0x1000, s, 100000, allowFn);
  report(`random ${bits}-bit`, s);
  all.push(s);
}
const text = readElfText(process.execPath);
if (text === undefined) {
  console.log("no ELF .text found at process.execPath; real-code comparison skipped");
} else {
  const s = newStats();
  const bytes = text.bytes.subarray(0, Math.min(text.bytes.length, textLimit));
  compareStream(text.bitness, bytes, text.address, s, 100000, allowFn);
  report(`node .text ${(bytes.length / 1048576).toFixed(1)}MB`, s);
  all.push(s);
}
const kinds = new Map<string, number>();
for (const s of all) for (const m of s.mismatches) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
// Group mismatches by the iced mnemonic/first bytes to find what to fix first.
const groups = new Map<string, { n: number; ex: string }>();
for (const s of all)
  for (const m of s.mismatches) {
    if (only !== undefined && !only.test(m.hex)) continue;
    const key = `${m.kind} ${m.iced.split(" ").slice(0, 2).join(" ")}`;
    const g = groups.get(key) ?? { n: 0, ex: `${m.hex} | iced: ${m.iced} | ours: ${m.ours}` };
    g.n++;
    groups.set(key, g);
  }
const top = [...groups.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, showMismatches);
for (const [k, g] of top) console.log(`${String(g.n).padStart(6)}  ${k.padEnd(30)} ${g.ex}`);
