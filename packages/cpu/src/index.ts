/**
 * `@turtles/cpu`: the x86-64 processor of the Turtles machine: the architectural register state
 * (with lazily computed flags and JSON-safe snapshots), the semantics of the general-purpose
 * integer instructions (verified against the host CPU), and {@link Cpu}, an interpreter that runs
 * real, protected, compatibility and 64-bit code with segmentation, paging and exceptions.
 * VMX non-root execution and x87/SSE come later.
 *
 * @packageDocumentation
 */

export { adcx, adox } from "./alu/adx.js";
export {
  adc,
  add,
  and,
  cmp,
  cmpxchg,
  dec,
  inc,
  neg,
  not,
  or,
  sbb,
  sub,
  test,
  xadd,
  xor,
} from "./alu/arith.js";
export { aaa, aad, aam, aas, daa, das } from "./alu/bcd.js";
export { bsf, bsr, lzcnt, popcnt, tzcnt } from "./alu/bit-count.js";
export { BitOp, bitTest } from "./alu/bit-test.js";
export { andn, bextr, blsi, blsmsk, blsr, bzhi, pdep, pext } from "./alu/bmi.js";
export { rorx, sarx, shlx, shrx } from "./alu/bmi2-shift.js";
export { byteSwap } from "./alu/byte-swap.js";
export { Cond, condition } from "./alu/conditions.js";
export { cbw, cwd } from "./alu/convert.js";
export { crc32 } from "./alu/crc32.js";
export { shld, shrd } from "./alu/double-shift.js";
export { div, idiv, imul, mul, mulx, NO_FAULT, VECTOR_DE } from "./alu/muldiv.js";
export { rcl, rcr, rol, ror } from "./alu/rotate.js";
export { sar, shl, shr } from "./alu/shift.js";
export {
  RESULT_UNDEFINED,
  UNDEFINED_FLAGS,
  type UndefinedFlagsRule,
  undefinedFlags,
} from "./alu/undefined-flags.js";
export {
  Combination,
  combineExceptions,
  DOUBLE_FAULT_TABLE,
  deliversErrorCode,
  EventType,
} from "./exceptions/events.js";
export {
  ExceptionClass,
  ExceptionKind,
  exceptionClass,
  VECTORS,
  Vector,
  type VectorInfo,
} from "./exceptions/vectors.js";
export { Cpu, type CpuOptions, type InterruptSource, type TaskPriorityRegister } from "./interp/cpu.js";
export { type CacheInfo, type CpuModel, defaultCpuModel } from "./interp/cpu-model.js";
export { Activity, Blocking } from "./interp/events.js";
export { VmExitReason } from "./interp/exit-reason.js";
export { CpuExit, type CpuIntercepts } from "./interp/intercepts.js";
export {
  FIXED_MTRRS,
  MC_BANK_COUNT,
  Msr,
  type MsrDevice,
  Msrs,
  type MsrsSnapshot,
  MTRR_VARIABLE_COUNT,
} from "./interp/msr.js";
export { STOP_REASON_NAMES, StopReason } from "./interp/stop-reason.js";
export { isImplemented } from "./interp/translate.js";
export { CpuState, DescriptorTableRegister } from "./state/cpu-state.js";
export { FLAG_OP_COUNT, FlagOp, LazyFlags } from "./state/lazy-flags.js";
export { type OperandSize, signBit, sizeMask } from "./state/operand-size.js";
export { CONTROL_REGISTERS, Gpr, Seg } from "./state/registers.js";
export { ARITH_FLAGS, RFLAGS_DEFINED, Rflags } from "./state/rflags.js";
export {
  type CpuStateSnapshot,
  type EventsSnapshot,
  type FlagsSnapshot,
  restore,
  type SegmentSnapshot,
  snapshot,
  type TableRegisterSnapshot,
} from "./state/snapshot.js";
