import { GuestAccess, GuestPagingWalker, loadPdptes, PagingMode, Permission, WalkResult } from "@turtles/ept";
import { AccessKind, type PhysicalAddressSpace, type PortIoSpace } from "@turtles/memory";
import { OPCODE_NAMES } from "@turtles/x86-decoder";
import { CpuState } from "../state/cpu-state.js";
import { Seg } from "../state/registers.js";
import { type Block, BlockCache } from "./block-cache.js";
import { canonicalBound, isCanonical } from "./canonical.js";
import { COMPILE_THRESHOLD, compileBlock } from "./compile.js";
import { type CpuModel, defaultCpuModel } from "./cpu-model.js";
import { CR4_TRANSLATION_BITS } from "./cr4.js";
import {
  clearResumeFlag,
  DebugUnit,
  debugAborted,
  debugAfter,
  debugBefore,
  markFault,
  noteDebugException,
  refreshDebug,
  takeDebugHits,
  watchAccess,
} from "./debug.js";
import { deliverEvent, EventSource } from "./delivery.js";
import {
  arbitrate,
  DELIVERED,
  initProcessor,
  linChecked,
  NO_EVENT,
  poisonSegment,
  startupProcessor,
  updateAlignmentCheck,
} from "./events.js";
import { FAULT, NO_ERROR, V } from "./fault.js";
import { deterministicRandom } from "./handlers/misc.js";
import type { Insn } from "./insn.js";
import {
  CpuExit,
  type CpuIntercepts,
  interceptAtBoundary,
  interceptInit,
  interceptSipi,
  VM_EXIT,
} from "./intercepts.js";
import { type MsrDevice, Msrs } from "./msr.js";
import { readTsc } from "./msr-access.js";
import { currentPcid } from "./pcid.js";
import { STOP_REASON_NAMES, StopReason } from "./stop-reason.js";
import { TLB_MASK, TLB_SIZE, type TlbSet, TlbSets, tlbEntryFlags } from "./tlb-sets.js";

/** The interrupt controller as the processor sees it (the INTR line and the INTA cycle). */
export interface InterruptSource {
  /** Whether a maskable interrupt is pending. */
  hasInterrupt(): boolean;
  /** Accepts the pending interrupt and returns its vector (32-255). */
  acknowledge(): number;
}

/**
 * The task-priority register of a local APIC as CR8 reaches it (SDM vol. 3, 11.8.6): MOV to CR8
 * sets TPR[7:4] and clears TPR[3:0]; MOV from CR8 reads TPR[7:4]. `LocalApic` of
 * `@turtles/machine` fits.
 */
export interface TaskPriorityRegister {
  /** TPR, 0-255. */
  taskPriority: number;
}

/** What a {@link Cpu} is connected to. */
export interface CpuOptions {
  /** Physical memory (RAM, ROM, MMIO). */
  readonly memory: PhysicalAddressSpace;
  /** The port I/O space. */
  readonly io: PortIoSpace;
  /** The interrupt controller, when there is one. */
  readonly interrupts?: InterruptSource;
  /** A device that answers some MSRs itself (a local APIC), consulted before the processor's own. */
  readonly msrDevice?: MsrDevice;
  /** The local APIC's task-priority register, which MOV CR8 reads and writes (CR8[3:0] = TPR[7:4]). */
  readonly tpr?: TaskPriorityRegister;
  /** CPUID identity and features (default: {@link defaultCpuModel}). */
  readonly model?: CpuModel;
  /**
   * The source of RDRAND/RDSEED values, 32 random bits per call (default: a deterministic
   * generator, so a guest run repeats exactly).
   */
  readonly random?: () => number;
}

/** 2^-32, exact: turns a sum of 32-bit halves into its carry. */
const INV_2_32 = 2.3283064365386963e-10;
const TWO_32 = 4294967296;
/** Scratch of `Cpu.tsc`. */
const TSC_HALVES = new Uint32Array(2);

/** Segment cache flags. */
export const SEG_R = 1;
/** Segment cache flag: writable data segment. */
export const SEG_W = 2;
/** Segment cache flag: expand-down data segment. */
export const SEG_DOWN = 4;
/** Segment cache flag: D/B set (an expand-down segment's upper bound is 4 GiB). */
export const SEG_BIG = 8;

/**
 * An x86-64 processor that runs code: real, protected (16/32-bit), compatibility and 64-bit modes
 * with segmentation, paging (through `@turtles/ept`'s walker behind a software TLB), exception and
 * interrupt delivery, and the general-purpose and system instruction set (no x87/SSE).
 *
 * Instructions are decoded once with `@turtles/x86-decoder` into compact records grouped into
 * blocks cached per guest-physical address; writes to a page holding decoded code (by any path:
 * the CPU, DMA, a loader) drop its blocks, so self-modifying code is correct.
 *
 * ```ts
 * const cpu = new Cpu({ memory, io });
 * const why = cpu.run(1_000_000); // a StopReason
 * ```
 */
export class Cpu {
  /** The architectural registers: read and write them between runs. */
  readonly state: CpuState = new CpuState();
  /** Physical memory. */
  readonly memory: PhysicalAddressSpace;
  /** Port I/O space. */
  readonly io: PortIoSpace;
  /** The interrupt controller, if any. */
  readonly interrupts: InterruptSource | undefined;
  /** The device answering some MSRs, if any (see {@link CpuOptions.msrDevice}). */
  readonly msrDevice: MsrDevice | undefined;
  /** The APIC's task-priority register behind CR8, if any (see {@link CpuOptions.tpr}). */
  readonly tpr: TaskPriorityRegister | undefined;
  /** The CPUID model. */
  readonly model: CpuModel;
  /** Model-specific registers other than those kept in {@link CpuState} (EFER, FS/GS base). */
  readonly msrs: Msrs = new Msrs();

  /** Instructions retired since construction (or the last {@link Cpu.resetCounters}). */
  instructions = 0;
  /** Events delivered, by vector (exceptions, software and external interrupts). */
  readonly eventCounts: Float64Array = new Float64Array(256);
  /** How many times {@link Cpu.run} returned each {@link StopReason}, indexed by value. */
  readonly stopCounts: Float64Array = new Float64Array(STOP_REASON_NAMES.length);
  /** Blocks decoded (a decode-cache miss counter). */
  get blocksDecoded(): number {
    return this.cache.decoded;
  }
  /**
   * The hypervisor's view of the intercept points (VM exits): null (the default) runs as bare
   * hardware, with no cost on any path. See {@link CpuIntercepts}.
   */
  intercepts: CpuIntercepts | null = null;
  /** The last VM exit's information (valid after `run` returned {@link StopReason.VmExit}). */
  readonly exit: CpuExit = new CpuExit();
  /** When the last stop was {@link StopReason.Unimplemented}: the instruction's name and address. */
  unimplemented: { readonly name: string; readonly rip: number } | undefined;

  // ---- internal machine state (public to the handlers; not part of the API) ----
  /** @internal */
  readonly s: CpuState;
  /** @internal 64-bit mode (IA-32e with CS.L = 1). */
  mode64 = false;
  /** @internal Code size: 16, 32 or 64. */
  bits: 16 | 32 | 64 = 16;
  /** @internal Stack address size: 16, 32 or 64. */
  stackBits: 16 | 32 | 64 = 16;
  /** @internal Current privilege level. */
  cpl = 0;
  /** @internal CR0.PE. */
  pe = false;
  /** @internal CR0.PG. */
  paging = false;
  /** @internal Segment bases used for address formation (0 for ES/CS/SS/DS in 64-bit mode). */
  readonly segBaseN: Float64Array = new Float64Array(8);
  /** @internal Segment limits. */
  readonly segLim: Float64Array = new Float64Array(8);
  /** @internal Segment access flags (SEG_R, SEG_W, ...; 0 = unusable). */
  readonly segFlags: Uint8Array = new Uint8Array(8);
  /** @internal Address of the next instruction, set by the running handler. */
  nextRip = 0;
  /** @internal Ends the running block after the current instruction. */
  breakBlock = false;
  /** @internal Index of the record that faulted inside a compiled block. */
  faultIndex = 0;
  /**
   * Whether hot blocks are compiled to JavaScript functions (the second tier). On by default;
   * turn it off to run every instruction through the interpreter's dispatch loop.
   */
  compile = true;
  /** @internal Pending fault: vector. */
  excVector = 0;
  /** @internal Pending fault: error code or NO_ERROR. */
  excError = NO_ERROR;
  /**
   * Whether the processor is in the HLT state: an interrupt wakes it; set it to false to resume
   * at `state.rip` without one. (Kept in `state.activity`.)
   */
  get halted(): boolean {
    return this.s.activity === 1;
  }
  set halted(v: boolean) {
    this.s.activity = v ? 1 : 0;
  }
  /** @internal Interrupts are inhibited for one instruction (STI, MOV SS, POP SS); `true` sets the MOV SS kind. */
  get shadow(): boolean {
    return (this.s.interruptibility & 3) !== 0;
  }
  set shadow(v: boolean) {
    this.s.interruptibility = v ? this.s.interruptibility | 2 : this.s.interruptibility & ~3;
  }
  /** @internal Scratch: the high half of the last 64-bit read. */
  mhi = 0;
  /** @internal Scratch of `ld64`/`ld32`: the value read, as halves. */
  readonly q: Uint32Array = new Uint32Array(2);
  /** @internal Stop reason set by a handler (-1 = none). */
  pendingStop = -1;
  /** @internal NMI blocked until IRET. */
  get nmiBlocked(): boolean {
    return (this.s.interruptibility & 8) !== 0;
  }
  set nmiBlocked(v: boolean) {
    this.s.interruptibility = v ? this.s.interruptibility | 8 : this.s.interruptibility & ~8;
  }
  /** The source of RDRAND/RDSEED values (see {@link CpuOptions.random}). */
  readonly random: () => number;
  /** @internal The instruction count at which the running `run` stops (REP bounds its iterations by it). */
  runEnd = Number.POSITIVE_INFINITY;
  /** @internal MONITOR armed an address range (MWAIT waits only then). */
  monitorArmed = false;
  /**
   * @internal Alignment checking is on (CR0.AM, RFLAGS.AC, CPL 3): the segment caches hold poison
   * so that every `lin` takes the checking path (events.ts); the real values are in `acSeg`.
   */
  acActive = false;
  /** @internal While `acActive`: the real segBaseN (0-7) and segFlags (8-15). */
  readonly acSeg: Float64Array = new Float64Array(16);

  /**
   * Raises the NMI input (edge-triggered): the NMI is latched and delivered as vector 2 at the
   * next instruction boundary where it is not blocked (a running NMI handler blocks it until
   * IRET; the MOV SS shadow holds it for one instruction). It wakes HLT. A second NMI raised
   * before the first is delivered is lost, as on hardware.
   */
  raiseNmi(): void {
    this.s.nmiPending = 1;
    this.breakBlock = true;
  }

  /** Whether an NMI is latched and not yet delivered. */
  get nmiPending(): boolean {
    return this.s.nmiPending !== 0;
  }

  /**
   * The INIT signal: registers to their reset values except CR0.CD/NW, XCR0, the MSRs and the
   * TSC. The bootstrap processor (IA32_APIC_BASE.BSP) restarts at F000:FFF0; another processor
   * enters the wait-for-SIPI state, where {@link Cpu.run} returns {@link StopReason.Halted}
   * until {@link Cpu.startup}.
   */
  init(): void {
    if (this.intercepts !== null && interceptInit(this)) return;
    initProcessor(this);
  }

  /**
   * A startup IPI: in the wait-for-SIPI state, starts in real mode at `vector` × 100h:0000
   * (CS = vector << 8, base vector << 12). Returns false (and does nothing) in any other state.
   */
  startup(vector: number): boolean {
    if (this.intercepts !== null && this.waitingForSipi && interceptSipi(this, vector)) return true;
    return startupProcessor(this, vector);
  }

  /** Whether the processor waits for a startup IPI (after {@link Cpu.init} on a non-bootstrap processor). */
  get waitingForSipi(): boolean {
    return this.s.activity === 3;
  }

  /** @internal A triple fault happened: the processor stays shut down until `reset()`. */
  shutdown = false;
  /** @internal Breakpoints, TF, RF or a held #DB trap need attention before the next block (see debug.ts). */
  debugActive = false;
  /** @internal Breakpoints, TF or a held #DB trap: run one instruction per block, with the debug checks. */
  debugStepping = false;
  /** @internal Data breakpoints are armed: their pages stay out of the TLB. */
  dataWatch = false;
  /** @internal The decoded debug registers. */
  readonly debug: DebugUnit = new DebugUnit();

  private stopRequested = false;
  /** @internal The page walker (configured from CR0/CR3/CR4/EFER/PKRU). */
  readonly walker = new GuestPagingWalker();
  /** CR0, CR3 (lo, hi), CR4 and EFER when the walker was last configured; [5] = 1 once valid. */
  private readonly walkerState = new Uint32Array(6);
  private readonly walk = new WalkResult();
  /** Which TLB half serves data accesses: 0 supervisor, TLB_SIZE user. */
  private tlbSide = 0;
  /** @internal The TLB sets of the cached PCIDs; the current one's arrays are below. */
  readonly tlbs = new TlbSets();
  private tagR = this.tlbs.current.tagR;
  private tagW = this.tlbs.current.tagW;
  private tagX = this.tlbs.current.tagX;
  private physR = this.tlbs.current.physR;
  private physW = this.tlbs.current.physW;
  private physX = this.tlbs.current.physX;
  private flagR = this.tlbs.current.flagR;
  private flagW = this.tlbs.current.flagW;
  private flagX = this.tlbs.current.flagX;
  /** @internal Canonical linear addresses in 64-bit mode are [-canonBound, canonBound) (see canonical.ts). */
  canonBound = 2 ** 47;

  private readonly cache: BlockCache;
  /** Bumped whenever cached translations or the mode change: block links older than this are stale. */
  private epochBase = 0;
  /**
   * What block links are checked against: `epochBase * 4 + cpl`. A CPL change in 64-bit mode
   * (setCpl) moves only the CPL part, so links made at each CPL survive a round trip through
   * another and are never followed at a CPL other than the one their target was fetched at.
   */
  private linkEpoch = 0;

  /** Makes every block link stale. */
  private bumpLinks(): void {
    this.epochBase++;
    this.linkEpoch = this.epochBase * 4 + this.cpl;
  }

  /** Creates a processor in its power-on state, connected to `options.memory` and `options.io`. */
  constructor(options: CpuOptions) {
    this.memory = options.memory;
    this.io = options.io;
    this.interrupts = options.interrupts;
    this.msrDevice = options.msrDevice;
    this.tpr = options.tpr;
    this.model = options.model ?? defaultCpuModel();
    this.random = options.random ?? deterministicRandom();
    this.s = this.state;
    this.walker.maxPhysAddr = this.model.maxPhysAddr;
    this.walker.pages1G = this.model.pages1G;
    this.walker.structureCache = true; // flushed by tlbChanged()
    this.cache = new BlockCache(this);
    this.reset();
  }

  /** The power-on state (SDM vol. 3, 10.1.1, Table 10-1): real mode at F000:FFF0, caches and TLB empty. */
  reset(): void {
    this.s.reset();
    this.s.gpr[4] = this.model.resetEdx;
    this.msrs.reset();
    this.shutdown = false;
    this.monitorArmed = false;
    this.exit.latched = false;
    this.debug.ssShadow = false;
    this.pendingStop = -1;
    this.stopRequested = false;
    this.invalidateAllBlocks();
    this.walkerState[5] = 0; // reconfigure and flush the TLB
    this.syncFromState();
  }

  /** Zeroes the counters. */
  resetCounters(): void {
    this.instructions = 0;
    this.eventCounts.fill(0);
    this.stopCounts.fill(0);
    this.cache.decoded = 0;
  }

  /** Asks the running {@link Cpu.run} to return {@link StopReason.Stopped} after the current instruction. */
  requestStop(): void {
    this.stopRequested = true;
    this.breakBlock = true;
  }

  /**
   * Runs until `budget` instructions have retired, HLT with nothing to wake it, a triple fault,
   * {@link Cpu.requestStop}, or an unimplemented instruction; returns why.
   */
  run(budget: number): StopReason {
    const reason = this.runInner(budget);
    this.stopCounts[reason]!++;
    return reason;
  }

  private runInner(budget: number): StopReason {
    if (this.shutdown) return StopReason.Shutdown;
    this.syncFromState();
    this.stopRequested = false;
    this.pendingStop = -1;
    this.unimplemented = undefined;
    const end = this.instructions + budget;
    this.runEnd = end;
    const s = this.s;
    let stalled = 0;
    while (this.instructions < end) {
      if (this.intercepts !== null && interceptAtBoundary(this)) return StopReason.VmExit;
      if (this.stopRequested) return StopReason.Stopped;
      // Events (events.ts) can only be taken with IF = 1, an NMI pending, or while not active.
      if ((s.flags.bits & 0x200) !== 0 || s.nmiPending !== 0 || s.activity !== 0) {
        const ev = arbitrate(this);
        if (ev !== NO_EVENT) {
          if (ev === DELIVERED) continue;
          return ev as StopReason;
        }
        if (s.activity !== 0) return StopReason.Halted;
      }
      const oneOnly = (s.interruptibility & 3) !== 0;
      if (oneOnly) s.interruptibility &= ~3;
      if (this.debugActive) {
        if (this.debugStepping) {
          const retired = this.instructions;
          if (this.debugStep()) return StopReason.Shutdown;
          if (this.pendingStop >= 0) return this.pendingStop as StopReason;
          // A #DB storm (a breakpoint on the #DB handler's first instruction, with an IST stack)
          // retires nothing: the budget bounds it too.
          if (this.instructions === retired && ++stalled >= budget) return StopReason.Budget;
          continue;
        }
        clearResumeFlag(this);
      }
      try {
        const b = this.fetchBlock();
        this.execBlock(b, oneOnly ? 1 : end - this.instructions);
      } catch (e) {
        if (e === VM_EXIT) return StopReason.VmExit;
        if (e !== FAULT) throw e;
        if (this.deliver(this.excVector, this.excError, EventSource.Exception, s.rip))
          return StopReason.Shutdown;
      }
      if (this.pendingStop >= 0) return this.pendingStop as StopReason;
    }
    return this.stopRequested ? StopReason.Stopped : StopReason.Budget;
  }

  /**
   * One instruction with the debug checks (debug.ts): instruction breakpoints before it, the #DB
   * trap (single-step, data and I/O breakpoints) after it. Returns true on a triple fault.
   */
  private debugStep(): boolean {
    const s = this.s;
    let bits = 0;
    try {
      debugBefore(this);
      const b = this.fetchBlock();
      this.execBlock(b, 1);
      if (this.pendingStop < 0) bits = debugAfter(this, b.insns[0]!);
      else takeDebugHits(this); // the instruction did not run
    } catch (e) {
      if (e === VM_EXIT) return this.exitInStep();
      if (e !== FAULT) throw e;
      bits = debugAborted(this);
      const vector = this.excVector;
      if (this.deliver(vector, this.excError, EventSource.Exception, s.rip)) return true;
      // Data breakpoints hit by the delivery's own accesses (not by a #DB's: no endless #DBs).
      const hits = takeDebugHits(this);
      if (vector !== V.DB) bits |= hits;
    }
    if (bits !== 0) {
      noteDebugException(this, bits);
      if (this.deliver(V.DB, NO_ERROR, EventSource.Exception, s.rip)) return true;
      takeDebugHits(this);
    }
    refreshDebug(this);
    return false;
  }

  /** A VM exit thrown while single-stepping: the run loop returns it (RIP is at the instruction). */
  private exitInStep(): boolean {
    this.pendingStop = StopReason.VmExit;
    takeDebugHits(this);
    return false;
  }

  /** @internal `debugStepping` changed: blocks are fetched under another key, so links are stale. */
  debugModeChanged(): void {
    this.bumpLinks();
    this.lastBlock = null;
    this.breakBlock = true;
  }

  /** Delivers an event; returns true on a triple fault (shutdown). */
  private deliver(vector: number, error: number, source: number, returnRip: number): boolean {
    if (source === EventSource.Exception) markFault(this, vector);
    const ok = deliverEvent(this, vector, error, source, returnRip);
    if (!ok) {
      this.shutdown = true;
      return true;
    }
    return false;
  }

  private execBlock(b: Block, max: number): void {
    const insns = b.insns;
    let n = insns.length;
    if (insns[n - 1]!.seqEnd > max) {
      n = 0;
      while (n < insns.length && insns[n]!.seqEnd <= max) n++;
      if (n === 0) n = 1;
    }
    this.breakBlock = false;
    // RIP is written once per block: branch handlers set `nextRip`, others leave it NaN.
    this.nextRip = Number.NaN;
    let k = 0;
    const compiled = b.compiled;
    try {
      if (compiled !== null && n === insns.length) {
        k = compiled(this, insns, max);
      } else {
        do {
          const i = insns[k]!;
          i.fn(this, i);
          k++;
        } while (k < n && !this.breakBlock);
        if (++b.runs === COMPILE_THRESHOLD && this.compile && insns.length > 1)
          b.compiled = compileBlock(insns);
      }
    } catch (e) {
      if (compiled !== null && n === insns.length) k = this.faultIndex;
      this.instructions += k > 0 ? insns[k - 1]!.seqEnd : 0;
      this.s.rip = insns[k]!.rip;
      this.lastBlock = null;
      throw e;
    }
    const last = insns[k - 1]!;
    this.instructions += last.seqEnd;
    const next = this.nextRip;
    this.s.rip = Number.isNaN(next) ? last.next : next;
    this.lastBlock = b;
  }

  private lastBlock: Block | null = null;
  /** `epochBase` when the last block was fetched. */
  private lastEpoch = 0;

  // ---------------------------------------------------------------------------------------------
  // Blocks

  private modeKey(): number {
    // Debug mode decodes one-instruction blocks (no fusion): its own key (bit 16).
    return this.bits | (this.cpl << 8) | (this.debugStepping ? 0x10000 : 0);
  }

  private fetchBlock(): Block {
    const s = this.s;
    const rip = s.rip;
    const prev = this.lastBlock;
    if (prev !== null && prev.linkEpoch === this.linkEpoch) {
      if (prev.rip0 === rip) {
        const next = prev.link0!;
        if (next.valid) return next;
      } else if (prev.rip1 === rip) {
        const next = prev.link1!;
        if (next.valid) return next;
      }
    }
    let lin: number;
    if (this.mode64) {
      lin = rip;
    } else {
      if (rip > this.segLim[Seg.CS]!) this.fault(V.GP, 0);
      lin = (this.segBaseN[Seg.CS]! + rip) >>> 0;
    }
    const pa = this.xlateFetch(lin);
    const key = this.modeKey();
    let b = this.cache.get(pa);
    if (
      b === undefined ||
      b.rip !== rip ||
      b.key !== key ||
      b.pages.length > 1 ||
      (!this.mode64 && b.csLimit !== this.segLim[Seg.CS])
    )
      b = this.blockFor(b, rip, lin, pa, key);
    if (prev?.valid && this.lastEpoch === this.epochBase) {
      // Links made under older translations are stale (a CR3/PCID switch, INVLPG...): drop them.
      if (prev.linkEpoch !== this.linkEpoch) {
        prev.linkEpoch = this.linkEpoch;
        prev.rip0 = Number.NaN;
      }
      prev.link1 = prev.link0;
      prev.rip1 = prev.rip0;
      prev.link0 = b;
      prev.rip0 = rip;
    }
    this.lastEpoch = this.epochBase;
    return b;
  }

  /**
   * The block to run at `rip` when the cached one (`b`) does not match, was cut to another CS limit,
   * or spans two pages: a block whose last instruction took bytes from the next page is decoded
   * again when that page now translates elsewhere (or not at all).
   */
  private blockFor(b: Block | undefined, rip: number, lin: number, pa: number, key: number): Block {
    if (
      b !== undefined &&
      b.rip === rip &&
      b.key === key &&
      b.pages.length > 1 &&
      (this.mode64 || b.csLimit === this.segLim[Seg.CS])
    ) {
      const lin2 = this.mode64 ? lin - (lin & 0xfff) + 4096 : ((lin | 0xfff) + 1) >>> 0;
      const vpn = Math.floor(lin2 / 4096);
      const idx = (vpn & TLB_MASK) + this.tlbSide;
      const pa2 = this.tagX[idx] === vpn ? this.physX[idx]! : this.probeFetch(lin2);
      if (pa2 >= 0 && Math.floor(pa2 / 4096) === b.pages[1]) return b;
    }
    return this.cache.build(rip, lin, pa, key);
  }

  /** Forgets every decoded block (and stops watching their pages). */
  invalidateAllBlocks(): void {
    this.cache.invalidateAll();
    this.lastBlock = null;
    this.bumpLinks();
  }

  /** @internal Called by the block cache when code the CPU may be running was overwritten. */
  codeChanged(): void {
    this.breakBlock = true;
    this.lastBlock = null;
  }

  // ---------------------------------------------------------------------------------------------
  // Mode and segment caches

  /**
   * Recomputes the cached mode (64-bit, code and stack sizes, CPL), the segment caches and the
   * paging setup from {@link Cpu.state}. `run` calls it on entry, so direct writes to the state
   * between runs take effect.
   */
  syncFromState(): void {
    const s = this.s;
    this.pe = (s.cr[0]! & 1) !== 0;
    this.paging = (s.cr[0]! & 0x80000000) !== 0 && this.pe;
    const lma = (s.efer[0]! & 0x400) !== 0;
    const csAr = s.segAccess[Seg.CS]!;
    this.mode64 = lma && (csAr & 0x2000) !== 0;
    this.bits = this.mode64 ? 64 : (csAr & 0x4000) !== 0 ? 32 : 16;
    this.cpl = !this.pe ? 0 : (s.flags.bits & 0x20000) !== 0 ? 3 : s.segSelector[Seg.CS]! & 3;
    this.tlbSide = this.cpl === 3 ? TLB_SIZE : 0;
    for (let seg = 0; seg < 8; seg++) this.refreshSegment(seg);
    this.stackBits = this.mode64 ? 64 : (s.segAccess[Seg.SS]! & 0x4000) !== 0 ? 32 : 16;
    updateAlignmentCheck(this);
    // Keep the TLB when nothing that shapes translation changed since it was filled (a machine
    // runs the CPU in short slices); changes made behind its back need invalidateTlb().
    const w = this.walkerState;
    if (
      ((w[0]! ^ s.cr[0]!) & 0x80010001) !== 0 ||
      w[1] !== s.cr[6] ||
      w[2] !== s.cr[7] ||
      ((w[3]! ^ s.cr[8]!) & CR4_TRANSLATION_BITS) !== 0 ||
      w[4] !== s.efer[0] ||
      w[5] !== 1 ||
      this.walker.pkru !== s.pkru ||
      this.walker.pkrs !== s.pkrs
    ) {
      this.configureWalker();
      // State written from outside (a snapshot restore): PAE paging needs its PDPTE registers.
      if (this.walker.mode === PagingMode.Pae && this.paging) this.loadPdptes();
    }
    if ((s.flags.bits & 0x40000) === 0) this.acCleared(); // AC may have been cleared in the state
    this.bumpLinks();
    refreshDebug(this);
  }

  /**
   * Empties the TLB (all entries, global ones too). Needed only after page tables were changed
   * by something other than the guest between runs (the guest flushes with CR3 writes and
   * INVLPG, as on hardware).
   */
  invalidateTlb(): void {
    this.flushTlb(true);
  }

  /** @internal Refreshes the address-formation cache of one segment register from the state. */
  refreshSegment(seg: number): void {
    const s = this.s;
    const ar = s.segAccess[seg]!;
    const base = s.segBase[2 * seg]! + s.segBase[2 * seg + 1]! * TWO_32;
    if (this.mode64 && seg !== Seg.FS && seg !== Seg.GS && seg < 6) {
      this.segBaseN[seg] = 0;
    } else {
      this.segBaseN[seg] = this.mode64 ? (s.segBase[2 * seg + 1]! | 0) * TWO_32 + s.segBase[2 * seg]! : base;
    }
    this.segLim[seg] = s.segLimit[seg]!;
    let f = 0;
    if ((ar & 0x10000) === 0 && (ar & 0x80) !== 0) {
      if (!this.pe || (s.flags.bits & 0x20000) !== 0) {
        f = SEG_R | SEG_W;
      } else if ((ar & 0x10) !== 0) {
        const type = ar & 0xf;
        if ((type & 8) !== 0) f = type & 2 ? SEG_R : 0;
        else f = SEG_R | (type & 2 ? SEG_W : 0) | (type & 4 ? SEG_DOWN : 0);
        if (ar & 0x4000) f |= SEG_BIG;
      }
    }
    this.segFlags[seg] = f;
    if (this.acActive && seg < 6) poisonSegment(this, seg);
  }

  /** @internal Recomputes the mode after CS, CR0 or EFER changed. */
  updateMode(): void {
    const s = this.s;
    const lma = (s.efer[0]! & 0x400) !== 0;
    const csAr = s.segAccess[Seg.CS]!;
    const was64 = this.mode64;
    this.mode64 = lma && (csAr & 0x2000) !== 0;
    this.bits = this.mode64 ? 64 : (csAr & 0x4000) !== 0 ? 32 : 16;
    this.stackBits = this.mode64 ? 64 : (s.segAccess[Seg.SS]! & 0x4000) !== 0 ? 32 : 16;
    if (was64 !== this.mode64) for (let seg = 0; seg < 6; seg++) this.refreshSegment(seg);
    this.breakBlock = true;
    // In 64-bit mode a link depends on no CS state but the CPL, which linkEpoch carries (see
    // setCpl); elsewhere the CS base and limit may have changed.
    if (!was64 || !this.mode64) this.bumpLinks();
  }

  /** @internal Sets the CPL (after CS changes privilege). */
  setCpl(cpl: number): void {
    if (cpl !== this.cpl) {
      this.cpl = cpl;
      this.tlbSide = cpl === 3 ? TLB_SIZE : 0;
      updateAlignmentCheck(this);
      this.breakBlock = true;
      // In 64-bit mode links depend on no CS state but the CPL, which linkEpoch carries.
      if (!this.mode64) this.bumpLinks();
      else this.linkEpoch = this.epochBase * 4 + cpl;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Paging and the TLB

  /** @internal Reconfigures the page walker from CR0/CR3/CR4/EFER and flushes the TLB. */
  configureWalker(): void {
    const s = this.s;
    const st = this.walkerState;
    st[0] = s.cr[0]!;
    st[1] = s.cr[6]!;
    st[2] = s.cr[7]!;
    st[3] = s.cr[8]!;
    st[4] = s.efer[0]!;
    st[5] = 1;
    const w = this.walker;
    const cr4 = s.cr[8]!;
    this.paging = (s.cr[0]! & 0x80000001) >>> 0 === 0x80000001;
    w.mode =
      (s.efer[0]! & 0x400) !== 0
        ? (cr4 & 0x1000) !== 0
          ? PagingMode.Level5
          : PagingMode.Level4
        : (cr4 & 0x20) !== 0
          ? PagingMode.Pae
          : PagingMode.Bits32;
    w.cr3 = s.cr[6]! + s.cr[7]! * TWO_32;
    w.wp = (s.cr[0]! & 0x10000) !== 0;
    w.pse = (cr4 & 0x10) !== 0;
    w.nxe = (s.efer[0]! & 0x800) !== 0;
    w.smep = (cr4 & 0x100000) !== 0;
    w.smap = (cr4 & 0x200000) !== 0;
    w.pke = (cr4 & 0x400000) !== 0;
    w.pkru = s.pkru;
    w.pks = (cr4 & 0x1000000) !== 0;
    w.pkrs = s.pkrs;
    this.canonBound = canonicalBound(cr4);
    this.flushTlb(true);
    this.useTlbSet(this.tlbs.select(currentPcid(this)));
  }

  /**
   * @internal Loads the PAE PDPTE registers from CR3 (SDM 4.4.1); returns false when one has a
   * reserved bit set (the caller raises #GP).
   */
  loadPdptes(): boolean {
    this.walker.cr3 = this.s.cr[6]! + this.s.cr[7]! * TWO_32;
    return loadPdptes(this.memory, this.walker, this.walk);
  }

  /**
   * @internal CR3 was written (SDM 4.10.4.1): new tables; the non-global translations of the new
   * PCID are dropped unless `noFlush` (CR4.PCIDE = 1 and bit 63 of the source was 1).
   */
  cr3Changed(noFlush = false): void {
    this.walker.cr3 = this.s.cr[6]! + this.s.cr[7]! * TWO_32;
    this.walkerState[1] = this.s.cr[6]!;
    this.walkerState[2] = this.s.cr[7]!;
    const set = this.tlbs.select(currentPcid(this));
    if (!noFlush) set.clearNonGlobal();
    this.useTlbSet(set);
    this.breakBlock = true;
  }

  /** @internal Makes `set` the TLB the lookups use (the current PCID's). */
  useTlbSet(set: TlbSet): void {
    this.tagR = set.tagR;
    this.tagW = set.tagW;
    this.tagX = set.tagX;
    this.physR = set.physR;
    this.physW = set.physW;
    this.physX = set.physX;
    this.flagR = set.flagR;
    this.flagW = set.flagW;
    this.flagX = set.flagX;
    this.tlbChanged();
  }

  /** @internal Cached translations changed: block links made under them are stale. */
  tlbChanged(): void {
    this.walker.flushStructureCache(); // paging-structure caches go with the TLB (SDM 4.10.4)
    this.bumpLinks();
    this.lastBlock = null;
  }

  /** @internal Empties the TLB of every PCID: everything, or only non-global entries. */
  flushTlb(all: boolean): void {
    if (all) this.tlbs.clearAll();
    else this.tlbs.clearNonGlobalAll();
    this.tlbChanged();
  }

  /**
   * @internal EFLAGS.AC went from 1 to 0: drop the supervisor data translations of user-mode
   * pages that SMAP allowed only because AC was 1 (a change from 0 to 1 needs nothing: with AC = 0
   * such accesses faulted and were not cached).
   */
  acCleared(): void {
    for (const t of this.tlbs.all()) if (t.acDependent) t.clearSupervisorData();
  }

  /** @internal Drops the translations of one linear page (INVLPG, SDM 4.10.4.1). */
  flushPage(la: number): void {
    this.tlbs.invlpg(Math.floor(la / 4096));
    this.tlbChanged();
  }

  /** @internal Physical address of a data read of `size` bytes (for data breakpoints) at linear `la`. */
  xlateRead(la: number, size = 1): number {
    const vpn = Math.floor(la / 4096);
    const idx = (vpn & TLB_MASK) + this.tlbSide;
    if (this.tagR[idx] === vpn) return this.physR[idx]! + (la & 0xfff);
    return this.tlbFill(la, vpn, idx, 0, this.tlbSide !== 0, size);
  }

  /** @internal Physical address of a data write of `size` bytes (for data breakpoints) at linear `la`. */
  xlateWrite(la: number, size = 1): number {
    const vpn = Math.floor(la / 4096);
    const idx = (vpn & TLB_MASK) + this.tlbSide;
    if (this.tagW[idx] === vpn) return this.physW[idx]! + (la & 0xfff);
    return this.tlbFill(la, vpn, idx, 1, this.tlbSide !== 0, size);
  }

  /** @internal Physical address of an instruction fetch at linear `la`. */
  xlateFetch(la: number): number {
    const vpn = Math.floor(la / 4096);
    const idx = (vpn & TLB_MASK) + this.tlbSide;
    if (this.tagX[idx] === vpn) return this.physX[idx]! + (la & 0xfff);
    return this.tlbFill(la, vpn, idx, 2, this.tlbSide !== 0);
  }

  /**
   * @internal Physical address of an implicit supervisor access (descriptor tables, TSS, IDT) of
   * `size` bytes (0: a probe, not checked against data breakpoints).
   */
  xlateSystem(la: number, write: boolean, size = 0): number {
    if ((this.s.flags.bits & 0x40000) !== 0 && this.walker.smap && this.paging)
      return this.walkImplicit(la, write);
    const vpn = Math.floor(la / 4096);
    const idx = vpn & TLB_MASK;
    if (write) {
      if (this.tagW[idx] === vpn) return this.physW[idx]! + (la & 0xfff);
      return this.tlbFill(la, vpn, idx, 1, false, size);
    }
    if (this.tagR[idx] === vpn) return this.physR[idx]! + (la & 0xfff);
    return this.tlbFill(la, vpn, idx, 0, false, size);
  }

  /**
   * An implicit supervisor access while EFLAGS.AC = 1 under SMAP: SMAP ignores AC for it (SDM
   * 4.6.1), while the TLB's supervisor entries were checked with AC, so it walks without caching.
   */
  private walkImplicit(la: number, write: boolean): number {
    if (!isCanonical(this, la)) this.fault(V.GP, 0);
    const w = this.walk;
    if (!this.walker.walk(this.memory, la, GuestAccess.Implicit | (write ? GuestAccess.Write : 0), w)) {
      this.s.cr[4] = la >>> 0;
      this.s.cr[5] = Math.floor(la / TWO_32) >>> 0;
      this.fault(V.PF, w.errorCode);
    }
    return w.address;
  }

  /** @internal A fetch translation that does not fault: the physical address, or -1. */
  probeFetch(la: number): number {
    if (!this.paging) return la;
    if (this.mode64 && (la < -this.canonBound || la >= this.canonBound)) return -1;
    const access = GuestAccess.Fetch | (this.cpl === 3 ? GuestAccess.User : 0);
    if (!this.walker.walk(this.memory, la, access, this.walk)) return -1;
    return this.walk.address;
  }

  private tlbFill(la: number, vpn: number, idx: number, kind: number, user: boolean, size = 0): number {
    let page: number;
    let flags = 0;
    // A system-structure base beyond the canonical bound (57-bit canonical but not exact as a
    // number, see canonical.ts) cannot be walked: #GP(0) rather than a wrong address.
    if (!isCanonical(this, la)) this.fault(V.GP, 0);
    if (!this.paging) {
      page = vpn * 4096;
    } else {
      const access =
        (kind === 1 ? GuestAccess.Write : kind === 2 ? GuestAccess.Fetch : 0) |
        (user ? GuestAccess.User : 0) |
        ((this.s.flags.bits & 0x40000) !== 0 ? GuestAccess.Ac : 0);
      const w = this.walk;
      if (!this.walker.walk(this.memory, la, access, w)) {
        // A #PF drops the page's entries (SDM 4.10.4.1), so a retry walks the tables again.
        this.tlbs.current.dropPage(vpn, true, false);
        this.s.cr[4] = la >>> 0;
        this.s.cr[5] = Math.floor(la / TWO_32) >>> 0;
        this.fault(V.PF, w.errorCode);
      }
      page = w.address - (la & 0xfff);
      flags = tlbEntryFlags(w.global && (this.s.cr[8]! & 0x80) !== 0, w.pageSize);
      const set = this.tlbs.current;
      if (flags !== 0) {
        set.anyGlobal ||= (flags & 1) !== 0;
        set.anyLarge ||= flags > 1;
      }
      if (kind !== 2 && (w.permissions & Permission.User) !== 0) {
        if (this.walker.pke) set.anyKeyed = true;
        if (!user && this.walker.smap) set.acDependent = true;
      } else if (kind !== 2 && this.walker.pks) {
        set.anyKeyed = true;
      }
    }
    // A page holding an armed data breakpoint is not cached: every access to it is checked.
    if (this.dataWatch && kind !== 2 && watchAccess(this, la, vpn, size, kind === 1))
      return page + (la & 0xfff);
    if (kind === 0) {
      this.tagR[idx] = vpn;
      this.physR[idx] = page;
      this.flagR[idx] = flags;
    } else if (kind === 1) {
      this.tagW[idx] = vpn;
      this.physW[idx] = page;
      this.flagW[idx] = flags;
    } else {
      this.tagX[idx] = vpn;
      this.physX[idx] = page;
      this.flagX[idx] = flags;
    }
    return page + (la & 0xfff);
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  /** @internal Raises exception `vector` with `error` (NO_ERROR for none): aborts the instruction. */
  fault(vector: number, error: number): never {
    this.excVector = vector;
    this.excError = error;
    throw FAULT;
  }

  /** @internal Stops with {@link StopReason.Unimplemented} at the instruction `i`. */
  unimplementedAt(i: Insn): void {
    this.unimplemented = { name: OPCODE_NAMES[i.opcode] ?? `opcode ${i.opcode}`, rip: i.rip };
    this.pendingStop = StopReason.Unimplemented;
    this.nextRip = i.rip;
    this.instructions--;
    this.breakBlock = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Address formation

  /** @internal Effective address (offset in the segment) of the memory operand of `i`. */
  ea(i: Insn): number {
    const g = this.s.gpr;
    const b = i.base;
    const x = i.index;
    if (i.asz === 64) {
      let lo = i.dispLo;
      let hi = i.dispHi;
      if (b >= 0) {
        lo += g[2 * b]!;
        hi += g[2 * b + 1]!;
      }
      if (x >= 0) {
        lo += g[2 * x]! * i.scale;
        hi += g[2 * x + 1]! * i.scale;
      }
      hi += (lo * INV_2_32) | 0;
      return (hi | 0) * TWO_32 + (lo >>> 0);
    }
    let a = i.dispLo;
    if (b >= 0) a += g[2 * b]!;
    if (x >= 0) a += g[2 * x]! * i.scale;
    return i.asz === 32 ? a >>> 0 : a & 0xffff;
  }

  /**
   * @internal Linear address of `size` bytes at offset `off` of segment `seg`, checking the
   * segment (limit, type, usability) or, in 64-bit mode, canonicality: #GP(0) or #SS(0).
   */
  lin(seg: number, off: number, size: number, write: boolean): number {
    // Failing checks (and every access while #AC checking poisons the caches) take linChecked.
    if (this.mode64) {
      const la = off + this.segBaseN[seg]!;
      if (!(la >= -this.canonBound && la + size <= this.canonBound))
        return linChecked(this, seg, off, size, write);
      return la;
    }
    const f = this.segFlags[seg]!;
    if ((f & (write ? SEG_W : SEG_R)) === 0) return linChecked(this, seg, off, size, write);
    if ((f & SEG_DOWN) === 0) {
      if (off + size - 1 > this.segLim[seg]!) this.fault(seg === Seg.SS ? V.SS : V.GP, 0);
    } else {
      const top = f & SEG_BIG ? 0xffffffff : 0xffff;
      if (off <= this.segLim[seg]! || off + size - 1 > top) this.fault(seg === Seg.SS ? V.SS : V.GP, 0);
    }
    return (this.segBaseN[seg]! + off) >>> 0;
  }

  /** @internal Linear address of the memory operand of `i` for an access of `size` bytes. */
  opLin(i: Insn, size: number, write: boolean): number {
    return this.lin(i.seg, this.ea(i), size, write);
  }

  // ---------------------------------------------------------------------------------------------
  // Linear memory accesses (after segmentation)

  /** @internal */
  rd8(la: number): number {
    return this.memory.read8(this.xlateRead(la), AccessKind.Read);
  }

  /** @internal */
  rd16(la: number): number {
    if ((la & 0xfff) > 0xffe) return this.rdSplit(la, 2);
    return this.memory.read16(this.xlateRead(la, 2), AccessKind.Read);
  }

  /** @internal */
  rd32(la: number): number {
    if ((la & 0xfff) > 0xffc) return this.rdSplit(la, 4);
    return this.memory.read32(this.xlateRead(la, 4), AccessKind.Read);
  }

  /** @internal Reads 64 bits into `q[0]` (low) and `q[1]` (high): no number is returned, so nothing is boxed. */
  ld64(la: number): void {
    if ((la & 0xfff) > 0xff8) {
      this.q[0] = this.rdSplit(la, 4);
      this.q[1] = this.rdSplit(la + 4, 4);
      return;
    }
    this.memory.read64(this.xlateRead(la, 8), AccessKind.Read, this.q, 0);
  }

  /** @internal Reads 32 bits into `q[0]`. */
  ld32(la: number): void {
    if ((la & 0xfff) > 0xffc) this.q[0] = this.rdSplit(la, 4);
    else this.q[0] = this.memory.read32(this.xlateRead(la, 4), AccessKind.Read);
  }

  /** @internal Reads 64 bits: returns the low half, leaves the high half in `mhi`. */
  rd64(la: number): number {
    if ((la & 0xfff) > 0xff8) {
      const lo = this.rdSplit(la, 4);
      this.mhi = this.rdSplit(la + 4, 4);
      return lo;
    }
    const pa = this.xlateRead(la, 8);
    const m = this.memory;
    const lo = m.read32(pa, AccessKind.Read);
    this.mhi = m.read32(pa + 4, AccessKind.Read);
    return lo;
  }

  /** @internal Reads `size` bytes (1, 2, 4, 8; 8 leaves the high half in `mhi`). */
  rdSized(la: number, size: number): number {
    return size === 4
      ? this.rd32(la)
      : size === 8
        ? this.rd64(la)
        : size === 2
          ? this.rd16(la)
          : this.rd8(la);
  }

  private rdSplit(la: number, n: number): number {
    // Translate both pages before reading (a fault on the second leaves nothing half done).
    this.xlateRead(la + n - 1);
    let v = 0;
    for (let k = 0; k < n; k++) v |= this.memory.read8(this.xlateRead(la + k), AccessKind.Read) << (8 * k);
    return v >>> 0;
  }

  /** @internal */
  wr8(la: number, v: number): void {
    this.memory.write8(this.xlateWrite(la), v & 0xff, AccessKind.Write);
  }

  /** @internal */
  wr16(la: number, v: number): void {
    if ((la & 0xfff) > 0xffe) this.wrSplit(la, 2, v);
    else this.memory.write16(this.xlateWrite(la, 2), v & 0xffff, AccessKind.Write);
  }

  /** @internal */
  wr32(la: number, v: number): void {
    if ((la & 0xfff) > 0xffc) this.wrSplit(la, 4, v);
    else this.memory.write32(this.xlateWrite(la, 4), v >>> 0, AccessKind.Write);
  }

  /** @internal */
  wr64(la: number, lo: number, hi: number): void {
    if ((la & 0xfff) > 0xff8) {
      this.xlateWrite(la);
      this.xlateWrite(la + 7);
      this.wrSplit(la, 4, lo);
      this.wrSplit(la + 4, 4, hi);
      return;
    }
    this.memory.write64(this.xlateWrite(la, 8), lo >>> 0, hi >>> 0, AccessKind.Write);
  }

  /** @internal Writes `size` bytes (1, 2, 4, 8). */
  wrSized(la: number, size: number, lo: number, hi: number): void {
    if (size === 4) this.wr32(la, lo);
    else if (size === 8) this.wr64(la, lo, hi);
    else if (size === 2) this.wr16(la, lo);
    else this.wr8(la, lo);
  }

  /** @internal Checks that `size` bytes at `la` are writable (before a read-modify-write). */
  probeWrite(la: number, size: number): void {
    this.xlateWrite(la);
    if ((la & 0xfff) + size > 4096) this.xlateWrite(la + size - 1);
  }

  private wrSplit(la: number, n: number, v: number): void {
    this.xlateWrite(la + n - 1);
    this.xlateWrite(la);
    for (let k = 0; k < n; k++)
      this.memory.write8(this.xlateWrite(la + k), (v >>> (8 * k)) & 0xff, AccessKind.Write);
  }

  // System-structure accesses (GDT, LDT, IDT, TSS): supervisor, not subject to segmentation.

  /** @internal */
  sysRd32(la: number): number {
    if ((la & 0xfff) > 0xffc) {
      let v = 0;
      for (let k = 0; k < 4; k++)
        v |= this.memory.read8(this.xlateSystem(la + k, false, 1), AccessKind.Read) << (8 * k);
      return v >>> 0;
    }
    return this.memory.read32(this.xlateSystem(la, false, 4), AccessKind.Read);
  }

  /** @internal */
  sysRd16(la: number): number {
    return (this.sysRd32Bytes(la, 2) & 0xffff) >>> 0;
  }

  private sysRd32Bytes(la: number, n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++)
      v |= this.memory.read8(this.xlateSystem(la + k, false, 1), AccessKind.Read) << (8 * k);
    return v >>> 0;
  }

  /** @internal A 32-bit supervisor write (split bytewise across a page boundary). */
  sysWr32(la: number, v: number): void {
    if ((la & 0xfff) > 0xffc) {
      this.xlateSystem(la + 3, true);
      for (let k = 0; k < 4; k++) this.sysWr8(la + k, (v >>> (8 * k)) & 0xff);
      return;
    }
    this.memory.write32(this.xlateSystem(la, true, 4), v >>> 0, AccessKind.Write);
  }

  /** @internal */
  sysWr8(la: number, v: number): void {
    this.memory.write8(this.xlateSystem(la, true, 1), v, AccessKind.Write);
  }

  // ---------------------------------------------------------------------------------------------
  // Stack

  /** @internal The stack pointer as an offset in SS (a signed number in 64-bit mode). */
  sp(): number {
    const g = this.s.gpr;
    if (this.stackBits === 64) return (g[9]! | 0) * TWO_32 + g[8]!;
    return this.stackBits === 32 ? g[8]! : g[8]! & 0xffff;
  }

  /** @internal Sets the stack pointer at the stack size. */
  setSp(v: number): void {
    const g = this.s.gpr;
    if (this.stackBits === 64) {
      g[8] = v >>> 0;
      g[9] = Math.floor(v * INV_2_32) >>> 0;
    } else if (this.stackBits === 32) {
      g[8] = v >>> 0;
      g[9] = 0;
    } else {
      g[8] = (g[8]! & 0xffff0000) | (v & 0xffff);
    }
  }

  /** @internal Adds `delta` to the stack pointer at the stack size. */
  addSp(delta: number): void {
    this.setSp(this.sp() + delta);
  }

  /** @internal Pushes `size` bytes (2, 4, 8). */
  push(size: number, lo: number, hi: number): void {
    let sp = this.sp() - size;
    if (this.stackBits === 32) sp >>>= 0;
    else if (this.stackBits === 16) sp &= 0xffff;
    const la = this.lin(Seg.SS, sp, size, true);
    this.wrSized(la, size, lo, hi);
    this.setSp(sp);
  }

  /** @internal Reads `size` bytes at the top of the stack plus `offset` (no pop); 8 leaves the high half in `mhi`. */
  peek(size: number, offset: number): number {
    let sp = this.sp() + offset;
    if (this.stackBits === 32) sp >>>= 0;
    else if (this.stackBits === 16) sp &= 0xffff;
    return this.rdSized(this.lin(Seg.SS, sp, size, false), size);
  }

  /** @internal Pops `size` bytes (2, 4, 8); 8 leaves the high half in `mhi`. */
  pop(size: number): number {
    const v = this.peek(size, 0);
    const hi = this.mhi;
    this.addSp(size);
    this.mhi = hi;
    return v;
  }

  // ---------------------------------------------------------------------------------------------
  // Flags helpers

  /** @internal RFLAGS (low 32 bits). */
  rflags(): number {
    return this.s.flags.read();
  }

  /** @internal Writes RFLAGS bits under `mask` (bit 1 stays 1). */
  setRflags(value: number, mask: number): void {
    const f = this.s.flags;
    const old = f.read();
    const v = ((old & ~mask) | (value & mask)) >>> 0;
    f.write(v);
    if (((old ^ v) & 0x10100) !== 0) refreshDebug(this);
    if (((old ^ v) & 0x20000) !== 0) this.syncFromState();
    if (((old ^ v) & 0x40000) !== 0) {
      if ((old & ~v & 0x40000) !== 0) this.acCleared();
      updateAlignmentCheck(this);
    }
  }

  /** @internal The time-stamp counter as a number (exact below 2^53; RDTSC reads it exactly). */
  tsc(): number {
    readTsc(this, TSC_HALVES);
    return TSC_HALVES[0]! + TSC_HALVES[1]! * TWO_32;
  }

  /** @internal Flags that `MOV CR`, `WRMSR` etc. changed the translation: drop the TLB and links. */
  pagingChanged(): void {
    this.configureWalker();
    this.breakBlock = true;
  }
}
