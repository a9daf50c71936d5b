import { Decoder } from "./decoder.js";
import { IntelFormatter } from "./format/intel.js";
import { Instruction } from "./instruction.js";

/** Options of {@link decode}. */
export interface DecodeOptions {
  /** 16, 32 or 64 (default 64). */
  bitness?: 16 | 32 | 64;
  /** Address of the first decoded byte (default 0). */
  ip?: number;
  /** Offset of the instruction in `bytes` (default 0). */
  offset?: number;
}

/** The plain result of {@link decode}. */
export interface DecodedInstruction {
  /** Length in bytes (bytes to skip when invalid). */
  length: number;
  /** Mnemonic, lower case ("invalid" when invalid). */
  mnemonic: string;
  /** True when the bytes are not a valid instruction. */
  invalid: boolean;
  /** Intel syntax ("(bad)" when invalid). */
  text: string;
  /** Opcode identifier ({@link Opcode} value). */
  opcode: number;
  /** Operand size in bits. */
  operandSize: number;
  /** Address size in bits. */
  addressSize: number;
}

const shared = { decoders: new Map<number, Decoder>(), ins: new Instruction(), fmt: new IntelFormatter() };

/**
 * Decodes one instruction and returns a plain object: the convenient, allocating API. Use
 * {@link Decoder} to decode many instructions without allocation.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): DecodedInstruction {
  const bitness = options.bitness ?? 64;
  let d = shared.decoders.get(bitness);
  if (d === undefined) {
    d = new Decoder(bitness, bytes);
    shared.decoders.set(bitness, d);
  }
  d.reset(bytes, options.ip ?? 0, options.offset ?? 0);
  const ins = shared.ins;
  d.decodeOut(ins);
  return {
    length: ins.length,
    mnemonic: ins.mnemonic,
    invalid: ins.invalid,
    text: shared.fmt.format(ins),
    opcode: ins.opcode,
    operandSize: ins.operandSize,
    addressSize: ins.addressSize,
  };
}
