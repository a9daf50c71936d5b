/**
 * Resolves an address to a symbol name. Called with the address as two 32-bit halves and the
 * address as a number (exact below 2^53); return undefined to print the number.
 */
export type SymbolResolver = (lo: number, hi: number, address: number) => string | undefined;

/** Formatter options (all optional). */
export interface FormatterOptions {
  /** Upper-case hex digits (default true for Intel, as iced-x86). */
  upperCaseHex?: boolean;
  /** Hex style: "suffix" = `0FFh` (Intel default), "prefix" = `0xFF` (AT&T default). */
  hexStyle?: "suffix" | "prefix";
  /** Upper-case mnemonics, registers and keywords (default false). */
  upperCase?: boolean;
  /** Print 0..9 in decimal (default true). */
  smallNumbersInDecimal?: boolean;
  /** Called for branch targets and absolute memory addresses. */
  symbolResolver?: SymbolResolver;
}

/** The options with defaults filled in. @internal */
export interface ResolvedOptions {
  upperHex: boolean;
  suffix: boolean;
  upperCase: boolean;
  smallDecimal: boolean;
  resolver: SymbolResolver | undefined;
}

/** Fills defaults. @internal */
export function resolveOptions(o: FormatterOptions, hexStyle: "suffix" | "prefix"): ResolvedOptions {
  return {
    upperHex: o.upperCaseHex ?? true,
    suffix: (o.hexStyle ?? hexStyle) === "suffix",
    upperCase: o.upperCase ?? false,
    smallDecimal: o.smallNumbersInDecimal ?? true,
    resolver: o.symbolResolver,
  };
}
