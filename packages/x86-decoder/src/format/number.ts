/** Number formatting shared by the formatters. */

const HEX = "0123456789ABCDEF";

/** Hex digits of an unsigned 64-bit value given as halves, at least `minDigits` long. */
export function hexDigits(lo: number, hi: number, minDigits: number, upper: boolean): string {
  let s =
    hi !== 0 ? (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0") : (lo >>> 0).toString(16);
  if (s.length < minDigits) s = s.padStart(minDigits, "0");
  return upper ? s.toUpperCase() : s;
}

/** Options for number formatting. */
export interface NumberStyle {
  /** Upper-case hex digits. */
  upperHex: boolean;
  /** "h" suffix (MASM) when true, "0x" prefix when false. */
  suffix: boolean;
  /** Values 0..9 printed in decimal. */
  smallDecimal: boolean;
}

/** Formats an unsigned value (halves) as hex in the given style. */
export function formatHex(lo: number, hi: number, minDigits: number, style: NumberStyle): string {
  if (style.smallDecimal && hi === 0 && lo >>> 0 < 10) return String(lo >>> 0);
  const d = hexDigits(lo, hi, minDigits, style.upperHex);
  if (style.suffix) {
    const c = d.charCodeAt(0);
    // A leading letter needs a 0 so the assembler reads a number.
    const letter = (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
    return `${letter ? "0" : ""}${d}h`;
  }
  return `0x${d}`;
}

/** True when the character is a hex letter (used to test the first digit). */
export function isHexLetter(c: string): boolean {
  return HEX.indexOf(c.toUpperCase()) >= 10;
}
