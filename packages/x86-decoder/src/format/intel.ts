import { FORMAT_MNEMONICS, MNEMONICS } from "../generated/opcodes.js";
import { OK } from "../generated/operand-kind-ids.js";
import {
  ENTRY_EVEX,
  ENTRY_FLAGS,
  ENTRY_FLOW,
  ENTRY_FMN,
  ENTRY_MNEMONIC,
  ENTRY_OPS,
} from "../generated/tables.js";
import { type Instruction, OperandType, Prefix } from "../instruction.js";
import { REGISTER_NAMES, Reg } from "../registers.js";
import { EntryFlag } from "../table-format.js";
import { formatHex, type NumberStyle } from "./number.js";
import { type FormatterOptions, type ResolvedOptions, resolveOptions } from "./options.js";

const MEM_SIZE_NAMES: Record<number, string> = {
  1: "byte",
  2: "word",
  4: "dword",
  6: "fword",
  8: "qword",
  10: "tbyte",
  16: "xmmword",
  32: "ymmword",
  64: "zmmword",
};

const X87_AREA: Record<number, string> = {
  14: "fpuenv14",
  28: "fpuenv28",
  94: "fpustate94",
  108: "fpustate108",
};

/** Adds a signed 32-bit delta to an unsigned 64-bit value in halves; writes into out[0..1]. */
export function addToHalves(lo: number, hi: number, delta: number, out: Uint32Array): void {
  let l = lo + delta;
  let h = hi;
  if (l < 0) {
    l += 0x100000000;
    h = (h - 1) >>> 0;
  } else if (l > 0xffffffff) {
    l -= 0x100000000;
    h = (h + 1) >>> 0;
  }
  out[0] = l;
  out[1] = h;
}

/**
 * Intel-syntax formatter. With default options its output equals iced-x86's Intel formatter with
 * iced's default options (see the README for the measured agreement).
 */
export class IntelFormatter {
  private readonly o: ResolvedOptions;
  private readonly num: NumberStyle;
  private readonly tmp = new Uint32Array(2);

  /** @param options hex style, case, symbol resolver */
  constructor(options: FormatterOptions = {}) {
    this.o = resolveOptions(options, "suffix");
    this.num = { upperHex: this.o.upperHex, suffix: this.o.suffix, smallDecimal: this.o.smallDecimal };
  }

  /** Formats one instruction. */
  format(ins: Instruction): string {
    if (ins.invalidReason !== 0) return "(bad)";
    const id = ins.opcode;
    const flags = ENTRY_FLAGS[id]!;
    let mn = FORMAT_MNEMONICS[ENTRY_FMN[id]!]!;
    let count = ins.opCount;
    if (flags & EntryFlag.CmpPredicate) {
      const cc = predicateName(mn, ins.immLo);
      if (cc !== undefined) {
        mn = mn.replace("{}", cc);
        count--;
      } else {
        mn = MNEMONICS[ENTRY_MNEMONIC[id]!]!;
      }
    }
    const s = prefixText(ins, flags) + mn;
    const ops = this.operands(ins, flags, count);
    const t = ops === "" ? s : `${s} ${ops}`;
    return this.o.upperCase ? t.toUpperCase() : t;
  }
  private operands(ins: Instruction, flags: number, count: number): string {
    if (flags & EntryFlag.St1Short && ins.opReg[ins.opReg[0] === Reg.ST ? 1 : 0] === Reg.ST + 1) return "";
    let s = "";
    const skip1 =
      flags & EntryFlag.Dup01 && ins.opType[1] === OperandType.Register && ins.opReg[0] === ins.opReg[1]
        ? 1
        : -1;
    const base = ins.opcode * 5;
    const sp = ins.segmentPrefix;
    const strSeg = sp !== 0 && sp !== Reg.DS && (ins.bitness !== 64 || sp === Reg.FS || sp === Reg.GS);
    for (let i = 0; i < count; i++) {
      if (i === skip1) continue;
      const k = ENTRY_OPS[base + i]!;
      let t: string;
      switch (ins.opType[i]) {
        case OperandType.Register:
          t = k === OK.ST0 ? "st" : REGISTER_NAMES[ins.opReg[i]!]!;
          break;
        case OperandType.Immediate:
          t = this.immediate(ins);
          break;
        case OperandType.Immediate2:
          t = formatHex(ins.imm2, 0, 0, this.num);
          break;
        case OperandType.NearBranch:
          t = this.branch(ins, k);
          break;
        case OperandType.FarBranch:
          t = `${formatHex(ins.farOffset, 0, ins.operandSize === 16 ? 4 : 8, this.num)},${formatHex(ins.farSelector, 0, 4, this.num)}`;
          break;
        case OperandType.Memory:
          if (k === OK.Xb || k === OK.Xv || k === OK.Yb || k === OK.Yv || k === OK.Xlat) {
            t = this.stringMem(ins, k, strSeg);
          } else {
            t = this.memory(ins, flags);
          }
          break;
        default:
          t = "";
      }
      if (ins.prefixes & Prefix.Evex) t = evexDecoration(ins, i, t);
      s = i === 0 ? t : `${s},${t}`;
    }
    return s;
  }

  private immediate(ins: Instruction): string {
    return formatHex(ins.immLo, ins.immHi, 0, this.num);
  }

  private branch(ins: Instruction, k: number): string {
    const flow = ENTRY_FLOW[ins.opcode]!;
    const digits =
      flow === FLOW_XBEGIN
        ? ins.bitness === 64
          ? 16
          : 8
        : ins.operandSize === 16
          ? 4
          : ins.bitness === 64 && ins.operandSize === 64
            ? 16
            : 8;
    const name = this.o.resolver?.(ins.targetLo, ins.targetHi, ins.targetHi * 0x100000000 + ins.targetLo);
    const target = name ?? formatHex(ins.targetLo, ins.targetHi, digits, this.num);
    const fmn = FORMAT_MNEMONICS[ENTRY_FMN[ins.opcode]!]!;
    const short =
      k === OK.Jb &&
      (fmn === "jmp" ||
        (fmn.charCodeAt(0) === 106 &&
          !fmn.startsWith("jrcxz") &&
          !fmn.startsWith("jecxz") &&
          !fmn.startsWith("jcxz")));
    return short ? `short ${target}` : target;
  }

  private stringMem(ins: Instruction, k: number, showSeg: boolean): string {
    const asz = ins.addressSize;
    const num = k === OK.Xlat ? 3 : k === OK.Yb || k === OK.Yv ? 7 : 6;
    const reg = asz === 64 ? Reg.GPR64 + num : asz === 32 ? Reg.GPR32 + num : Reg.GPR16 + num;
    let seg = "";
    if (showSeg) {
      seg = k === OK.Yb || k === OK.Yv ? "es:" : `${REGISTER_NAMES[ins.segmentPrefix]}:`;
    }
    return `${seg}[${REGISTER_NAMES[reg]}]`;
  }

  private memory(ins: Instruction, flags: number): string {
    let s = "";
    if (
      flags & EntryFlag.ShowSize ||
      (flags & EntryFlag.ShowSizeBelow512 && ins.vectorLength < 512 && !ins.broadcast)
    ) {
      const n = MEM_SIZE_NAMES[ins.memSize];
      if (n !== undefined) s = `${n} ptr `;
    } else if (ins.memSize >= 14 && ins.memSize !== 16 && ins.memSize !== 32 && ins.memSize !== 64) {
      // x87 environment/state: the size is shown when the operand size is not the default.
      if ((ins.bitness === 16) !== (ins.operandSize === 16)) s = `${X87_AREA[ins.memSize]} ptr `;
    }
    if (!(flags & EntryFlag.NoSegment) && showSegment(ins)) s += `${REGISTER_NAMES[ins.segmentPrefix]}:`;
    s += "[";
    const num = this.num;
    if (ins.memRipRelative) {
      addToHalves(ins.ipLo, ins.ipHi, ins.length + ins.memDisp, this.tmp);
      let lo = this.tmp[0]!;
      let hi = this.tmp[1]!;
      if (ins.memBase === Reg.EIP) hi = 0;
      if (ins.bitness !== 64) hi = 0;
      lo >>>= 0;
      const name = this.o.resolver?.(lo, hi, hi * 0x100000000 + lo);
      return `${s}${name ?? formatHex(lo, hi, 0, num)}]`;
    }
    let any = false;
    if (ins.memBase !== 0) {
      s += REGISTER_NAMES[ins.memBase];
      any = true;
    }
    if (ins.memIndex !== 0) {
      if (any) s += "+";
      s += REGISTER_NAMES[ins.memIndex];
      if (ins.memScale !== 1 || !any) s += `*${ins.memScale}`;
      any = true;
    }
    if (!any) {
      // Absolute address: unsigned, address-size wide.
      let lo = ins.memDisp >>> 0;
      let hi = ins.memDispHi;
      if (ins.addressSize === 16) {
        lo &= 0xffff;
        hi = 0;
      } else if (ins.addressSize === 32) hi = 0;
      const name = this.o.resolver?.(lo, hi, hi * 0x100000000 + lo);
      return `${s}${name ?? formatHex(lo, hi, 0, num)}]`;
    }
    if (ins.memDispSize !== 0 && ins.memDisp !== 0) {
      const d = ins.memDisp;
      s += d < 0 ? `-${formatHex(-d, 0, 0, num)}` : `+${formatHex(d, 0, 0, num)}`;
    }
    return `${s}]`;
  }
}

const SSE_CC = ["eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord"];
// biome-ignore format: a table
const AVX_CC = [
  "eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord", "eq_uq", "nge", "ngt", "false", "neq_oq", "ge", "gt", "true",
  "eq_os", "lt_oq", "le_oq", "unord_s", "neq_us", "nlt_uq", "nle_uq", "ord_s", "eq_us", "nge_uq", "ngt_uq", "false_os",
  "neq_os", "ge_oq", "gt_oq", "true_us",
];
const CLMUL_CC: Record<number, string> = { 0: "lqlq", 1: "hqlq", 16: "lqhq", 17: "hqhq" };

/** The pseudo-op name part for a predicate immediate, or undefined to print the immediate. */
const INT_CC = ["eq", "lt", "le", "false", "neq", "nlt", "nle", "true"];
const XOP_CC = ["lt", "le", "gt", "ge", "eq", "neq", "false", "true"];

function predicateName(fmn: string, imm: number): string | undefined {
  if (fmn.includes("pclmul")) return CLMUL_CC[imm];
  if (fmn.startsWith("vpcmp")) return INT_CC[imm];
  if (fmn.startsWith("vpcom")) return XOP_CC[imm];
  return (fmn.charCodeAt(0) === 118 ? AVX_CC : SSE_CC)[imm];
}

const ROUNDING = ["", "{rne-sae}", "{rd-sae}", "{ru-sae}", "{rz-sae}", "{sae}"];

/** EVEX: {k}{z} and rounding after the first operand, {1toN} after a broadcast memory operand. */
export function evexDecoration(ins: Instruction, i: number, t: string): string {
  let s = t;
  if (i === 0) {
    // Gathers and scatters: iced-x86 prints the (required) mask as an operand.
    if (ins.opmask !== 0)
      s += (ENTRY_EVEX[ins.opcode]! & 0x800) !== 0 ? `,k${ins.opmask}` : `{k${ins.opmask}}`;
    if (ins.zeroing) s += "{z}";
    if (ins.rounding !== 0) s += ROUNDING[ins.rounding];
  }
  if (ins.broadcast && ins.opType[i] === OperandType.Memory && ins.rounding === 0 && ins.memSize !== 0) {
    s += `{1to${ins.vectorLength / 8 / ins.memSize}}`;
  }
  return s;
}

/** A segment override is shown when it changes the segment (64-bit mode ignores ES/CS/SS/DS). */
export function showSegment(ins: Instruction): boolean {
  const seg = ins.segmentPrefix;
  if (seg === 0) return false;
  if (ins.bitness === 64 && seg !== Reg.FS && seg !== Reg.GS) return false;
  return seg !== defaultSegment(ins);
}

function defaultSegment(ins: Instruction): number {
  const b = ins.memBase;
  if (b === 0) return Reg.DS;
  const num = b >= Reg.GPR64 && b < Reg.ES ? b - Reg.GPR64 : b >= Reg.GPR32 ? b - Reg.GPR32 : b - Reg.GPR16;
  if (ins.addressSize === 16) return num === 5 ? Reg.SS : Reg.DS;
  return num === 4 || num === 5 ? Reg.SS : Reg.DS;
}

const FLOW_JCC = 5;
const FLOW_XBEGIN = 14;

/** Prefix keywords (lock, rep, hints, ...) in iced-x86's order. @internal */
export function prefixText(ins: Instruction, flags: number): string {
  const p = ins.prefixes;
  let data = "";
  if (flags & EntryFlag.DataSize) {
    const def =
      ins.bitness === 64 && flags & (EntryFlag.D64 | EntryFlag.F64) ? 64 : ins.bitness === 16 ? 16 : 32;
    if (ins.operandSize !== def) data = `data${ins.operandSize} `;
  }
  if (flags & EntryFlag.AddrSize && p & Prefix.AddressSize) data = `addr${ins.addressSize} ${data}`;
  if ((p & (Prefix.Lock | Prefix.Rep | Prefix.Repne | Prefix.Segment)) === 0) return data;
  let s = "";
  const flow = ENTRY_FLOW[ins.opcode]!;
  if (p & Prefix.Segment && flow === FLOW_JCC && ENTRY_MNEMONIC_IS_JCC(ins)) {
    if (ins.segmentPrefix === Reg.CS) s += "hint-not-taken ";
    else if (ins.segmentPrefix === Reg.DS) s += "hint-taken ";
  } else if (ins.segmentPrefix === Reg.DS && (flow === 2 || flow === 7)) {
    s += "notrack ";
  }
  const rep = ins.repPrefix;
  const mem = ins.modrmIsMemory;
  if (rep !== 0) {
    if (p & Prefix.Lock && flags & EntryFlag.Lock) s += rep === 0xf2 ? "xacquire " : "xrelease ";
    else if (flags & EntryFlag.Hle && mem) s += rep === 0xf2 ? "xacquire " : "xrelease ";
    else if (flags & EntryFlag.XRelease && mem && rep === 0xf3) s += "xrelease ";
  }
  if (p & Prefix.Lock) s += "lock ";
  if (rep !== 0 && (!(flags & EntryFlag.MandatoryF2F3) || flags & EntryFlag.Rep)) {
    if (rep === 0xf2 && flags & EntryFlag.Bnd) s += "bnd ";
    else if (flags & EntryFlag.Rep) s += rep === 0xf2 ? "repne " : "rep ";
    else if (flags & EntryFlag.Repe) s += rep === 0xf2 ? "repne " : "repe ";
  }
  return data + s;
}

function ENTRY_MNEMONIC_IS_JCC(ins: Instruction): boolean {
  const m = FORMAT_MNEMONICS[ENTRY_FMN[ins.opcode]!]!;
  return m.charCodeAt(0) === 106 && m !== "jcxz" && m !== "jecxz" && m !== "jrcxz";
}
