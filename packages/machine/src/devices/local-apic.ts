import type { MmioHandler } from "@turtles/memory";
import type { Clock, TimedDevice } from "./clock.js";
import type { InterruptMessageSink } from "./ioapic.js";
import type { InterruptAcknowledge, IrqLine } from "./irq-line.js";
import { APIC_REGISTERS, ApicReg, LVT_REGS, Lvt, RegAccess } from "./local-apic-registers.js";
import type { Snapshottable } from "./snapshot.js";

/** The local APIC's default MMIO window. */
export const LOCAL_APIC_MMIO = { base: 0xfee0_0000, size: 0x1000 } as const;

/** MSRs the local APIC answers. */
export const ApicMsr = {
  /** IA32_APIC_BASE. */
  ApicBase: 0x1b,
  /** IA32_TSC_DEADLINE. */
  TscDeadline: 0x6e0,
  /** First x2APIC register MSR. */
  X2apicFirst: 0x800,
  /** Last MSR of the x2APIC range. */
  X2apicLast: 0x8ff,
} as const;

/** The outcome of an MSR access: done, or #GP(0) for the processor to raise. */
export const MsrAccess = {
  /** The access completed (a read's value is in `msrLo`/`msrHi`). */
  Ok: 0,
  /** The access faults with #GP(0). */
  GeneralProtection: 1,
} as const;

/** One of the {@link MsrAccess} values. */
export type MsrAccess = (typeof MsrAccess)[keyof typeof MsrAccess];

/** Interrupt delivery modes (ICR, LVT, I/O APIC redirection entries). */
export const DeliveryMode = {
  Fixed: 0,
  LowestPriority: 1,
  Smi: 2,
  Nmi: 4,
  Init: 5,
  StartUp: 6,
  ExtInt: 7,
} as const;

/** ESR bits (SDM §11.5.3). */
export const ApicError = {
  SendChecksum: 0x01,
  ReceiveChecksum: 0x02,
  SendAccept: 0x04,
  ReceiveAccept: 0x08,
  RedirectableIpi: 0x10,
  SendIllegalVector: 0x20,
  ReceiveIllegalVector: 0x40,
  IllegalRegisterAddress: 0x80,
} as const;

/** Signals the local APIC sends to its processor (all optional). */
export interface LocalApicCpuSignals {
  /** An NMI is pending. */
  nmi?(): void;
  /** An INIT is pending. */
  init?(): void;
  /** A start-up IPI with this vector (the real-mode page number). */
  startup?(vector: number): void;
  /** An SMI is pending. */
  smi?(): void;
}

/**
 * An inter-processor interrupt leaving this local APIC for other processors: the ICR's fields as
 * numbers (no allocation). `destination` is 8 bits in xAPIC mode, 32 bits in x2APIC mode.
 */
export type IpiSender = (
  vector: number,
  deliveryMode: number,
  logical: boolean,
  destination: number,
  levelAssert: boolean,
  levelTriggered: boolean,
  shorthand: number,
) => void;

/** Construction options of a {@link LocalApic}. */
export interface LocalApicOptions {
  /** The virtual clock (timer and TSC deadline). The TSC is taken to count nanoseconds (1 GHz). */
  readonly clock: Clock;
  /** The initial APIC ID (the x2APIC ID; its low 8 bits are the xAPIC ID). Default 0. */
  readonly apicId?: number;
  /** Whether this is the bootstrap processor: IA32_APIC_BASE.BSP, and LINT0 ExtINT at reset as QEMU. Default true. */
  readonly bsp?: boolean;
  /** Nanoseconds per APIC timer input clock before the divider (default 1: a 1 GHz bus, as KVM). */
  readonly busCycleNs?: number;
  /** Receives EOIs of level-triggered vectors (wire it to the I/O APIC's `eoi`). */
  readonly eoiBroadcast?: (vector: number) => void;
  /** Receives IPIs for other processors. */
  readonly sendIpi?: IpiSender;
  /** NMI, INIT, SIPI and SMI to the processor. */
  readonly signals?: LocalApicCpuSignals;
  /** The 8259A pair's acknowledge cycle, for ExtINT (virtual wire through LINT0, or PIC mode). */
  readonly extInt?: InterruptAcknowledge;
  /** Told when software moves the MMIO window (IA32_APIC_BASE), so the machine can remap it. */
  readonly baseMoved?: (oldBase: number, newBase: number) => void;
  /**
   * The processor's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]); IA32_APIC_BASE bits at and above it are
   * reserved (default 52).
   */
  readonly physAddressBits?: number;
}

/** The state of a {@link LocalApic}, as plain data. */
export interface LocalApicState {
  /** IA32_APIC_BASE (below 2^52). */
  apicBase: number;
  /** xAPIC ID (8 bits). */
  id: number;
  tpr: number;
  ldr: number;
  dfr: number;
  svr: number;
  /** ESR as last latched. */
  esr: number;
  /** Errors since the last ESR write. */
  esrPending: number;
  /** LVT entries in {@link Lvt} order. */
  lvt: number[];
  icrLow: number;
  icrHigh: number;
  initialCount: number;
  divideConfig: number;
  /** 8 dwords each, vector n at bit n % 32 of dword n / 32. */
  irr: number[];
  isr: number[];
  tmr: number[];
  /** Clock time at which the timer count equalled the initial count. */
  timerStartNs: number;
  /** Next timer event (ns); null when none. */
  timerNextNs: number | null;
  /** IA32_TSC_DEADLINE (0 = disarmed). */
  tscDeadline: number;
  /** Levels of the LINT0 and LINT1 inputs. */
  lint0: boolean;
  lint1: boolean;
  /** An ExtINT message is waiting for its acknowledge cycle. */
  extIntMessage: boolean;
}

const BASE_BSP = 0x100;
const BASE_EXTD = 0x400;
const BASE_EN = 0x800;
const BASE_RESERVED_LOW = 0x2ff;

const SVR_ENABLE = 0x100;
const SVR_SUPPRESS_EOI_BROADCAST = 0x1000;
const LVT_MASKED = 0x1_0000;
const LVT_LEVEL = 0x8000;
const LVT_REMOTE_IRR = 0x4000;
const LVT_ACTIVE_LOW = 0x2000;
const TIMER_PERIODIC = 1;
const TIMER_TSC_DEADLINE = 2;
/** Version 0x14 (integrated APIC), 7 LVT entries, EOI-broadcast suppression supported. */
const APIC_VERSION = 0x14 | (6 << 16) | (1 << 24);

/** Register index -> LVT index (or -1). */
const LVT_OF_REGISTER = new Int8Array(0x40).fill(-1);
LVT_REGS.forEach((reg, i) => {
  LVT_OF_REGISTER[reg] = i;
});

/** Index of the highest set bit of a 256-bit array, or -1. */
function highest(bits: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = bits[i]!;
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

function testBit(bits: Uint32Array, v: number): boolean {
  return (bits[v >> 5]! & (1 << (v & 31))) !== 0;
}

function setBit(bits: Uint32Array, v: number): void {
  bits[v >> 5] = bits[v >> 5]! | (1 << (v & 31));
}

function clearBit(bits: Uint32Array, v: number): void {
  bits[v >> 5] = bits[v >> 5]! & ~(1 << (v & 31));
}

/**
 * The local APIC (SDM vol. 3 ch. 11): the xAPIC MMIO window and the x2APIC MSR interface; ID,
 * version, TPR/APR/PPR, EOI with broadcast to the I/O APIC (suppressible), LDR/DFR, SVR, the
 * 256-bit IRR/ISR/TMR, ESR, the seven LVT entries, the timer (one-shot, periodic, TSC deadline)
 * with its divider, the ICR and SELF IPI, interrupt acceptance by priority, the acknowledge
 * cycle, IA32_APIC_BASE with the xAPIC/x2APIC/disabled transitions (§11.12.5), and ExtINT from
 * the 8259A through LINT0 (virtual wire) or with the APIC globally disabled.
 *
 * Single processor: IPIs to itself (self, all-including-self, or its own destination) loop back;
 * every IPI that may reach another processor goes to {@link LocalApicOptions.sendIpi}.
 */
export class LocalApic
  implements
    MmioHandler,
    InterruptAcknowledge,
    InterruptMessageSink,
    TimedDevice,
    Snapshottable<LocalApicState>
{
  /** Low half of the last MSR read. */
  msrLo = 0;
  /** High half of the last MSR read. */
  msrHi = 0;

  private readonly clock: Clock;
  private readonly initialId: number;
  private readonly isBsp: boolean;
  private readonly busCycleNs: number;
  private readonly addressLimit: number;
  private readonly options: LocalApicOptions;

  private apicBase = 0;
  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffff_ffff;
  private svr = 0xff;
  private esr = 0;
  private esrPending = 0;
  private readonly lvt = new Uint32Array(7);
  private icrLow = 0;
  private icrHigh = 0;
  private initialCount = 0;
  private divideConfig = 0;
  private readonly irr = new Uint32Array(8);
  /** Set bits in IRR: the common "nothing pending" check costs one comparison. */
  private irrCount = 0;
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private timerStartNs = 0;
  private timerNextNs = Number.POSITIVE_INFINITY;
  private tscDeadline = 0;
  private lint0 = false;
  private lint1 = false;
  private extIntMessage = false;

  /** LINT0 input (connect the 8259A's INTR output here). */
  readonly lint0Line: IrqLine = { set: (level) => this.setLint(Lvt.Lint0, level) };
  /** LINT1 input (usually NMI). */
  readonly lint1Line: IrqLine = { set: (level) => this.setLint(Lvt.Lint1, level) };

  /** Creates the APIC in its reset state: enabled in xAPIC mode at 0xFEE00000, software-disabled. */
  constructor(options: LocalApicOptions) {
    this.options = options;
    this.clock = options.clock;
    this.initialId = (options.apicId ?? 0) >>> 0;
    this.isBsp = options.bsp ?? true;
    this.busCycleNs = options.busCycleNs ?? 1;
    const bits = options.physAddressBits ?? 52;
    if (!Number.isInteger(bits) || bits < 32 || bits > 52)
      throw new RangeError("LocalApic: physAddressBits must be 32-52");
    this.addressLimit = 2 ** bits;
    if (!Number.isSafeInteger(this.busCycleNs) || this.busCycleNs < 1)
      throw new RangeError("LocalApic: busCycleNs must be a positive integer");
    this.apicBase = LOCAL_APIC_MMIO.base + BASE_EN + (this.isBsp ? BASE_BSP : 0);
    this.resetRegisters();
  }

  /** Registers as after RESET or INIT (SDM §11.4.7.1): the ID and IA32_APIC_BASE are kept. */
  private resetRegisters(): void {
    this.id = this.initialId & 0xff;
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffff_ffff;
    this.svr = 0xff;
    this.esr = 0;
    this.esrPending = 0;
    this.lvt.fill(LVT_MASKED);
    // QEMU sets LINT0 to ExtINT on the BSP at reset so that 8259A interrupts get through, as a
    // BIOS would have programmed virtual-wire mode.
    if (this.isBsp) this.lvt[Lvt.Lint0] = DeliveryMode.ExtInt << 8;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.initialCount = 0;
    this.divideConfig = 0;
    this.irr.fill(0);
    this.irrCount = 0;
    this.isr.fill(0);
    this.tmr.fill(0);
    this.timerStartNs = this.clock.nowNs();
    this.timerNextNs = Number.POSITIVE_INFINITY;
    this.tscDeadline = 0;
    this.extIntMessage = false;
  }

  /** An INIT (or RESET) of the processor: registers as after reset, IA32_APIC_BASE kept. */
  reset(): void {
    this.resetRegisters();
  }

  // ---------------------------------------------------------------------------------------------
  // Modes

  /** Whether IA32_APIC_BASE.EN is set. */
  get globallyEnabled(): boolean {
    return (this.apicBase & BASE_EN) !== 0;
  }

  /** Whether the APIC is in x2APIC mode. */
  get x2apic(): boolean {
    return (this.apicBase & (BASE_EN | BASE_EXTD)) === (BASE_EN | BASE_EXTD);
  }

  /** Whether SVR's APIC software-enable bit is set. */
  get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** The MMIO base from IA32_APIC_BASE. */
  get mmioBase(): number {
    return this.apicBase - (this.apicBase % 0x1000);
  }

  /** The APIC ID in the current mode (32-bit x2APIC ID, or the 8-bit xAPIC ID). */
  get apicId(): number {
    return this.x2apic ? this.initialId : this.id;
  }

  /** TPR (CR8 is bits 7:4 of it). */
  get taskPriority(): number {
    return this.tpr;
  }

  /** Sets TPR (MOV to CR8 writes `cr8 << 4`). */
  set taskPriority(value: number) {
    this.tpr = value & 0xff;
  }

  private xapicMode(): boolean {
    return (this.apicBase & (BASE_EN | BASE_EXTD)) === BASE_EN;
  }

  /**
   * Writes IA32_APIC_BASE (SDM §11.12.5, Figure 11-27): reserved bits (0-7, 9, MAXPHYADDR-63) set, the
   * invalid state EN=0/EXTD=1, x2APIC -> xAPIC, and disabled -> x2APIC are #GP. Going disabled
   * resets the registers; entering x2APIC mode makes the ID and LDR the x2APIC ones.
   */
  private writeApicBase(lo: number, hi: number): MsrAccess {
    if (lo & BASE_RESERVED_LOW || hi >= this.addressLimit / 0x1_0000_0000) return MsrAccess.GeneralProtection;
    const value = hi * 0x1_0000_0000 + (lo >>> 0);
    const en = (lo & BASE_EN) !== 0;
    const extd = (lo & BASE_EXTD) !== 0;
    const wasEn = this.globallyEnabled;
    const wasX2 = this.x2apic;
    if (!en && extd) return MsrAccess.GeneralProtection; // invalid state
    if (wasX2 && en && !extd) return MsrAccess.GeneralProtection; // x2APIC -> xAPIC
    if (!wasEn && en && extd) return MsrAccess.GeneralProtection; // disabled -> x2APIC
    const oldBase = this.mmioBase;
    this.apicBase = value;
    if (wasEn && !en) this.resetRegisters();
    if (!wasX2 && this.x2apic) this.id = this.initialId & 0xff;
    if (this.mmioBase !== oldBase) this.options.baseMoved?.(oldBase, this.mmioBase);
    return MsrAccess.Ok;
  }

  // ---------------------------------------------------------------------------------------------
  // Register file

  private ppr(): number {
    const isrv = highest(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  private apr(): number {
    const isrv = Math.max(0, highest(this.isr));
    const irrv = Math.max(0, highest(this.irr));
    if ((this.tpr & 0xf0) >= (irrv & 0xf0) && (this.tpr & 0xf0) > (isrv & 0xf0)) return this.tpr;
    return Math.max(this.tpr & 0xf0, isrv & 0xf0, irrv & 0xf0);
  }

  private x2apicLdr(): number {
    return (((this.initialId >>> 4) << 16) | (1 << (this.initialId & 0xf))) >>> 0;
  }

  private readRegister(idx: number): number {
    if (idx >= ApicReg.Isr0 && idx < ApicReg.Isr0 + 8) return this.isr[idx - ApicReg.Isr0]!;
    if (idx >= ApicReg.Tmr0 && idx < ApicReg.Tmr0 + 8) return this.tmr[idx - ApicReg.Tmr0]!;
    if (idx >= ApicReg.Irr0 && idx < ApicReg.Irr0 + 8) return this.irr[idx - ApicReg.Irr0]!;
    const lvt = LVT_OF_REGISTER[idx] ?? -1;
    if (lvt >= 0) return this.lvt[lvt]!;
    switch (idx) {
      case ApicReg.Id:
        return this.x2apic ? this.initialId : (this.id << 24) >>> 0;
      case ApicReg.Version:
        return APIC_VERSION;
      case ApicReg.Tpr:
        return this.tpr;
      case ApicReg.Apr:
        return this.apr();
      case ApicReg.Ppr:
        return this.ppr();
      case ApicReg.Ldr:
        return this.x2apic ? this.x2apicLdr() : this.ldr;
      case ApicReg.Dfr:
        return (this.dfr | 0x0fff_ffff) >>> 0;
      case ApicReg.Svr:
        return this.svr;
      case ApicReg.Esr:
        return this.esr;
      case ApicReg.IcrLow:
        return this.icrLow;
      case ApicReg.IcrHigh:
        return this.icrHigh;
      case ApicReg.InitialCount:
        return this.initialCount;
      case ApicReg.CurrentCount:
        return this.currentCount();
      case ApicReg.DivideConfig:
        return this.divideConfig;
      default:
        return 0;
    }
  }

  private writeRegister(idx: number, value: number): void {
    const spec = APIC_REGISTERS[idx]!;
    const v = (value & spec.writable) >>> 0;
    switch (idx) {
      case ApicReg.Id:
        this.id = v >>> 24;
        return;
      case ApicReg.Tpr:
        this.tpr = v;
        return;
      case ApicReg.Eoi:
        this.eoi();
        return;
      case ApicReg.Ldr:
        this.ldr = v;
        return;
      case ApicReg.Dfr:
        this.dfr = v;
        return;
      case ApicReg.Svr:
        this.svr = v;
        if (!(v & SVR_ENABLE)) for (let i = 0; i < 7; i++) this.lvt[i] = this.lvt[i]! | LVT_MASKED;
        return;
      case ApicReg.Esr:
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case ApicReg.IcrLow:
        this.icrLow = v;
        this.sendIcr();
        return;
      case ApicReg.IcrHigh:
        this.icrHigh = v;
        return;
      case ApicReg.InitialCount:
        this.writeInitialCount(v);
        return;
      case ApicReg.DivideConfig:
        this.writeDivide(v);
        return;
      case ApicReg.SelfIpi:
        this.selfIpi(v & 0xff);
        return;
    }
    const lvt = LVT_OF_REGISTER[idx] ?? -1;
    if (lvt >= 0) this.writeLvt(lvt, v);
  }

  private writeLvt(i: number, v: number): void {
    // An expiry that is due happens under the old entry before the new one takes effect.
    if (i === Lvt.Timer && this.clock.nowNs() >= this.timerNextNs) this.poll();
    const old = this.lvt[i]!;
    let next = v | (old & LVT_REMOTE_IRR);
    if (!this.softwareEnabled) next |= LVT_MASKED;
    const oldMode = (old >> 17) & 3;
    const count = i === Lvt.Timer ? this.currentCount() : 0;
    this.lvt[i] = next >>> 0;
    const newMode = (next >> 17) & 3;
    if (i === Lvt.Timer && oldMode !== newMode) {
      if ((oldMode === TIMER_TSC_DEADLINE) !== (newMode === TIMER_TSC_DEADLINE)) {
        // Into or out of TSC-deadline mode the timer is disarmed (as KVM): TMICT and the deadline clear.
        this.initialCount = 0;
        this.tscDeadline = 0;
        this.timerNextNs = Number.POSITIVE_INFINITY;
      } else if (this.timerNextNs !== Number.POSITIVE_INFINITY) {
        // One-shot <-> periodic: TMICT stays and the count goes on from where it is
        // (kvm-unit-tests' apic "change mode" test); a one-shot that ran out stays at 0.
        this.rebaseTimer(count);
      }
    }
    if (i === Lvt.Lint0 || i === Lvt.Lint1) this.serviceLint(i);
  }

  /** Restarts the count's reference so that it reads `count` now and runs on at the current rate. */
  private rebaseTimer(count: number): void {
    const now = this.clock.nowNs();
    this.timerStartNs = now - (this.initialCount - count) * this.tickNs();
    this.timerNextNs = now + count * this.tickNs();
  }

  // ---------------------------------------------------------------------------------------------
  // MMIO (xAPIC)

  /**
   * MMIO read of the xAPIC window: registers are 32 bits at 16-byte strides; narrower reads take
   * bytes of them. Outside xAPIC mode (disabled or x2APIC) the window reads all-ones, as an
   * unclaimed range.
   */
  read(offset: number, size: 1 | 2 | 4): number {
    if (!this.xapicMode()) return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
    const idx = offset >> 4;
    const within = offset & 0xf;
    const spec = APIC_REGISTERS[idx];
    let v = 0;
    if (spec === undefined || spec.xapic === RegAccess.None) this.error(ApicError.IllegalRegisterAddress);
    else if (within < 4 && spec.xapic !== RegAccess.WriteOnly) v = this.readRegister(idx) >>> (8 * within);
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  /** MMIO write: 32-bit writes at a register's offset; others are ignored. */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!this.xapicMode()) return;
    const idx = offset >> 4;
    const spec = APIC_REGISTERS[idx];
    if (spec === undefined || spec.xapic === RegAccess.None) {
      this.error(ApicError.IllegalRegisterAddress);
      return;
    }
    if (size !== 4 || (offset & 0xf) !== 0 || spec.xapic === RegAccess.ReadOnly) return;
    this.writeRegister(idx, value);
  }

  // ---------------------------------------------------------------------------------------------
  // MSRs

  /** Whether `index` is an MSR this device answers (IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8FF). */
  handlesMsr(index: number): boolean {
    return (
      index === ApicMsr.ApicBase ||
      index === ApicMsr.TscDeadline ||
      (index >= ApicMsr.X2apicFirst && index <= ApicMsr.X2apicLast)
    );
  }

  /**
   * RDMSR: the value goes to {@link LocalApic.msrLo} / {@link LocalApic.msrHi}. x2APIC MSRs
   * fault outside x2APIC mode, for absent registers and for write-only ones (EOI, SELF IPI).
   * @throws RangeError for an MSR this device does not answer (an emulator bug).
   */
  readMsr(index: number): MsrAccess {
    this.msrHi = 0;
    if (index === ApicMsr.ApicBase) {
      this.msrLo = this.apicBase % 0x1_0000_0000;
      this.msrHi = Math.floor(this.apicBase / 0x1_0000_0000);
      return MsrAccess.Ok;
    }
    if (index === ApicMsr.TscDeadline) {
      const d = this.timerMode() === TIMER_TSC_DEADLINE ? this.tscDeadline : 0;
      this.msrLo = d % 0x1_0000_0000;
      this.msrHi = Math.floor(d / 0x1_0000_0000);
      return MsrAccess.Ok;
    }
    const idx = this.x2apicIndex(index);
    this.msrLo = 0;
    const spec = APIC_REGISTERS[idx];
    if (
      !this.x2apic ||
      spec === undefined ||
      spec.x2apic === RegAccess.None ||
      spec.x2apic === RegAccess.WriteOnly
    ) {
      return MsrAccess.GeneralProtection;
    }
    this.msrLo = this.readRegister(idx) >>> 0;
    if (idx === ApicReg.IcrLow) this.msrHi = this.icrHigh;
    return MsrAccess.Ok;
  }

  /**
   * WRMSR of `hi:lo`. x2APIC MSRs fault outside x2APIC mode, for absent and read-only registers,
   * for bits 63:32 set (but in the ICR), for reserved bits set (§11.12.1.3), and for non-zero
   * writes to EOI and ESR.
   * @throws RangeError for an MSR this device does not answer (an emulator bug).
   */
  writeMsr(index: number, lo: number, hi: number): MsrAccess {
    if (index === ApicMsr.ApicBase) return this.writeApicBase(lo >>> 0, hi >>> 0);
    if (index === ApicMsr.TscDeadline) {
      if (this.timerMode() === TIMER_TSC_DEADLINE)
        this.writeTscDeadline((hi >>> 0) * 0x1_0000_0000 + (lo >>> 0));
      return MsrAccess.Ok;
    }
    const idx = this.x2apicIndex(index);
    const spec = APIC_REGISTERS[idx];
    if (
      !this.x2apic ||
      spec === undefined ||
      spec.x2apic === RegAccess.None ||
      spec.x2apic === RegAccess.ReadOnly
    ) {
      return MsrAccess.GeneralProtection;
    }
    if (idx !== ApicReg.IcrLow && hi !== 0) return MsrAccess.GeneralProtection;
    if ((idx === ApicReg.Eoi || idx === ApicReg.Esr) && lo !== 0) return MsrAccess.GeneralProtection;
    if (lo & ~(spec.writable | spec.readOnlyBits)) return MsrAccess.GeneralProtection;
    if (idx === ApicReg.IcrLow) this.icrHigh = hi >>> 0;
    this.writeRegister(idx, lo >>> 0);
    return MsrAccess.Ok;
  }

  private x2apicIndex(index: number): number {
    if (index < ApicMsr.X2apicFirst || index > ApicMsr.X2apicLast || !Number.isInteger(index)) {
      throw new RangeError(`LocalApic: MSR 0x${index.toString(16)} is not an APIC MSR`);
    }
    return index - ApicMsr.X2apicFirst;
  }

  // ---------------------------------------------------------------------------------------------
  // Interrupts

  private error(bits: number): void {
    this.esrPending |= bits;
    const lvt = this.lvt[Lvt.Error]!;
    if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16) this.acceptFixed(lvt & 0xff, false);
  }

  /** Accepts a fixed interrupt into IRR (TMR records the trigger mode); vectors 0-15 are illegal. */
  private acceptFixed(vector: number, level: boolean): void {
    if (vector < 16) {
      this.error(ApicError.ReceiveIllegalVector);
      return;
    }
    if (!testBit(this.irr, vector)) {
      setBit(this.irr, vector);
      this.irrCount++;
    }
    if (level) setBit(this.tmr, vector);
    else clearBit(this.tmr, vector);
  }

  /** Delivers a message addressed to this APIC by mode. */
  private deliverLocal(vector: number, mode: number, level: boolean): void {
    switch (mode) {
      case DeliveryMode.Fixed:
      case DeliveryMode.LowestPriority:
        if (this.softwareEnabled) this.acceptFixed(vector, level);
        return;
      case DeliveryMode.Smi:
        this.options.signals?.smi?.();
        return;
      case DeliveryMode.Nmi:
        this.options.signals?.nmi?.();
        return;
      case DeliveryMode.Init:
        this.options.signals?.init?.();
        return;
      case DeliveryMode.StartUp:
        this.options.signals?.startup?.(vector);
        return;
      case DeliveryMode.ExtInt:
        this.extIntMessage = true;
        return;
    }
  }

  /** Whether a message with this destination is for this APIC (SDM §11.6.2). */
  matchesDestination(destination: number, logical: boolean): boolean {
    if (this.x2apic) {
      if (destination === 0xffff_ffff) return true;
      if (!logical) return destination === this.initialId;
      const ldr = this.x2apicLdr();
      return destination >>> 16 === ldr >>> 16 && (destination & ldr & 0xffff) !== 0;
    }
    const dest = destination & 0xff;
    if (dest === 0xff) return true;
    if (!logical) return dest === this.id;
    const ldr = this.ldr >>> 24;
    if (this.dfr >>> 28 === 0xf) return (dest & ldr) !== 0; // flat model
    return dest >> 4 === ldr >> 4 && (dest & ldr & 0xf) !== 0; // cluster model
  }

  /**
   * A message from the I/O APIC (its {@link InterruptMessageSink}): accepted when the destination
   * matches and the APIC is enabled; fixed interrupts need the software enable too.
   */
  deliver(vector: number, deliveryMode: number, logical: boolean, destination: number, level: boolean): void {
    if (!this.globallyEnabled) return;
    const dest = this.x2apic && (destination & 0xff) === 0xff ? 0xffff_ffff : destination;
    if (!this.matchesDestination(dest, logical)) return;
    this.deliverLocal(vector, deliveryMode, level);
  }

  /**
   * An MSI/MSI-X write (SDM §11.11): `address` in 0xFEExxxxx carries the destination ID (bits
   * 19:12) and the destination mode (bit 2, with redirection hint bit 3); `data` the vector
   * (7:0), delivery mode (10:8) and trigger mode (15). Delivered as an I/O APIC message would be.
   * Returns false (nothing delivered) when the address is not an interrupt message address.
   */
  deliverMsi(address: number, data: number): boolean {
    if (Math.floor(address / 0x10_0000) !== 0xfee) return false;
    const logical = (address & 0x4) !== 0 && (address & 0x8) !== 0;
    this.deliver(data & 0xff, (data >> 8) & 7, logical, (address >>> 12) & 0xff, (data & 0x8000) !== 0);
    return true;
  }

  private sendIcr(): void {
    const lo = this.icrLow;
    const vector = lo & 0xff;
    const mode = (lo >> 8) & 7;
    const logical = (lo & 0x800) !== 0;
    const assert = (lo & 0x4000) !== 0;
    const levelTrig = (lo & 0x8000) !== 0;
    const shorthand = (lo >> 18) & 3;
    const destination = this.x2apic ? this.icrHigh >>> 0 : this.icrHigh >>> 24;
    if (mode === DeliveryMode.LowestPriority) {
      this.error(ApicError.RedirectableIpi); // not supported for IPIs (§11.12.9 / x2APIC spec)
      return;
    }
    if (mode === 3 || mode === DeliveryMode.ExtInt) return; // reserved
    if (mode === DeliveryMode.Init && !assert && levelTrig) return; // INIT level de-assert: no-op
    if (mode === DeliveryMode.Fixed && vector < 16) {
      this.error(ApicError.SendIllegalVector);
      return;
    }
    const self =
      shorthand === 1 ||
      shorthand === 2 ||
      (shorthand === 0 && this.matchesDestination(destination, logical));
    const others =
      shorthand === 2 || shorthand === 3 || (shorthand === 0 && !(!logical && destination === this.apicId));
    if (others) this.options.sendIpi?.(vector, mode, logical, destination, assert, levelTrig, shorthand);
    if (self) this.deliverLocal(vector, mode, false);
  }

  private selfIpi(vector: number): void {
    if (vector < 16) {
      this.error(ApicError.SendIllegalVector);
      return;
    }
    this.deliverLocal(vector, DeliveryMode.Fixed, false);
  }

  /** EOI: retires the highest in-service vector; level-triggered ones are broadcast to the I/O APIC. */
  private eoi(): void {
    const v = highest(this.isr);
    if (v < 0) return;
    clearBit(this.isr, v);
    if (testBit(this.tmr, v)) {
      if (!(this.svr & SVR_SUPPRESS_EOI_BROADCAST)) this.options.eoiBroadcast?.(v);
      this.lintEoi(Lvt.Lint0, v);
      this.lintEoi(Lvt.Lint1, v);
    }
  }

  /** An EOI for a LINT input's level-triggered vector clears its remote IRR. */
  private lintEoi(i: Lvt, vector: number): void {
    const lvt = this.lvt[i]!;
    if (lvt & LVT_REMOTE_IRR && (lvt & 0xff) === vector) {
      this.lvt[i] = lvt & ~LVT_REMOTE_IRR;
      this.serviceLint(i);
    }
  }

  private extIntAsserted(): boolean {
    if (this.extIntMessage) return true;
    const lvt = this.lvt[Lvt.Lint0]!;
    return this.lint0 && !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) === DeliveryMode.ExtInt;
  }

  /** Whether the processor's INTR is asserted: an ExtINT, or an IRR vector whose class beats PPR. */
  hasInterrupt(): boolean {
    if (!this.globallyEnabled) return this.lint0; // no APIC: the 8259A's INTR goes straight to the processor
    if (this.extIntAsserted()) return true;
    if (this.irrCount === 0) return false;
    const v = highest(this.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr() & 0xf0);
  }

  /**
   * The acknowledge cycle: an ExtINT is answered by the 8259A; otherwise the highest IRR vector
   * moves to ISR and is returned — or, when it no longer beats PPR, the spurious vector (no ISR).
   */
  acknowledge(): number {
    if (!this.globallyEnabled || this.extIntAsserted()) {
      this.extIntMessage = false;
      return this.options.extInt?.acknowledge() ?? this.svr & 0xff;
    }
    const v = highest(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return this.svr & 0xff;
    clearBit(this.irr, v);
    this.irrCount--;
    setBit(this.isr, v);
    return v;
  }

  private setLint(i: Lvt, level: boolean): void {
    const was = i === Lvt.Lint0 ? this.lint0 : this.lint1;
    if (i === Lvt.Lint0) this.lint0 = level;
    else this.lint1 = level;
    const lvt = this.lvt[i]!;
    const active = (lvt & LVT_ACTIVE_LOW) !== 0 ? !level : level;
    const wasActive = (lvt & LVT_ACTIVE_LOW) !== 0 ? !was : was;
    if (lvt & LVT_MASKED || ((lvt >> 8) & 7) === DeliveryMode.ExtInt) return;
    const mode = (lvt >> 8) & 7;
    if (mode === DeliveryMode.Fixed && lvt & LVT_LEVEL) this.serviceLint(i);
    else if (active && !wasActive) this.deliverLocal(lvt & 0xff, mode, false);
  }

  /** A level-triggered fixed LINT input delivers while asserted and its remote IRR is clear. */
  private serviceLint(i: Lvt): void {
    const lvt = this.lvt[i]!;
    if (
      lvt & LVT_MASKED ||
      ((lvt >> 8) & 7) !== DeliveryMode.Fixed ||
      !(lvt & LVT_LEVEL) ||
      lvt & LVT_REMOTE_IRR
    )
      return;
    const level = i === Lvt.Lint0 ? this.lint0 : this.lint1;
    const active = (lvt & LVT_ACTIVE_LOW) !== 0 ? !level : level;
    if (!active || !this.softwareEnabled) return;
    this.lvt[i] = lvt | LVT_REMOTE_IRR;
    this.acceptFixed(lvt & 0xff, true);
  }

  /**
   * Raises a local interrupt source through its LVT entry (the thermal sensor, a performance
   * counter overflow, a corrected machine check): delivered by the entry's mode unless masked.
   */
  signalLvt(which: typeof Lvt.Thermal | typeof Lvt.Perf | typeof Lvt.Cmci): void {
    const lvt = this.lvt[which]!;
    if (lvt & LVT_MASKED) return;
    this.deliverLocal(lvt & 0xff, (lvt >> 8) & 7, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Timer (SDM §11.5.4)

  private timerMode(): number {
    return (this.lvt[Lvt.Timer]! >> 17) & 3;
  }

  /** Nanoseconds per timer count: bus cycle times the divider. */
  private tickNs(): number {
    const d = this.divideConfig;
    const code = ((d & 8) >> 1) | (d & 3);
    return this.busCycleNs * (code === 7 ? 1 : 2 << code);
  }

  private currentCount(): number {
    if (this.initialCount === 0 || this.timerMode() === TIMER_TSC_DEADLINE) return 0;
    if (this.timerNextNs === Number.POSITIVE_INFINITY) return 0; // a one-shot that has fired
    const elapsed = Math.floor((this.clock.nowNs() - this.timerStartNs) / this.tickNs());
    if (this.timerMode() === TIMER_PERIODIC) return this.initialCount - (elapsed % this.initialCount);
    return elapsed >= this.initialCount ? 0 : this.initialCount - elapsed;
  }

  private writeInitialCount(v: number): void {
    if (this.timerMode() === TIMER_TSC_DEADLINE) return;
    this.initialCount = v;
    this.timerStartNs = this.clock.nowNs();
    this.timerNextNs = v === 0 ? Number.POSITIVE_INFINITY : this.timerStartNs + v * this.tickNs();
  }

  private writeDivide(v: number): void {
    const count = this.currentCount();
    const running = this.timerNextNs !== Number.POSITIVE_INFINITY && this.timerMode() !== TIMER_TSC_DEADLINE;
    this.divideConfig = v;
    // Keep the current count; the rest of the period runs at the new rate.
    if (running) this.rebaseTimer(count);
  }

  private writeTscDeadline(deadline: number): void {
    this.tscDeadline = deadline;
    this.timerNextNs = deadline === 0 ? Number.POSITIVE_INFINITY : deadline;
  }

  /** The clock time of the next timer event, or `Infinity`. */
  nextDeadlineNs(): number {
    return this.timerNextNs;
  }

  /** Fires the timer if its time has come (missed periods are coalesced into one interrupt). */
  poll(): void {
    const now = this.clock.nowNs();
    if (now < this.timerNextNs) return;
    const mode = this.timerMode();
    if (mode === TIMER_PERIODIC && this.initialCount !== 0) {
      const period = this.initialCount * this.tickNs();
      this.timerNextNs = this.timerStartNs + (Math.floor((now - this.timerStartNs) / period) + 1) * period;
    } else {
      this.timerNextNs = Number.POSITIVE_INFINITY;
      if (mode === TIMER_TSC_DEADLINE) this.tscDeadline = 0;
    }
    const lvt = this.lvt[Lvt.Timer]!;
    if (!(lvt & LVT_MASKED)) this.acceptFixed(lvt & 0xff, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  /** A plain-data snapshot. */
  state(): LocalApicState {
    return {
      apicBase: this.apicBase,
      id: this.id,
      tpr: this.tpr,
      ldr: this.ldr,
      dfr: this.dfr,
      svr: this.svr,
      esr: this.esr,
      esrPending: this.esrPending,
      lvt: Array.from(this.lvt),
      icrLow: this.icrLow,
      icrHigh: this.icrHigh,
      initialCount: this.initialCount,
      divideConfig: this.divideConfig,
      irr: Array.from(this.irr),
      isr: Array.from(this.isr),
      tmr: Array.from(this.tmr),
      timerStartNs: this.timerStartNs,
      timerNextNs: Number.isFinite(this.timerNextNs) ? this.timerNextNs : null,
      tscDeadline: this.tscDeadline,
      lint0: this.lint0,
      lint1: this.lint1,
      extIntMessage: this.extIntMessage,
    };
  }

  /** Restores a snapshot taken by {@link LocalApic.state}. */
  fromState(s: LocalApicState): void {
    if (s.lvt.length !== 7 || s.irr.length !== 8 || s.isr.length !== 8 || s.tmr.length !== 8) {
      throw new RangeError("LocalApic.fromState: malformed snapshot");
    }
    this.apicBase = s.apicBase;
    this.id = s.id & 0xff;
    this.tpr = s.tpr & 0xff;
    this.ldr = s.ldr >>> 0;
    this.dfr = s.dfr >>> 0;
    this.svr = s.svr;
    this.esr = s.esr;
    this.esrPending = s.esrPending;
    this.lvt.set(s.lvt);
    this.icrLow = s.icrLow >>> 0;
    this.icrHigh = s.icrHigh >>> 0;
    this.initialCount = s.initialCount >>> 0;
    this.divideConfig = s.divideConfig & 0xb;
    this.irr.set(s.irr);
    this.irrCount = 0;
    for (const w of this.irr) for (let b = w; b !== 0; b &= b - 1) this.irrCount++;
    this.isr.set(s.isr);
    this.tmr.set(s.tmr);
    this.timerStartNs = s.timerStartNs;
    this.timerNextNs = s.timerNextNs ?? Number.POSITIVE_INFINITY;
    this.tscDeadline = s.tscDeadline;
    this.lint0 = s.lint0;
    this.lint1 = s.lint1;
    this.extIntMessage = s.extIntMessage;
  }
}
