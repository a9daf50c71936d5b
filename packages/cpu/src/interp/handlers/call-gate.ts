/**
 * Far CALL and JMP through a call gate (SDM vol. 3, 5.8.3-5.8.6; vol. 2, CALL "call gate"):
 * 32-bit and 16-bit gates in protected mode and 64-bit gates in IA-32e mode, with the stack
 * switch from the TSS on a call to a more privileged level, copying the gate's parameter count of
 * words or doublewords from the caller's stack (SDM vol. 3, 5.8.5).
 */
import { Seg } from "../../state/registers.js";
import { isCanonical } from "../canonical.js";
import type { Cpu } from "../cpu.js";
import { EventSource, pushSys, sysWrite64, tssRead32, tssRead64 } from "../delivery.js";
import { V } from "../fault.js";
import type { Insn } from "../insn.js";
import { commitCs, desc, loadStackSegment, readDescriptor } from "../segments.js";

/** Parameters copied by a call gate (at most 31), read before the stack switch. */
const params = new Float64Array(32);

/**
 * Transfers through the call gate whose first 8 bytes are in `desc` (selector `gateSel`).
 * Returns false when the descriptor is not a call gate (a task gate or TSS).
 */
export function throughCallGate(c: Cpu, i: Insn, gateSel: number, call: boolean): boolean {
  const s = c.s;
  const lma = (s.efer[0]! & 0x400) !== 0;
  const lo = desc[0]!;
  const hi = desc[1]!;
  const type = (hi >>> 8) & 0x1f;
  if (type !== 0x0c && (lma || type !== 0x04)) return false;
  const gateDpl = (hi >>> 13) & 3;
  if (gateDpl < c.cpl || gateDpl < (gateSel & 3)) c.fault(V.GP, gateSel & 0xfffc);
  if ((hi & 0x8000) === 0) c.fault(V.NP, gateSel & 0xfffc);
  const csSel = lo >>> 16;
  let offset = type === 0x04 ? lo & 0xffff : ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0;
  if (lma) {
    readDescriptor(c, gateSel, true);
    if ((desc[3]! & 0x1f00) !== 0) c.fault(V.GP, gateSel & 0xfffc);
    offset = (desc[2]! | 0) * 4294967296 + offset;
    if (!isCanonical(c, offset)) c.fault(V.GP, 0);
  }
  // The target code segment.
  if ((csSel & 0xfffc) === 0) c.fault(V.GP, 0);
  if (!readDescriptor(c, csSel, false)) c.fault(V.GP, csSel & 0xfffc);
  const chi = desc[1]!;
  const ctype = (chi >>> 8) & 0xf;
  const cdpl = (chi >>> 13) & 3;
  if (((chi >>> 12) & 1) === 0 || (ctype & 8) === 0 || cdpl > c.cpl) c.fault(V.GP, csSel & 0xfffc);
  if (((chi >>> 15) & 1) === 0) c.fault(V.NP, csSel & 0xfffc);
  if (lma && ((chi & 0x200000) === 0 || (chi & 0x400000) !== 0)) c.fault(V.GP, csSel & 0xfffc);
  const conforming = (ctype & 4) !== 0;
  if (!call && !conforming && cdpl !== c.cpl) c.fault(V.GP, csSel & 0xfffc);
  const newCpl = call && !conforming && cdpl < c.cpl ? cdpl : c.cpl;
  const cs0 = desc[0]!;
  const cs1 = desc[1]!;
  const oldCs = s.segSelector[Seg.CS]!;
  const ret = i.next;
  const size = lma ? 8 : type === 0x04 ? 2 : 4;
  if (newCpl < c.cpl) {
    const oldSs = s.segSelector[Seg.SS]!;
    const oldSpLo = s.gpr[8]!;
    const oldSpHi = s.gpr[9]!;
    const src = EventSource.Software;
    if (lma) {
      let rsp = tssRead64(c, 4 + 8 * newCpl, src);
      rsp -= 32;
      sysWrite64(c, rsp, ret >>> 0, Math.floor(ret / 4294967296) >>> 0);
      sysWrite64(c, rsp + 8, oldCs, 0);
      sysWrite64(c, rsp + 16, oldSpLo, oldSpHi);
      sysWrite64(c, rsp + 24, oldSs, 0);
      s.segSelector[Seg.SS] = newCpl;
      s.segBase[2 * Seg.SS] = 0;
      s.segBase[2 * Seg.SS + 1] = 0;
      s.segAccess[Seg.SS] = 0x10000 | (newCpl << 5);
      c.refreshSegment(Seg.SS);
      desc[0] = cs0;
      desc[1] = cs1;
      commitCs(c, csSel, newCpl);
      s.gpr[8] = rsp >>> 0;
      s.gpr[9] = Math.floor(rsp / 4294967296) >>> 0;
    } else {
      // The parameters, from the caller's stack while it is still SS (a fault there is the
      // caller's #SS or #PF); the one furthest from ESP is pushed first, so the order is kept.
      const count = hi & 0x1f;
      for (let k = 0; k < count; k++) params[k] = c.peek(size, k * size);
      const espN = tssRead32(c, 4 + 8 * newCpl, src);
      const ssN = tssRead32(c, 8 + 8 * newCpl, src) & 0xffff;
      const savedCpl = c.cpl;
      c.cpl = newCpl;
      try {
        loadStackSegment(c, ssN, newCpl, V.TS);
      } finally {
        c.cpl = savedCpl;
      }
      c.stackBits = (s.segAccess[Seg.SS]! & 0x4000) !== 0 ? 32 : 16;
      c.setSp(espN);
      pushSys(c, size, oldSs);
      pushSys(c, size, oldSpLo);
      for (let k = count - 1; k >= 0; k--) pushSys(c, size, params[k]!);
      pushSys(c, size, oldCs);
      pushSys(c, size, ret);
      desc[0] = cs0;
      desc[1] = cs1;
      commitCs(c, csSel, newCpl);
    }
  } else {
    if (call) {
      c.push(size, oldCs, 0);
      c.push(size, ret >>> 0, Math.floor(ret / 4294967296) >>> 0);
    }
    desc[0] = cs0;
    desc[1] = cs1;
    commitCs(c, csSel, newCpl);
  }
  c.nextRip = c.bits === 64 ? offset : offset >>> 0;
  return true;
}
