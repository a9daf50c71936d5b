import { OK } from "./generated/operand-kind-ids.js";
import { ENTRY_EVEX, ENTRY_FLOW, ENTRY_OPS } from "./generated/tables.js";

const FLOW_XBEGIN = 14;

import type { Instruction } from "./instruction.js";
import { OperandType } from "./instruction.js";
import { Reg } from "./registers.js";

/** Returned internally when the bytes run out. @internal */
export const OUT_OF_BYTES = -1;

// Memory operand sizes in bytes by operand kind (0 = by operand size / vector length).
const FIXED_MEM_SIZE = new Uint8Array(256);
for (const [k, v] of [
  ["Eb", 1],
  ["Ew", 2],
  ["Ewv", 2],
  ["Ed", 4],
  ["Eq", 8],
  ["Mb", 1],
  ["Mw", 2],
  ["Md", 4],
  ["Mq", 8],
  ["Mt", 10],
  ["Mdq", 16],
  ["Mqq", 32],
  ["Mfw", 6],
  ["Qq", 8],
  ["Qd", 4],
  ["W", 16],
  ["Wb", 1],
  ["Ww", 2],
  ["Wd", 4],
  ["Wq", 8],
  ["Wqq", 32],
  ["Wss", 4],
  ["Wsd", 8],
  ["Mdq2", 16],
  ["Wxmm", 16],
  ["Mb16", 1],
] as const) {
  FIXED_MEM_SIZE[OK[k]] = v;
}

/**
 * Operand decoding from ModRM, SIB, displacement and immediates (SDM Vol. 2 2.1). The
 * {@link Decoder} extends it; an {@link Instruction} uses one to decode its operands on first use.
 * @internal
 */
export class OperandReader {
  /** Bytes being decoded. */
  protected data: Uint8Array = new Uint8Array(0);
  /** Mode: 16, 32 or 64. */
  protected mode: 16 | 32 | 64 = 64;
  // Per-instruction state (fields, not locals, so helpers can share them without allocation).
  protected p = 0;
  protected limit = 0;
  protected start = 0;
  protected modrm = -1;
  protected rexR = 0;
  protected rexX = 0;
  protected rexB = 0;
  protected rexW = 0;
  protected hasRex = false;
  protected vvvv = 0;
  /** Vector-SIB memory operand: register base of the index (0 = ordinary SIB). */
  protected vsib = 0;
  /** An operand field holds a value that no register has (e.g. CR5). */
  protected badOperand = false;
  /** 0 = legacy, 1 = VEX, 2 = EVEX, 3 = XOP. */
  protected vex = 0;
  protected vexBad = false;
  protected map = 0;
  protected pfx = 0;
  protected vl = 0;
  protected osz = 32;
  protected asz = 64;

  /**
   * Decodes the operands of opcode `id` into `ins`, reading from `this.p` (just after the opcode
   * or at the ModRM byte). Returns OUT_OF_BYTES or the operand count.
   */
  readOperands(ins: Instruction, id: number): number {
    if (this.vex === 2) this.setDisp8Scale(ins, ENTRY_EVEX[id]!);
    let n = 0;
    const opsBase = id * 5;
    const entryOps = ENTRY_OPS;
    let deferred = -1;
    for (; n < 5; n++) {
      const k = entryOps[opsBase + n]!;
      if (k === 0) break;
      // An is4 register operand before the r/m operand (FMA4 with W1): its byte is the last one.
      if ((k === 65 || k === 133) && n < 4 && entryOps[opsBase + n + 1]! !== 0) {
        deferred = n;
        continue;
      }
      if (this.operand(ins, n, k) < 0) return OUT_OF_BYTES;
    }
    if (deferred >= 0 && this.operand(ins, deferred, entryOps[opsBase + deferred]!) < 0) return OUT_OF_BYTES;
    return n;
  }

  /** EVEX: disp8 is scaled by N (SDM Vol. 2 2.7.5 "Compressed disp8*N"); broadcast element size. */
  protected disp8N = 1;
  /** EVEX broadcast element size in bytes (0 = no broadcast). */
  protected bcastSize = 0;

  protected setDisp8Scale(ins: Instruction, ev: number): void {
    const es = 1 << ((ev >> 4) & 3);
    const vlBytes = 16 << this.vl;
    const b = ins.broadcast && this.modrm < 0xc0;
    this.bcastSize = b ? es : 0;
    switch (ev & 15) {
      case 1: // full vector
        this.disp8N = b ? es : vlBytes;
        break;
      case 2: // half vector
        this.disp8N = b ? es : vlBytes >> 1;
        break;
      case 3: // full mem
        this.disp8N = vlBytes;
        break;
      case 4: // tuple1 scalar
      case 5: // tuple1 fixed
        this.disp8N = es;
        break;
      case 6:
        this.disp8N = es * 2;
        break;
      case 7:
        this.disp8N = es * 4;
        break;
      case 8:
        this.disp8N = es * 8;
        break;
      case 9: // half mem
        this.disp8N = vlBytes >> 1;
        break;
      case 10: // quarter mem
        this.disp8N = vlBytes >> 2;
        break;
      case 11: // eighth mem
        this.disp8N = vlBytes >> 3;
        break;
      case 12: // mem128
        this.disp8N = 16;
        break;
      case 13: // movddup
        this.disp8N = this.vl === 0 ? 8 : vlBytes;
        break;
      case 14: // quarter vector
        this.disp8N = b ? es : vlBytes >> 2;
        break;
      default:
        this.disp8N = 1;
    }
  }

  /** Loads the state an instruction saved when its operands were left for later, then decodes them. */
  materialize(ins: Instruction): void {
    this.data = ins._data;
    this.mode = ins.bitness as 16 | 32 | 64;
    this.start = ins._start;
    this.limit = ins._start + ins.length;
    this.modrm = ins._modrm;
    this.p = this.modrm >= 0 ? ins._opStart + 1 : ins._opStart;
    const r = ins._rexBits;
    this.rexR = r & 3;
    this.rexX = (r >> 2) & 3;
    this.rexB = (r >> 4) & 1;
    this.rexW = (r >> 5) & 1;
    this.hasRex = (r & 64) !== 0;
    this.vex = (r >> 7) & 3;
    this.vl = (r >> 9) & 3;
    this.vvvv = (r >> 11) & 31;
    this.osz = ins.operandSize;
    this.asz = ins.addressSize;
    this.vsib = 0;
    this.badOperand = false;
    const n = this.readOperands(ins, ins.opcode);
    ins._opCount = Math.max(n, 0);
  }

  protected byte(): number {
    if (this.p >= this.limit) return OUT_OF_BYTES;
    return this.data[this.p++]!;
  }

  protected readModrm(): boolean {
    if (this.modrm >= 0) return true;
    const b = this.byte();
    if (b < 0) return false;
    this.modrm = b;
    return true;
  }

  protected gpr(num: number, size: number): number {
    switch (size) {
      case 8:
        return Reg.GPR64 + num;
      case 4:
        return Reg.GPR32 + num;
      case 2:
        return Reg.GPR16 + num;
      default:
        return !this.hasRex && num >= 4 && num < 8 ? Reg.GPR8High + num - 4 : Reg.GPR8 + num;
    }
  }

  protected setReg(ins: Instruction, n: number, reg: number): void {
    ins._opType[n] = OperandType.Register;
    ins._opReg[n] = reg;
  }

  /** Reads an immediate of `size` bytes, sign-extending into immLo/immHi as `extTo` bytes. */
  protected imm(size: number): number {
    const d = this.data;
    if (this.p + size > this.limit) {
      this.p = this.limit;
      return OUT_OF_BYTES;
    }
    const p = this.p;
    this.p += size;
    switch (size) {
      case 1:
        return d[p]!;
      case 2:
        return d[p]! | (d[p + 1]! << 8);
      default:
        return (d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24)) >>> 0;
    }
  }

  /** Decodes operand n of kind k: the common kinds here (small, so it inlines). */
  protected operand(ins: Instruction, n: number, k: number): number {
    switch (k) {
      case 5 /* Gv */:
        ins._opType[n] = OperandType.Register;
        ins._opReg[n] = this.gpr(((this.modrm >> 3) & 7) | (this.rexR << 3), this.osz >> 3);
        return 0;
      case 11 /* Ev */:
        if (this.modrm >= 0xc0) {
          ins._opType[n] = OperandType.Register;
          ins._opReg[n] = this.gpr((this.modrm & 7) | (this.rexB << 3), this.osz >> 3);
          return 0;
        }
        return this.mem(ins, n, this.osz >> 3);
      case 1 /* Gb */:
        ins._opType[n] = OperandType.Register;
        ins._opReg[n] = this.gpr(((this.modrm >> 3) & 7) | (this.rexR << 3), 1);
        return 0;
      case 7 /* Eb */:
        if (this.modrm >= 0xc0) {
          ins._opType[n] = OperandType.Register;
          ins._opReg[n] = this.gpr((this.modrm & 7) | (this.rexB << 3), 1);
          return 0;
        }
        return this.mem(ins, n, 1);
      case 19 /* M */:
        return this.mem(ins, n, 0);
      case 58 /* Ib */:
        {
          if (this.p >= this.limit) return OUT_OF_BYTES;
          ins._immLo = this.data[this.p++]!;
          ins._immHi = 0;
          ins._immSize = 1;
          ins._opType[n] = OperandType.Immediate;
          return 0;
        }
      default:
        return this.operandRare(ins, n, k);
    }
  }

  /** Decodes operand n of kind k. Returns OUT_OF_BYTES or 0. */
  protected operandRare(ins: Instruction, n: number, k: number): number {
    const modrm = this.modrm;
    const reg = ((modrm >> 3) & 7) | (this.rexR << 3);
    const osz = this.osz;
    const oszBytes = osz >> 3;
    switch (k) {
      case 1 /* Gb */:
        this.setReg(ins, n, this.gpr(reg, 1));
        return 0;
      case 2 /* Gw */:
        this.setReg(ins, n, this.gpr(reg, 2));
        return 0;
      case 3 /* Gd */:
        this.setReg(ins, n, this.gpr(reg, 4));
        return 0;
      case 4 /* Gq */:
        this.setReg(ins, n, this.gpr(reg, 8));
        return 0;
      case 5 /* Gv */:
        this.setReg(ins, n, this.gpr(reg, oszBytes));
        return 0;
      case 6 /* Gy */:
        this.setReg(ins, n, this.gpr(reg, osz === 64 ? 8 : 4));
        return 0;
      case 7 /* Eb */:
        return this.rm(ins, n, 1, 1);
      case 8 /* Ew */:
        return this.rm(ins, n, 2, 2);
      case 9 /* Ed */:
        return this.rm(ins, n, 4, 4);
      case 10 /* Eq */:
        return this.rm(ins, n, 8, 8);
      case 11 /* Ev */:
        return this.rm(ins, n, oszBytes, oszBytes);
      case 12 /* Ey */:
        return this.rm(ins, n, osz === 64 ? 8 : 4, osz === 64 ? 8 : 4);
      case 13 /* Ewv */:
        return this.rm(ins, n, oszBytes, 2);
      case 14 /* Rv */:
        this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), oszBytes));
        return 0;
      case 15 /* Ry */:
        this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), osz === 64 ? 8 : 4));
        return 0;
      case 16 /* Rd */:
        this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), 4));
        return 0;
      case 17 /* Rq */:
        this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), 8));
        return 0;
      case 18 /* Rcr */:
        this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), this.mode === 64 ? 8 : 4));
        return 0;
      case 19 /* M */:
      case 33 /* M512 */:
        return this.mem(ins, n, 0);
      case 27 /* Mv */:
        return this.mem(ins, n, oszBytes);
      case 127 /* Menv */:
        return this.mem(ins, n, osz === 16 ? 14 : 28);
      case 128 /* Mstate */:
        return this.mem(ins, n, osz === 16 ? 94 : 108);
      case 28 /* My */:
        return this.mem(ins, n, osz === 64 ? 8 : 4);
      case 29 /* Mp */:
        return this.mem(ins, n, oszBytes + 2);
      case 31 /* Ma */:
        return this.mem(ins, n, oszBytes * 2);
      case 102 /* Md2 */:
        return this.mem(ins, n, oszBytes * 2);
      case 34 /* Sw */:
        this.setReg(ins, n, Reg.Seg + ((modrm >> 3) & 7));
        return 0;
      case 35 /* Cd */:
        // Only CR0, CR2, CR3, CR4 and CR8 exist (SDM Vol. 2 MOV-Move to/from Control Registers).
        if (reg !== 0 && reg !== 2 && reg !== 3 && reg !== 4 && reg !== 8) this.badOperand = true;
        this.setReg(ins, n, Reg.CR + reg);
        return 0;
      case 36 /* Dd */:
        if (reg > 7) this.badOperand = true;
        this.setReg(ins, n, Reg.DR + reg);
        return 0;
      case 37 /* Td */:
        this.setReg(ins, n, Reg.TR + ((modrm >> 3) & 7));
        return 0;
      case 38 /* Pq */:
      case 42 /* Pd */:
        this.setReg(ins, n, Reg.MM + ((modrm >> 3) & 7));
        return 0;
      case 41 /* Nq */:
        this.setReg(ins, n, Reg.MM + (modrm & 7));
        return 0;
      case 39 /* Qq */:
      case 40 /* Qd */:
        if (modrm >= 0xc0) {
          this.setReg(ins, n, Reg.MM + (modrm & 7));
          return 0;
        }
        return this.mem(ins, n, FIXED_MEM_SIZE[k]!);
      case 43 /* V */:
        this.setReg(ins, n, Reg.XMM + reg);
        return 0;
      case 53 /* U */:
        this.setReg(
          ins,
          n,
          Reg.XMM + ((modrm & 7) | (this.rexB << 3) | (this.vex === 2 ? (this.rexX << 4) & 16 : 0)),
        );
        return 0;
      case 46 /* W */:
      case 48 /* Wb */:
      case 49 /* Ww */:
      case 50 /* Wd */:
      case 51 /* Wq */:
      case 103 /* Wss */:
      case 104 /* Wsd */:
        if (modrm >= 0xc0) {
          this.setReg(
            ins,
            n,
            Reg.XMM + ((modrm & 7) | (this.rexB << 3) | (this.vex === 2 ? (this.rexX << 4) & 16 : 0)),
          );
          return 0;
        }
        return this.mem(ins, n, FIXED_MEM_SIZE[k]!);
      case 44 /* Vx */:
        this.setReg(ins, n, this.vecBase(this.vl) + reg);
        return 0;
      case 45 /* Vqq */:
        this.setReg(ins, n, Reg.YMM + reg);
        return 0;
      case 107 /* Vh */:
        this.setReg(ins, n, this.vecBase(this.vl - 1) + reg);
        return 0;
      case 111 /* Vxmm */:
        this.setReg(ins, n, Reg.XMM + reg);
        return 0;
      case 55 /* H */:
      case 114 /* Hxmm */:
        this.setReg(ins, n, Reg.XMM + this.vvvv);
        return 0;
      case 56 /* Hx */:
        this.setReg(ins, n, this.vecBase(this.vl) + this.vvvv);
        return 0;
      case 57 /* By */:
        this.setReg(ins, n, this.gpr(this.vvvv, osz === 64 ? 8 : 4));
        return 0;
      case 54 /* Ux */:
        this.setReg(
          ins,
          n,
          this.vecBase(this.vl) +
            ((modrm & 7) | (this.rexB << 3) | ((this.rexX << 4) & (this.vex === 2 ? 16 : 0))),
        );
        return 0;
      case 113 /* Uxmm */:
        this.setReg(
          ins,
          n,
          Reg.XMM + ((modrm & 7) | (this.rexB << 3) | (this.vex === 2 ? (this.rexX << 4) & 16 : 0)),
        );
        return 0;
      case 47 /* Wx */:
        return this.vecRm(ins, n, this.vecBase(this.vl), 16 << this.vl);
      case 52 /* Wqq */:
        return this.vecRm(ins, n, Reg.YMM, 32);
      case 112 /* Wxmm */:
        return this.vecRm(ins, n, Reg.XMM, 16);
      case 106 /* Wh */:
        return this.vecRm(ins, n, this.vecBase(this.vl - 1), 8 << this.vl);
      case 109 /* Wq4 */:
        return this.vecRm(ins, n, Reg.XMM, 4 << this.vl);
      case 110 /* Wo8 */:
        return this.vecRm(ins, n, Reg.XMM, 2 << this.vl);
      case 32 /* Mx */:
        return this.mem(ins, n, 16 << this.vl);
      case 124 /* Edw */:
      case 125 /* Edb */:
        if (modrm >= 0xc0) {
          this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), 4));
          return 0;
        }
        return this.mem(ins, n, k === OK.Edw ? 2 : 1);
      case 120 /* Ed64 */:
        return this.rm(ins, n, this.mode === 64 ? 8 : 4, this.mode === 64 ? 8 : 4);
      case 126 /* Gd64r */:
        this.setReg(ins, n, this.gpr(reg, this.mode === 64 ? 8 : 4));
        return 0;
      case 96 /* KR */:
        if (this.rexR !== 0) this.badOperand = true;
        this.setReg(ins, n, Reg.K + ((modrm >> 3) & 7));
        return 0;
      case 99 /* KU */:
        this.setReg(ins, n, Reg.K + (modrm & 7));
        return 0;
      case 98 /* KH */:
        if (this.vvvv > 7) this.badOperand = true;
        this.setReg(ins, n, Reg.K + (this.vvvv & 7));
        return 0;
      case 97 /* KM */:
        if (modrm >= 0xc0) {
          this.setReg(ins, n, Reg.K + (modrm & 7));
          return 0;
        }
        return this.mem(ins, n, 0);
      case 116 /* VSIBx */:
      case 135 /* VSIBh */:
      case 117 /* VSIBy */:
        {
          this.vsib = k === 116 ? Reg.XMM : k === 135 ? this.vecBase(this.vl - 1) : this.vecBase(this.vl);
          const r = this.mem(ins, n, 0);
          this.vsib = 0;
          return r;
        }
      case 136 /* Ib4 */:
        // Operands are decoded from the saved state, where limit is the end of the instruction.
        ins._immLo = this.data[this.limit - 1]! & 15;
        ins._immHi = 0;
        ins._immSize = 1;
        ins._opType[n] = OperandType.Immediate;
        return 0;
      case 137 /* Tr */:
        if (this.rexR !== 0) this.badOperand = true;
        this.setReg(ins, n, Reg.TMM + ((modrm >> 3) & 7));
        return 0;
      case 138 /* Tm */:
        if (this.rexB !== 0) this.badOperand = true;
        this.setReg(ins, n, Reg.TMM + (modrm & 7));
        return 0;
      case 139 /* Th */:
        {
          if (this.vvvv > 7) this.badOperand = true;
          const t = Reg.TMM + (this.vvvv & 7);
          if (t === ins._opReg[0] || t === ins._opReg[1] || ins._opReg[0] === ins._opReg[1])
            this.badOperand = true;
          this.setReg(ins, n, t);
          return 0;
        }
      case 140 /* Msib */:
        if ((modrm & 7) !== 4) this.badOperand = true;
        return this.mem(ins, n, 0);
      case 141 /* Ra */:
        this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), this.asz >> 3));
        return 0;
      case 142 /* Id */:
        {
          const v = this.imm(4);
          if (v < 0) return OUT_OF_BYTES;
          ins._immLo = v;
          ins._immHi = 0;
          ins._immSize = 4;
          ins._opType[n] = OperandType.Immediate;
          return 0;
        }
      case 129 /* aAX */:
        this.setReg(ins, n, this.gpr(0, this.asz >> 3));
        return 0;
      case 134 /* Ga */:
        this.setReg(ins, n, this.gpr(reg, this.asz >> 3));
        return 0;
      case 130 /* EAX */:
        this.setReg(ins, n, Reg.GPR32);
        return 0;
      case 131 /* ECX */:
        this.setReg(ins, n, Reg.GPR32 + 1);
        return 0;
      case 132 /* Ezv */:
        return this.rm(ins, n, osz === 16 ? 2 : 4, osz === 16 ? 2 : 4);
      case 133 /* Ibrx */:
        {
          const v = this.imm(1);
          if (v < 0) return OUT_OF_BYTES;
          this.setReg(ins, n, Reg.XMM + ((v >> 4) & (this.mode === 64 ? 15 : 7)));
          return 0;
        }
      case 65 /* Ibx */:
        {
          const v = this.imm(1);
          if (v < 0) return OUT_OF_BYTES;
          this.setReg(ins, n, this.vecBase(this.vl) + ((v >> 4) & (this.mode === 64 ? 15 : 7)));
          return 0;
        }
      case 58 /* Ib */:
      case 63 /* Ib2 */:
        {
          const v = this.imm(1);
          if (v < 0) return OUT_OF_BYTES;
          if (k === OK.Ib2) {
            ins._imm2 = v;
            ins._opType[n] = OperandType.Immediate2;
          } else {
            ins._immLo = v;
            ins._immHi = 0;
            ins._immSize = 1;
            ins._opType[n] = OperandType.Immediate;
          }
          return 0;
        }
      case 59 /* Ibs */:
        {
          const v = this.imm(1);
          if (v < 0) return OUT_OF_BYTES;
          const s = (v << 24) >> 24;
          this.setImm(ins, n, s, oszBytes);
          return 0;
        }
      case 60 /* Iw */:
        {
          const v = this.imm(2);
          if (v < 0) return OUT_OF_BYTES;
          ins._immLo = v;
          ins._immHi = 0;
          ins._immSize = 2;
          ins._opType[n] = OperandType.Immediate;
          return 0;
        }
      case 61 /* Iz */:
        {
          const v = this.imm(osz === 16 ? 2 : 4);
          if (v < 0) return OUT_OF_BYTES;
          this.setImm(ins, n, osz === 16 ? v : v | 0, oszBytes);
          return 0;
        }
      case 62 /* Iv */:
        {
          if (osz === 64) {
            const lo = this.imm(4);
            if (lo < 0) return OUT_OF_BYTES;
            const hi = this.imm(4);
            if (hi < 0) return OUT_OF_BYTES;
            ins._immLo = lo;
            ins._immHi = hi;
            ins._immSize = 8;
            ins._opType[n] = OperandType.Immediate;
            return 0;
          }
          const v = this.imm(oszBytes);
          if (v < 0) return OUT_OF_BYTES;
          this.setImm(ins, n, v, oszBytes);
          return 0;
        }
      case 64 /* I1 */:
        ins._immLo = 1;
        ins._immHi = 0;
        ins._immSize = 1;
        ins._opType[n] = OperandType.Immediate;
        return 0;
      case 66 /* Jb */:
      case 67 /* Jz */:
        {
          let rel: number;
          if (k === OK.Jb) {
            const v = this.imm(1);
            if (v < 0) return OUT_OF_BYTES;
            rel = (v << 24) >> 24;
          } else {
            const v = this.imm(osz === 16 ? 2 : 4);
            if (v < 0) return OUT_OF_BYTES;
            rel = osz === 16 ? (v << 16) >> 16 : v | 0;
          }
          this.branch(ins, n, rel);
          return 0;
        }
      case 68 /* Ap */:
        {
          const off = this.imm(osz === 16 ? 2 : 4);
          if (off < 0) return OUT_OF_BYTES;
          const sel = this.imm(2);
          if (sel < 0) return OUT_OF_BYTES;
          ins._farOffset = off;
          ins._farSelector = sel;
          ins._opType[n] = OperandType.FarBranch;
          return 0;
        }
      case 69 /* Ob */:
      case 70 /* Ov */:
        {
          const asz = this.asz;
          const lo = this.imm(asz === 16 ? 2 : 4);
          if (lo < 0) return OUT_OF_BYTES;
          let hi = 0;
          if (asz === 64) {
            hi = this.imm(4);
            if (hi < 0) return OUT_OF_BYTES;
          }
          ins._opType[n] = OperandType.Memory;
          ins._memBase = 0;
          ins._memIndex = 0;
          ins._memScale = 1;
          ins._memDisp = lo | 0;
          ins._memDispHi = hi;
          ins._memDispSize = asz >> 3;
          ins._memSize = k === OK.Ob ? 1 : oszBytes;
          ins._memRipRelative = false;
          ins._memSegment = ins.segmentPrefix || Reg.DS;
          return 0;
        }
      case 71 /* AL */:
        this.setReg(ins, n, Reg.GPR8);
        return 0;
      case 72 /* CL */:
        this.setReg(ins, n, Reg.GPR8 + 1);
        return 0;
      case 73 /* AX */:
        this.setReg(ins, n, Reg.GPR16);
        return 0;
      case 74 /* DX */:
        this.setReg(ins, n, Reg.GPR16 + 2);
        return 0;
      case 75 /* eAX */:
        this.setReg(ins, n, osz === 16 ? Reg.GPR16 : Reg.GPR32);
        return 0;
      case 76 /* rAX */:
        this.setReg(ins, n, this.gpr(0, oszBytes));
        return 0;
      case 77 /* ES */:
      case 78 /* CS */:
      case 79 /* SS */:
      case 80 /* DS */:
      case 81 /* FS */:
      case 82 /* GS */:
        this.setReg(ins, n, Reg.ES + (k - OK.ES));
        return 0;
      case 83 /* ST0 */:
        this.setReg(ins, n, Reg.ST);
        return 0;
      case 84 /* STi */:
        this.setReg(ins, n, Reg.ST + (modrm & 7));
        return 0;
      case 85 /* XMM0 */:
        this.setReg(ins, n, Reg.XMM);
        return 0;
      case 86 /* Zb */:
      case 87 /* Zv */:
      case 88 /* Zq */:
        {
          const num = (this.data[this.p - 1]! & 7) | (this.rexB << 3);
          this.setReg(ins, n, this.gpr(num, k === OK.Zb ? 1 : oszBytes));
          return 0;
        }
      case 89 /* Xb */:
      case 90 /* Xv */:
      case 91 /* Yb */:
      case 92 /* Yv */:
      case 93 /* Xlat */:
        {
          const asz = this.asz;
          const isY = k === OK.Yb || k === OK.Yv;
          const num = k === OK.Xlat ? 3 : isY ? 7 : 6;
          ins._opType[n] = OperandType.Memory;
          ins._memBase = asz === 64 ? Reg.GPR64 + num : asz === 32 ? Reg.GPR32 + num : Reg.GPR16 + num;
          ins._memIndex = 0;
          ins._memScale = 1;
          ins._memDisp = 0;
          ins._memDispHi = 0;
          ins._memDispSize = 0;
          ins._memSize = k === OK.Xb || k === OK.Yb || k === OK.Xlat ? 1 : oszBytes;
          ins._memRipRelative = false;
          ins._memSegment = isY ? Reg.ES : ins.segmentPrefix || Reg.DS;
          return 0;
        }
      default: {
        const fixed = FIXED_MEM_SIZE[k]!;
        if (fixed !== 0) return this.mem(ins, n, fixed);
        return this.mem(ins, n, 0);
      }
    }
  }

  protected vecBase(l: number): number {
    return l <= 0 ? Reg.XMM : l === 1 ? Reg.YMM : Reg.ZMM;
  }

  /** Vector register (from r/m) or memory of `size` bytes. */
  protected vecRm(ins: Instruction, n: number, regBase: number, size: number): number {
    if (this.modrm >= 0xc0) {
      const x = this.vex === 2 ? (this.rexX << 4) & 16 : 0;
      this.setReg(ins, n, regBase + ((this.modrm & 7) | (this.rexB << 3) | x));
      return 0;
    }
    return this.mem(ins, n, size);
  }

  protected setImm(ins: Instruction, n: number, v: number, size: number): void {
    // v is a signed 32-bit value (or an unsigned 16-bit one for 16-bit sizes).
    ins._opType[n] = OperandType.Immediate;
    ins._immSize = size;
    if (size === 2) {
      ins._immLo = v & 0xffff;
      ins._immHi = 0;
    } else if (size === 4) {
      ins._immLo = v >>> 0;
      ins._immHi = 0;
    } else {
      ins._immLo = v >>> 0;
      ins._immHi = v < 0 ? 0xffffffff : 0;
    }
  }

  protected branch(ins: Instruction, n: number, rel: number): void {
    ins._opType[n] = OperandType.NearBranch;
    const len = this.p - this.start;
    let lo = ins.ipLo + len + rel;
    let hi = ins.ipHi;
    if (lo < 0) {
      lo += 0x100000000;
      hi = (hi - 1) >>> 0;
    } else if (lo > 0xffffffff) {
      lo -= 0x100000000;
      hi = (hi + 1) >>> 0;
    }
    // XBEGIN's target is not truncated to 16 bits (iced-x86 computes it with the full IP).
    if (this.osz === 16 && ENTRY_FLOW[ins.opcode] !== FLOW_XBEGIN) {
      lo &= 0xffff;
      hi = 0;
    } else if (this.osz === 32 || this.mode !== 64) {
      hi = 0;
    }
    ins._targetLo = lo >>> 0;
    ins._targetHi = hi;
  }

  /** Register or memory from ModRM.r/m. */
  protected rm(ins: Instruction, n: number, regSize: number, memSize: number): number {
    if (this.modrm >= 0xc0) {
      this.setReg(ins, n, this.gpr((this.modrm & 7) | (this.rexB << 3), regSize));
      return 0;
    }
    return this.mem(ins, n, memSize);
  }

  /** Memory operand from ModRM (+SIB, displacement). SDM Vol. 2 Tables 2-1..2-3. */
  protected mem(ins: Instruction, n: number, size: number): number {
    const modrm = this.modrm;
    const mod = modrm >> 6;
    const rmBits = modrm & 7;
    ins._opType[n] = OperandType.Memory;
    ins._memSize = size;
    ins._memScale = 1;
    ins._memIndex = 0;
    ins._memBase = 0;
    ins._memDisp = 0;
    ins._memDispHi = 0;
    ins._memDispSize = 0;
    ins._memRipRelative = false;
    let ss = false;
    if (this.asz === 16) {
      if (this.vsib !== 0) this.badOperand = true; // VSIB needs 32/64-bit addressing
      switch (rmBits) {
        case 0:
          ins._memBase = Reg.GPR16 + 3;
          ins._memIndex = Reg.GPR16 + 6;
          break;
        case 1:
          ins._memBase = Reg.GPR16 + 3;
          ins._memIndex = Reg.GPR16 + 7;
          break;
        case 2:
          ins._memBase = Reg.GPR16 + 5;
          ins._memIndex = Reg.GPR16 + 6;
          ss = true;
          break;
        case 3:
          ins._memBase = Reg.GPR16 + 5;
          ins._memIndex = Reg.GPR16 + 7;
          ss = true;
          break;
        case 4:
          ins._memBase = Reg.GPR16 + 6;
          break;
        case 5:
          ins._memBase = Reg.GPR16 + 7;
          break;
        case 6:
          if (mod === 0) break;
          ins._memBase = Reg.GPR16 + 5;
          ss = true;
          break;
        default:
          ins._memBase = Reg.GPR16 + 3;
      }
      if (mod === 1) {
        const v = this.imm(1);
        if (v < 0) return OUT_OF_BYTES;
        ins._memDisp = this.vex === 2 ? ((v << 24) >> 24) * this.disp8N : (v << 24) >> 24;
        ins._memDispSize = 1;
      } else if (mod === 2 || (mod === 0 && rmBits === 6)) {
        const v = this.imm(2);
        if (v < 0) return OUT_OF_BYTES;
        ins._memDisp = mod === 0 ? v : (v << 16) >> 16;
        ins._memDispSize = 2;
      }
    } else {
      const regBase = this.asz === 64 ? Reg.GPR64 : Reg.GPR32;
      let baseNum = rmBits;
      let noBase = false;
      if (rmBits === 4) {
        const sib = this.imm(1);
        if (sib < 0) return OUT_OF_BYTES;
        const idx = ((sib >> 3) & 7) | (this.rexX << 3);
        if (this.vsib !== 0) {
          ins._memIndex = this.vsib + idx + (this.vex === 2 ? this.vvvv & 16 : 0);
          ins._memScale = 1 << (sib >> 6);
        } else if (idx !== 4) {
          ins._memIndex = regBase + idx;
          ins._memScale = 1 << (sib >> 6);
        }
        baseNum = sib & 7;
        if (baseNum === 5 && mod === 0) noBase = true;
      } else if (this.vsib !== 0) {
        this.badOperand = true; // VSIB needs a SIB byte
        if (rmBits === 5 && mod === 0) noBase = true;
      } else if (rmBits === 5 && mod === 0) {
        noBase = true;
        if (this.mode === 64) {
          ins._memRipRelative = true;
          ins._memBase = this.asz === 64 ? Reg.RIP : Reg.EIP;
        }
      }
      if (!noBase) {
        const num = baseNum | (this.rexB << 3);
        ins._memBase = regBase + num;
        if (num === 4 || num === 5) ss = true;
      }
      if (mod === 1) {
        const v = this.imm(1);
        if (v < 0) return OUT_OF_BYTES;
        ins._memDisp = this.vex === 2 ? ((v << 24) >> 24) * this.disp8N : (v << 24) >> 24;
        ins._memDispSize = 1;
      } else if (mod === 2 || noBase) {
        const v = this.imm(4);
        if (v < 0) return OUT_OF_BYTES;
        ins._memDisp = v | 0;
        ins._memDispSize = 4;
      }
      if (ins._memDisp < 0 && this.asz === 64) ins._memDispHi = 0xffffffff;
    }
    ins._memSegment = ins.segmentPrefix || (ss ? Reg.SS : Reg.DS);
    if (this.vex === 2 && this.bcastSize !== 0) ins._memSize = this.bcastSize;
    return 0;
  }
}
