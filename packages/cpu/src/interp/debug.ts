/**
 * The debug architecture (SDM vol. 3, chapter "Debug, Branch Profile, TSC, and Intel Resource
 * Director Technology Features": 17.2 "Debug Registers" and 17.3 "Debug Exceptions", numbered as
 * in the editions where it is chapter 17): DR0-DR3, DR6, DR7, instruction, data and I/O
 * breakpoints, single-step (EFLAGS.TF), EFLAGS.RF, the general-detect fault and the MOV SS/POP SS
 * shadow of debug traps.
 *
 * Cost model: the run loop tests one flag, `Cpu.debugActive`, per block. It is set only while
 * something needs attention: RF alone is just cleared ({@link clearResumeFlag}); an enabled
 * breakpoint, TF or a trap held over a MOV SS shadow set `Cpu.debugStepping`, and the loop runs
 * blocks of a single instruction (decoded without fusion, never compiled) through
 * `Cpu.debugStep`, which calls {@link debugBefore} and {@link debugAfter} around it. Data
 * breakpoints keep the pages they watch out of the software TLB, so only accesses to those pages
 * take the slow path that compares addresses ({@link watchAccess}); implicit accesses (descriptor
 * tables, TSS, frames pushed by event delivery) are checked too.
 *
 * Limits: B0-B3 are only set for enabled breakpoints, and DR6 is only ever ORed into (the SDM lets
 * a #DB clear B0-B3; this model never does). Data breakpoints hit by the delivery of a #DB itself
 * are not reported (on hardware they can make #DB recurse). A REP string instruction paused between iterations (by a debug trap
 * or the interpreter's own slicing) resumes with RF = 1, so its instruction breakpoint does not
 * fire again. No RTM, BLD or DEBUGCTL (LBR, BTF) features.
 */
import { Seg } from "../state/registers.js";
import type { Cpu } from "./cpu.js";
import { NO_ERROR, V } from "./fault.js";
import { int1, int3, intN, into } from "./handlers/branch.js";
import { movToSeg, popSeg } from "./handlers/move.js";
import { syscall, sysret } from "./handlers/system.js";
import type { Handler, Insn } from "./insn.js";

/** DR6 bits that read as 1 whatever is written (17.2.3: bits 4-11 and 16-31; RTM and BLD are active-low and absent). */
export const DR6_FIXED1 = 0xffff0ff0;
/** DR6 bits software can change: B0-B3, BD, BS, BT. */
export const DR6_WRITABLE = 0x0000e00f;
/** DR6.BD: the #DB is a general-detect fault (a MOV DR while DR7.GD = 1). */
export const DR6_BD = 0x2000;
/** DR6.BS: the #DB is a single-step trap. */
export const DR6_BS = 0x4000;
/** DR6.BT: the #DB follows a task switch to a TSS whose T flag is set. */
export const DR6_BT = 0x8000;
/** DR7 bits that read as 1 (bit 10). */
export const DR7_FIXED1 = 0x400;
/** DR7 bits software can change: L0-G3, LE, GE, GD and the R/W and LEN fields (11, 12, 14, 15 are reserved 0). */
export const DR7_WRITABLE = 0xffff23ff;
/** DR7.GD: general detect. */
export const DR7_GD = 0x2000;

const TF = 0x100;
const RF = 0x10000;
const TWO_32 = 4294967296;
/** DR7 LEN encodings to byte counts (17.2.5: 00 = 1, 01 = 2, 10 = 8, 11 = 4). */
const LEN_BYTES = [1, 2, 8, 4] as const;
/** A page number no linear address has. */
const NO_PAGE = Number.POSITIVE_INFINITY;
/** Fault-class vectors (SDM vol. 3, Table 6-1): their delivery pushes EFLAGS with RF = 1. */
const FAULT_VECTORS =
  (1 << 0) |
  (1 << 5) |
  (1 << 6) |
  (1 << 7) |
  (1 << 10) |
  (1 << 11) |
  (1 << 12) |
  (1 << 13) |
  (1 << 14) |
  (1 << 16) |
  (1 << 17) |
  (1 << 19) |
  (1 << 20) |
  (1 << 21);

/** Per-processor breakpoint decode of DR0-DR3/DR7 and the bookkeeping of the instruction being stepped. */
export class DebugUnit {
  /** Enabled instruction breakpoints (bit n = DRn). */
  exec = 0;
  /** Enabled data breakpoints (R/W = 01 or 11). */
  data = 0;
  /** Data breakpoints that also trigger on reads (R/W = 11). */
  reads = 0;
  /** Enabled I/O breakpoints (R/W = 10; they act only while CR4.DE = 1). */
  io = 0;
  /** First byte covered by each breakpoint (a signed linear address, or the port). */
  readonly start: Float64Array = new Float64Array(4);
  /** One past the last byte covered by each breakpoint. */
  readonly end: Float64Array = new Float64Array(4);
  /** The linear page of each data breakpoint (NO_PAGE when none): kept out of the TLB. */
  readonly watchVpn: Float64Array = new Float64Array(4).fill(NO_PAGE);
  /** DR6 bits (B0-B3) matched by the running instruction. */
  hits = 0;
  /** TF when the running instruction started. */
  tf = false;
  /** The running instruction follows MOV SS/POP SS: instruction breakpoints are not checked. */
  ssShadow = false;
}

/** Whether TF after the instruction decides the single-step trap (SYSCALL/SYSRET change TF themselves). */
let tfAfter: Set<Handler> | null = null;
/** Software interrupts: their delivery clears TF and discards the instruction's debug traps. */
let softInts: Set<Handler> | null = null;

function handlerSets(): void {
  tfAfter = new Set<Handler>([syscall, sysret]);
  softInts = new Set<Handler>([intN, int3, into, int1]);
}

/**
 * Recomputes the breakpoint decode from DR0-DR3/DR7, `Cpu.debugActive` from it, TF, RF and a
 * held trap, and the set of data-watched pages (flushing the TLB when it changed). Called after
 * MOV DR, RFLAGS changes of TF/RF, `syncFromState` and each debug step.
 */
export function refreshDebug(c: Cpu): void {
  const s = c.s;
  const d = c.debug;
  const dr7 = s.dr[14]!;
  let exec = 0;
  let data = 0;
  let reads = 0;
  let io = 0;
  let watchChanged = false;
  for (let n = 0; n < 4; n++) {
    let vpn = NO_PAGE;
    if (((dr7 >>> (2 * n)) & 3) !== 0) {
      const rw = (dr7 >>> (16 + 4 * n)) & 3;
      const len = LEN_BYTES[(dr7 >>> (18 + 4 * n)) & 3]!;
      const lo = s.dr[2 * n]!;
      const lin = (s.dr[2 * n + 1]! | 0) * TWO_32 + lo;
      const bit = 1 << n;
      if (rw === 0) {
        // An instruction breakpoint matches the first byte of the instruction (LEN must be 00).
        exec |= bit;
        d.start[n] = lin;
        d.end[n] = lin + 1;
      } else {
        // The low address bits covered by LEN are ignored (17.2.5): the range is LEN-aligned.
        const start = (rw === 2 ? lo : lin) - (lo & (len - 1));
        d.start[n] = start;
        d.end[n] = start + len;
        if (rw === 2) {
          io |= bit;
        } else {
          data |= bit;
          if (rw === 3) reads |= bit;
          vpn = Math.floor(start / 4096);
        }
      }
    }
    if (d.watchVpn[n] !== vpn) {
      d.watchVpn[n] = vpn;
      watchChanged = true;
    }
  }
  d.exec = exec;
  d.data = data;
  d.reads = reads;
  d.io = io;
  c.dataWatch = data !== 0;
  // Pages now watched may have translations cached: drop them so their accesses reach tlbFill.
  if (watchChanged && data !== 0) c.flushTlb(true);
  const stepping = (exec | data | io) !== 0 || (s.flags.bits & TF) !== 0 || s.pendingDebug !== 0;
  c.debugActive = stepping || (s.flags.bits & RF) !== 0;
  if (stepping !== c.debugStepping) {
    c.debugStepping = stepping;
    c.debugModeChanged();
  }
}

/**
 * RF set while no breakpoint is armed (after IRET from a fault handler, whose frame has RF = 1):
 * it can suppress nothing, so it is simply cleared before the next instruction, which then runs
 * in a normal block (clearing it before rather than after the instruction is not observable:
 * PUSHF stores RF as 0 and a fault of that instruction pushes RF = 1 anyway).
 */
export function clearResumeFlag(c: Cpu): void {
  c.s.flags.bits &= ~RF;
  refreshDebug(c);
}

/**
 * Before an instruction in debug mode (17.3.1.1): data breakpoints hit by an external interrupt
 * delivered at this boundary raise their #DB first (before the handler's first instruction);
 * then an RF of 1 is consumed (it suppresses this instruction's breakpoint and is clear once the
 * instruction completes); otherwise an enabled instruction breakpoint at the instruction's linear
 * address raises the #DB fault with its Bn set.
 */
export function debugBefore(c: Cpu): void {
  const s = c.s;
  const d = c.debug;
  const delivered = d.hits;
  d.hits = 0;
  if (delivered !== 0) raiseDebugFault(c, delivered);
  const f = s.flags.bits;
  d.tf = (f & TF) !== 0;
  if ((f & RF) !== 0) {
    s.flags.bits = f & ~RF;
    return;
  }
  if (d.exec === 0 || d.ssShadow) return;
  const lin = c.mode64 ? s.rip : (c.segBaseN[Seg.CS]! + s.rip) >>> 0;
  let hit = 0;
  for (let n = 0; n < 4; n++) if (((d.exec >>> n) & 1) !== 0 && d.start[n] === lin) hit |= 1 << n;
  if (hit !== 0) raiseDebugFault(c, hit);
}

/**
 * After an instruction in debug mode retired: the DR6 bits of the #DB trap to deliver now (0 for
 * none). Single-step uses TF at the instruction's start (17.3.1.4), except SYSCALL/SYSRET (TF as
 * they leave it); a software interrupt that was delivered has no single-step trap (its handler
 * runs with TF clear), only the data breakpoints its delivery hit, reported before the handler's
 * first instruction. Traps of MOV SS/POP SS are held until the next instruction retires
 * (or its event is delivered), then reported together with that instruction's own.
 */
export function debugAfter(c: Cpu, i: Insn): number {
  const s = c.s;
  const d = c.debug;
  if (tfAfter === null) handlerSets();
  const fn = i.fn;
  let bits = d.hits;
  d.hits = 0;
  // A delivered software interrupt has no single-step trap; data breakpoints its delivery hit remain.
  const delivered = softInts!.has(fn) && s.rip !== i.next;
  if (!delivered && (tfAfter!.has(fn) ? (s.flags.bits & TF) !== 0 : d.tf)) bits |= DR6_BS;
  bits |= s.pendingDebug;
  s.pendingDebug = 0;
  d.ssShadow = false;
  if ((fn === movToSeg || fn === popSeg) && i.aux === Seg.SS) {
    d.ssShadow = true;
    s.pendingDebug = bits;
    return 0;
  }
  return bits;
}

/**
 * The instruction in debug mode faulted: its own breakpoint matches are dropped (it did not
 * complete); a trap held over a MOV SS shadow is returned, to be delivered once the fault is.
 */
export function debugAborted(c: Cpu): number {
  const s = c.s;
  c.debug.hits = 0;
  c.debug.ssShadow = false;
  const held = s.pendingDebug;
  s.pendingDebug = 0;
  return held;
}

/** The data-breakpoint matches recorded since the last call (an event delivery's accesses), cleared. */
export function takeDebugHits(c: Cpu): number {
  const hits = c.debug.hits;
  c.debug.hits = 0;
  return hits;
}

/** Records a #DB about to be delivered: sets `bits` in DR6 and clears DR7.GD (17.2.4). */
export function noteDebugException(c: Cpu, bits: number): void {
  const dr = c.s.dr;
  dr[12] = (dr[12]! | bits | DR6_FIXED1) >>> 0;
  dr[14] = dr[14]! & ~DR7_GD;
  // Delivering an event ends an STI shadow.
  c.shadow = false;
}

/** Raises the #DB fault for `bits` (an instruction breakpoint's Bn, or BD). */
function raiseDebugFault(c: Cpu, bits: number): never {
  noteDebugException(c, bits);
  return c.fault(V.DB, NO_ERROR);
}

/**
 * The data-breakpoint check of a TLB fill (17.3.1.2). Returns true when linear page `vpn` holds
 * an armed data breakpoint, so the caller must not cache its translation; records in the DebugUnit
 * the breakpoints that the access of `size` bytes at `la` touches (size 0: a translation probe,
 * not an access). Implicit accesses (descriptor tables, TSS, the frames pushed by event delivery)
 * are checked like explicit ones.
 */
export function watchAccess(c: Cpu, la: number, vpn: number, size: number, write: boolean): boolean {
  const d = c.debug;
  let watched = false;
  for (let n = 0; n < 4; n++) {
    if (d.watchVpn[n] !== vpn) continue;
    watched = true;
    if (size === 0 || (!write && ((d.reads >>> n) & 1) === 0)) continue;
    if (la < d.end[n]! && la + size > d.start[n]!) {
      d.hits |= 1 << n;
      // A repeated string instruction stops after this iteration and the trap is taken there.
      c.breakBlock = true;
    }
  }
  return watched;
}

/** The I/O-breakpoint check of IN/OUT/INS/OUTS on `bytes` bytes at `port` (R/W = 10, CR4.DE = 1). */
export function debugIo(c: Cpu, port: number, bytes: number): void {
  const d = c.debug;
  if (d.io === 0 || (c.s.cr[8]! & 8) === 0) return;
  for (let n = 0; n < 4; n++) {
    if (((d.io >>> n) & 1) !== 0 && port < d.end[n]! && port + bytes > d.start[n]!) {
      d.hits |= 1 << n;
      // A repeated INS/OUTS reports it after its first iteration (17.3.1.2).
      c.breakBlock = true;
    }
  }
}

/** Iterations of a repeated string instruction per step: one while single-stepping (each is a step). */
export function repChunk(c: Cpu, normal: number): number {
  return (c.s.flags.bits & TF) !== 0 ? 1 : normal;
}

/**
 * Before an exception is delivered: a fault-class exception pushes EFLAGS with RF = 1, so the
 * restarted instruction does not hit its instruction breakpoint again (17.3.1.1). #DB is not
 * included (its handler sets RF in the image itself).
 */
export function markFault(c: Cpu, vector: number): void {
  if (vector < 32 && ((FAULT_VECTORS >>> vector) & 1) !== 0) c.s.flags.bits |= RF;
}

/**
 * MOV DR checks that follow the CPL test (SDM vol. 2B MOV—Move to/from Debug Registers):
 * DR8-DR15, or DR4/DR5 with CR4.DE = 1, are #UD; with DR7.GD = 1 any access is a general-detect
 * #DB fault with DR6.BD. Returns the register accessed, DR4/DR5 being aliases of DR6/DR7.
 */
export function debugRegisterNumber(c: Cpu, n: number): number {
  const s = c.s;
  if (n > 7) c.fault(V.UD, NO_ERROR);
  if (n === 4 || n === 5) {
    if ((s.cr[8]! & 8) !== 0) c.fault(V.UD, NO_ERROR);
    n += 2;
  }
  if ((s.dr[14]! & DR7_GD) !== 0) raiseDebugFault(c, DR6_BD);
  return n;
}

/**
 * Writes debug register `n` (0-3, 6, 7) with `lo`/`hi` (hi is 0 outside 64-bit mode): a 1 in
 * bits 63:32 of DR6/DR7 is #GP(0); reserved bits keep their fixed values. The breakpoints take
 * effect from the next instruction.
 */
export function writeDebugRegister(c: Cpu, n: number, lo: number, hi: number): void {
  const dr = c.s.dr;
  if (n === 6 || n === 7) {
    if (hi !== 0) c.fault(V.GP, 0);
    dr[2 * n] = n === 6 ? ((lo & DR6_WRITABLE) | DR6_FIXED1) >>> 0 : ((lo & DR7_WRITABLE) | DR7_FIXED1) >>> 0;
    dr[2 * n + 1] = 0;
  } else {
    dr[2 * n] = lo >>> 0;
    dr[2 * n + 1] = hi >>> 0;
  }
  refreshDebug(c);
  c.breakBlock = true;
}
