import { FORMAT_MNEMONICS, MNEMONICS } from "../generated/opcodes.js";
import { OK } from "../generated/operand-kind-ids.js";
import { ENTRY_FLAGS, ENTRY_FLOW, ENTRY_FMN, ENTRY_MNEMONIC, ENTRY_OPS } from "../generated/tables.js";
import { type Instruction, OperandType } from "../instruction.js";
import { gprSize, REGISTER_NAMES, Reg } from "../registers.js";
import { EntryFlag } from "../table-format.js";
import { addToHalves, prefixText, showSegment } from "./intel.js";
import { formatHex, type NumberStyle } from "./number.js";
import { type FormatterOptions, type ResolvedOptions, resolveOptions } from "./options.js";

const INT_SUFFIX: Record<number, string> = { 1: "b", 2: "w", 4: "l", 8: "q" };
const FLOAT_SUFFIX: Record<number, string> = { 4: "s", 8: "l", 10: "t" };
const FINT_SUFFIX: Record<number, string> = { 2: "s", 4: "l", 8: "ll" };
const STRING_ACC: Record<string, string> = {};
for (const sfx of ["b", "w", "d", "q"]) {
  STRING_ACC[`stos${sfx}`] = "stos";
  STRING_ACC[`lods${sfx}`] = "lods";
  STRING_ACC[`scas${sfx}`] = "scas";
}

const REVERSED: Record<string, string> = {
  fsub: "fsubr",
  fsubr: "fsub",
  fdiv: "fdivr",
  fdivr: "fdiv",
  fsubp: "fsubrp",
  fsubrp: "fsubp",
  fdivp: "fdivrp",
  fdivrp: "fdivp",
};

const ST_ONLY = new Set(["fxch", "fcom", "fcomp", "fucom", "fucomp"]);

/** Mnemonics whose operand size GNU as writes as a suffix on a base name. */
const OSZ_NAMES: Record<string, string> = {
  pushf: "pushf",
  pushfd: "pushf",
  pushfq: "pushf",
  popf: "popf",
  popfd: "popf",
  popfq: "popf",
  pusha: "pusha",
  pushad: "pusha",
  popa: "popa",
  popad: "popa",
  iret: "iret",
  iretd: "iret",
};

/** Intel mnemonics that GNU as spells differently. */
const GAS_NAMES: Record<string, string> = {
  cbw: "cbtw",
  cwde: "cwtl",
  cdqe: "cltq",
  cwd: "cwtd",
  cdq: "cltd",
  cqo: "cqto",
  movsd: "movsl",
  cmpsd: "cmpsl",
  insd: "insl",
  outsd: "outsl",
};

/** r/m operand kinds of general-purpose instructions (a suffix names their size in AT&T). */
function isPlainGprMemory(k: number): boolean {
  return (
    k === OK.Eb || k === OK.Ew || k === OK.Ed || k === OK.Eq || k === OK.Ev || k === OK.Ey || k === OK.Mb
  );
}

/** MOV with a 64-bit immediate (B8+r with REX.W) or a 64-bit absolute address (A0-A3): movabs. */
function hasKind(ins: Instruction, base: number, iv: number, ob: number, ov: number, osz: number): boolean {
  for (let i = 0; i < ins.opCount; i++) {
    const k = ENTRY_OPS[base + i]!;
    if ((k === iv && osz === 64) || ((k === ob || k === ov) && ins.addressSize === 64)) return true;
  }
  return false;
}

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
    let hasReg = false;
    for (let i = 0; i < ins.opCount; i++) if (ins.opType[i] === OperandType.Register) hasReg = true;
    const real = MNEMONICS[ENTRY_MNEMONIC[id]!]!;
    if (real === "sal") mn = "sal";
    if (mn === "fstpnce") mn = "fstp";
    // GNU as swaps SUB/SUBR and DIV/DIVR when the destination is st(i) (a historical quirk).
    if (ENTRY_OPS[base]! === OK.STi && REVERSED[mn] !== undefined) mn = REVERSED[mn]!;
    const renamed = GAS_NAMES[mn];
    const defaultOsz = ins.operandSize === ins.bitness;
    const k0 = ENTRY_OPS[base]!;
    if (renamed !== undefined && ((mn !== "movsd" && mn !== "cmpsd") || k0 === OK.Yv || k0 === OK.Xv)) {
      mn = renamed;
    } else if (OSZ_NAMES[mn] !== undefined) {
      // pushfd/popfd/iretd/pusha...: the operand size shows as a suffix unless it is the mode's.
      const base2 = OSZ_NAMES[mn]!;
      mn =
        defaultOsz && !(ins.bitness === 64 && ins.operandSize === 32 && base2 === "iret")
          ? base2
          : base2 + (INT_SUFFIX[ins.operandSize >> 3] ?? "");
    } else if (mn === "movzx" || mn === "movsx") {
      // movzbl, movswq, ...: source size, then destination size.
      const src = memIdx >= 0 ? ins.memSize : gprSize(ins.opReg[1]!);
      mn = `mov${mn[3]}${INT_SUFFIX[src] ?? ""}${INT_SUFFIX[ins.operandSize >> 3] ?? ""}`;
    } else if (mn === "movsxd") {
      mn = ins.operandSize === 64 ? "movslq" : "movsxd";
    } else if (
      mn === "mov" &&
      ins.bitness === 64 &&
      hasKind(ins, base, OK.Iv, OK.Ob, OK.Ov, ins.operandSize)
    ) {
      mn = "movabs";
    } else if (memIdx >= 0 && flags & EntryFlag.ShowSize) {
      const size = ins.memSize;
      if (mn.startsWith("fi")) mn += FINT_SUFFIX[size] ?? "";
      else if (mn.startsWith("fb")) mn += "";
      else if (mn.charCodeAt(0) === 102) mn += FLOAT_SUFFIX[size] ?? "";
      else if (far) mn += defaultOsz ? "" : (INT_SUFFIX[ins.operandSize >> 3] ?? "");
      else if (mn === "bound") mn += "";
      else mn += INT_SUFFIX[size] ?? "";
    } else if (mn === "lret") {
      if (!defaultOsz) mn += INT_SUFFIX[ins.operandSize >> 3] ?? "";
    } else if (
      memIdx >= 0 &&
      !hasReg &&
      ins.opCount <= 2 &&
      !mn.startsWith("set") &&
      isPlainGprMemory(ENTRY_OPS[base + memIdx]!)
    ) {
      // No register gives the size: GNU as wants a suffix (nopl, incq, ...).
      mn += INT_SUFFIX[ins.memSize] ?? "";
    }
    const skip1 =
      flags & EntryFlag.Dup01 && ins.opType[1] === OperandType.Register && ins.opReg[0] === ins.opReg[1];
    // STOS/LODS/SCAS: GNU as names the accumulator.
    const str = STRING_ACC[mn];
    if (str !== undefined) {
      const size = ins.memSize;
      const acc = `%${REGISTER_NAMES[size === 1 ? Reg.GPR8 : size === 2 ? Reg.GPR16 : size === 4 ? Reg.GPR32 : Reg.GPR64]}`;
      const m = this.memory(ins, ENTRY_OPS[base]!);
      const ops = str === "stos" ? `${acc},${m}` : `${m},${acc}`;
      const t = `${prefixText(ins, flags)}${str} ${ops}`;
      return this.o.upperCase ? t.toUpperCase() : t;
    }
    const parts: string[] = [];
    // GNU as keeps Intel's operand order for ENTER and BOUND.
    const keepOrder = mn === "enter" || mn === "bound";
    for (let j = 0; j < ins.opCount; j++) {
      const i = keepOrder ? j : ins.opCount - 1 - j;
      if (skip1 && i === 1) continue;
      const k = ENTRY_OPS[base + i]!;
      // GNU as leaves out the implicit st of x87 memory forms and of st(i) compares/exchanges.
      if (
        k === OK.ST0 &&
        ins.opCount === 2 &&
        (memIdx >= 0 || mn === "fld" || mn.startsWith("fst") || ST_ONLY.has(mn))
      )
        continue;
      parts.push(this.operand(ins, i, k, flow));
    }
    let pre = prefixText(ins, flags);
    const dm = /^(data|addr)(16|32|64) /.exec(pre);
    if (dm !== null && dm[1] === "data" && flow !== 1 && flow !== 5 && flow !== 6 && flow !== 16) {
      // GNU as shows a non-default operand size as a suffix (pushl %cs, lretq).
      pre = pre.slice(dm[0].length);
      if (!/[wlq]$/.test(mn) || mn === "call" || mn === "jmp") mn += INT_SUFFIX[Number(dm[2]) >> 3] ?? "";
    }
    const s = pre + mn + (parts.length > 0 ? ` ${parts.join(",")}` : "");
    return this.o.upperCase ? s.toUpperCase() : s;
  }

  private reg(r: number): string {
    return `%${REGISTER_NAMES[r]}`;
  }

  private operand(ins: Instruction, i: number, k: number, flow: number): string {
    const star =
      flow === FLOW_CALLIND || flow === FLOW_JMPIND || flow === FLOW_CALLFARIND || flow === FLOW_JMPFARIND;
    switch (ins.opType[i]) {
      case OperandType.Register:
        return (star ? "*" : "") + (k === OK.ST0 ? "%st" : this.reg(ins.opReg[i]!));
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
        return `$${formatHex(ins.farSelector, 0, 4, this.num)},$${formatHex(ins.farOffset, 0, ins.operandSize === 16 ? 4 : 8, this.num)}`;
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
      const sp = ins.segmentPrefix;
      const shown = sp !== 0 && sp !== Reg.DS && (ins.bitness !== 64 || sp === Reg.FS || sp === Reg.GS);
      const seg = !shown ? "" : k === OK.Yb || k === OK.Yv ? "%es:" : `%${REGISTER_NAMES[sp]}:`;
      return `${seg}(${this.reg(r)})`;
    }
    const noSeg = (ENTRY_FLAGS[ins.opcode]! & EntryFlag.NoSegment) !== 0;
    let s = showSegment(ins) && !noSeg ? `%${REGISTER_NAMES[ins.segmentPrefix]}:` : "";
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
    if (ins.memIndex !== 0)
      s += ins.memScale === 1 ? `,${this.reg(ins.memIndex)}` : `,${this.reg(ins.memIndex)},${ins.memScale}`;
    return `${s})`;
  }
}
