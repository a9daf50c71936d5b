import { OK } from "./generated/operand-kind-ids.js";
import { ENTRY_EVEX, ENTRY_FLAGS, MAP_ROOTS, NODES } from "./generated/tables.js";
import { type Instruction, InvalidReason, OperandType, Prefix } from "./instruction.js";
import { OperandReader, OUT_OF_BYTES } from "./operand-reader.js";
import { Reg } from "./registers.js";
import { EntryFlag, MapId, NodeKind } from "./table-format.js";

const EVEX_K = 1 << 6;
const EVEX_Z = 1 << 7;
const EVEX_BC = 1 << 8;
const EVEX_ER = 1 << 9;
const EVEX_SAE = 1 << 10;
const EVEX_KREQ = 1 << 11;

/** MODRM_EXTRA: SIB + displacement bytes after a ModRM byte that need a look at the SIB byte. */
const SIB_BASE_CHECK = 255;
/**
 * Bytes after the ModRM byte for SIB and displacement (SDM Vol. 2 Tables 2-1, 2-2): entries 0-255
 * for 32/64-bit addressing, 256-511 for 16-bit addressing.
 */
const MODRM_EXTRA = new Uint8Array(512);
for (let m = 0; m < 256; m++) {
  const mod = m >> 6;
  const rm = m & 7;
  if (mod === 3) continue;
  let n = rm === 4 ? 1 : 0;
  if (mod === 1) n += 1;
  else if (mod === 2 || (mod === 0 && rm === 5)) n += 4;
  MODRM_EXTRA[m] = rm === 4 && mod === 0 ? SIB_BASE_CHECK : n;
  MODRM_EXTRA[256 + m] = mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 6) ? 2 : 0;
}

/**
 * First-byte classes: 1 = legacy prefix, 2 = REX (40-4F, a prefix in 64-bit mode only), 3 = 0F
 * escape, 4 = VEX/EVEX/XOP candidate (C4, C5, 62, 8F), 0 = anything else.
 */
const BYTE_CLASS = new Uint8Array(256);
for (const p of [0xf0, 0xf2, 0xf3, 0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) BYTE_CLASS[p] = 1;
for (let p = 0x40; p < 0x50; p++) BYTE_CLASS[p] = 2;
BYTE_CLASS[0x0f] = 3;
for (const p of [0xc4, 0xc5, 0x62, 0x8f]) BYTE_CLASS[p] = 4;

/** vexPrefix: the instruction is complete (invalid). */
const VEX_DONE = -2;
/** vexPrefix: not a VEX/EVEX/XOP prefix. */
const NOT_VEX = -3;

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
export class Decoder extends OperandReader {
  /** Mode: 16, 32 or 64. */
  readonly bitness: 16 | 32 | 64;
  /** Offset of the next instruction in the bytes. */
  position: number;
  /** End offset (exclusive) of the bytes to decode. */
  end: number;
  /** Address of the next instruction, low 32 bits. */
  ipLo = 0;
  /** Address of the next instruction, high 32 bits. */
  ipHi = 0;

  /**
   * @param bitness 16, 32 or 64
   * @param data the bytes
   * @param ip address of `data[offset]` (a number below 2^53; use {@link Decoder.setIp} for more)
   * @param offset first byte to decode
   * @param end end of the bytes to decode (exclusive)
   */
  constructor(bitness: 16 | 32 | 64, data: Uint8Array, ip = 0, offset = 0, end = data.length) {
    super();
    if (bitness !== 16 && bitness !== 32 && bitness !== 64)
      throw new RangeError("bitness must be 16, 32 or 64");
    if (offset < 0 || end > data.length || offset > end) throw new RangeError("offset/end outside the data");
    this.bitness = bitness;
    this.mode = bitness;
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

  /** EVEX.L'L as encoded (the rounding control when EVEX.b is set on a register form). */
  private evexLL = 0;
  /** The REX fields packed as in Instruction._rexBits (legacy encodings). */
  private rexPacked = 0;
  /** REX fields are all zero (skip rewriting them). */
  private rexClear = false;
  /** VEX fields (vvvv, L) are zero. */
  private vexClear = false;

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
    if (this.fastDecode(ins)) return;
    const start = this.position;
    this.start = start;
    this.p = start;
    const end = this.end;
    this.limit = Math.min(end, start + 15);
    if (ins.bitness !== this.bitness) ins.bitness = this.bitness;
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

  /**
   * The common case without legacy prefixes (REX allowed), VEX or 0F 38/3A escapes, far from the
   * end of the bytes: the same decoding as decodeOne, with fewer checks. Returns false (having
   * changed nothing) when the instruction needs the general path.
   */
  private fastDecode(ins: Instruction): boolean {
    const start = this.position;
    if (start + 15 > this.end) return false;
    const data = this.data;
    const mode = this.bitness;
    let p = start;
    let b = data[p++]!;
    let rex = 0;
    if (mode === 64 && (b & 0xf0) === 0x40) {
      rex = b;
      b = data[p++]!;
    }
    const cls = BYTE_CLASS[b]!;
    let map = 0;
    if (cls !== 0) {
      if (cls !== 3) return false;
      b = data[p++]!;
      if (b === 0x38 || b === 0x3a || b === 0x0f) return false;
      map = 1;
    }
    const rexW = (rex >> 3) & 1;
    let osz = mode === 64 ? (rexW ? 64 : 32) : mode;
    let m = -1;
    let node = NODES[(map << 8) | b]!;
    for (;;) {
      const kind = node & 15;
      if (kind === NodeKind.Leaf) break;
      if (kind < NodeKind.SwitchBase) return false;
      let v = 0;
      switch (kind - NodeKind.SwitchBase) {
        case 0 /* Dim.Mode */:
          v = mode === 16 ? 0 : mode === 32 ? 1 : 2;
          break;
        case 1 /* Dim.Pfx */:
          break;
        case 2 /* Dim.RexB */:
          v = rex & 1;
          break;
        case 3 /* Dim.W */:
          v = rexW;
          break;
        case 5 /* Dim.Mod */:
          if (m < 0) m = data[p++]!;
          v = m >= 0xc0 ? 1 : 0;
          break;
        case 6 /* Dim.Reg */:
          if (m < 0) m = data[p++]!;
          v = (m >> 3) & 7;
          break;
        case 7 /* Dim.Rm */:
          if (m < 0) m = data[p++]!;
          v = m & 7;
          break;
        case 8 /* Dim.Osz */:
          v = osz === 16 ? 0 : osz === 32 ? 1 : 2;
          break;
        case 9 /* Dim.Asz */:
          v = mode === 16 ? 0 : mode === 32 ? 1 : 2;
          break;
        default:
          return false;
      }
      node = NODES[(node >>> 4) + v]!;
    }
    const id = node >>> 4;
    const flags = ENTRY_FLAGS[id]!;
    if (flags & (EntryFlag.Eager | EntryFlag.Bad)) return false;
    if (flags & EntryFlag.ModRM && m < 0) m = data[p++]!;
    if (mode === 64 && flags & (EntryFlag.F64 | EntryFlag.D64)) osz = 64;
    const opStart = m >= 0 ? p - 1 : p;
    let skip = 0;
    if (m >= 0) {
      skip = MODRM_EXTRA[(mode === 16 ? 256 : 0) | m]!;
      if (skip === SIB_BASE_CHECK) skip = (data[p]! & 7) === 5 ? 5 : 1;
    }
    const ic = flags >>> 24;
    if (ic !== 0) {
      skip += ic & 15;
      if (ic & 16) skip += osz === 16 ? 2 : 4;
      if (ic & 32) skip += osz >> 3;
      if (ic & 64) skip += mode >> 3;
    }
    const len = p + skip - start;
    // Fill the instruction (operands are decoded from the saved state on first use).
    if (ins.bitness !== mode) ins.bitness = mode;
    if (ins.invalidReason !== InvalidReason.None) ins.invalidReason = InvalidReason.None;
    if (rex !== 0 || ins.prefixes !== 0) {
      ins.rex = rex;
      ins.repPrefix = 0;
      ins.lastSegment = 0;
      ins.prefixes = rex !== 0 ? Prefix.Rex : 0;
      ins.segmentPrefix = 0;
    }
    ins.ipLo = this.ipLo;
    ins.ipHi = this.ipHi;
    ins.length = len;
    ins.opcode = id;
    ins.operandSize = osz;
    ins.addressSize = mode;
    ins._modrm = m;
    ins._lazy = true;
    if (ins._data !== data) ins._data = data;
    ins._start = start;
    ins._opStart = opStart;
    ins._rexBits =
      rex === 0 ? 0 : ((rex >> 2) & 1) | ((rex & 2) << 1) | ((rex & 1) << 4) | ((rex & 8) << 2) | 64;
    this.position = start + len;
    const lo = this.ipLo + len;
    if (lo > 0xffffffff) {
      this.ipLo = lo - 0x100000000;
      if (mode === 64) this.ipHi = (this.ipHi + 1) >>> 0;
    } else {
      this.ipLo = lo;
    }
    return true;
  }

  private fail(ins: Instruction, reason: InvalidReason): void {
    ins.invalidReason = reason;
    ins._lazy = false;
    ins.opcode = 0;
    ins._opCount = 0;
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
    if (!this.vexClear) {
      this.vvvv = 0;
      this.vl = 0;
      this.vex = 0;
      this.vexBad = false;
      this.vexClear = true;
    }
    if (ins.invalidReason !== InvalidReason.None) ins.invalidReason = InvalidReason.None;
    if (this.p >= this.limit) return OUT_OF_BYTES;
    let b = data[this.p++]!;
    // Legacy prefixes and REX (SDM 2.1.1, 2.2.1); most instructions have none.
    let cls = BYTE_CLASS[b]!;
    if (cls === 1 || (cls === 2 && mode === 64)) {
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
        cls = BYTE_CLASS[b]!;
        if (cls === 0 || cls > 2 || (cls === 2 && mode !== 64)) break;
      }
    }
    if (rex !== 0 || !this.rexClear) {
      // Most instructions have no REX: the fields are only written when they change.
      this.hasRex = rex !== 0;
      if (rex !== 0) prefixes |= Prefix.Rex;
      this.rexW = (rex >> 3) & 1;
      this.rexR = (rex >> 2) & 1;
      this.rexX = (rex >> 1) & 1;
      this.rexB = rex & 1;
      this.rexClear = rex === 0;
      // Packed for the instruction's saved state (see Instruction._rexBits).
      this.rexPacked =
        rex === 0 ? 0 : ((rex >> 2) & 1) | ((rex & 2) << 1) | ((rex & 1) << 4) | ((rex & 8) << 2) | 64;
    }
    if (prefixes !== 0 || ins.prefixes !== 0) {
      ins.rex = rex;
      ins.repPrefix = rep;
      ins.lastSegment = lastSeg;
      ins.prefixes = prefixes;
      ins.segmentPrefix = seg;
    }

    const a67 = (prefixes & Prefix.AddressSize) !== 0;
    const asz = mode === 64 ? (a67 ? 32 : 64) : mode === 32 ? (a67 ? 16 : 32) : a67 ? 32 : 16;
    this.asz = asz;

    // Opcode map selection.
    let map: number = MapId.Legacy;
    let pfx = rep === 0xf3 ? 2 : rep === 0xf2 ? 3 : prefixes & Prefix.OperandSize ? 1 : 0;
    // vexBad: a VEX/EVEX/XOP rule is broken: decode in full, then invalid.
    if (cls === 4 && this.p < this.limit) {
      this.rexClear = false;
      this.vexClear = false;
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
    if (cls === 3 && this.vex === 0) {
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
    let node = nodes[(map << 8) | b]!;
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
    if (flags & EntryFlag.ModRM && this.modrm < 0) {
      if (this.p >= this.limit) return OUT_OF_BYTES;
      this.modrm = data[this.p++]!;
    }
    if (flags & EntryFlag.Mandatory66 && this.vex === 0) {
      osz = mode === 64 ? (this.rexW ? 64 : 32) : mode === 32 ? 32 : 16;
    }
    if (mode === 64) {
      if (flags & EntryFlag.F64) osz = 64;
      else if (flags & EntryFlag.D64 && !(o66 && !this.rexW)) osz = 64;
    }
    ins.operandSize = osz;
    ins.addressSize = asz;
    ins.opcode = id;
    const m = this.modrm;
    if (flags & EntryFlag.Eager) {
      ins._lazy = false;
      // Operands now, in encoding order (immediates follow ModRM/SIB/displacement).
      this.badOperand = false;
      this.osz = osz;
      const n = this.readOperands(ins, id);
      if (n < 0) return OUT_OF_BYTES;
      ins._opCount = n;
    } else {
      // Only the length now (SDM Vol. 2 2.1.5: SIB, displacement, immediates); the operands are
      // decoded from the saved state on first use.
      let skip = 0;
      if (m >= 0) {
        skip = MODRM_EXTRA[(asz === 16 ? 256 : 0) | m]!;
        if (skip === SIB_BASE_CHECK) {
          // SIB with mod = 00: base 101 means a 32-bit displacement and no base.
          if (this.p >= this.limit) return OUT_OF_BYTES;
          skip = (data[this.p]! & 7) === 5 ? 5 : 1;
        }
      }
      const ic = flags >>> 24;
      if (ic !== 0) {
        skip += ic & 15;
        if (ic & 16) skip += osz === 16 ? 2 : 4;
        if (ic & 32) skip += osz >> 3;
        if (ic & 64) skip += asz >> 3;
      }
      if (this.p + skip > this.limit) return OUT_OF_BYTES;
      ins._lazy = true;
      if (ins._data !== data) ins._data = data;
      ins._start = this.start;
      ins._opStart = m >= 0 ? this.p - 1 : this.p;
      ins._rexBits =
        this.vex === 0
          ? this.rexPacked
          : this.rexR |
            (this.rexX << 2) |
            (this.rexB << 4) |
            (this.rexW << 5) |
            (this.hasRex ? 64 : 0) |
            (this.vex << 7) |
            (this.vl << 9) |
            (this.vvvv << 11);
      this.p += skip;
    }
    ins._modrm = m;
    if (this.vex !== 0) {
      if (!(flags & EntryFlag.UsesVvvv) && this.vvvv !== 0) this.vexBad = true;
      if (this.vex === 2 && !this.evexValid(ins, id, m)) this.vexBad = true;
      if (this.vexBad) {
        this.fail(ins, InvalidReason.NoSuchOpcode);
        return 0;
      }
    }
    if (flags & (EntryFlag.Bad | EntryFlag.Eager) && (flags & EntryFlag.Bad || this.badOperand)) {
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

  /** EVEX masking, zeroing, broadcast and rounding against what the instruction allows (SDM 2.7). */
  private evexValid(ins: Instruction, id: number, modrm: number): boolean {
    const ev = ENTRY_EVEX[id]!;
    ins.rounding = 0;
    if (ins.opmask !== 0 && !(ev & EVEX_K)) return false;
    if (ins.opmask === 0 && ev & EVEX_KREQ) return false;
    if (ins.zeroing && (ins.opmask === 0 || !(ev & EVEX_Z))) return false;
    if (ins.broadcast) {
      if (modrm >= 0xc0) {
        if (ev & EVEX_ER) ins.rounding = 1 + this.evexLL;
        else if (ev & EVEX_SAE) ins.rounding = 5;
        else return false;
      } else if (!(ev & EVEX_BC)) return false;
    } else if (this.evexLL === 3) return false;
    return true;
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
        if (b1 & 0x08 || !(b2 & 0x04)) {
          // Reserved bits: iced-x86 reads the opcode and ModRM, then stops.
          if (this.byte() < 0 || !this.readModrm()) return OUT_OF_BYTES;
          this.fail(ins, InvalidReason.NoSuchOpcode);
          return VEX_DONE;
        }
        this.vl = (b3 >> 5) & 3;
        this.vvvv |= ((~b3 >> 3) & 1) << 4;
        // Outside 64-bit mode there are only 8 vector registers: V' must be 1 (inverted 0).
        if (mode !== 64 && !(b3 & 0x08)) this.vexBad = true;
        ins.zeroing = (b3 & 0x80) !== 0;
        ins.broadcast = (b3 & 0x10) !== 0;
        ins.opmask = b3 & 7;
        this.evexLL = this.vl;
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
      // EVEX.b on a register form: L'L is the rounding control and the vector length is 512.
      if (kind === 2 && ins.broadcast && this.p < this.limit && data[this.p]! >= 0xc0) this.vl = 2;

      ins.vectorLength = 128 << this.vl;
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
    ins._lazy = false;
    if (!this.readModrm()) return OUT_OF_BYTES;
    this.osz = 32;
    ins.operandSize = 32;
    ins.addressSize = this.asz;
    // Operands first (they precede the opcode byte), with a placeholder entry.
    ins._opType[0] = OperandType.Register;
    ins._opReg[0] = Reg.MM + ((this.modrm >> 3) & 7);
    if (this.operand(ins, 1, OK.Qq) < 0) return OUT_OF_BYTES;
    const op = this.byte();
    if (op < 0) return OUT_OF_BYTES;
    const node = NODES[MAP_ROOTS[MapId.M3DNow]! + op]!;
    if ((node & 15) !== NodeKind.Leaf || prefixes & Prefix.Lock) {
      this.fail(ins, InvalidReason.NoSuchOpcode);
      return 0;
    }
    ins.opcode = node >>> 4;
    ins._opCount = 2;
    ins._modrm = this.modrm;
    return 0;
  }
}
