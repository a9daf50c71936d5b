// @turtles/x86-decoder against iced-x86 (npm, WebAssembly), side by side on the same real code:
// the .text of the running node binary (the first 4 MB). Rows: decode (a streaming decoder filling
// one reused instruction: length, opcode, prefixes, sizes; our operands are decoded on first use),
// decode + operands (every operand materialized, as iced-x86 always does), and decode + Intel
// formatting. Times are process CPU time (robust on a shared machine); the ratio is iced / ours.
// Run: cd /work/main && node --conditions=@turtles/source --import tsx bench/micro/x86-decoder.ts
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Decoder, Instruction, IntelFormatter } from "@turtles/x86-decoder";
import type { BenchRow } from "./_harness.js";

const require = createRequire(import.meta.url);
const iced = require("iced-x86") as {
  Decoder: new (
    bitness: number,
    data: Uint8Array,
    options: number,
  ) => {
    ip: bigint;
    canDecode: boolean;
    decodeOut(i: unknown): void;
    free(): void;
  };
  Instruction: new () => { length: number; free(): void };
  Formatter: new (syntax: number) => { format(i: unknown): string; free(): void };
  FormatterSyntax: { Intel: number };
};

/** The .text section of an ELF64 file (parsed from the section headers), or random bytes. */
function textOf(path: string): { bytes: Uint8Array; address: number; source: string } {
  try {
    const b = readFileSync(path);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (dv.getUint32(0, false) === 0x7f454c46 && b[4] === 2) {
      const shoff = Number(dv.getBigUint64(0x28, true));
      const size = dv.getUint16(0x3a, true);
      const count = dv.getUint16(0x3c, true);
      const strIndex = dv.getUint16(0x3e, true);
      const strOff = Number(dv.getBigUint64(shoff + strIndex * size + 0x18, true));
      for (let i = 0; i < count; i++) {
        const h = shoff + i * size;
        let name = "";
        for (let p = strOff + dv.getUint32(h, true); b[p] !== 0; p++) name += String.fromCharCode(b[p]!);
        if (name === ".text") {
          const off = Number(dv.getBigUint64(h + 0x18, true));
          const len = Math.min(Number(dv.getBigUint64(h + 0x20, true)), 4 << 20);
          return {
            bytes: b.subarray(off, off + len),
            address: Number(dv.getBigUint64(h + 0x10, true)),
            source: path,
          };
        }
      }
    }
  } catch {
    // fall through
  }
  const r = new Uint8Array(4 << 20);
  let x = 1;
  for (let i = 0; i < r.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    r[i] = x >>> 24;
  }
  return { bytes: r, address: 0x1000, source: "random bytes (no ELF .text found)" };
}

const text = textOf(process.execPath);
const bytes = text.bytes;

// Count instructions once.
let count = 0;
{
  const d = new Decoder(64, bytes, text.address);
  const ins = new Instruction();
  while (d.canDecode) {
    d.decodeOut(ins);
    count++;
  }
}

const ours = new Decoder(64, bytes, text.address);
const ourIns = new Instruction();
const ourFmt = new IntelFormatter();
const icedIns = new iced.Instruction();
const icedFmt = new iced.Formatter(iced.FormatterSyntax.Intel);
let sink = 0;

/** Like the shared harness's measure(), but with process CPU time instead of wall time. */
function measure(name: string, ops: number, fn: () => void, runs = 7, warmup = 3): BenchRow {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.cpuUsage();
    fn();
    const t = process.cpuUsage(t0);
    times.push((t.user + t.system) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { name, ops, seconds: times[Math.floor(times.length / 2)]! };
}

const rows = [
  measure(
    "decode: @turtles/x86-decoder",
    count,
    () => {
      ours.reset(bytes, text.address);
      while (ours.canDecode) {
        ours.decodeOut(ourIns);
        sink += ourIns.opcode;
      }
    },
    5,
    2,
  ),
  measure(
    "decode + operands: @turtles/x86-decoder",
    count,
    () => {
      ours.reset(bytes, text.address);
      while (ours.canDecode) {
        ours.decodeOut(ourIns);
        sink += ourIns.opCount;
      }
    },
    5,
    2,
  ),
  measure(
    "decode: iced-x86 (npm wasm)",
    count,
    () => {
      const d = new iced.Decoder(64, bytes, 0);
      d.ip = BigInt(text.address);
      while (d.canDecode) {
        d.decodeOut(icedIns);
        sink += icedIns.length;
      }
      d.free();
    },
    5,
    2,
  ),
  measure(
    "decode+format: @turtles/x86-decoder",
    count,
    () => {
      ours.reset(bytes, text.address);
      while (ours.canDecode) {
        ours.decodeOut(ourIns);
        sink += ourFmt.format(ourIns).length;
      }
    },
    3,
    1,
  ),
  measure(
    "decode+format: iced-x86 (npm wasm)",
    count,
    () => {
      const d = new iced.Decoder(64, bytes, 0);
      d.ip = BigInt(text.address);
      while (d.canDecode) {
        d.decodeOut(icedIns);
        sink += icedFmt.format(icedIns).length;
      }
      d.free();
    },
    3,
    1,
  ),
];
icedIns.free();
icedFmt.free();

console.log(
  `input: ${text.source} .text, ${(bytes.length / 1048576).toFixed(1)} MB, ${count} instructions (64-bit)`,
);
const width = Math.max(...rows.map((r) => r.name.length));
console.log(
  `${"operation".padEnd(width)}  ${"Minstr/s".padStart(9)}  ${"MB/s".padStart(8)}  ${"ns/instr".padStart(8)}`,
);
for (const r of rows) {
  const ips = r.ops / r.seconds;
  console.log(
    `${r.name.padEnd(width)}  ${(ips / 1e6).toFixed(2).padStart(9)}  ${(bytes.length / r.seconds / 1e6).toFixed(1).padStart(8)}  ${((r.seconds * 1e9) / r.ops).toFixed(1).padStart(8)}`,
  );
}
const [dOurs, oOurs, dIced, fOurs, fIced] = rows as [BenchRow, BenchRow, BenchRow, BenchRow, BenchRow];
console.log(
  `speed-up decode (iced time / ours):            ${(dIced.seconds / dOurs.seconds).toFixed(2)}x  (target >= 2x)`,
);
console.log(`speed-up decode + operands (iced time / ours): ${(dIced.seconds / oOurs.seconds).toFixed(2)}x`);
console.log(
  `speed-up decode + format (iced time / ours):   ${(fIced.seconds / fOurs.seconds).toFixed(2)}x  (target > 1x)`,
);
if (sink === 0.5) console.log(sink);
