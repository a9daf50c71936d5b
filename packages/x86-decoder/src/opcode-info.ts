import { MNEMONICS } from "./generated/opcodes.js";
import { ENTRY_MNEMONIC } from "./generated/tables.js";

/**
 * The mnemonic (lower case, iced-x86's name) of an {@link Opcode} value, without decoding
 * anything: for building dispatch tables indexed by opcode. "invalid" for 0 or an unknown value.
 */
export function opcodeMnemonic(opcode: number): string {
  return MNEMONICS[ENTRY_MNEMONIC[opcode] ?? 0] ?? "invalid";
}
