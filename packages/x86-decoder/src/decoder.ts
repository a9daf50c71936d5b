import { OK } from "./generated/operand-kind-ids.js";
import { ENTRY_FLAGS, ENTRY_OPS, MAP_ROOTS, NODES } from "./generated/tables.js";
import { type Instruction, InvalidReason, OperandType, Prefix } from "./instruction.js";
import { Reg } from "./registers.js";
import { EntryFlag, MapId, NodeKind } from "./table-format.js";

/** Legacy prefix bytes and REX (40-4F; a prefix in 64-bit mode only). */
const IS_PREFIX = new Uint8Array(256);
for (const p of [0xf0, 0xf2, 0xf3, 0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) IS_PREFIX[p] = 1;
for (let p = 0x40; p < 0x50; p++) IS_PREFIX[p] = 1;

/** Returned internally when the bytes run out. */
const OUT_OF_BYTES = -1;
/** vexPrefix: the instruction is complete (invalid). */
const VEX_DONE = -2;
/** vexPrefix: not a VEX/EVEX/XOP prefix. */
const NOT_VEX = -3;

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
 * A streaming x86 decoder over a byte array. It fills one caller-owned {@link Instruction} per
 * call and allocates nothing per instruction.
 *
 * ```ts
 * const d = new Decoder(64, bytes, 0x1000);
 * const ins = new Instruction();
 * while (d.canDecode) { d.decodeOut(ins); ... }
 * ```
 */
export class Decoder {
  /** Mode: 16, 32 or 64. */
  readonly bitness: 16 | 32 | 64;
  /** Bytes being decoded. */
  private data: Uint8Array;
  /** Offset of the next instruction in the bytes. */
  position: number;
  /** End offset (exclusive) of the bytes to decode. */
  end: number;
  /** Address of the next instruction, low 32 bits. */
  ipLo = 0;
  /** Address of the next instruction, high 32 bits. */
  ipHi = 0;

  // Per-instruction state (fields, not locals, so helpers can share them without allocation).
  private p = 0;
  private limit = 0;
  private start = 0;
  private modrm = -1;
  private rexR = 0;
  private rexX = 0;
  private rexB = 0;
  private rexW = 0;
  private hasRex = false;
  private vvvv = 0;
  /** Vector-SIB memory operand: register base of the index (0 = ordinary SIB). */
  private vsib = 0;
  /** An operand field holds a value that no register has (e.g. CR5). */
  private badOperand = false;
  /** 0 = legacy, 1 = VEX, 2 = EVEX, 3 = XOP. */
  private vex = 0;
  private vexBad = false;
  private map = 0;
  private pfx = 0;
  private vl = 0;
  private osz = 32;
  private asz = 64;

  /**
   * @param bitness 16, 32 or 64
   * @param data the bytes
   * @param ip address of `data[offset]` (a number below 2^53; use {@link Decoder.setIp} for more)
   * @param offset first byte to decode
   * @param end end of the bytes to decode (exclusive)
   */
  constructor(bitness: 16 | 32 | 64, data: Uint8Array, ip = 0, offset = 0, end = data.length) {
    if (bitness !== 16 && bitness !== 32 && bitness !== 64)
      throw new RangeError("bitness must be 16, 32 or 64");
    if (offset < 0 || end > data.length || offset > end) throw new RangeError("offset/end outside the data");
    this.bitness = bitness;
    this.data = data;
    this.position = offset;
    this.end = end;
    this.ip = ip;
  }

  /** Address of the next instruction as a number (exact below 2^53). */
  get ip(): number {
    return this.ipHi * 0x100000000 + this.ipLo;
  }
  set ip(v: number) {
    this.ipLo = v >>> 0;
    this.ipHi = Math.floor(v / 0x100000000) >>> 0;
  }

  /** Sets the address of the next instruction from two 32-bit halves. */
  setIp(lo: number, hi: number): void {
    this.ipLo = lo >>> 0;
    this.ipHi = hi >>> 0;
  }

  /** Decodes from other bytes, keeping the mode. */
  reset(data: Uint8Array, ip = 0, offset = 0, end = data.length): void {
    this.data = data;
    this.position = offset;
    this.end = end;
    this.ip = ip;
  }

  /** True while bytes remain. */
  get canDecode(): boolean {
    return this.position < this.end;
  }

  /** Decodes the next instruction into `ins` and advances by its length. */
  decodeOut(ins: Instruction): void {
    const start = this.position;
    this.start = start;
    this.p = start;
    const end = this.end;
    this.limit = Math.min(end, start + 15);
    ins.bitness = this.bitness;
    ins.ipLo = this.ipLo;
    ins.ipHi = this.ipHi;
    const r = this.decodeOne(ins);
    let len = this.p - start;
    if (r === OUT_OF_BYTES) {
      this.fail(ins, end > start + 15 ? InvalidReason.TooLong : InvalidReason.NeedMoreBytes);
      len = end > start + 15 ? 15 : end - start;
    }
    ins.length = len;
    this.position = start + len;
    const lo = this.ipLo + len;
    if (lo > 0xffffffff) {
      this.ipLo = lo - 0x100000000;
      if (this.bitness === 64) this.ipHi = (this.ipHi + 1) >>> 0;
    } else {
      this.ipLo = lo;
    }
  }

  private fail(ins: Instruction, reason: InvalidReason): void {
    ins.invalidReason = reason;
    ins.opcode = 0;
    ins.opCount = 0;
  }

  private byte(): number {
    if (this.p >= this.limit) return OUT_OF_BYTES;
    return this.data[this.p++]!;
  }

  private readModrm(): boolean {
    if (this.modrm >= 0) return true;
    const b = this.byte();
    if (b < 0) return false;
    this.modrm = b;
    return true;
  }

  /** Returns OUT_OF_BYTES when the bytes end, else 0. */
  private decodeOne(ins: Instruction): number {
    const data = this.data;
    const mode = this.bitness;
    let prefixes = 0;
    let seg = 0;
    let lastSeg = 0;
    let rep = 0; // last of F2/F3
    let rex = 0;
    this.modrm = -1;
    this.vvvv = 0;
    this.badOperand = false;
    this.vl = 0;
    ins.invalidReason = InvalidReason.None;
    if (this.p >= this.limit) return OUT_OF_BYTES;
    let b = data[this.p++]!;
    // Legacy prefixes and REX (SDM 2.1.1, 2.2.1); most instructions have none.
    if (IS_PREFIX[b] !== 0 && (mode === 64 || (b & 0xf0) !== 0x40)) {
      for (;;) {
        switch (b) {
          case 0xf0:
            prefixes |= Prefix.Lock;
            rex = 0;
            break;
          case 0xf2:
            prefixes |= Prefix.Repne;
            rep = 0xf2;
            rex = 0;
            break;
          case 0xf3:
            prefixes |= Prefix.Rep;
            rep = 0xf3;
            rex = 0;
            break;
          case 0x66:
            prefixes |= Prefix.OperandSize;
            rex = 0;
            break;
          case 0x67:
            prefixes |= Prefix.AddressSize;
            rex = 0;
            break;
          case 0x26:
          case 0x2e:
          case 0x36:
          case 0x3e:
            if (mode !== 64 || (seg !== Reg.FS && seg !== Reg.GS)) seg = Reg.ES + ((b >> 3) & 3);
            lastSeg = b;
            prefixes |= Prefix.Segment;
            rex = 0;
            break;
          case 0x64:
          case 0x65:
            seg = b === 0x64 ? Reg.FS : Reg.GS;
            lastSeg = b;
            prefixes |= Prefix.Segment;
            rex = 0;
            break;
          default:
            // REX (64-bit mode only; the caller checked the mode)
            rex = b;
        }
        if (this.p >= this.limit) return OUT_OF_BYTES;
        b = data[this.p++]!;
        if (IS_PREFIX[b] === 0 || (mode !== 64 && (b & 0xf0) === 0x40)) break;
      }
    }
    this.hasRex = rex !== 0;
    if (rex !== 0) prefixes |= Prefix.Rex;
    this.rexW = (rex >> 3) & 1;
    this.rexR = (rex >> 2) & 1;
    this.rexX = (rex >> 1) & 1;
    this.rexB = rex & 1;
    ins.rex = rex;
    ins.repPrefix = rep;
    ins.lastSegment = lastSeg;
    ins.prefixes = prefixes;
    ins.segmentPrefix = seg;

    const a67 = (prefixes & Prefix.AddressSize) !== 0;
    const asz = mode === 64 ? (a67 ? 32 : 64) : mode === 32 ? (a67 ? 16 : 32) : a67 ? 32 : 16;
    this.asz = asz;

    // Opcode map selection.
    let map: number = MapId.Legacy;
    let pfx = rep === 0xf3 ? 2 : rep === 0xf2 ? 3 : prefixes & Prefix.OperandSize ? 1 : 0;
    this.vexBad = false; // a VEX/EVEX/XOP rule is broken: decode in full, then invalid
    this.vex = 0;
    if ((b === 0xc4 || b === 0xc5 || b === 0x62 || b === 0x8f) && this.p < this.limit) {
      const r = this.vexPrefix(ins, b, prefixes, rex);
      if (r === OUT_OF_BYTES) return OUT_OF_BYTES;
      if (r === VEX_DONE) return 0;
      if (r >= 0) {
        b = r;
        map = this.map;
        pfx = this.pfx;
        prefixes = ins.prefixes;
      }
    }
    if (this.vex === 0 && b === 0x0f) {
      b = this.byte();
      if (b < 0) return OUT_OF_BYTES;
      if (b === 0x0f) return this.decode3DNow(ins, prefixes);
      if (b === 0x38) map = MapId.M0F38;
      else if (b === 0x3a) map = MapId.M0F3A;
      else map = MapId.M0F;
      if (map !== MapId.M0F) {
        b = this.byte();
        if (b < 0) return OUT_OF_BYTES;
      }
    }

    // Sizes before table selection.
    const o66 = (prefixes & Prefix.OperandSize) !== 0;
    let osz =
      this.vex !== 0
        ? mode === 64 && this.rexW
          ? 64
          : 32
        : mode === 64
          ? this.rexW
            ? 64
            : o66
              ? 16
              : 32
          : mode === 32
            ? o66
              ? 16
              : 32
            : o66
              ? 32
              : 16;

    // Walk the decoding tree.
    const nodes = NODES;
    let node = nodes[MAP_ROOTS[map]! + b]!;
    const modeIdx = mode === 16 ? 0 : mode === 32 ? 1 : 2;
    const oszIdx = osz === 16 ? 0 : osz === 32 ? 1 : 2;
    const aszIdx = asz === 16 ? 0 : asz === 32 ? 1 : 2;
    for (;;) {
      const kind = node & 15;
      if (kind === NodeKind.Leaf) break;
      if (kind <= NodeKind.InvalidExtra) {
        if (kind !== NodeKind.Invalid && !this.readModrm()) return OUT_OF_BYTES;
        if (kind === NodeKind.InvalidExtra) {
          // iced-x86 reads the immediate bytes of some undefined forms: payload = their count.
          for (let i = node >>> 4; i > 0; i--) if (this.byte() < 0) return OUT_OF_BYTES;
        }
        this.fail(ins, InvalidReason.NoSuchOpcode);
        return 0;
      }
      const base = node >>> 4;
      let v = 0;
      switch (kind - NodeKind.SwitchBase) {
        case 0 /* Dim.Mode */:
          v = modeIdx;
          break;
        case 1 /* Dim.Pfx */:
          v = pfx;
          break;
        case 2 /* Dim.RexB */:
          v = this.rexB;
          break;
        case 3 /* Dim.W */:
          v = this.rexW;
          break;
        case 4 /* Dim.L */:
          v = this.vl;
          break;
        case 5 /* Dim.Mod */:
          if (!this.readModrm()) return OUT_OF_BYTES;
          v = this.modrm >= 0xc0 ? 1 : 0;
          break;
        case 6 /* Dim.Reg */:
          if (!this.readModrm()) return OUT_OF_BYTES;
          v = (this.modrm >> 3) & 7;
          break;
        case 7 /* Dim.Rm */:
          if (!this.readModrm()) return OUT_OF_BYTES;
          v = this.modrm & 7;
          break;
        case 8 /* Dim.Osz */:
          v = oszIdx;
          break;
        case 9 /* Dim.Asz */:
          v = aszIdx;
          break;
      }
      node = nodes[base + v]!;
    }
    const id = node >>> 4;
    const flags = ENTRY_FLAGS[id]!;
    if (flags & EntryFlag.ModRM && !this.readModrm()) return OUT_OF_BYTES;
    if (flags & EntryFlag.Mandatory66 && this.vex === 0) {
      osz = mode === 64 ? (this.rexW ? 64 : 32) : mode === 32 ? 32 : 16;
    }
    if (mode === 64) {
      if (flags & EntryFlag.F64) osz = 64;
      else if (flags & EntryFlag.D64 && !(o66 && !this.rexW)) osz = 64;
    }
    this.osz = osz;
    ins.operandSize = osz;
    ins.addressSize = asz;
    ins.opcode = id;
    pfx = 0;
    // Operands, in encoding order (immediates follow ModRM/SIB/displacement).
    let n = 0;
    const opsBase = id * 5;
    const entryOps = ENTRY_OPS;
    for (; n < 5; n++) {
      const k = entryOps[opsBase + n]!;
      if (k === 0) break;
      if (this.operand(ins, n, k) < 0) return OUT_OF_BYTES;
    }
    ins.opCount = n;
    ins.modrmIsMemory = this.modrm >= 0 && this.modrm < 0xc0;
    if (this.vex !== 0 && !(flags & EntryFlag.UsesVvvv) && this.vvvv !== 0) this.vexBad = true;
    if (flags & EntryFlag.Bad || this.vexBad || this.badOperand) {
      this.fail(ins, InvalidReason.NoSuchOpcode);
      return 0;
    }
    if (prefixes & Prefix.Lock) {
      if (!(flags & EntryFlag.Lock) || this.modrm < 0 || this.modrm >= 0xc0) {
        this.fail(ins, InvalidReason.LockNotAllowed);
        return 0;
      }
    }
    return 0;
  }

  /**
   * VEX (C4/C5), EVEX (62) and XOP (8F) prefixes: SDM 2.3.5, 2.7; AMD APM Vol. 3 1.8. Returns the
   * opcode byte, OUT_OF_BYTES, VEX_DONE (invalid, decoded) or NOT_VEX (the byte is LES/LDS/BOUND/POP).
   */
  private vexPrefix(ins: Instruction, b: number, prefixes: number, rex: number): number {
    const data = this.data;
    const mode = this.bitness;
    let map = 0;
    const b1 = data[this.p]!;
    let kind = 0;
    if (b === 0x8f) kind = (b1 & 0x1f) >= 8 ? 3 : 0;
    else if (mode === 64 || b1 >= 0xc0) kind = b === 0x62 ? 2 : 1;
    if (kind !== 0) {
      // SDM 2.3.5 (VEX), 2.7 (EVEX); AMD APM Vol. 3 1.8 (XOP).
      if (prefixes & (Prefix.Lock | Prefix.Rep | Prefix.Repne | Prefix.OperandSize) || rex !== 0)
        this.vexBad = true;
      this.p++;
      let b2 = 0;
      let mmmmm = 1;
      let pp = 0;
      if (b === 0xc5) {
        this.rexR = (~b1 >> 7) & 1;
        this.rexX = 0;
        this.rexB = 0;
        this.rexW = 0;
        b2 = b1;
      } else {
        b2 = this.byte();
        if (b2 < 0) return OUT_OF_BYTES;
        this.rexR = (~b1 >> 7) & 1;
        this.rexX = (~b1 >> 6) & 1;
        this.rexB = (~b1 >> 5) & 1;
        this.rexW = b2 >> 7;
        mmmmm = kind === 2 ? b1 & 7 : b1 & 0x1f;
      }
      this.vvvv = (~b2 >> 3) & 15;
      pp = b2 & 3;
      if (kind === 2) {
        // EVEX: P0 = R X B R' 0 m m m, P1 = W vvvv 1 pp, P2 = z L'L b V' aaa
        const b3 = this.byte();
        if (b3 < 0) return OUT_OF_BYTES;
        this.rexR |= ((~b1 >> 4) & 1) << 1;
        if (b1 & 0x08 || !(b2 & 0x04)) this.vexBad = true;
        this.vl = (b3 >> 5) & 3;
        this.vvvv |= ((~b3 >> 3) & 1) << 4;
        ins.zeroing = (b3 & 0x80) !== 0;
        ins.broadcast = (b3 & 0x10) !== 0;
        ins.opmask = b3 & 7;
        map =
          mmmmm === 1
            ? MapId.Evex0F
            : mmmmm === 2
              ? MapId.Evex0F38
              : mmmmm === 3
                ? MapId.Evex0F3A
                : mmmmm === 5
                  ? MapId.EvexMap5
                  : mmmmm === 6
                    ? MapId.EvexMap6
                    : -1;
        prefixes |= Prefix.Evex;
      } else {
        this.vl = (b2 >> 2) & 1;
        if (kind === 1) {
          map = mmmmm === 1 ? MapId.Vex0F : mmmmm === 2 ? MapId.Vex0F38 : mmmmm === 3 ? MapId.Vex0F3A : -1;
          prefixes |= Prefix.Vex;
        } else {
          map = mmmmm === 8 ? MapId.Xop8 : mmmmm === 9 ? MapId.Xop9 : mmmmm === 10 ? MapId.XopA : -1;
          prefixes |= Prefix.Xop;
        }
      }
      if (mode !== 64) {
        this.rexR = 0;
        this.rexX = 0;
        this.rexB = 0;
        this.vvvv &= 7;
      }
      this.vex = kind;
      ins.vectorLength = 128 << this.vl;
      ins.prefixes = prefixes;
      this.pfx = pp;
      this.map = map;
      const op = this.byte();
      if (op < 0) return OUT_OF_BYTES;
      if (map < 0) {
        // Unknown map: iced-x86 counts the ModRM byte for EVEX, and for VEX map 0.
        if ((kind === 2 || (kind === 1 && mmmmm === 0)) && !this.readModrm()) return OUT_OF_BYTES;
        this.fail(ins, InvalidReason.NoSuchOpcode);
        return VEX_DONE;
      }
      return op;
    }

    return NOT_VEX;
  }

  /** 3DNow! (0F 0F /r ib): the opcode is the byte after the operands (AMD APM Vol. 3 A.3). */
  private decode3DNow(ins: Instruction, prefixes: number): number {
    if (!this.readModrm()) return OUT_OF_BYTES;
    this.osz = 32;
    ins.operandSize = 32;
    ins.addressSize = this.asz;
    // Operands first (they precede the opcode byte), with a placeholder entry.
    ins.opType[0] = OperandType.Register;
    ins.opReg[0] = Reg.MM + ((this.modrm >> 3) & 7);
    if (this.operand(ins, 1, OK.Qq) < 0) return OUT_OF_BYTES;
    const op = this.byte();
    if (op < 0) return OUT_OF_BYTES;
    const node = NODES[MAP_ROOTS[MapId.M3DNow]! + op]!;
    if ((node & 15) !== NodeKind.Leaf || prefixes & Prefix.Lock) {
      this.fail(ins, InvalidReason.NoSuchOpcode);
      return 0;
    }
    ins.opcode = node >>> 4;
    ins.opCount = 2;
    ins.modrmIsMemory = this.modrm < 0xc0;
    return 0;
  }

  private gpr(num: number, size: number): number {
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

  private setReg(ins: Instruction, n: number, reg: number): void {
    ins.opType[n] = OperandType.Register;
    ins.opReg[n] = reg;
  }

  /** Reads an immediate of `size` bytes, sign-extending into immLo/immHi as `extTo` bytes. */
  private imm(size: number): number {
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
  private operand(ins: Instruction, n: number, k: number): number {
    switch (k) {
      case 5 /* Gv */:
        ins.opType[n] = OperandType.Register;
        ins.opReg[n] = this.gpr(((this.modrm >> 3) & 7) | (this.rexR << 3), this.osz >> 3);
        return 0;
      case 11 /* Ev */:
        if (this.modrm >= 0xc0) {
          ins.opType[n] = OperandType.Register;
          ins.opReg[n] = this.gpr((this.modrm & 7) | (this.rexB << 3), this.osz >> 3);
          return 0;
        }
        return this.mem(ins, n, this.osz >> 3);
      case 1 /* Gb */:
        ins.opType[n] = OperandType.Register;
        ins.opReg[n] = this.gpr(((this.modrm >> 3) & 7) | (this.rexR << 3), 1);
        return 0;
      case 7 /* Eb */:
        if (this.modrm >= 0xc0) {
          ins.opType[n] = OperandType.Register;
          ins.opReg[n] = this.gpr((this.modrm & 7) | (this.rexB << 3), 1);
          return 0;
        }
        return this.mem(ins, n, 1);
      case 19 /* M */:
        return this.mem(ins, n, 0);
      case 58 /* Ib */:
        {
          if (this.p >= this.limit) return OUT_OF_BYTES;
          ins.immLo = this.data[this.p++]!;
          ins.immHi = 0;
          ins.immSize = 1;
          ins.opType[n] = OperandType.Immediate;
          return 0;
        }
      default:
        return this.operandRare(ins, n, k);
    }
  }

  /** Decodes operand n of kind k. Returns OUT_OF_BYTES or 0. */
  private operandRare(ins: Instruction, n: number, k: number): number {
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
        this.setReg(ins, n, this.gpr((modrm & 7) | (this.rexB << 3), this.bitness === 64 ? 8 : 4));
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
        this.setReg(ins, n, Reg.XMM + ((modrm & 7) | (this.rexB << 3)));
        return 0;
      case 46 /* W */:
      case 48 /* Wb */:
      case 49 /* Ww */:
      case 50 /* Wd */:
      case 51 /* Wq */:
      case 103 /* Wss */:
      case 104 /* Wsd */:
        if (modrm >= 0xc0) {
          this.setReg(ins, n, Reg.XMM + ((modrm & 7) | (this.rexB << 3)));
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
        this.setReg(ins, n, Reg.XMM + ((modrm & 7) | (this.rexB << 3)));
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
        return this.rm(ins, n, this.bitness === 64 ? 8 : 4, this.bitness === 64 ? 8 : 4);
      case 126 /* Gd64r */:
        this.setReg(ins, n, this.gpr(reg, this.bitness === 64 ? 8 : 4));
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
      case 117 /* VSIBy */:
        {
          this.vsib = k === 116 ? Reg.XMM : this.vecBase(this.vl);
          const r = this.mem(ins, n, 0);
          this.vsib = 0;
          return r;
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
          this.setReg(ins, n, Reg.XMM + ((v >> 4) & (this.bitness === 64 ? 15 : 7)));
          return 0;
        }
      case 65 /* Ibx */:
        {
          const v = this.imm(1);
          if (v < 0) return OUT_OF_BYTES;
          this.setReg(ins, n, this.vecBase(this.vl) + ((v >> 4) & (this.bitness === 64 ? 15 : 7)));
          return 0;
        }
      case 58 /* Ib */:
      case 63 /* Ib2 */:
        {
          const v = this.imm(1);
          if (v < 0) return OUT_OF_BYTES;
          if (k === OK.Ib2) {
            ins.imm2 = v;
            ins.opType[n] = OperandType.Immediate2;
          } else {
            ins.immLo = v;
            ins.immHi = 0;
            ins.immSize = 1;
            ins.opType[n] = OperandType.Immediate;
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
          ins.immLo = v;
          ins.immHi = 0;
          ins.immSize = 2;
          ins.opType[n] = OperandType.Immediate;
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
            ins.immLo = lo;
            ins.immHi = hi;
            ins.immSize = 8;
            ins.opType[n] = OperandType.Immediate;
            return 0;
          }
          const v = this.imm(oszBytes);
          if (v < 0) return OUT_OF_BYTES;
          this.setImm(ins, n, v, oszBytes);
          return 0;
        }
      case 64 /* I1 */:
        ins.immLo = 1;
        ins.immHi = 0;
        ins.immSize = 1;
        ins.opType[n] = OperandType.Immediate;
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
          ins.farOffset = off;
          ins.farSelector = sel;
          ins.opType[n] = OperandType.FarBranch;
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
          ins.opType[n] = OperandType.Memory;
          ins.memBase = 0;
          ins.memIndex = 0;
          ins.memScale = 1;
          ins.memDisp = lo | 0;
          ins.memDispHi = hi;
          ins.memDispSize = asz >> 3;
          ins.memSize = k === OK.Ob ? 1 : oszBytes;
          ins.memRipRelative = false;
          ins.memSegment = ins.segmentPrefix || Reg.DS;
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
          ins.opType[n] = OperandType.Memory;
          ins.memBase = asz === 64 ? Reg.GPR64 + num : asz === 32 ? Reg.GPR32 + num : Reg.GPR16 + num;
          ins.memIndex = 0;
          ins.memScale = 1;
          ins.memDisp = 0;
          ins.memDispHi = 0;
          ins.memDispSize = 0;
          ins.memSize = k === OK.Xb || k === OK.Yb || k === OK.Xlat ? 1 : oszBytes;
          ins.memRipRelative = false;
          ins.memSegment = isY ? Reg.ES : ins.segmentPrefix || Reg.DS;
          return 0;
        }
      default: {
        const fixed = FIXED_MEM_SIZE[k]!;
        if (fixed !== 0) return this.mem(ins, n, fixed);
        return this.mem(ins, n, 0);
      }
    }
  }

  private vecBase(l: number): number {
    return l <= 0 ? Reg.XMM : l === 1 ? Reg.YMM : Reg.ZMM;
  }

  /** Vector register (from r/m) or memory of `size` bytes. */
  private vecRm(ins: Instruction, n: number, regBase: number, size: number): number {
    if (this.modrm >= 0xc0) {
      const x = this.vex === 2 ? (this.rexX << 4) & 16 : 0;
      this.setReg(ins, n, regBase + ((this.modrm & 7) | (this.rexB << 3) | x));
      return 0;
    }
    return this.mem(ins, n, size);
  }

  private setImm(ins: Instruction, n: number, v: number, size: number): void {
    // v is a signed 32-bit value (or an unsigned 16-bit one for 16-bit sizes).
    ins.opType[n] = OperandType.Immediate;
    ins.immSize = size;
    if (size === 2) {
      ins.immLo = v & 0xffff;
      ins.immHi = 0;
    } else if (size === 4) {
      ins.immLo = v >>> 0;
      ins.immHi = 0;
    } else {
      ins.immLo = v >>> 0;
      ins.immHi = v < 0 ? 0xffffffff : 0;
    }
  }

  private branch(ins: Instruction, n: number, rel: number): void {
    ins.opType[n] = OperandType.NearBranch;
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
    if (this.osz === 16) {
      lo &= 0xffff;
      hi = 0;
    } else if (this.osz === 32 || this.bitness !== 64) {
      hi = 0;
    }
    ins.targetLo = lo >>> 0;
    ins.targetHi = hi;
  }

  /** Register or memory from ModRM.r/m. */
  private rm(ins: Instruction, n: number, regSize: number, memSize: number): number {
    if (this.modrm >= 0xc0) {
      this.setReg(ins, n, this.gpr((this.modrm & 7) | (this.rexB << 3), regSize));
      return 0;
    }
    return this.mem(ins, n, memSize);
  }

  /** Memory operand from ModRM (+SIB, displacement). SDM Vol. 2 Tables 2-1..2-3. */
  private mem(ins: Instruction, n: number, size: number): number {
    const modrm = this.modrm;
    const mod = modrm >> 6;
    const rmBits = modrm & 7;
    ins.opType[n] = OperandType.Memory;
    ins.memSize = size;
    ins.memScale = 1;
    ins.memIndex = 0;
    ins.memBase = 0;
    ins.memDisp = 0;
    ins.memDispHi = 0;
    ins.memDispSize = 0;
    ins.memRipRelative = false;
    let ss = false;
    if (this.asz === 16) {
      switch (rmBits) {
        case 0:
          ins.memBase = Reg.GPR16 + 3;
          ins.memIndex = Reg.GPR16 + 6;
          break;
        case 1:
          ins.memBase = Reg.GPR16 + 3;
          ins.memIndex = Reg.GPR16 + 7;
          break;
        case 2:
          ins.memBase = Reg.GPR16 + 5;
          ins.memIndex = Reg.GPR16 + 6;
          ss = true;
          break;
        case 3:
          ins.memBase = Reg.GPR16 + 5;
          ins.memIndex = Reg.GPR16 + 7;
          ss = true;
          break;
        case 4:
          ins.memBase = Reg.GPR16 + 6;
          break;
        case 5:
          ins.memBase = Reg.GPR16 + 7;
          break;
        case 6:
          if (mod === 0) break;
          ins.memBase = Reg.GPR16 + 5;
          ss = true;
          break;
        default:
          ins.memBase = Reg.GPR16 + 3;
      }
      if (mod === 1) {
        const v = this.imm(1);
        if (v < 0) return OUT_OF_BYTES;
        ins.memDisp = (v << 24) >> 24;
        ins.memDispSize = 1;
      } else if (mod === 2 || (mod === 0 && rmBits === 6)) {
        const v = this.imm(2);
        if (v < 0) return OUT_OF_BYTES;
        ins.memDisp = mod === 0 ? v : (v << 16) >> 16;
        ins.memDispSize = 2;
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
          ins.memIndex = this.vsib + idx + 0;
          ins.memScale = 1 << (sib >> 6);
        } else if (idx !== 4) {
          ins.memIndex = regBase + idx;
          ins.memScale = 1 << (sib >> 6);
        }
        baseNum = sib & 7;
        if (baseNum === 5 && mod === 0) noBase = true;
      } else if (this.vsib !== 0) {
        this.badOperand = true; // VSIB needs a SIB byte
        if (rmBits === 5 && mod === 0) noBase = true;
      } else if (rmBits === 5 && mod === 0) {
        noBase = true;
        if (this.bitness === 64) {
          ins.memRipRelative = true;
          ins.memBase = this.asz === 64 ? Reg.RIP : Reg.EIP;
        }
      }
      if (!noBase) {
        const num = baseNum | (this.rexB << 3);
        ins.memBase = regBase + num;
        if (num === 4 || num === 5) ss = true;
      }
      if (mod === 1) {
        const v = this.imm(1);
        if (v < 0) return OUT_OF_BYTES;
        ins.memDisp = (v << 24) >> 24;
        ins.memDispSize = 1;
      } else if (mod === 2 || noBase) {
        const v = this.imm(4);
        if (v < 0) return OUT_OF_BYTES;
        ins.memDisp = v | 0;
        ins.memDispSize = 4;
      }
      if (ins.memDisp < 0 && this.asz === 64) ins.memDispHi = 0xffffffff;
    }
    ins.memSegment = ins.segmentPrefix || (ss ? Reg.SS : Reg.DS);
    return 0;
  }
}
