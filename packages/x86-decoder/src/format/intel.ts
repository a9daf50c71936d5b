import { FORMAT_MNEMONICS } from "../generated/opcodes.js";
import { ENTRY_FLAGS, ENTRY_FMN, ENTRY_OPS } from "../generated/tables.js";
import { type Instruction, OperandType, Prefix } from "../instruction.js";
import { OK } from "../operand-kinds.js";
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
    let s = "";
    const p = ins.prefixes;
    if (p & Prefix.Lock) s += "lock ";
    if (flags & EntryFlag.Rep && p & (Prefix.Rep | Prefix.Repne) && !(flags & EntryFlag.MandatoryF2F3)) {
      s += p & Prefix.Repne && lastRepIsF2(ins) ? "repne " : "rep ";
    } else if (flags & EntryFlag.Repe && p & (Prefix.Rep | Prefix.Repne)) {
      s += lastRepIsF2(ins) ? "repne " : "repe ";
    }
    s += FORMAT_MNEMONICS[ENTRY_FMN[id]!]!;
    const ops = this.operands(ins, flags);
    if (ops !== "") s += ` ${ops}`;
    return this.o.upperCase ? s.toUpperCase() : s;
  }

  private operands(ins: Instruction, flags: number): string {
    let s = "";
    const base = ins.opcode * 5;
    const strSeg = (ins.prefixes & Prefix.Segment) !== 0;
    for (let i = 0; i < ins.opCount; i++) {
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
          t = `${formatHex(ins.farSelector, 0, 0, this.num)}:${formatHex(ins.farOffset, 0, 0, this.num)}`;
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
      s = i === 0 ? t : `${s},${t}`;
    }
    return s;
  }

  private immediate(ins: Instruction): string {
    return formatHex(ins.immLo, ins.immHi, 0, this.num);
  }

  private branch(ins: Instruction, k: number): string {
    const digits = ins.operandSize === 16 ? 4 : ins.bitness === 64 && ins.operandSize === 64 ? 16 : 8;
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
    if (flags & EntryFlag.ShowSize) {
      const n = MEM_SIZE_NAMES[ins.memSize];
      if (n !== undefined) s = `${n} ptr `;
    }
    if (ins.segmentPrefix !== 0) s += `${REGISTER_NAMES[ins.segmentPrefix]}:`;
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
      if (ins.memScale !== 1) s += `*${ins.memScale}`;
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

function lastRepIsF2(ins: Instruction): boolean {
  return ins.repPrefix === 0xf2;
}
