import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Every instruction family the oracle generates, one fixture file each. */
export const FAMILIES = [
  "arith",
  "unary",
  "shift",
  "shiftd",
  "muldiv",
  "bittest",
  "bitscan",
  "bitcount",
  "bmi1",
  "bmi2",
  "adx",
  "swap",
  "atomic",
  "crc32",
  "bcd",
  "convert",
  "cond",
  "chain",
] as const;

/** Directory of the committed fixtures. */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

/** Directory of the oracle's sources. */
export const ORACLE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "tools", "oracle");

export const fixturePath = (family: string, dir = FIXTURE_DIR) => join(dir, `${family}.bin`);
