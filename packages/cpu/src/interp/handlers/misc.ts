/**
 * Small general-purpose and system instructions (SDM vol. 2): MONITOR/MWAIT, RDRAND/RDSEED,
 * RDPID, XGETBV/XSETBV, CLFLUSH/CLFLUSHOPT/CLWB, BOUND, RDPMC, and the instructions of features
 * this processor does not have, which raise #UD as the SDM says for a processor without them.
 */
import { Seg } from "../../state/registers.js";
import type { Cpu } from "../cpu.js";
import { NO_ERROR, V } from "../fault.js";
import type { Insn } from "../insn.js";
import { interceptInstruction } from "../intercepts.js";
import { getReg, setReg } from "./operands.js";

/** CR4.OSXSAVE. */
const CR4_OSXSAVE = 0x40000;

/**
 * A deterministic source of 32-bit random numbers (xorshift128), the default of
 * `CpuOptions.random`: RDRAND/RDSEED give the same sequence on every run of a guest.
 */
export function deterministicRandom(seed = 0x2545f491): () => number {
  let x = seed >>> 0 || 1;
  let y = 362436069;
  let z = 521288629;
  let w = 88675123;
  return () => {
    const t = (x ^ (x << 11)) >>> 0;
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return w;
  };
}

/**
 * MONITOR (SDM vol. 2B): arms the monitor on the linear address DS:rAX (segment override
 * allowed), checked as a read (#GP/#SS, #PF). #UD at CPL > 0; #GP(0) when ECX asks for an
 * extension (none exist).
 */
export function monitor(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) c.fault(V.UD, NO_ERROR);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const g = c.s.gpr;
  if (g[2]! !== 0) c.fault(V.GP, 0);
  const off = i.asz === 64 ? (g[1]! | 0) * 4294967296 + g[0]! : i.asz === 32 ? g[0]! : g[0]! & 0xffff;
  c.xlateRead(c.lin(i.seg, off, 1, false));
  c.monitorArmed = true;
}

/**
 * MWAIT (SDM vol. 2B), a hint: with the monitor armed and RFLAGS.IF = 1 the processor waits as
 * HLT does, until an interrupt or NMI; otherwise (monitor not armed, or IF = 0, where no break
 * event could end the wait) it goes on at once, which the SDM allows ("may exit for
 * implementation-specific reasons"). Writes to the monitored range do not end the wait. #UD at
 * CPL > 0; #GP(0) when ECX asks for an extension (CPUID.5:ECX enumerates none).
 */
export function mwait(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) c.fault(V.UD, NO_ERROR);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  if (c.s.gpr[2]! !== 0) c.fault(V.GP, 0);
  if (c.monitorArmed && (c.s.flags.bits & 0x200) !== 0) {
    c.halted = true;
    c.breakBlock = true;
  }
  c.monitorArmed = false;
}

/** RDRAND (aux 0) / RDSEED (aux 1) r16/32/64: a random value from `Cpu.random`, CF = 1, other arithmetic flags 0. */
export function rdrand(c: Cpu, i: Insn): void {
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const lo = c.random();
  const hi = i.size === 64 ? c.random() : 0;
  setReg(c.s.gpr, i.d, 0, i.size, lo, hi);
  c.s.flags.setArith(1);
}

/** RDPID r32/r64: IA32_TSC_AUX, zero-extended (SDM vol. 2B); any CPL. */
export function rdpid(c: Cpu, i: Insn): void {
  setReg(c.s.gpr, i.d, 0, c.mode64 ? 64 : 32, c.msrs.tscAux[0]!, 0);
}

/** XGETBV (SDM vol. 2C): EDX:EAX = XCR[ECX]; #UD without CR4.OSXSAVE, #GP(0) for an XCR other than 0. */
export function xgetbv(c: Cpu, _i: Insn): void {
  const s = c.s;
  if ((s.cr[8]! & CR4_OSXSAVE) === 0) c.fault(V.UD, NO_ERROR);
  const g = s.gpr;
  if (g[2]! !== 0) c.fault(V.GP, 0);
  g[0] = s.xcr0[0]!;
  g[1] = 0;
  g[4] = s.xcr0[1]!;
  g[5] = 0;
}

/** The XCR0 bits this processor supports: x87 only (bit 0, which must stay 1). */
export const XCR0_SUPPORTED = 1;

/**
 * XSETBV (SDM vol. 2C): XCR[ECX] = EDX:EAX. #UD without CR4.OSXSAVE; #GP(0) at CPL > 0, for an
 * XCR other than 0, with an unsupported bit set or with bit 0 (x87) clear.
 */
export function xsetbv(c: Cpu, i: Insn): void {
  const s = c.s;
  if ((s.cr[8]! & CR4_OSXSAVE) === 0) c.fault(V.UD, NO_ERROR);
  if (c.cpl !== 0) c.fault(V.GP, 0);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  const g = s.gpr;
  const lo = g[0]!;
  const hi = g[4]!;
  if (g[2]! !== 0 || hi !== 0 || (lo & ~XCR0_SUPPORTED) !== 0 || (lo & 1) === 0) c.fault(V.GP, 0);
  s.xcr0[0] = lo;
  s.xcr0[1] = hi;
}

/**
 * CLFLUSH/CLFLUSHOPT/CLWB m8: there is no cache to act on, but the operand is checked as a byte
 * read (segment limit and type, canonical address, page translation: #GP/#SS/#PF).
 */
export function cacheLine(c: Cpu, i: Insn): void {
  c.xlateRead(c.lin(i.seg, c.ea(i), 1, false));
}

/**
 * BOUND r16/32, m16&16/m32&32 (legacy modes): #BR when the signed index is below the lower
 * bound or above the upper bound of the pair in memory.
 */
export function bound(c: Cpu, i: Insn): void {
  const bytes = i.size >>> 3;
  const off = c.ea(i);
  const next = i.asz === 32 ? (off + bytes) >>> 0 : (off + bytes) & 0xffff;
  let lower = c.rdSized(c.lin(i.seg, off, bytes, false), bytes);
  let upper = c.rdSized(c.lin(i.seg, next, bytes, false), bytes);
  let index = getReg(c.s.gpr, i.d, 0, i.size);
  if (bytes === 2) {
    lower = (lower << 16) >> 16;
    upper = (upper << 16) >> 16;
    index = (index << 16) >> 16;
  } else {
    lower |= 0;
    upper |= 0;
    index |= 0;
  }
  if (index < lower || index > upper) c.fault(V.BR, NO_ERROR);
}

/**
 * RDPMC (SDM vol. 2B): this processor has no performance counters (CPUID leaf 0AH is absent),
 * so every counter index is invalid: #GP(0).
 */
export function rdpmc(c: Cpu, i: Insn): void {
  if (c.intercepts !== null && (c.cpl === 0 || (c.s.cr[8]! & 0x100) !== 0) && interceptInstruction(c, i))
    return;
  c.fault(V.GP, 0);
}

/** The segment of an instruction whose memory address is implicit (MONITOR): DS unless overridden. */
export function implicitSegment(segmentPrefix: number, segBase: number): number {
  return segmentPrefix >= segBase && segmentPrefix < segBase + 6 ? segmentPrefix - segBase : Seg.DS;
}
