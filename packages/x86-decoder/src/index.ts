/**
 * `@turtles/x86-decoder`: a table-driven x86/x86-64 instruction decoder and formatter.
 * @packageDocumentation
 */
export { type DecodedInstruction, type DecodeOptions, decode } from "./decode.js";
export { Decoder } from "./decoder.js";
export { AttFormatter } from "./format/att.js";
export { IntelFormatter } from "./format/intel.js";
export type { FormatterOptions, SymbolResolver } from "./format/options.js";
export {
  CPUID_FEATURES,
  FLOW_KINDS,
  MNEMONICS,
  OPCODE_COUNT,
  OPCODE_NAMES,
  Opcode,
} from "./generated/opcodes.js";
export { Access, Instruction, InvalidReason, OperandType, Prefix, RFlag } from "./instruction.js";
export { opcodeMnemonic } from "./opcode-info.js";
export { gprSize, REGISTER_COUNT, REGISTER_NAMES, Reg } from "./registers.js";
