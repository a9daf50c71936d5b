/**
 * Events taken at instruction boundaries (SDM vol. 3, 6.9 "Priority Among Concurrent Events",
 * Table 6-2), the NMI input and its blocking (SDM vol. 3, 6.7.1 "Handling Multiple NMIs"), INIT and
 * the startup IPI (SDM vol. 3, 9.1 and 10.4 "Multiple-Processor (MP) Initialization"), and the
 * alignment-check condition (SDM vol. 3, 6.15 "Interrupt 17—Alignment Check Exception (#AC)").
 *
 * The run loop calls {@link arbitrate} between blocks (a block ends at every instruction that
 * changes what can be taken: STI, MOV SS, HLT, IRET, POPF, ...) when something could be taken:
 * RFLAGS.IF = 1, an NMI pending, or the processor not active; nothing is paid per instruction.
 * Higher-priority events are taken elsewhere:
 * faults of the previous instruction are delivered where they are raised, and traps of the
 * previous instruction (single-step, data breakpoints: priority 4) must be delivered by the run
 * loop before it calls {@link arbitrate} (NMI is priority 5, INTR priority 6). Faults of the next
 * instruction (priorities 7-10) come after: they are raised when it is fetched and run.
 */
import { Seg } from "../state/registers.js";
import { type Cpu, SEG_BIG, SEG_DOWN, SEG_R, SEG_W } from "./cpu.js";
import { deliverEvent, EventSource } from "./delivery.js";
import { NO_ERROR, V } from "./fault.js";
import { interceptInterrupt, interceptNmi } from "./intercepts.js";
import { StopReason } from "./stop-reason.js";

/** Activity states, in the VMCS encoding (SDM vol. 3, 25.4.2). */
export const Activity = {
  /** Executing instructions. */
  Active: 0,
  /** HLT: an NMI or an enabled interrupt wakes it. */
  Hlt: 1,
  /** Wait-for-SIPI (an application processor after INIT): only a startup IPI wakes it. */
  WaitForSipi: 3,
} as const;

/** Interruptibility-state bits, in the VMCS encoding (SDM vol. 3, 25.4.2). */
export const Blocking = {
  /** The STI shadow: maskable interrupts are held for one instruction. */
  Sti: 1,
  /** The MOV SS / POP SS shadow: interrupts, NMIs and debug traps are held for one instruction. */
  MovSs: 2,
  /** An NMI handler runs: further NMIs are held until the next IRET. */
  Nmi: 8,
} as const;

/** {@link arbitrate}: nothing was taken, run the next block. */
export const NO_EVENT = -1;
/** {@link arbitrate}: an event was delivered (look again before running). */
export const DELIVERED = -2;

/**
 * Takes the highest-priority pending external event at an instruction boundary: a pending NMI
 * (unless the MOV SS shadow or NMI blocking holds it), then INTR (unless RFLAGS.IF = 0 or either
 * shadow holds it). Returns {@link NO_EVENT}, {@link DELIVERED}, or a {@link StopReason}
 * (Halted while waiting for a SIPI, Shutdown when delivery triple-faulted).
 *
 * The STI shadow does not hold an NMI here: the SDM (STI, vol. 2B) guarantees only that maskable
 * interrupts are inhibited and says NMIs "may be" inhibited; taking the NMI is the simpler choice,
 * and delivering it ends the shadow as any event does.
 */
export function arbitrate(c: Cpu): number {
  const s = c.s;
  if (s.activity === Activity.WaitForSipi) return StopReason.Halted;
  const block = s.interruptibility;
  if (s.nmiPending !== 0 && (block & (Blocking.MovSs | Blocking.Nmi)) === 0) {
    if (c.intercepts !== null && interceptNmi(c)) return StopReason.VmExit;
    s.nmiPending = 0;
    // Delivery of an NMI blocks further NMIs until IRET (SDM vol. 3, 6.7.1).
    s.interruptibility = (block & ~(Blocking.Sti | Blocking.MovSs)) | Blocking.Nmi;
    return deliverExternal(c, V.NMI);
  }
  if ((block & (Blocking.Sti | Blocking.MovSs)) === 0 && (s.flags.bits & 0x200) !== 0) {
    const src = c.interrupts;
    if (c.intercepts !== null && src?.hasInterrupt() === true && interceptInterrupt(c))
      return StopReason.VmExit;
    if (src?.hasInterrupt()) return deliverExternal(c, src.acknowledge());
  }
  return NO_EVENT;
}

/** Delivers an NMI or an external interrupt at `s.rip` (no DPL check, EXT = 1 in error codes). */
function deliverExternal(c: Cpu, vector: number): number {
  c.halted = false;
  if (!deliverEvent(c, vector, NO_ERROR, EventSource.External, c.s.rip)) {
    c.shutdown = true;
    return StopReason.Shutdown;
  }
  return DELIVERED;
}

/**
 * INIT (SDM vol. 3, 10.1.1, Table 10-1 "IA-32 and Intel 64 Processor States Following Power-up,
 * Reset, or INIT"): the registers take their reset values, except that CR0.CD/NW, XCR0, the MSRs
 * (TSC, PAT, MTRRs, APIC base, SYSENTER/SYSCALL, KERNEL_GS_BASE, TSC_AUX, ...) and the time-stamp
 * counter keep theirs; EFER is cleared (the processor is back in real mode). The bootstrap
 * processor (IA32_APIC_BASE.BSP = 1) starts at F000:FFF0; an application processor waits for a
 * startup IPI. Pending and blocked NMIs and a shutdown are cleared.
 */
export function initProcessor(c: Cpu): void {
  const s = c.s;
  const cr0 = s.cr[0]!;
  const xcr0Lo = s.xcr0[0]!;
  const xcr0Hi = s.xcr0[1]!;
  s.reset();
  s.gpr[4] = c.model.resetEdx;
  s.cr[0] = (0x10 | (cr0 & 0x60000000)) >>> 0;
  s.xcr0[0] = xcr0Lo;
  s.xcr0[1] = xcr0Hi;
  if ((c.msrs.apicBase[0]! & 0x100) === 0) s.activity = Activity.WaitForSipi;
  c.shutdown = false;
  c.monitorArmed = false;
  c.pendingStop = -1;
  c.invalidateAllBlocks();
  c.syncFromState();
  c.configureWalker();
}

/**
 * A startup IPI with `vector` (SDM vol. 3, 10.4.4): in the wait-for-SIPI state the processor
 * starts in real mode at CS = vector << 8 (base vector << 12), IP = 0. Ignored (returns false)
 * in any other state.
 */
export function startupProcessor(c: Cpu, vector: number): boolean {
  const s = c.s;
  if (s.activity !== Activity.WaitForSipi) return false;
  const v = vector & 0xff;
  s.segSelector[Seg.CS] = v << 8;
  s.segBase[2 * Seg.CS] = v << 12;
  s.segBase[2 * Seg.CS + 1] = 0;
  s.rip = 0;
  s.activity = Activity.Active;
  c.codeChanged();
  c.syncFromState();
  return true;
}

/**
 * Recomputes {@link Cpu.acActive}: alignment checking is on when CR0.AM = 1, RFLAGS.AC = 1 and
 * CPL = 3 (SDM vol. 3, 6.15, Interrupt 17). Called when one of the three changes.
 *
 * Normal accesses pay nothing for it: while it is on, the segment caches of ES..GS hold poison
 * (usable flags 0; in 64-bit mode a NaN base), so the first check in `Cpu.lin` fails and every
 * access goes through {@link linChecked}, which uses the real values kept in `Cpu.acSeg`.
 */
export function updateAlignmentCheck(c: Cpu): void {
  const on = (c.s.cr[0]! & 0x40000) !== 0 && (c.s.flags.bits & 0x40000) !== 0 && c.cpl === 3;
  if (on === c.acActive) return;
  c.acActive = on;
  for (let seg = 0; seg < 6; seg++) {
    if (on) poisonSegment(c, seg);
    else c.refreshSegment(seg);
  }
}

/** Turns alignment checking off for implicit supervisor accesses (event delivery). */
export function suspendAlignmentCheck(c: Cpu): void {
  if (!c.acActive) return;
  c.acActive = false;
  for (let seg = 0; seg < 6; seg++) c.refreshSegment(seg);
}

/** Saves the real cache of segment `seg` in `acSeg` and poisons it (see {@link updateAlignmentCheck}). */
export function poisonSegment(c: Cpu, seg: number): void {
  c.acSeg[seg] = c.segBaseN[seg]!;
  c.acSeg[8 + seg] = c.segFlags[seg]!;
  c.segFlags[seg] = 0;
  // Instruction fetch outside 64-bit mode uses the CS base: poison bases only in 64-bit mode.
  if (c.mode64) c.segBaseN[seg] = Number.NaN;
}

/**
 * The slow path of `Cpu.lin`: the segment or canonical checks (#GP(0)/#SS(0)) with the real
 * segment caches, then, while alignment checking is on, the alignment check (#AC(0)).
 */
export function linChecked(c: Cpu, seg: number, off: number, size: number, write: boolean): number {
  const ac = c.acActive;
  const fault = seg === Seg.SS ? V.SS : V.GP;
  const base = ac ? c.acSeg[seg]! : c.segBaseN[seg]!;
  let la: number;
  if (c.mode64) {
    la = off + base;
    if (la < -c.canonBound || la + size > c.canonBound) c.fault(fault, 0);
  } else {
    const f = ac ? c.acSeg[8 + seg]! : c.segFlags[seg]!;
    if ((f & (write ? SEG_W : SEG_R)) === 0) c.fault(fault, 0);
    const limit = c.segLim[seg]!;
    if ((f & SEG_DOWN) === 0) {
      if (off + size - 1 > limit) c.fault(fault, 0);
    } else if (off <= limit || off + size - 1 > (f & SEG_BIG ? 0xffffffff : 0xffff)) {
      c.fault(fault, 0);
    }
    la = (base + off) >>> 0;
  }
  if (ac) checkAlignment(c, la, size);
  return la;
}

/**
 * #AC(0) when `size` bytes at linear `la` are not aligned as SDM vol. 3, Table 6-7 "Alignment
 * Requirements by Data Type" asks: words on 2, doublewords on 4, quadwords on 8; the 6-byte
 * far pointer (m16:32) on 4 and the 10-byte one (m16:64) on 8. Only called while
 * {@link Cpu.acActive} is set.
 */
export function checkAlignment(c: Cpu, la: number, size: number): void {
  const align = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
  if ((la & (align - 1)) !== 0) c.fault(V.AC, 0);
}
