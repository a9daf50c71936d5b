/**
 * Process-context identifiers (SDM vol. 3A, 4.10.1) and the PCID-aware invalidations: MOV to CR3
 * (4.10.4.1) and INVPCID (vol. 2A, "INVPCID—Invalidate Process-Context Identifier"). The TLB
 * storage per PCID is in `tlb-sets.ts`.
 */
import { isCanonicalHi } from "./canonical.js";
import type { Cpu } from "./cpu.js";
import { CR4_PCIDE } from "./cr4.js";
import { NO_ERROR, V } from "./fault.js";
import type { Insn } from "./insn.js";
import { interceptInstruction } from "./intercepts.js";

/** The current PCID: CR3[11:0] when CR4.PCIDE = 1, otherwise 000H (SDM 4.10.1). */
export function currentPcid(c: Cpu): number {
  return (c.s.cr[8]! & CR4_PCIDE) !== 0 ? c.s.cr[6]! & 0xfff : 0;
}

/**
 * MOV to CR3 (SDM vol. 2B MOV CR; vol. 3A 4.10.4.1). With CR4.PCIDE = 1, bit 63 of the source is
 * not written: when it is 1 no translation is invalidated, otherwise the non-global translations
 * of the new PCID are. Bits 63:MAXPHYADDR (bit 63 too when CR4.PCIDE = 0) are reserved: #GP(0).
 * PAE paging reloads the PDPTE registers (#GP(0) when one has a reserved bit set).
 */
export function writeCr3(c: Cpu, lo: number, hi: number): void {
  const s = c.s;
  let noFlush = false;
  if ((s.cr[8]! & CR4_PCIDE) !== 0 && (hi & 0x80000000) !== 0) {
    noFlush = true;
    hi &= 0x7fffffff;
  }
  const maxPhys = c.model.maxPhysAddr;
  if (c.mode64 && (maxPhys === 32 ? hi : hi >>> (maxPhys - 32)) !== 0) c.fault(V.GP, 0);
  const oldLo = s.cr[6]!;
  const oldHi = s.cr[7]!;
  s.cr[6] = lo;
  s.cr[7] = hi;
  if (c.paging && (s.efer[0]! & 0x400) === 0 && (s.cr[8]! & 0x20) !== 0 && !c.loadPdptes()) {
    s.cr[6] = oldLo;
    s.cr[7] = oldHi;
    c.walker.cr3 = oldLo + oldHi * 4294967296; // the PDPTE registers were left unchanged
    c.fault(V.GP, 0);
  }
  c.cr3Changed(noFlush);
}

/** INVPCID invalidation types (SDM vol. 2A INVPCID, "Operation"). */
export const InvpcidType = {
  /** Mappings for one linear address and one PCID, global translations excepted. */
  Address: 0,
  /** Every mapping of one PCID, global translations excepted. */
  SingleContext: 1,
  /** Every mapping of every PCID, global translations included. */
  AllIncludingGlobal: 2,
  /** Every mapping of every PCID, global translations excepted. */
  AllExceptGlobal: 3,
} as const;

/**
 * INVPCID r32/r64, m128: the register is the type, the memory operand the descriptor (PCID in
 * bits 11:0, bits 63:12 reserved, linear address in bits 127:64). #UD without the feature or in
 * virtual-8086 mode; #GP(0) at CPL > 0, for a type above 3, reserved descriptor bits, a non-zero
 * PCID with CR4.PCIDE = 0 (types 0 and 1), or a non-canonical address (type 0).
 */
export function invpcid(c: Cpu, i: Insn): void {
  const s = c.s;
  if (c.model.pcid === false || (s.flags.bits & 0x20000) !== 0 || !i.mem) c.fault(V.UD, NO_ERROR);
  if (c.cpl !== 0) c.fault(V.GP, 0);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const g = s.gpr;
  const typeHi = c.mode64 ? g[2 * i.d + 1]! : 0;
  const type = g[2 * i.d]!;
  if (typeHi !== 0 || type > 3) c.fault(V.GP, 0);
  const la = c.lin(i.seg, c.ea(i), 16, false);
  const descLo = c.rd32(la);
  const descHi = c.rd32(la + 4);
  const addrLo = c.rd32(la + 8);
  const addrHi = c.rd32(la + 12);
  if (descHi !== 0 || (descLo & ~0xfff) !== 0) c.fault(V.GP, 0);
  const pcid = descLo & 0xfff;
  const pcide = (s.cr[8]! & CR4_PCIDE) !== 0;
  if (type <= 1 && !pcide && pcid !== 0) c.fault(V.GP, 0);
  const tlbs = c.tlbs;
  switch (type) {
    case InvpcidType.Address: {
      if (!isCanonicalHi(c, addrHi)) c.fault(V.GP, 0);
      const vpn = Math.floor(((addrHi | 0) * 4294967296 + addrLo) / 4096);
      tlbs.find(pcid)?.dropPage(vpn, false, false);
      break;
    }
    case InvpcidType.SingleContext:
      tlbs.find(pcid)?.clearNonGlobal();
      break;
    case InvpcidType.AllIncludingGlobal:
      tlbs.clearAll();
      break;
    default:
      tlbs.clearNonGlobalAll();
      break;
  }
  c.tlbChanged();
  c.breakBlock = true;
}
