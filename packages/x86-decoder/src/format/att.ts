import { FORMAT_MNEMONICS } from "../generated/opcodes.js";
import { OK } from "../generated/operand-kind-ids.js";
import { ENTRY_FLAGS, ENTRY_FLOW, ENTRY_FMN, ENTRY_OPS } from "../generated/tables.js";
import { type Instruction, OperandType } from "../instruction.js";
import { REGISTER_NAMES, Reg } from "../registers.js";
import { EntryFlag } from "../table-format.js";
import { addToHalves, prefixText, showSegment } from "./intel.js";
import { formatHex, type NumberStyle } from "./number.js";
import { type FormatterOptions, type ResolvedOptions, resolveOptions } from "./options.js";

const INT_SUFFIX: Record<number, string> = { 1: "b", 2: "w", 4: "l", 8: "q" };
const FLOAT_SUFFIX: Record<number, string> = { 4: "s", 8: "l", 10: "t" };
const FINT_SUFFIX: Record<number, string> = { 2: "s", 4: "l", 8: "ll" };
const FLOW_CALLIND = 7;
const FLOW_JMPIND = 2;
const FLOW_CALLFARIND = 9;
const FLOW_JMPFARIND = 4;

/**
 * AT&T (GNU as) syntax formatter: source before destination, `%` registers, `$` immediates,
 * `disp(base,index,scale)` memory and a size suffix where the operands do not give the size.
 * It follows iced-x86's GAS formatter in spirit; only the Intel formatter is checked character for
 * character.
 */
export class AttFormatter {
  private readonly o: ResolvedOptions;
  private readonly num: NumberStyle;
  private readonly tmp = new Uint32Array(2);

  /** @param options hex style (default `0x` prefix), case, symbol resolver */
  constructor(options: FormatterOptions = {}) {
    this.o = resolveOptions(options, "prefix");
    this.num = { upperHex: this.o.upperHex, suffix: this.o.suffix, smallDecimal: this.o.smallDecimal };
  }

  /** Formats one instruction. */
  format(ins: Instruction): string {
    if (ins.invalidReason !== 0) return "(bad)";
    const id = ins.opcode;
    const flags = ENTRY_FLAGS[id]!;
    const flow = ENTRY_FLOW[id]!;
    let mn = FORMAT_MNEMONICS[ENTRY_FMN[id]!]!.replace("{}", "");
    const base = id * 5;
    let memIdx = -1;
    for (let i = 0; i < ins.opCount; i++) if (ins.opType[i] === OperandType.Memory) memIdx = i;
    const far = mn.endsWith(" far");
    if (far) mn = `l${mn.slice(0, -4)}`;
    if (memIdx >= 0 && flags & EntryFlag.ShowSize) {
      const size = ins.memSize;
      if (mn === "movzx" || mn === "movsx") {
        mn = `mov${mn[3]}${INT_SUFFIX[size] ?? ""}${INT_SUFFIX[ins.operandSize >> 3] ?? ""}`;
      } else if (mn.startsWith("fi")) mn += FINT_SUFFIX[size] ?? "";
      else if (mn.charCodeAt(0) === 102) mn += FLOAT_SUFFIX[size] ?? "";
      else if (far) mn += INT_SUFFIX[ins.operandSize >> 3] ?? "";
      else mn += INT_SUFFIX[size] ?? "";
    } else if (mn === "lret") {
      mn += INT_SUFFIX[ins.operandSize >> 3] ?? "";
    }
    const parts: string[] = [];
    for (let i = ins.opCount - 1; i >= 0; i--) {
      const k = ENTRY_OPS[base + i]!;
      // GNU as leaves out the implicit st of x87 memory forms.
      if (k === OK.ST0 && ins.opCount === 2 && (memIdx >= 0 || mn === "fld" || mn.startsWith("fst")))
        continue;
      parts.push(this.operand(ins, i, k, flow));
    }
    const s = prefixText(ins, flags) + mn + (parts.length > 0 ? ` ${parts.join(",")}` : "");
    return this.o.upperCase ? s.toUpperCase() : s;
  }

  private reg(r: number): string {
    return r === Reg.ST ? "%st" : `%${REGISTER_NAMES[r]}`;
  }

  private operand(ins: Instruction, i: number, k: number, flow: number): string {
    const star =
      flow === FLOW_CALLIND || flow === FLOW_JMPIND || flow === FLOW_CALLFARIND || flow === FLOW_JMPFARIND;
    switch (ins.opType[i]) {
      case OperandType.Register:
        return (star ? "*" : "") + this.reg(k === OK.ST0 ? Reg.ST : ins.opReg[i]!);
      case OperandType.Immediate:
        return `$${formatHex(ins.immLo, ins.immHi, 0, this.num)}`;
      case OperandType.Immediate2:
        return `$${formatHex(ins.imm2, 0, 0, this.num)}`;
      case OperandType.NearBranch: {
        const digits = ins.operandSize === 16 ? 4 : ins.bitness === 64 && ins.operandSize === 64 ? 16 : 8;
        const name = this.o.resolver?.(ins.targetLo, ins.targetHi, ins.targetHi * 0x100000000 + ins.targetLo);
        return name ?? formatHex(ins.targetLo, ins.targetHi, digits, this.num);
      }
      case OperandType.FarBranch:
        return `$${formatHex(ins.farSelector, 0, 0, this.num)},$${formatHex(ins.farOffset, 0, 0, this.num)}`;
      case OperandType.Memory:
        return (star ? "*" : "") + this.memory(ins, k);
      default:
        return "";
    }
  }

  private memory(ins: Instruction, k: number): string {
    const num = this.num;
    if (k === OK.Xb || k === OK.Xv || k === OK.Yb || k === OK.Yv || k === OK.Xlat) {
      const asz = ins.addressSize;
      const n = k === OK.Xlat ? 3 : k === OK.Yb || k === OK.Yv ? 7 : 6;
      const r = asz === 64 ? Reg.GPR64 + n : asz === 32 ? Reg.GPR32 + n : Reg.GPR16 + n;
      const seg =
        k === OK.Yb || k === OK.Yv || ins.segmentPrefix === 0 ? "" : `%${REGISTER_NAMES[ins.segmentPrefix]}:`;
      return `${seg}(${this.reg(r)})`;
    }
    let s = showSegment(ins) ? `%${REGISTER_NAMES[ins.segmentPrefix]}:` : "";
    if (ins.memRipRelative) {
      addToHalves(ins.ipLo, ins.ipHi, ins.length + ins.memDisp, this.tmp);
      const lo = this.tmp[0]! >>> 0;
      const hi = ins.memBase === Reg.EIP ? 0 : this.tmp[1]!;
      return s + (this.o.resolver?.(lo, hi, hi * 0x100000000 + lo) ?? formatHex(lo, hi, 0, num));
    }
    if (ins.memBase === 0 && ins.memIndex === 0) {
      let lo = ins.memDisp >>> 0;
      let hi = ins.memDispHi;
      if (ins.addressSize === 16) {
        lo &= 0xffff;
        hi = 0;
      } else if (ins.addressSize === 32) hi = 0;
      return s + (this.o.resolver?.(lo, hi, hi * 0x100000000 + lo) ?? formatHex(lo, hi, 0, num));
    }
    if (ins.memDispSize !== 0 && ins.memDisp !== 0) {
      s += ins.memDisp < 0 ? `-${formatHex(-ins.memDisp, 0, 0, num)}` : formatHex(ins.memDisp, 0, 0, num);
    }
    s += "(";
    if (ins.memBase !== 0) s += this.reg(ins.memBase);
    if (ins.memIndex !== 0) s += `,${this.reg(ins.memIndex)},${ins.memScale}`;
    return `${s})`;
  }
}
