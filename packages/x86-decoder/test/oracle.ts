// The test oracle: iced-x86 (npm, WebAssembly). Only tests, scripts and the benchmark use it.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: the wasm module has no types we can import statically here
const iced: any = require("iced-x86");

/** iced's answer for one instruction. */
export interface OracleResult {
  length: number;
  invalid: boolean;
  mnemonic: string;
  text: string;
}

/** Decodes `bytes` sequentially with iced-x86 and returns one result per instruction. */
export function icedDecodeAll(bitness: number, bytes: Uint8Array, ip: number): OracleResult[] {
  const d = new iced.Decoder(bitness, bytes, iced.DecoderOptions.None);
  d.ip = BigInt(ip);
  const f = new iced.Formatter(iced.FormatterSyntax.Intel);
  const ins = new iced.Instruction();
  const out: OracleResult[] = [];
  const names: Record<number, string> = iced.Mnemonic;
  try {
    while (d.canDecode) {
      d.decodeOut(ins);
      const invalid = ins.isInvalid as boolean;
      out.push({
        length: ins.length,
        invalid,
        mnemonic: invalid ? "invalid" : (names[ins.mnemonic] ?? "?").toLowerCase(),
        text: invalid ? "(bad)" : f.format(ins),
      });
    }
  } finally {
    ins.free();
    f.free();
    d.free();
  }
  return out;
}

/** The iced-x86 module itself (for the benchmark). */
export const icedModule = iced;

/**
 * Decodes the first instruction of each `stride`-byte chunk of `bytes` with iced-x86 (one decoder,
 * repositioned per chunk).
 */
export function icedDecodeChunks(
  bitness: number,
  bytes: Uint8Array,
  stride: number,
  ip: number,
): OracleResult[] {
  const d = new iced.Decoder(bitness, bytes, iced.DecoderOptions.None);
  const f = new iced.Formatter(iced.FormatterSyntax.Intel);
  const ins = new iced.Instruction();
  const names: Record<number, string> = iced.Mnemonic;
  const out: OracleResult[] = [];
  try {
    for (let pos = 0; pos + stride <= bytes.length; pos += stride) {
      d.position = pos;
      d.ip = BigInt(ip + pos);
      d.decodeOut(ins);
      const invalid = ins.isInvalid as boolean;
      out.push({
        length: ins.length,
        invalid,
        mnemonic: invalid ? "invalid" : (names[ins.mnemonic] ?? "?").toLowerCase(),
        text: invalid ? "(bad)" : f.format(ins),
      });
    }
  } finally {
    ins.free();
    f.free();
    d.free();
  }
  return out;
}
