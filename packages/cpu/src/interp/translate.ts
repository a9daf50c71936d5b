/**
 * Turns one decoded `Instruction` of `@turtles/x86-decoder` into the interpreter's compact
 * {@link Insn}: operands copied into fixed fields and a handler chosen from a table indexed by
 * `Opcode` (built once from the opcode names: the mnemonic picks the family, the operands pick
 * the form).
 */
import {
  type Instruction,
  InvalidReason,
  OPCODE_COUNT,
  OPCODE_NAMES,
  OperandType,
  Prefix,
} from "@turtles/x86-decoder";
import type { OperandSize } from "../state/operand-size.js";
import { Seg } from "../state/registers.js";
import type { Cpu } from "./cpu.js";
import { NO_ERROR, V } from "./fault.js";
import {
  AluOp,
  aluMI,
  aluMR,
  aluRI,
  aluRM,
  aluRR,
  bitScan,
  bitTestOp,
  bswap,
  decReg,
  doubleShift,
  imulReg,
  incReg,
  mulDiv,
  shift,
  shiftRI,
  unary,
} from "./handlers/alu.js";
import { BmiOp, bmi, crc32Op } from "./handlers/bmi.js";
import {
  callInd,
  callRel,
  farDirect,
  farIndirect,
  hlt,
  int1,
  int3,
  intN,
  into,
  iret,
  jcc,
  jmpInd,
  jmpRel,
  jnz,
  jz,
  loop,
  ret,
  retFar,
} from "./handlers/branch.js";
import {
  alu32RI,
  alu32RM,
  alu32RR,
  alu64RI,
  alu64RM,
  alu64RR,
  dec32,
  inc32,
  lea64,
  mov32MR,
  mov32RM,
  mov32RR,
  mov64RR,
  rot32RI,
  rot64RI,
} from "./handlers/fast.js";
import { getsec, pause, vmxInstruction } from "./handlers/intercepted.js";
import { bcd, clacStac, popa, pusha } from "./handlers/legacy.js";
import {
  bound,
  cacheLine,
  implicitSegment,
  monitor,
  mwait,
  rdpid,
  rdpmc,
  rdrand,
  xgetbv,
  xsetbv,
} from "./handlers/misc.js";
import {
  cmovcc,
  cmpxchgOp,
  cmpxchgWide,
  convert,
  enter,
  flagOp,
  lahf,
  lea,
  leave,
  loadFarPointer,
  movbe,
  movExtend,
  movFromSeg,
  movMI,
  movMR,
  movMR64,
  movRI,
  movRM,
  movRM64,
  movRR,
  movToSeg,
  nop,
  popMem,
  popReg,
  popSeg,
  pushImm,
  pushMem,
  pushReg,
  pushSeg,
  sahf,
  salc,
  setcc,
  xaddOp,
  xchg,
  xlat,
} from "./handlers/move.js";
import { maskIp } from "./handlers/operands.js";
import { inOp, outOp, StrOp, stringOp } from "./handlers/string.js";
import {
  arpl,
  cliSti,
  clts,
  cpuidOp,
  descriptorQuery,
  fsgsBase,
  invd,
  invlpg,
  lgdt,
  lldt,
  lmsw,
  ltr,
  movDr,
  movFromCr,
  movToCr,
  popf,
  pushf,
  rdmsr,
  rdtsc,
  sgdt,
  smsw,
  storeSystemSelector,
  swapgs,
  syscall,
  sysenter,
  sysexit,
  sysret,
  undefinedOpcode,
  wrmsr,
} from "./handlers/system.js";
import { type Handler, Insn } from "./insn.js";
import { invpcid } from "./pcid.js";
import { rdpkru, wrpkru } from "./pkeys.js";

/** Register-id bases of the decoder (`Reg`). */
const R8 = 1;
const R8HIGH = 17;
const R16 = 21;
const R32 = 37;
const R64 = 53;
const RSEG = 69;
const RCR = 77;
const RDR = 93;
const RRIP = 241;

/** An instruction longer than 15 bytes (prefixes included) raises #GP(0) (SDM vol. 2, 2.3.11). */
function instructionTooLong(c: Cpu, _i: Insn): void {
  c.fault(V.GP, 0);
}

/** Stops with `Unimplemented` (an emulator gap, never guest behaviour). */
function unimplemented(c: Cpu, i: Insn): void {
  c.unimplementedAt(i);
}

/**
 * x87 instructions: #NM when CR0.EM or CR0.TS is set (SDM vol. 3, 2.5 and Table 2-2), which is
 * what a guest that has no FPU configured expects; otherwise an emulator gap.
 */
function x87(c: Cpu, i: Insn): void {
  if ((c.s.cr[0]! & 0xc) !== 0) c.fault(V.NM, NO_ERROR);
  c.unimplementedAt(i);
}

/**
 * MMX/SSE instructions: #UD with CR0.EM set, or for SSE with CR4.OSFXSR clear; #NM with CR0.TS
 * set (SDM vol. 3, 13.1 and Table 2-2); otherwise an emulator gap.
 */
function simd(c: Cpu, i: Insn): void {
  const cr0 = c.s.cr[0]!;
  if ((cr0 & 4) !== 0 || (i.aux === 1 && (c.s.cr[8]! & 0x200) === 0)) c.fault(V.UD, NO_ERROR);
  if ((cr0 & 8) !== 0) c.fault(V.NM, NO_ERROR);
  c.unimplementedAt(i);
}

/** CPUID features whose instructions follow the MMX/SSE rules of {@link simd} (aux 1 = needs OSFXSR). */
const SIMD_FEATURES: Record<string, number> = {
  MMX: 0,
  SSE: 1,
  SSE2: 1,
  SSE3: 1,
  SSSE3: 1,
  SSE4_1: 1,
  SSE4_2: 1,
  SSE4A: 1,
  AES: 1,
  PCLMULQDQ: 1,
  SHA: 1,
  GFNI: 1,
};

/** Picks the handler of an instruction the interpreter does not implement. */
function absent(i: Insn, ins: Instruction): Handler {
  const feature = ins.cpuidFeature;
  if (feature === "FPU") return x87;
  const simdKind = SIMD_FEATURES[feature];
  if (simdKind !== undefined && (ins.prefixes & (Prefix.Vex | Prefix.Evex | Prefix.Xop)) === 0) {
    i.aux = simdKind;
    return simd;
  }
  // VEX/EVEX/XOP encodings need CR4.OSXSAVE and XCR0 AVX state, which this processor lacks: #UD.
  if ((ins.prefixes & (Prefix.Vex | Prefix.Evex | Prefix.Xop)) !== 0) return undefinedOpcode;
  return unimplemented;
}

/** A builder picks the handler (and fills handler-specific fields) for a decoded instruction. */
type Builder = (i: Insn, ins: Instruction, o: Ops) => Handler;

/** What the operand scan found. */
interface Ops {
  /** Operand kinds in order: 'r' register, 'm' memory, 'i' immediate, 'b' branch, 'f' far, 's' segment, 'c' control, 'd' debug. */
  kinds: string;
  /** Size in bits of each GPR operand (0 for others). */
  sizes: number[];
  /** Segment register number, control/debug register number of the operand that had one. */
  special: number;
}

const CONDITIONS = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

function gprNum(id: number): { n: number; sh: number; bits: number } | undefined {
  if (id >= R8 && id < R8HIGH) return { n: id - R8, sh: 0, bits: 8 };
  if (id >= R8HIGH && id < R16) return { n: id - R8HIGH, sh: 8, bits: 8 };
  if (id >= R16 && id < R32) return { n: id - R16, sh: 0, bits: 16 };
  if (id >= R32 && id < R64) return { n: id - R32, sh: 0, bits: 32 };
  if (id >= R64 && id < RSEG) return { n: id - R64, sh: 0, bits: 64 };
  return undefined;
}

const sz = (bits: number): OperandSize => (bits === 8 || bits === 16 || bits === 64 ? bits : 32);

// ---- builders by family ----

/** Operations with size-specialised handlers (not ADC/SBB). */
const FAST_ALU = new Set<number>([
  AluOp.ADD,
  AluOp.OR,
  AluOp.AND,
  AluOp.SUB,
  AluOp.XOR,
  AluOp.CMP,
  AluOp.TEST,
]);

const aluBuilder =
  (op: number): Builder =>
  (i, _ins, o) => {
    i.aux = op;
    if (FAST_ALU.has(op) && (i.size === 64 || i.size === 32)) {
      const wide = i.size === 64;
      if (o.kinds === "rr") return wide ? alu64RR : alu32RR;
      if (o.kinds === "ri") return wide ? alu64RI : alu32RI;
      if (o.kinds === "rm") return wide ? alu64RM : alu32RM;
    }
    switch (o.kinds) {
      case "rr":
        return aluRR;
      case "rm":
        return aluRM;
      case "mr":
        return aluMR;
      case "ri":
        return aluRI;
      case "mi":
        return aluMI;
      default:
        return unimplemented;
    }
  };

const unaryBuilder =
  (op: number): Builder =>
  (i, _ins, o) => {
    i.aux = op;
    if (o.kinds === "r" && op === 0) return i.size === 32 ? inc32 : incReg;
    if (o.kinds === "r" && op === 1) return i.size === 32 ? dec32 : decReg;
    return unary;
  };

const shiftBuilder =
  (op: number): Builder =>
  (i, _ins, o) => {
    i.aux = op;
    if (o.kinds.length === 2 && o.kinds[1] === "r") i.imm2 = -1; // by CL
    if (o.kinds === "ri" && op <= 1 && i.size === 64) return rot64RI;
    if (o.kinds === "ri" && op <= 1 && i.size === 32) return rot32RI;
    if (o.kinds === "ri") return shiftRI;
    i.s = -1;
    return shift;
  };

const mulDivBuilder =
  (op: number): Builder =>
  (i) => {
    i.aux = op;
    return mulDiv;
  };

function movBuilder(i: Insn, _ins: Instruction, o: Ops): Handler {
  switch (o.kinds) {
    case "rr":
      return i.size === 64 ? mov64RR : i.size === 32 ? mov32RR : movRR;
    case "rm":
      return i.size === 64 ? movRM64 : i.size === 32 ? mov32RM : movRM;
    case "mr":
      return i.size === 64 ? movMR64 : i.size === 32 ? mov32MR : movMR;
    case "ri":
      return movRI;
    case "mi":
      return movMI;
    case "rs":
    case "ms":
      i.aux = o.special;
      return movFromSeg;
    case "sr":
    case "sm":
      i.aux = o.special;
      return movToSeg;
    case "cr":
      i.aux = o.special;
      return movToCr;
    case "rc":
      i.aux = o.special;
      return movFromCr;
    case "dr":
      i.aux = o.special;
      i.imm2 = 1;
      return movDr;
    case "rd":
      i.aux = o.special;
      return movDr;
    default:
      return unimplemented;
  }
}

const extendBuilder =
  (signed: boolean): Builder =>
  (i, ins, o) => {
    i.imm2 = signed ? 1 : 0;
    i.aux = o.kinds[1] === "m" ? ins.memSize * 8 : (o.sizes[1] ?? 8);
    return movExtend;
  };

const condBuilder =
  (fn: Handler, cc: number): Builder =>
  (i) => {
    i.aux = cc;
    return fn;
  };

function pushBuilder(i: Insn, ins: Instruction, o: Ops): Handler {
  i.size = sz(ins.operandSize);
  if (o.kinds === "r") return pushReg;
  if (o.kinds === "i") return pushImm;
  if (o.kinds === "m") return pushMem;
  if (o.kinds === "s") {
    i.aux = o.special;
    return pushSeg;
  }
  return unimplemented;
}

function popBuilder(i: Insn, ins: Instruction, o: Ops): Handler {
  i.size = sz(ins.operandSize);
  if (o.kinds === "r") return popReg;
  if (o.kinds === "m") return popMem;
  if (o.kinds === "s") {
    i.aux = o.special;
    return popSeg;
  }
  return unimplemented;
}

const stringBuilder =
  (op: number): Builder =>
  (i, ins) => {
    i.aux = op | (ins.repPrefix << 8);
    i.size = sz(ins.memSize * 8);
    i.seg = ins.segmentPrefix >= RSEG && ins.segmentPrefix < RSEG + 6 ? ins.segmentPrefix - RSEG : Seg.DS;
    return stringOp;
  };

function ioBuilder(out: boolean): Builder {
  return (i, _ins, o) => {
    // The accumulator's size is the operand size; the port is an immediate or DX.
    const accIndex = out ? 1 : 0;
    i.size = sz(o.sizes[accIndex] ?? 8);
    i.imm2 = o.kinds[out ? 0 : 1] === "r" ? 1 : 0;
    return out ? outOp : inOp;
  };
}

const bitTestBuilder =
  (op: number): Builder =>
  (i, _ins, o) => {
    i.aux = op;
    i.imm2 = o.kinds[1] === "i" ? 1 : 0;
    return bitTestOp;
  };

const withAux =
  (fn: Handler, aux: number, size?: number): Builder =>
  (i) => {
    i.aux = aux;
    if (size !== undefined) i.size = sz(size);
    return fn;
  };

const plain =
  (fn: Handler): Builder =>
  () =>
    fn;

const opSized =
  (fn: Handler, aux = 0): Builder =>
  (i, ins) => {
    i.size = sz(ins.operandSize);
    i.aux = aux;
    return fn;
  };

/** Builders by mnemonic. */
const BY_MNEMONIC: Record<string, Builder> = {
  add: aluBuilder(AluOp.ADD),
  or: aluBuilder(AluOp.OR),
  adc: aluBuilder(AluOp.ADC),
  sbb: aluBuilder(AluOp.SBB),
  and: aluBuilder(AluOp.AND),
  sub: aluBuilder(AluOp.SUB),
  xor: aluBuilder(AluOp.XOR),
  cmp: aluBuilder(AluOp.CMP),
  test: aluBuilder(AluOp.TEST),
  inc: unaryBuilder(0),
  dec: unaryBuilder(1),
  neg: unaryBuilder(2),
  not: unaryBuilder(3),
  rol: shiftBuilder(0),
  ror: shiftBuilder(1),
  rcl: shiftBuilder(2),
  rcr: shiftBuilder(3),
  shl: shiftBuilder(4),
  shr: shiftBuilder(5),
  sal: shiftBuilder(6),
  sar: shiftBuilder(7),
  shld: (i, _ins, o) => {
    i.aux = 0;
    if (o.kinds.endsWith("rr") && o.kinds.length === 3) i.imm2 = -1;
    return doubleShift;
  },
  shrd: (i, _ins, o) => {
    i.aux = 1;
    if (o.kinds.endsWith("rr") && o.kinds.length === 3) i.imm2 = -1;
    return doubleShift;
  },
  mul: mulDivBuilder(4),
  div: mulDivBuilder(6),
  idiv: mulDivBuilder(7),
  imul: (i, _ins, o) => {
    if (o.kinds.length === 1) {
      i.aux = 5;
      return mulDiv;
    }
    i.aux = o.kinds.length === 3 ? 1 : 0;
    return imulReg;
  },
  bt: bitTestBuilder(0),
  bts: bitTestBuilder(1),
  btr: bitTestBuilder(2),
  btc: bitTestBuilder(3),
  bsf: withAux(bitScan, 0),
  bsr: withAux(bitScan, 1),
  popcnt: withAux(bitScan, 2),
  lzcnt: withAux(bitScan, 3),
  tzcnt: withAux(bitScan, 4),
  bswap: plain(bswap),
  mov: movBuilder,
  movzx: extendBuilder(false),
  movsx: extendBuilder(true),
  movsxd: extendBuilder(true),
  movbe: (i, _ins, o) => {
    i.aux = o.kinds === "rm" ? 0 : 1;
    return movbe;
  },
  lea: (i) => (i.size === 64 && i.asz === 64 ? lea64 : lea),
  xchg: plain(xchg),
  nop: plain(nop),
  pause: plain(pause),
  endbr32: plain(nop),
  endbr64: plain(nop),
  lfence: plain(nop),
  mfence: plain(nop),
  sfence: plain(nop),
  prefetch: plain(nop),
  prefetchw: plain(nop),
  prefetchnta: plain(nop),
  prefetcht0: plain(nop),
  prefetcht1: plain(nop),
  prefetcht2: plain(nop),
  prefetchit0: plain(nop),
  prefetchit1: plain(nop),
  prefetchwt1: plain(nop),
  clflush: plain(cacheLine),
  clflushopt: plain(cacheLine),
  clwb: plain(cacheLine),
  monitor: (i, ins) => {
    i.seg = implicitSegment(ins.segmentPrefix, RSEG);
    return monitor;
  },
  mwait: plain(mwait),
  rdrand: withAux(rdrand, 0),
  rdseed: withAux(rdrand, 1),
  rdpid: plain(rdpid),
  xgetbv: plain(xgetbv),
  xsetbv: plain(xsetbv),
  bound: plain(bound),
  rdpmc: plain(rdpmc),
  serialize: plain(nop),
  // Features this processor does not have: #UD, as on a processor without them (SDM vol. 2:
  // RSM outside SMM; RTM/HLE; WAITPKG; AMD's MONITORX/MWAITX/CLZERO/RDPRU; the 486 0F A6 opcode).
  rsm: plain(undefinedOpcode),
  xbegin: plain(undefinedOpcode),
  xend: plain(undefinedOpcode),
  xabort: plain(undefinedOpcode),
  xtest: plain(undefinedOpcode),
  umonitor: plain(undefinedOpcode),
  umwait: plain(undefinedOpcode),
  tpause: plain(undefinedOpcode),
  monitorx: plain(undefinedOpcode),
  mwaitx: plain(undefinedOpcode),
  clzero: plain(undefinedOpcode),
  rdpru: plain(undefinedOpcode),
  undoc: plain(undefinedOpcode),
  wait: plain(nop),
  push: pushBuilder,
  pop: popBuilder,
  cbw: withAux(convert, 0, 16),
  cwde: withAux(convert, 0, 32),
  cdqe: withAux(convert, 0, 64),
  cwd: withAux(convert, 1, 16),
  cdq: withAux(convert, 1, 32),
  cqo: withAux(convert, 1, 64),
  xadd: plain(xaddOp),
  cmpxchg: plain(cmpxchgOp),
  cmpxchg8b: withAux(cmpxchgWide, 0, 32),
  cmpxchg16b: withAux(cmpxchgWide, 0, 64),
  lahf: plain(lahf),
  sahf: plain(sahf),
  clc: withAux(flagOp, 0),
  stc: withAux(flagOp, 1),
  cmc: withAux(flagOp, 2),
  cld: withAux(flagOp, 3),
  std: withAux(flagOp, 4),
  salc: plain(salc),
  xlatb: (i, ins) => {
    i.seg = ins.segmentPrefix >= RSEG && ins.segmentPrefix < RSEG + 6 ? ins.segmentPrefix - RSEG : Seg.DS;
    return xlat;
  },
  leave: opSized(leave),
  enter: opSized(enter),
  lds: withAux(loadFarPointer, Seg.DS),
  les: withAux(loadFarPointer, Seg.ES),
  lss: withAux(loadFarPointer, Seg.SS),
  lfs: withAux(loadFarPointer, Seg.FS),
  lgs: withAux(loadFarPointer, Seg.GS),
  jmp: (i, ins, o) => {
    i.size = sz(ins.operandSize);
    if (o.kinds === "b") return jmpRel;
    if (o.kinds === "f") return withAux(farDirect, 0)(i, ins, o);
    if (o.kinds === "m" && ins.flowKind === "jmpfarind") return withAux(farIndirect, 0)(i, ins, o);
    return jmpInd;
  },
  call: (i, ins, o) => {
    i.size = sz(ins.operandSize);
    if (o.kinds === "b") return callRel;
    if (o.kinds === "f") return withAux(farDirect, 1)(i, ins, o);
    if (o.kinds === "m" && ins.flowKind === "callfarind") return withAux(farIndirect, 1)(i, ins, o);
    return callInd;
  },
  ret: (i, ins, o) => {
    i.size = sz(ins.operandSize);
    if (o.kinds !== "i") i.immLo = 0;
    return ret;
  },
  retf: (i, ins, o) => {
    i.size = sz(ins.operandSize);
    if (o.kinds !== "i") i.immLo = 0;
    return retFar;
  },
  iret: opSized(iret),
  iretd: opSized(iret),
  iretq: opSized(iret),
  int: plain(intN),
  int3: plain(int3),
  into: plain(into),
  int1: plain(int1),
  hlt: plain(hlt),
  loop: withAux(loop, 0),
  loope: withAux(loop, 1),
  loopne: withAux(loop, 2),
  jcxz: withAux(loop, 3),
  jecxz: withAux(loop, 3),
  jrcxz: withAux(loop, 3),
  in: ioBuilder(false),
  out: ioBuilder(true),
  movsb: stringBuilder(StrOp.MOVS),
  movsw: stringBuilder(StrOp.MOVS),
  movsd: stringBuilder(StrOp.MOVS),
  movsq: stringBuilder(StrOp.MOVS),
  cmpsb: stringBuilder(StrOp.CMPS),
  cmpsw: stringBuilder(StrOp.CMPS),
  cmpsd: stringBuilder(StrOp.CMPS),
  cmpsq: stringBuilder(StrOp.CMPS),
  scasb: stringBuilder(StrOp.SCAS),
  scasw: stringBuilder(StrOp.SCAS),
  scasd: stringBuilder(StrOp.SCAS),
  scasq: stringBuilder(StrOp.SCAS),
  lodsb: stringBuilder(StrOp.LODS),
  lodsw: stringBuilder(StrOp.LODS),
  lodsd: stringBuilder(StrOp.LODS),
  lodsq: stringBuilder(StrOp.LODS),
  stosb: stringBuilder(StrOp.STOS),
  stosw: stringBuilder(StrOp.STOS),
  stosd: stringBuilder(StrOp.STOS),
  stosq: stringBuilder(StrOp.STOS),
  insb: stringBuilder(StrOp.INS),
  insw: stringBuilder(StrOp.INS),
  insd: stringBuilder(StrOp.INS),
  outsb: stringBuilder(StrOp.OUTS),
  outsw: stringBuilder(StrOp.OUTS),
  outsd: stringBuilder(StrOp.OUTS),
  cli: withAux(cliSti, 0),
  sti: withAux(cliSti, 1),
  pushf: opSized(pushf),
  pushfd: opSized(pushf),
  pushfq: opSized(pushf),
  popf: opSized(popf),
  popfd: opSized(popf),
  popfq: opSized(popf),
  clts: plain(clts),
  lmsw: plain(lmsw),
  smsw: plain(smsw),
  invlpg: plain(invlpg),
  invpcid: plain(invpcid),
  rdpkru: plain(rdpkru),
  wrpkru: plain(wrpkru),
  invd: plain(invd),
  wbinvd: plain(invd),
  wbnoinvd: plain(invd),
  lgdt: withAux(lgdt, 0),
  lidt: withAux(lgdt, 1),
  sgdt: withAux(sgdt, 0),
  sidt: withAux(sgdt, 1),
  lldt: plain(lldt),
  ltr: plain(ltr),
  sldt: withAux(storeSystemSelector, 0),
  str: withAux(storeSystemSelector, 1),
  lar: withAux(descriptorQuery, 0),
  lsl: withAux(descriptorQuery, 1),
  verr: withAux(descriptorQuery, 2),
  verw: withAux(descriptorQuery, 3),
  arpl: plain(arpl),
  rdmsr: plain(rdmsr),
  wrmsr: plain(wrmsr),
  rdtsc: withAux(rdtsc, 0),
  rdtscp: withAux(rdtsc, 1),
  cpuid: plain(cpuidOp),
  syscall: plain(syscall),
  sysret: opSized(sysret),
  sysretq: opSized(sysret),
  sysenter: plain(sysenter),
  sysexit: opSized(sysexit),
  sysexitq: opSized(sysexit),
  swapgs: plain(swapgs),
  rdfsbase: withAux(fsgsBase, 0),
  rdgsbase: withAux(fsgsBase, 1),
  wrfsbase: withAux(fsgsBase, 2),
  wrgsbase: withAux(fsgsBase, 3),
  andn: withAux(bmi, BmiOp.ANDN),
  bextr: withAux(bmi, BmiOp.BEXTR),
  blsi: withAux(bmi, BmiOp.BLSI),
  blsmsk: withAux(bmi, BmiOp.BLSMSK),
  blsr: withAux(bmi, BmiOp.BLSR),
  bzhi: withAux(bmi, BmiOp.BZHI),
  pdep: withAux(bmi, BmiOp.PDEP),
  pext: withAux(bmi, BmiOp.PEXT),
  mulx: withAux(bmi, BmiOp.MULX),
  rorx: withAux(bmi, BmiOp.RORX),
  sarx: withAux(bmi, BmiOp.SARX),
  shlx: withAux(bmi, BmiOp.SHLX),
  shrx: withAux(bmi, BmiOp.SHRX),
  adcx: withAux(bmi, BmiOp.ADCX),
  adox: withAux(bmi, BmiOp.ADOX),
  crc32: (i, ins, o) => {
    i.aux = o.kinds[1] === "m" ? ins.memSize * 8 : (o.sizes[1] ?? 8);
    return crc32Op;
  },
  daa: withAux(bcd, 0),
  das: withAux(bcd, 1),
  aaa: withAux(bcd, 2),
  aas: withAux(bcd, 3),
  aam: withAux(bcd, 4),
  aad: withAux(bcd, 5),
  pusha: opSized(pusha),
  pushad: opSized(pusha),
  popa: opSized(popa),
  popad: opSized(popa),
  clac: withAux(clacStac, 0),
  stac: withAux(clacStac, 1),
  reservednop: plain(nop),
  ud0: plain(undefinedOpcode),
  ud1: plain(undefinedOpcode),
  ud2: plain(undefinedOpcode),
  // VMX instructions and GETSEC: #UD, or a VM exit when intercepted (handlers/intercepted.ts).
  vmcall: withAux(vmxInstruction, 0),
  vmfunc: withAux(vmxInstruction, 0),
  vmclear: withAux(vmxInstruction, 1),
  vmlaunch: withAux(vmxInstruction, 1),
  vmptrld: withAux(vmxInstruction, 1),
  vmptrst: withAux(vmxInstruction, 1),
  vmread: withAux(vmxInstruction, 1),
  vmresume: withAux(vmxInstruction, 1),
  vmwrite: withAux(vmxInstruction, 1),
  vmxoff: withAux(vmxInstruction, 1),
  vmxon: withAux(vmxInstruction, 1),
  invept: withAux(vmxInstruction, 1),
  invvpid: withAux(vmxInstruction, 1),
  getsec: plain(getsec),
  getsecq: plain(getsec),
};
for (let cc = 0; cc < 16; cc++) {
  const name = CONDITIONS[cc]!;
  BY_MNEMONIC[`j${name}`] = condBuilder(cc === 4 ? jz : cc === 5 ? jnz : jcc, cc);
  BY_MNEMONIC[`set${name}`] = withAux(setcc, cc, 8);
  BY_MNEMONIC[`cmov${name}`] = condBuilder(cmovcc, cc);
}

/** Mnemonics after which a block ends even though control flows on (mode, privilege or translation changes). */
const ENDS_BLOCK = new Set([
  "hlt",
  "mwait",
  "xsetbv",
  "cli",
  "sti",
  "popf",
  "popfd",
  "popfq",
  "lmsw",
  "clts",
  "invlpg",
  "invpcid",
  "wrmsr",
  "lgdt",
  "lidt",
  "lldt",
  "ltr",
  "syscall",
  "sysret",
  "sysretq",
  "sysenter",
  "sysexit",
  "sysexitq",
  "swapgs",
  "lss",
  "wrfsbase",
  "wrgsbase",
]);

/** Handler builders indexed by `Opcode`. */
const BUILDERS: (Builder | undefined)[] = new Array(OPCODE_COUNT);
const MNEMONIC_OF: string[] = new Array(OPCODE_COUNT);
for (let op = 1; op < OPCODE_COUNT; op++) {
  const name = OPCODE_NAMES[op] ?? "";
  const m = (name.split("_")[0] ?? "").toLowerCase();
  MNEMONIC_OF[op] = m;
  BUILDERS[op] = BY_MNEMONIC[m];
}

/** Whether the interpreter has a handler for opcode `op` (an `Opcode` value). */
export function isImplemented(op: number): boolean {
  return BUILDERS[op] !== undefined;
}

/** Builds the {@link Insn} of `ins`, decoded at `rip` in `bits`-bit code. */
export function translateInstruction(ins: Instruction, rip: number, bits: number): Insn {
  const i = new Insn(unimplemented);
  i.opcode = ins.opcode;
  i.rip = rip;
  i.len = ins.length;
  i.next =
    bits === 64 ? rip + ins.length : bits === 32 ? (rip + ins.length) >>> 0 : (rip + ins.length) & 0xffff;
  i.asz = ins.addressSize;
  i.prefixes = ins.prefixes;
  if (ins.invalidReason !== 0 || ins.opcode === 0) {
    i.fn = ins.invalidReason === InvalidReason.TooLong ? instructionTooLong : undefinedOpcode;
    i.ends = true;
    return i;
  }
  let kinds = "";
  const sizes: number[] = [];
  let special = 0;
  let size = 0;
  for (let k = 0; k < ins.opCount; k++) {
    const t = ins.opType[k]!;
    if (t === OperandType.Register) {
      const id = ins.opReg[k]!;
      const r = gprNum(id);
      if (r !== undefined) {
        kinds += "r";
        sizes.push(r.bits);
        if (k === 1) i.r1 = r.n;
        else if (k === 2) i.r2 = r.n;
        if (k === 0) {
          i.d = r.n;
          i.dh = r.sh;
        } else if (i.s < 0) {
          i.s = r.n;
          i.sh = r.sh;
        }
        if (k === 0) size = r.bits;
      } else if (id >= RSEG && id < RCR) {
        kinds += "s";
        sizes.push(0);
        special = id - RSEG;
      } else if (id >= RCR && id < RDR) {
        kinds += "c";
        sizes.push(0);
        special = id - RCR;
      } else if (id >= RDR && id < RDR + 16) {
        kinds += "d";
        sizes.push(0);
        special = id - RDR;
      } else {
        kinds += "x";
        sizes.push(0);
      }
    } else if (t === OperandType.Memory) {
      kinds += "m";
      sizes.push(ins.memSize * 8);
      if (k === 0) size = ins.memSize * 8;
    } else if (t === OperandType.Immediate) {
      kinds += "i";
      sizes.push(0);
      i.immLo = ins.immLo >>> 0;
      i.immHi = ins.immHi >>> 0;
    } else if (t === OperandType.Immediate2) {
      kinds += "i";
      sizes.push(0);
      i.imm2 = ins.imm2;
    } else if (t === OperandType.NearBranch) {
      kinds += "b";
      sizes.push(0);
      i.target =
        bits === 64 ? (ins.targetHi | 0) * 4294967296 + ins.targetLo : maskIp(ins.targetLo, ins.operandSize);
    } else if (t === OperandType.FarBranch) {
      kinds += "f";
      sizes.push(0);
      i.imm2 = ins.farSelector;
      i.target = ins.farOffset;
    }
  }
  if (ins.modrmIsMemory || kinds.includes("m")) {
    i.mem = true;
    i.msize = ins.memSize;
    const seg = ins.memSegment;
    i.seg = seg >= RSEG && seg < RSEG + 6 ? seg - RSEG : Seg.DS;
    i.scale = ins.memScale;
    if (ins.memBase === RRIP + 0 || ins.memBase === RRIP + 1 || ins.memRipRelative) {
      const abs = i.next + ins.memDisp;
      if (i.asz === 32) {
        i.dispLo = abs >>> 0;
        i.dispHi = 0;
      } else {
        i.dispLo = abs >>> 0;
        i.dispHi = Math.floor(abs / 4294967296) >>> 0;
      }
    } else {
      const b = gprNum(ins.memBase);
      const x = gprNum(ins.memIndex);
      i.base = b === undefined ? -1 : b.n;
      i.index = x === undefined ? -1 : x.n;
      i.dispLo = ins.memDisp >>> 0;
      i.dispHi = ins.memDispHi >>> 0;
    }
  }
  i.size = sz(size === 0 ? ins.operandSize : size);
  const builder = BUILDERS[ins.opcode];
  const mnemonic = MNEMONIC_OF[ins.opcode] ?? "";
  if (builder === undefined) {
    i.fn = absent(i, ins);
    i.ends = true;
    return i;
  }
  i.fn = builder(i, ins, { kinds, sizes, special });
  if (i.fn === unimplemented) i.ends = true;
  // Conditional branches end their block only when taken (the handler says so).
  if ((ins.flowKind !== "next" && ins.flowKind !== "jcc") || ENDS_BLOCK.has(mnemonic)) i.ends = true;
  if (mnemonic === "mov" && (kinds[0] === "s" || kinds[0] === "c" || kinds.includes("d"))) i.ends = true;
  if (mnemonic === "pop" && kinds === "s") i.ends = true;
  if ((ins.prefixes & Prefix.Lock) !== 0 && !i.mem) i.fn = undefinedOpcode;
  return i;
}
