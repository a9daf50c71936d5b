/**
 * Intercept points: where VMX non-root execution will turn an instruction or an event into a VM
 * exit (SDM vol. 3, 26.1 "Instructions That Cause VM Exits", 26.2 "Other Causes of VM Exits").
 * The processor does not implement VMX itself: it asks {@link CpuIntercepts.intercept} at each
 * point, with {@link CpuExit} filled as the SDM's VM-exit information fields would be
 * (SDM vol. 3, 28.2 "Recording VM-Exit Information"), and when the answer is true the point has
 * no architectural effect and `run` returns `StopReason.VmExit` with RIP at the instruction.
 *
 * Each hook site is one `if (c.intercepts !== null ...)` on a path that is already slow (system
 * and I/O instructions, exception delivery, the INTR check); the integer fast path has none.
 * Instruction hooks come after the checks the SDM gives priority over VM exits (#UD, CPL-based
 * #GP, the TSS I/O permission bitmap: SDM vol. 3, 26.1.1) and before anything else.
 */

import { ExitReason as VmExitReason, VmExitRecord } from "@turtles/vmx";
import { OPCODE_COUNT, OPCODE_NAMES } from "@turtles/x86-decoder";
import type { Cpu } from "./cpu.js";
import { fillQualification } from "./exit-qualification.js";
import { V } from "./fault.js";
import type { Insn } from "./insn.js";
import { StopReason } from "./stop-reason.js";

/**
 * The exit record: `@turtles/vmx`'s `VmExitRecord` (the VM-exit information fields of SDM vol. 3,
 * 25.9, plus the register values an exit router needs), so code that routes exits takes it as it
 * is. One record per processor ({@link Cpu.exit}) is rewritten at every intercept point: no
 * allocation. Fields this processor never sets stay at their cleared values (`guestPhysical`,
 * `ioRcx`, `inEpt12`; `xssLo`/`xssHi` all ones).
 */
export class CpuExit extends VmExitRecord {
  /** @internal An exit taken outside `run` (INIT, SIPI) that the next `run` returns at once. */
  latched = false;
}

/**
 * What a hypervisor (L0, or a test) attaches to {@link Cpu.intercepts} to see the processor's
 * intercept points before they take effect.
 */
export interface CpuIntercepts {
  /**
   * Asked at each intercept point with `exit` filled in (reason, qualification, instruction
   * length and information, interruption information, ...), the registers as they are before
   * the instruction or event, and `cpu.state.rip` at the instruction or the interrupted
   * boundary (for INT3/INTO/INT1, at that instruction). Return true to make it a VM exit: the
   * instruction or event has no effect and `run` returns `StopReason.VmExit`. Return false to
   * let it happen normally.
   *
   * External interrupts are asked about before the INTA cycle: the interrupt stays pending at the
   * controller; a hook that wants "acknowledge interrupt on exit" calls
   * `cpu.interrupts.acknowledge()` itself and stores the vector in `exit.interruptionInfo`.
   */
  intercept(exit: CpuExit, cpu: Cpu): boolean;
  /**
   * Interrupt-window exiting: while true, `run` asks {@link CpuIntercepts.intercept} with
   * reason 7 at every block boundary where RFLAGS.IF = 1 and no STI/MOV SS shadow holds
   * interrupts (SDM vol. 3, 26.2).
   */
  interruptWindow?: boolean;
  /**
   * NMI-window exiting: while true, `run` asks with reason 8 at every block boundary where no
   * NMI blocking (an NMI handler running, the MOV SS shadow) would hold an NMI (SDM vol. 3, 26.2).
   */
  nmiWindow?: boolean;
}

/**
 * Thrown by a hook that exits from deep inside an instruction (a task switch, an event raised
 * by INT n/INT3/INTO/INT1); the run loop returns `StopReason.VmExit`. Like the fault sentinel it
 * never leaves `run`, and `execBlock` leaves RIP at the instruction.
 */
export const VM_EXIT: { readonly vmExit: true } = Object.freeze({ vmExit: true });

/** Interruptibility-state bits (`CpuState.interruptibility`, the VMCS encoding: SDM vol. 3, 25.4.2). */
const BLOCK_STI = 1;
const BLOCK_MOV_SS = 2;
const BLOCK_NMI = 8;

/** Interruption types (bits 10:8 of interruption information, SDM vol. 3, 25.9.2). */
const IntType = {
  External: 0,
  Nmi: 2,
  Hardware: 3,
  SoftwareInterrupt: 4,
  Privileged: 5,
  Software: 6,
} as const;

/** Event sources of `delivery.ts` (`EventSource`), repeated to keep this module free of it. */
const Source = { Exception: 0, Software: 1, External: 2, SoftwareException: 3, Privileged: 4 } as const;

/** Exceptions that push an error code (SDM vol. 3, table 6-1): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP. */
const ERROR_CODE_VECTORS =
  (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 17) | (1 << 21);

/** Exit reasons by mnemonic (the decoder's opcode name up to the first `_`, lower case). */
const REASON_BY_MNEMONIC: Readonly<Record<string, VmExitReason>> = {
  cpuid: VmExitReason.Cpuid,
  getsec: VmExitReason.Getsec,
  getsecq: VmExitReason.Getsec,
  hlt: VmExitReason.Hlt,
  invd: VmExitReason.Invd,
  wbinvd: VmExitReason.Wbinvd,
  wbnoinvd: VmExitReason.Wbinvd,
  invlpg: VmExitReason.Invlpg,
  rdpmc: VmExitReason.Rdpmc,
  rdtsc: VmExitReason.Rdtsc,
  rdtscp: VmExitReason.Rdtscp,
  vmcall: VmExitReason.Vmcall,
  vmclear: VmExitReason.Vmclear,
  vmlaunch: VmExitReason.Vmlaunch,
  vmptrld: VmExitReason.Vmptrld,
  vmptrst: VmExitReason.Vmptrst,
  vmread: VmExitReason.Vmread,
  vmresume: VmExitReason.Vmresume,
  vmwrite: VmExitReason.Vmwrite,
  vmxoff: VmExitReason.Vmxoff,
  vmxon: VmExitReason.Vmxon,
  vmfunc: VmExitReason.Vmfunc,
  invept: VmExitReason.Invept,
  invvpid: VmExitReason.Invvpid,
  invpcid: VmExitReason.Invpcid,
  clts: VmExitReason.CrAccess,
  lmsw: VmExitReason.CrAccess,
  in: VmExitReason.IoInstruction,
  out: VmExitReason.IoInstruction,
  insb: VmExitReason.IoInstruction,
  insw: VmExitReason.IoInstruction,
  insd: VmExitReason.IoInstruction,
  outsb: VmExitReason.IoInstruction,
  outsw: VmExitReason.IoInstruction,
  outsd: VmExitReason.IoInstruction,
  rdmsr: VmExitReason.Rdmsr,
  wrmsr: VmExitReason.Wrmsr,
  mwait: VmExitReason.Mwait,
  monitor: VmExitReason.Monitor,
  pause: VmExitReason.Pause,
  lgdt: VmExitReason.GdtrIdtrAccess,
  lidt: VmExitReason.GdtrIdtrAccess,
  sgdt: VmExitReason.GdtrIdtrAccess,
  sidt: VmExitReason.GdtrIdtrAccess,
  lldt: VmExitReason.LdtrTrAccess,
  ltr: VmExitReason.LdtrTrAccess,
  sldt: VmExitReason.LdtrTrAccess,
  str: VmExitReason.LdtrTrAccess,
  xsetbv: VmExitReason.Xsetbv,
  rdrand: VmExitReason.Rdrand,
  rdseed: VmExitReason.Rdseed,
};

function buildReasonTable(): Int8Array {
  const t = new Int8Array(OPCODE_COUNT).fill(-1);
  for (let op = 1; op < OPCODE_COUNT; op++) {
    const name = OPCODE_NAMES[op] ?? "";
    // MOV to/from CRn and DRn share the mnemonic of MOV: the operand names tell them apart.
    if (name === "Mov_Rcr_Cd" || name === "Mov_Cd_Rcr") t[op] = VmExitReason.CrAccess;
    else if (name === "Mov_Rcr_Dd" || name === "Mov_Dd_Rcr") t[op] = VmExitReason.MovDr;
    else {
      const reason = REASON_BY_MNEMONIC[(name.split("_")[0] ?? "").toLowerCase()];
      if (reason !== undefined) t[op] = reason;
    }
  }
  return t;
}

/** Basic exit reason of each opcode (`Opcode` of the decoder), -1 when it has none. */
const REASON_BY_OPCODE: Int8Array = buildReasonTable();

/** The basic exit reason of an instruction with opcode `op` (an `Opcode` value), or -1 for none. */
export function exitReasonOf(op: number): number {
  return REASON_BY_OPCODE[op] ?? -1;
}

/**
 * The hook of an instruction handler, after its #UD and privilege checks:
 * `if (c.intercepts !== null && interceptInstruction(c, i)) return;`. Fills {@link Cpu.exit}
 * from the reason table and the qualification builders and asks the hook. On an exit it returns
 * true with the block ended, RIP left at the instruction, the instruction not counted as retired
 * and the run loop told to return `StopReason.VmExit`: the handler just returns.
 */
export function interceptInstruction(c: Cpu, i: Insn): boolean {
  const reason = REASON_BY_OPCODE[i.opcode] ?? -1;
  if (reason < 0) throw new Error(`no exit reason for opcode ${OPCODE_NAMES[i.opcode] ?? i.opcode}`);
  const e = c.exit;
  e.clear();
  e.reason = reason;
  e.instructionLength = i.len;
  fillQualification(c, i, e);
  c.s.rip = i.rip; // the hook sees RIP at the instruction (the block writes it only at its end)
  if (!c.intercepts!.intercept(e, c)) return false;
  c.pendingStop = StopReason.VmExit;
  c.nextRip = i.rip;
  c.instructions--;
  c.breakBlock = true;
  return true;
}

/** Scratch of {@link interceptEvent}: the first event of a delivery (for IDT-vectoring information). */
const origin = new Int32Array(4); // [source, interruption info, error code, instruction length]

/**
 * The hook of event delivery, asked before each delivery attempt of `deliverEvent` (`attempt`
 * 0 is the event itself; later attempts are faults met while delivering it, reported with the
 * first event as IDT-vectoring information). INT n and external interrupts are not asked here
 * (INT n never exits by itself; INTR is asked before its acknowledge, by
 * {@link interceptInterrupt}). Returns true when the event became a VM exit.
 */
export function interceptEvent(
  c: Cpu,
  vector: number,
  error: number,
  source: number,
  returnRip: number,
  attempt: number,
): boolean {
  const hasError =
    source === Source.Exception && vector < 32 && ((ERROR_CODE_VECTORS >>> vector) & 1) !== 0 && error >= 0;
  const type =
    source === Source.External
      ? IntType.External
      : source === Source.Software
        ? IntType.SoftwareInterrupt
        : source === Source.SoftwareException
          ? IntType.Software
          : source === Source.Privileged
            ? IntType.Privileged
            : IntType.Hardware;
  const info = (0x8000_0000 | (vector & 0xff) | (type << 8) | (hasError ? 0x800 : 0)) >>> 0;
  if (attempt === 0) {
    origin[0] = source;
    origin[1] = info | 0;
    origin[2] = hasError ? error : 0;
    // INT n/INT3/INTO/INT1 come from an instruction: exits report its length (SDM vol. 3, 28.2.5).
    origin[3] = source === Source.Exception ? 0 : (returnRip - c.s.rip) & 0xf;
  }
  if (source === Source.External || source === Source.Software) return false;
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.ExceptionOrNmi;
  e.interruptionInfo = info;
  e.interruptionErrorCode = hasError ? error >>> 0 : 0;
  e.instructionLength = origin[3]!;
  // #PF: the faulting linear address (SDM vol. 3, table 28-1; here CR2 already holds it).
  if (vector === V.PF && type === IntType.Hardware) {
    e.qualLo = c.s.cr[4]!;
    e.qualHi = c.s.cr[5]!;
  }
  // #DB: B0-B3, BD, BS (table 28-1). Here DR6 already holds them (on hardware it is unchanged).
  if (vector === V.DB && type === IntType.Hardware) e.qualLo = c.s.dr[12]! & 0x600f;
  if (attempt > 0) {
    e.idtVectoringInfo = origin[1]! >>> 0;
    e.idtVectoringErrorCode = origin[2]! >>> 0;
  }
  if (!c.intercepts!.intercept(e, c)) return false;
  return exitFromEvent(c);
}

/**
 * The hook of a triple fault, asked where delivery would shut the processor down. Returns true
 * when it became a VM exit (the processor is not shut down).
 */
export function interceptTripleFault(c: Cpu): boolean {
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.TripleFault;
  if (!c.intercepts!.intercept(e, c)) return false;
  return exitFromEvent(c);
}

/**
 * Ends the run for an event exit. An event raised by an instruction (INT3, INTO, INT1, INT n
 * whose delivery faulted) exits from inside its handler: throwing {@link VM_EXIT} leaves RIP at
 * that instruction. Any other event is taken by the run loop between instructions, where RIP is
 * already right: a pending stop makes the loop return.
 */
function exitFromEvent(c: Cpu): boolean {
  const src = origin[0];
  if (src === Source.SoftwareException || src === Source.Privileged || src === Source.Software) throw VM_EXIT;
  c.pendingStop = StopReason.VmExit;
  c.breakBlock = true;
  return true;
}

/**
 * The hook of a task switch by CALL (source 0), IRET (1) or JMP (2): asked after the privilege
 * checks of the instruction and before any check of the new TSS; the qualification is the TSS
 * selector (15:0) and the source (31:30) of SDM vol. 3, table 28-2. Throws {@link VM_EXIT} on an
 * exit (task switches exit unconditionally in VMX non-root operation, SDM vol. 3, 26.1.2).
 */
export function interceptTaskSwitch(c: Cpu, i: Insn, selector: number, source: number): void {
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.TaskSwitch;
  e.qualLo = ((selector & 0xffff) | (source << 30)) >>> 0;
  e.instructionLength = i.len;
  c.s.rip = i.rip;
  if (c.intercepts!.intercept(e, c)) throw VM_EXIT;
}

/**
 * The hook of a task switch through a task gate of the IDT (source 3), asked during the delivery
 * of the event, which is reported as IDT-vectoring information. Returns true on an exit (the
 * task switch does not happen).
 */
export function interceptTaskGate(c: Cpu, selector: number): boolean {
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.TaskSwitch;
  e.qualLo = ((selector & 0xffff) | (3 << 30)) >>> 0;
  e.idtVectoringInfo = origin[1]! >>> 0;
  e.idtVectoringErrorCode = origin[2]! >>> 0;
  e.instructionLength = origin[3]!;
  if (!c.intercepts!.intercept(e, c)) return false;
  return exitFromEvent(c);
}

/**
 * The hook of the INTR input, asked before the INTA cycle when a maskable interrupt would be
 * taken. Returns true for a VM exit (reason 1); the interrupt stays pending at the controller.
 */
export function interceptInterrupt(c: Cpu): boolean {
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.ExternalInterrupt;
  return c.intercepts!.intercept(e, c);
}

/**
 * The hook of an NMI, asked before it is delivered (reason 0, interruption type NMI, vector 2).
 * Returns true for a VM exit; the NMI is then consumed (not delivered), as with NMI exiting.
 */
export function interceptNmi(c: Cpu): boolean {
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.ExceptionOrNmi;
  e.interruptionInfo = (0x8000_0000 | (IntType.Nmi << 8) | V.NMI) >>> 0;
  if (!c.intercepts!.intercept(e, c)) return false;
  c.s.nmiPending = 0;
  return true;
}

/**
 * The hook of the INIT signal (reason 3), asked before INIT takes effect. On an exit INIT does
 * nothing and the next `run` returns `StopReason.VmExit` at once.
 */
export function interceptInit(c: Cpu): boolean {
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.InitSignal;
  return latch(c);
}

/**
 * The hook of a start-up IPI in the wait-for-SIPI state (reason 4, the vector as the
 * qualification, SDM vol. 3, table 28-1). On an exit the processor keeps waiting and the next
 * `run` returns `StopReason.VmExit` at once.
 */
export function interceptSipi(c: Cpu, vector: number): boolean {
  const e = c.exit;
  e.clear();
  e.reason = VmExitReason.Sipi;
  e.qualLo = vector & 0xff;
  return latch(c);
}

/** Asks about an exit taken between runs; on yes, latches it for the next `run`. */
function latch(c: Cpu): boolean {
  const e = c.exit;
  if (!c.intercepts!.intercept(e, c)) return false;
  e.latched = true;
  c.breakBlock = true;
  return true;
}

/**
 * The run loop's per-block check while intercepts are attached: a VM exit already taken by an
 * event between instructions, or an open interrupt window the hypervisor asked to see.
 */
export function interceptAtBoundary(c: Cpu): boolean {
  if (c.pendingStop === StopReason.VmExit) return true;
  if (c.exit.latched) {
    c.exit.latched = false;
    return true;
  }
  const hook = c.intercepts!;
  const block = c.s.interruptibility;
  // NMI window first: an NMI is taken before INTR (SDM vol. 3, 6.9, Table 6-2).
  if (
    hook.nmiWindow === true &&
    (block & (BLOCK_MOV_SS | BLOCK_NMI)) === 0 &&
    askWindow(c, VmExitReason.NmiWindow)
  )
    return true;
  if (hook.interruptWindow !== true || (block & (BLOCK_STI | BLOCK_MOV_SS)) !== 0) return false;
  if ((c.s.flags.bits & 0x200) === 0) return false;
  return askWindow(c, VmExitReason.InterruptWindow);
}

/** Asks about an open window (reason 7 or 8; no qualification, RIP at the boundary). */
function askWindow(c: Cpu, reason: number): boolean {
  const e = c.exit;
  e.clear();
  e.reason = reason;
  return c.intercepts!.intercept(e, c);
}
