/**
 * Reader for the oracle's fixture files (format described in tools/oracle/oracle.c):
 * "TOF1", u32 version, u32 formCount, then per form a name, a size and 13-word cases.
 */
import { readFileSync } from "node:fs";

/** One recorded execution on the host CPU. 64-bit values are lo/hi halves. */
export interface FixtureCase {
  aLo: number;
  aHi: number;
  bLo: number;
  bHi: number;
  cLo: number;
  cHi: number;
  flagsIn: number;
  rLo: number;
  rHi: number;
  dLo: number;
  dHi: number;
  flagsOut: number;
  /** 0 none, 1 #DE. */
  fault: number;
}

/** All cases of one instruction form, e.g. `add64` or `imul3_16`. */
export interface FixtureForm {
  name: string;
  /** Operand size in bits (0 for the flag-only `setcc` form). */
  size: number;
  cases: FixtureCase[];
}

export const WORDS_PER_CASE = 13;

export function parseFixture(bytes: Uint8Array): FixtureForm[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (magic !== "TOF1") throw new Error(`bad fixture magic ${magic}`);
  if (view.getUint32(4, true) !== 1) throw new Error("unsupported fixture version");
  const formCount = view.getUint32(8, true);
  let o = 12;
  const forms: FixtureForm[] = [];
  for (let f = 0; f < formCount; f++) {
    const len = bytes[o++]!;
    const name = new TextDecoder().decode(bytes.subarray(o, o + len));
    o += len;
    const size = bytes[o++]!;
    const count = view.getUint32(o, true);
    o += 4;
    const cases: FixtureCase[] = [];
    for (let i = 0; i < count; i++) {
      const w = (k: number) => view.getUint32(o + 4 * k, true);
      cases.push({
        aLo: w(0),
        aHi: w(1),
        bLo: w(2),
        bHi: w(3),
        cLo: w(4),
        cHi: w(5),
        flagsIn: w(6),
        rLo: w(7),
        rHi: w(8),
        dLo: w(9),
        dHi: w(10),
        flagsOut: w(11),
        fault: w(12),
      });
      o += 4 * WORDS_PER_CASE;
    }
    forms.push({ name, size, cases });
  }
  if (o !== bytes.byteLength) throw new Error(`trailing bytes in fixture (${bytes.byteLength - o})`);
  return forms;
}

export function readFixture(path: string): FixtureForm[] {
  return parseFixture(readFileSync(path));
}
