/**
 * Data movement: MOV, MOVZX/MOVSX/MOVSXD, LEA, XCHG, PUSH/POP, CBW/CWD families, SETcc, CMOVcc,
 * XADD, CMPXCHG, CMPXCHG8B/16B, ENTER/LEAVE, XLAT, MOVBE, flags transfers.
 */
import { cmpxchg, xadd } from "../../alu/arith.js";
import { byteSwap } from "../../alu/byte-swap.js";
import { condition } from "../../alu/conditions.js";
import { cbw, cwd } from "../../alu/convert.js";
import { Seg } from "../../state/registers.js";
import type { Cpu } from "../cpu.js";
import { V } from "../fault.js";
import type { Insn } from "../insn.js";
import { loadDataSegment } from "../segments.js";
import { getReg, memLin, NO_LA, readE, setReg, sext, writeE } from "./operands.js";

/** MOV reg, reg */
export function movRR(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  setReg(g, i.d, i.dh, i.size, getReg(g, i.s, i.sh, i.size), g[2 * i.s + 1]!);
}

/** MOV reg, [mem] */
export function movRM(c: Cpu, i: Insn): void {
  const v = c.rdSized(memLin(c, i, false), i.size >>> 3);
  setReg(c.s.gpr, i.d, i.dh, i.size, v, c.mhi);
}

/** MOV [mem], reg */
export function movMR(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  c.wrSized(memLin(c, i, true), i.size >>> 3, getReg(g, i.s, i.sh, i.size), g[2 * i.s + 1]!);
}

/** MOV reg, imm */
export function movRI(c: Cpu, i: Insn): void {
  setReg(c.s.gpr, i.d, i.dh, i.size, i.immLo, i.immHi);
}

/** MOV [mem], imm */
export function movMI(c: Cpu, i: Insn): void {
  c.wrSized(memLin(c, i, true), i.size >>> 3, i.immLo, i.immHi);
}

/** MOV r64, [mem] with a 64-bit load (the hot 64-bit form). */
export function movRM64(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  c.ld64(c.lin(i.seg, c.ea(i), 8, false));
  const q = c.q;
  g[2 * i.d] = q[0]!;
  g[2 * i.d + 1] = q[1]!;
}

/** MOV [mem], r64 */
export function movMR64(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  c.wr64(c.lin(i.seg, c.ea(i), 8, true), g[2 * i.s]!, g[2 * i.s + 1]!);
}

/** MOVZX/MOVSX reg, E (aux = source size in bits; `imm2` = 1 for sign extension). MOVSXD too. */
export function movExtend(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const from = i.aux;
  let v: number;
  if (i.mem) v = c.rdSized(c.lin(i.seg, c.ea(i), from >>> 3, false), from >>> 3);
  else v = getReg(g, i.s, i.sh, from);
  let lo: number;
  let hi = 0;
  if (i.imm2 === 1) {
    lo = from === 32 ? v | 0 : sext(v, from);
    hi = lo < 0 ? 0xffffffff : 0;
    lo >>>= 0;
  } else {
    lo = v;
  }
  setReg(g, i.d, 0, i.size, lo, hi);
}

/** LEA reg, m: the effective address truncated to the operand size. */
export function lea(c: Cpu, i: Insn): void {
  const a = c.ea(i);
  const g = c.s.gpr;
  if (i.size === 64) setReg(g, i.d, 0, 64, a >>> 0, Math.floor(a / 4294967296) >>> 0);
  else setReg(g, i.d, 0, i.size, a >>> 0, 0);
}

/** XCHG E, reg. */
export function xchg(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  if (!i.mem) {
    const a = getReg(g, i.d, i.dh, i.size);
    const aHi = g[2 * i.d + 1]!;
    setReg(g, i.d, i.dh, i.size, getReg(g, i.s, i.sh, i.size), g[2 * i.s + 1]!);
    setReg(g, i.s, i.sh, i.size, a, aHi);
    return;
  }
  const la = memLin(c, i, true);
  c.probeWrite(la, i.size >>> 3);
  const v = c.rdSized(la, i.size >>> 3);
  const vHi = c.mhi;
  c.wrSized(la, i.size >>> 3, getReg(g, i.s, i.sh, i.size), g[2 * i.s + 1]!);
  setReg(g, i.s, i.sh, i.size, v, vHi);
}

/** NOP and hint instructions that do nothing here (PAUSE, fences, prefetches, ENDBR, CLFLUSH). */
export function nop(_c: Cpu, _i: Insn): void {}

/** PUSH reg (size = push size). */
export function pushReg(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  c.push(i.size >>> 3, getReg(g, i.d, 0, i.size), g[2 * i.d + 1]!);
}

/** POP reg. */
export function popReg(c: Cpu, i: Insn): void {
  const v = c.pop(i.size >>> 3);
  setReg(c.s.gpr, i.d, 0, i.size, v, c.mhi);
}

/** PUSH imm. */
export function pushImm(c: Cpu, i: Insn): void {
  c.push(i.size >>> 3, i.immLo, i.immHi);
}

/** PUSH [mem]. */
export function pushMem(c: Cpu, i: Insn): void {
  const v = c.rdSized(memLin(c, i, false), i.size >>> 3);
  c.push(i.size >>> 3, v, c.mhi);
}

/** POP [mem]: the address is computed with the incremented stack pointer (SDM POP). */
export function popMem(c: Cpu, i: Insn): void {
  const bytes = i.size >>> 3;
  const v = c.peek(bytes, 0);
  const hi = c.mhi;
  const old = c.sp();
  c.addSp(bytes);
  try {
    c.wrSized(memLin(c, i, true), bytes, v, hi);
  } catch (e) {
    c.setSp(old);
    throw e;
  }
}

/** PUSH Sreg (aux = segment). */
export function pushSeg(c: Cpu, i: Insn): void {
  const sel = c.s.segSelector[i.aux]!;
  if (i.size === 16) c.push(2, sel, 0);
  else {
    // A 32/64-bit push of a segment register writes 16 bits (what current processors do) in a full slot.
    const bytes = i.size >>> 3;
    let sp = c.sp() - bytes;
    if (c.stackBits === 32) sp >>>= 0;
    else if (c.stackBits === 16) sp &= 0xffff;
    c.wr16(c.lin(Seg.SS, sp, bytes, true), sel);
    c.setSp(sp);
  }
}

/** POP Sreg (aux = segment). */
export function popSeg(c: Cpu, i: Insn): void {
  const bytes = i.size >>> 3;
  const sel = c.peek(bytes, 0) & 0xffff;
  loadDataSegment(c, i.aux, sel);
  c.addSp(bytes);
  if (i.aux === Seg.SS) {
    c.shadow = true;
    c.breakBlock = true;
  }
}

/** MOV Sreg, E (aux = segment). */
export function movToSeg(c: Cpu, i: Insn): void {
  if (i.aux === Seg.CS || i.aux > Seg.GS) c.fault(V.UD, -1);
  const sel = i.mem ? c.rd16(c.lin(i.seg, c.ea(i), 2, false)) : c.s.gpr[2 * i.s]! & 0xffff;
  loadDataSegment(c, i.aux, sel);
  if (i.aux === Seg.SS) {
    c.shadow = true;
    c.breakBlock = true;
  }
}

/** MOV E, Sreg (aux = segment): 16 bits to memory, zero-extended to a register. */
export function movFromSeg(c: Cpu, i: Insn): void {
  if (i.aux > Seg.GS) c.fault(V.UD, -1);
  const sel = c.s.segSelector[i.aux]!;
  if (i.mem) c.wr16(c.lin(i.seg, c.ea(i), 2, true), sel);
  else setReg(c.s.gpr, i.d, 0, i.size === 16 ? 16 : 32, sel, 0);
}

/** LDS/LES/LSS/LFS/LGS reg, m16:v (aux = segment). */
export function loadFarPointer(c: Cpu, i: Insn): void {
  const bytes = i.size >>> 3;
  const off = c.ea(i);
  const la = c.lin(i.seg, off, bytes + 2, false);
  const v = c.rdSized(la, bytes);
  const hi = c.mhi;
  const sel = c.rd16(la + bytes);
  loadDataSegment(c, i.aux, sel);
  setReg(c.s.gpr, i.d, 0, i.size, v, hi);
}

/** CBW/CWDE/CDQE (aux 0) and CWD/CDQ/CQO (aux 1). */
export function convert(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  if (i.aux === 0) {
    cbw(s, i.size, g[0]!);
    setReg(g, 0, 0, i.size, s.out[0]!, s.out[1]!);
  } else {
    cwd(s, i.size, g[0]!, g[1]!);
    setReg(g, 2, 0, i.size, s.out[0]!, s.out[1]!);
  }
}

/** SETcc E8 (aux = condition). */
export function setcc(c: Cpu, i: Insn): void {
  const v = condition(c.s.flags, i.aux) ? 1 : 0;
  if (i.mem) c.wr8(c.lin(i.seg, c.ea(i), 1, true), v);
  else setReg(c.s.gpr, i.d, i.dh, 8, v, 0);
}

/** CMOVcc reg, E (aux = condition): the source is read (and may fault) either way; 32-bit zero-extends always. */
export function cmovcc(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const v = i.mem ? c.rdSized(memLin(c, i, false), i.size >>> 3) : getReg(g, i.s, 0, i.size);
  const hi = i.mem ? c.mhi : g[2 * i.s + 1]!;
  if (condition(c.s.flags, i.aux)) setReg(g, i.d, 0, i.size, v, hi);
  else if (i.size === 32) g[2 * i.d + 1] = 0;
}

/** XADD E, reg. */
export function xaddOp(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const la = i.mem ? memLin(c, i, true) : NO_LA;
  if (i.mem) c.probeWrite(la, i.size >>> 3);
  const d = i.mem ? c.rdSized(la, i.size >>> 3) : readE(c, i, false);
  const dHi = c.mhi;
  xadd(s, i.size, d, dHi, getReg(g, i.s, i.sh, i.size), g[2 * i.s + 1]!);
  const o0 = s.out[0]!;
  const o1 = s.out[1]!;
  setReg(g, i.s, i.sh, i.size, s.out[2]!, s.out[3]!);
  writeE(c, i, la, o0, o1);
}

/** CMPXCHG E, reg. */
export function cmpxchgOp(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const la = i.mem ? memLin(c, i, true) : NO_LA;
  if (i.mem) c.probeWrite(la, i.size >>> 3);
  const d = i.mem ? c.rdSized(la, i.size >>> 3) : readE(c, i, false);
  const dHi = c.mhi;
  const equal = cmpxchg(
    s,
    i.size,
    getReg(g, 0, 0, i.size),
    g[1]!,
    d,
    dHi,
    getReg(g, i.s, i.sh, i.size),
    g[2 * i.s + 1]!,
  );
  const o0 = s.out[0]!;
  const o1 = s.out[1]!;
  const a0 = s.out[2]!;
  const a1 = s.out[3]!;
  if (i.mem) c.wrSized(la, i.size >>> 3, o0, o1);
  else if (equal) setReg(g, i.d, i.dh, i.size, o0, o1);
  if (!equal) setReg(g, 0, 0, i.size, a0, a1);
}

/** CMPXCHG8B m64 (size 32) and CMPXCHG16B m128 (size 64, 16-byte aligned). */
export function cmpxchgWide(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  const f = s.flags;
  const wide = i.size === 64;
  const bytes = wide ? 16 : 8;
  const off = c.ea(i);
  const la = c.lin(i.seg, off, bytes, true);
  if (wide && la % 16 !== 0) c.fault(V.GP, 0);
  c.probeWrite(la, bytes);
  if (!wide) {
    const lo = c.rd64(la);
    const hi = c.mhi;
    if (lo === g[0] && hi === g[4]) {
      c.wr64(la, g[6]!, g[2]!);
      f.merge(0x40, 0x40);
    } else {
      c.wr64(la, lo, hi);
      g[0] = lo;
      g[1] = 0;
      g[4] = hi;
      g[5] = 0;
      f.merge(0x40, 0);
    }
    return;
  }
  const q0 = c.rd64(la);
  const q0h = c.mhi;
  const q1 = c.rd64(la + 8);
  const q1h = c.mhi;
  if (q0 === g[0] && q0h === g[1] && q1 === g[4] && q1h === g[5]) {
    c.wr64(la, g[6]!, g[7]!);
    c.wr64(la + 8, g[2]!, g[3]!);
    f.merge(0x40, 0x40);
  } else {
    c.wr64(la, q0, q0h);
    c.wr64(la + 8, q1, q1h);
    g[0] = q0;
    g[1] = q0h;
    g[4] = q1;
    g[5] = q1h;
    f.merge(0x40, 0);
  }
}

/** MOVBE reg, m (aux 0) or m, reg (aux 1). */
export function movbe(c: Cpu, i: Insn): void {
  const s = c.s;
  const g = s.gpr;
  if (i.aux === 0) {
    const v = c.rdSized(memLin(c, i, false), i.size >>> 3);
    byteSwap(s, i.size, v, c.mhi);
    setReg(g, i.d, 0, i.size, s.out[0]!, s.out[1]!);
  } else {
    byteSwap(s, i.size, getReg(g, i.s, 0, i.size), g[2 * i.s + 1]!);
    c.wrSized(memLin(c, i, true), i.size >>> 3, s.out[0]!, s.out[1]!);
  }
}

/** LAHF: AH = SF:ZF:0:AF:0:PF:1:CF. */
export function lahf(c: Cpu, _i: Insn): void {
  setReg(c.s.gpr, 0, 8, 8, c.rflags() & 0xd7, 0);
}

/** SAHF: SF, ZF, AF, PF, CF from AH. */
export function sahf(c: Cpu, _i: Insn): void {
  c.s.flags.merge(0xd5, (c.s.gpr[0]! >>> 8) & 0xd5);
}

/** CLC/STC/CMC/CLD/STD (aux 0-4). */
export function flagOp(c: Cpu, i: Insn): void {
  const f = c.s.flags;
  switch (i.aux) {
    case 0:
      f.merge(1, 0);
      break;
    case 1:
      f.merge(1, 1);
      break;
    case 2:
      f.merge(1, f.cf() ^ 1);
      break;
    case 3:
      f.bits &= ~0x400;
      break;
    default:
      f.bits |= 0x400;
      break;
  }
}

/** SALC (undocumented): AL = CF ? 0xFF : 0. */
export function salc(c: Cpu, _i: Insn): void {
  setReg(c.s.gpr, 0, 0, 8, c.s.flags.cf() ? 0xff : 0, 0);
}

/** XLAT: AL = [seg:rBX + AL]. */
export function xlat(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  let off = (g[0]! & 0xff) + (i.asz === 16 ? g[6]! & 0xffff : g[6]!);
  if (i.asz === 64) off += (g[7]! | 0) * 4294967296;
  else if (i.asz === 32) off >>>= 0;
  else off &= 0xffff;
  setReg(g, 0, 0, 8, c.rd8(c.lin(i.seg, off, 1, false)), 0);
}

/** LEAVE: rSP = rBP, then POP rBP. */
export function leave(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const bytes = i.size >>> 3;
  const bp =
    c.stackBits === 64 ? (g[11]! | 0) * 4294967296 + g[10]! : c.stackBits === 32 ? g[10]! : g[10]! & 0xffff;
  const la = c.lin(Seg.SS, bp, bytes, false);
  const v = c.rdSized(la, bytes);
  const hi = c.mhi;
  c.setSp(bp + bytes);
  setReg(g, 5, 0, i.size, v, hi);
}

/** ENTER imm16, level (SDM ENTER). */
export function enter(c: Cpu, i: Insn): void {
  const g = c.s.gpr;
  const bytes = i.size >>> 3;
  const level = i.imm2 & 31;
  const oldSp = c.sp();
  const bp = getReg(g, 5, 0, c.stackBits === 16 ? 16 : c.stackBits);
  const bpHi = g[11]!;
  try {
    c.push(bytes, bp, bpHi);
    const frame = c.sp();
    let walk = c.stackBits === 64 ? (bpHi | 0) * 4294967296 + bp : bp;
    for (let k = 1; k < level; k++) {
      walk -= bytes;
      const v = c.rdSized(
        c.lin(
          Seg.SS,
          c.stackBits === 32 ? walk >>> 0 : c.stackBits === 16 ? walk & 0xffff : walk,
          bytes,
          false,
        ),
        bytes,
      );
      c.push(bytes, v, c.mhi);
    }
    if (level > 0) c.push(bytes, frame >>> 0, Math.floor(frame / 4294967296) >>> 0);
    const newSp = c.sp() - (i.immLo & 0xffff);
    c.lin(Seg.SS, c.stackBits === 32 ? newSp >>> 0 : c.stackBits === 16 ? newSp & 0xffff : newSp, 1, true);
    setReg(
      g,
      5,
      0,
      c.stackBits === 16 ? 16 : c.stackBits === 32 ? 32 : i.size,
      frame >>> 0,
      Math.floor(frame / 4294967296) >>> 0,
    );
    c.setSp(newSp);
  } catch (e) {
    c.setSp(oldSp);
    throw e;
  }
}
