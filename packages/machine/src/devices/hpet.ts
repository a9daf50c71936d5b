import type { MmioHandler } from "@turtles/memory";
import type { Clock, TimedDevice } from "./clock.js";
import { type IrqLine, noIrqLine } from "./irq-line.js";
import type { Snapshottable } from "./snapshot.js";

/** The HPET's conventional MMIO base and window size. */
export const HPET_MMIO = { base: 0xfed0_0000, size: 0x400 } as const;

/** Number of comparators (timers). */
export const HPET_TIMERS = 3;

/** Nanoseconds per main-counter tick (100 MHz, COUNTER_CLK_PERIOD = 10,000,000 fs, as QEMU). */
export const HPET_TICK_NS = 10;

/** General capabilities low dword: vendor 8086, LEG_RT_CAP, 64-bit counter, 3 timers, revision 1. */
export const HPET_CAPABILITIES_LOW = 0x8086_a201;

/** Construction options of an {@link Hpet}. */
export interface HpetOptions {
  /** The virtual clock. */
  readonly clock: Clock;
  /** The I/O APIC input `pin` (0-31) a timer routes to in normal mode. */
  readonly ioapicLine?: (pin: number) => IrqLine;
  /** Legacy replacement output of timer 0: the 8259A's IRQ0 and I/O APIC pin 2. */
  readonly legacyIrq0?: IrqLine;
  /** Legacy replacement output of timer 1: the 8259A's IRQ8 and I/O APIC pin 8. */
  readonly legacyIrq8?: IrqLine;
  /** Told when legacy replacement routing turns on or off (the machine then mutes the PIT and RTC). */
  readonly legacyChanged?: (on: boolean) => void;
  /** Allowed I/O APIC pins per timer (Tn_INT_ROUTE_CAP; default pins 16-23). */
  readonly routeCapability?: number;
  /**
   * FSB (MSI) delivery: with it the timers offer Tn_FSB_INT_DEL_CAP, and a timer with
   * Tn_FSB_EN_CNF set writes its FSB route register's value to its address (wire it to the local
   * APIC's `deliverMsi`) instead of driving a line.
   */
  readonly msi?: (address: number, data: number) => void;
}

/** One timer's state, as plain data. */
export interface HpetTimerState {
  /** Configuration dword (Tn_CONF). */
  config: number;
  /** Comparator halves. */
  cmpLo: number;
  cmpHi: number;
  /** Period halves (periodic mode). */
  periodLo: number;
  periodHi: number;
  /** Elapsed-tick count of the next match, or null. */
  fireTick: number | null;
  /** FSB route register: the message data (Tn_FSB_INT_VAL). */
  fsbValue?: number;
  /** FSB route register: the message address (Tn_FSB_INT_ADDR). */
  fsbAddress?: number;
}

/** The state of an {@link Hpet}, as plain data. */
export interface HpetState {
  /** General configuration (ENABLE_CNF, LEG_RT_CNF). */
  config: number;
  /** General interrupt status. */
  status: number;
  /** Main counter halves at `startNs`. */
  baseLo: number;
  baseHi: number;
  /** Clock time from which the counter runs (while enabled). */
  startNs: number;
  /** The timers. */
  timers: HpetTimerState[];
  /** Levels driven on the output lines, by line key. */
  lines: Record<string, boolean>;
}

const CNF_ENABLE = 0x1;
const CNF_LEGACY = 0x2;
const TN_LEVEL = 0x2;
const TN_ENABLE = 0x4;
const TN_PERIODIC = 0x8;
const TN_PERIODIC_CAP = 0x10;
const TN_SIZE_CAP = 0x20;
const TN_VAL_SET = 0x40;
const TN_32BIT = 0x100;
const TN_ROUTE_SHIFT = 9;
const TN_FSB_EN = 0x4000;
const TN_FSB_CAP = 0x8000;
const TN_WRITABLE = TN_LEVEL | TN_ENABLE | TN_PERIODIC | TN_VAL_SET | TN_32BIT | (0x1f << TN_ROUTE_SHIFT);
const TWO32 = 0x1_0000_0000;
/** A delta above this many ticks is never reached (the clock stays below 2^53 ns). */
const NEVER = 2 ** 52;

interface Timer {
  config: number;
  cmpLo: number;
  cmpHi: number;
  periodLo: number;
  periodHi: number;
  fireTick: number;
  fsbValue: number;
  fsbAddress: number;
}

/**
 * The High Precision Event Timer (IA-PC HPET specification 1.0a): a 64-bit main counter at
 * 100 MHz, three 64-bit comparators with periodic mode, 32-bit mode, edge or level interrupts
 * (level ones set their bit in the general interrupt status register, cleared by writing 1),
 * routing to I/O APIC pins or, with legacy replacement, timer 0 to IRQ0/pin 2 and timer 1 to
 * IRQ8/pin 8. A one-shot comparator matches when the counter passes its value (again after a
 * wrap in 32-bit mode); a periodic one adds its period on each match, missed periods coalesced
 * into one interrupt. With an `msi` sink, timers also offer FSB (MSI) delivery.
 */
export class Hpet implements MmioHandler, TimedDevice, Snapshottable<HpetState> {
  private readonly clock: Clock;
  private readonly options: HpetOptions;
  private readonly routeCap: number;
  private config = 0;
  private status = 0;
  private baseLo = 0;
  private baseHi = 0;
  private startNs = 0;
  private readonly timers: Timer[] = [];
  private readonly lines = new Map<string, boolean>();

  /** Creates the HPET halted with its counter at 0. */
  constructor(options: HpetOptions) {
    this.options = options;
    this.clock = options.clock;
    this.routeCap = (options.routeCapability ?? 0x00ff_0000) >>> 0;
    this.startNs = this.clock.nowNs();
    for (let n = 0; n < HPET_TIMERS; n++) {
      this.timers.push({
        config: 0,
        cmpLo: 0xffff_ffff,
        cmpHi: 0xffff_ffff,
        periodLo: 0,
        periodHi: 0,
        fireTick: Number.POSITIVE_INFINITY,
        fsbValue: 0,
        fsbAddress: 0,
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The counter

  private enabled(): boolean {
    return (this.config & CNF_ENABLE) !== 0;
  }

  /** Ticks elapsed since `startNs` (0 while halted). */
  private elapsed(): number {
    return this.enabled() ? Math.floor((this.clock.nowNs() - this.startNs) / HPET_TICK_NS) : 0;
  }

  /** The counter after `ticks` elapsed ticks, into `out` as [lo, hi]. */
  private counterAt(ticks: number, out: number[]): void {
    const lo = this.baseLo + (ticks % TWO32);
    out[0] = lo % TWO32;
    out[1] = (this.baseHi + Math.floor(ticks / TWO32) + Math.floor(lo / TWO32)) % TWO32;
  }

  private readonly scratch = [0, 0];

  /** Freezes the counter value into the base and restarts the elapsed count from now. */
  private rebase(): void {
    this.counterAt(this.elapsed(), this.scratch);
    this.baseLo = this.scratch[0]!;
    this.baseHi = this.scratch[1]!;
    this.startNs = this.clock.nowNs();
  }

  // ---------------------------------------------------------------------------------------------
  // Comparators

  private is32(t: Timer): boolean {
    return (t.config & TN_32BIT) !== 0;
  }

  /** Recomputes when timer `t` next matches, from the counter now. */
  private arm(t: Timer): void {
    if (!this.enabled()) {
      t.fireTick = Number.POSITIVE_INFINITY;
      return;
    }
    const now = this.elapsed();
    this.counterAt(now, this.scratch);
    const [lo, hi] = this.scratch as [number, number];
    let delta: number;
    if (this.is32(t)) delta = (t.cmpLo - lo + TWO32) % TWO32;
    else {
      const dLo = (t.cmpLo - lo + TWO32) % TWO32;
      const dHi = (t.cmpHi - hi - (t.cmpLo < lo ? 1 : 0) + 2 * TWO32) % TWO32;
      delta = dHi * TWO32 + dLo;
    }
    t.fireTick = delta > NEVER ? Number.POSITIVE_INFINITY : now + delta;
  }

  private period(t: Timer): number {
    return this.is32(t) ? t.periodLo : t.periodHi * TWO32 + t.periodLo;
  }

  /** The clock time of the next comparator match, or `Infinity`. */
  nextDeadlineNs(): number {
    let first = Number.POSITIVE_INFINITY;
    for (const t of this.timers) if (t.fireTick < first) first = t.fireTick;
    return first === Number.POSITIVE_INFINITY ? first : this.startNs + first * HPET_TICK_NS;
  }

  /** Handles every comparator match up to now. */
  poll(): void {
    if (!this.enabled()) return;
    const now = this.elapsed();
    for (let n = 0; n < HPET_TIMERS; n++) {
      const t = this.timers[n]!;
      if (t.fireTick > now) continue;
      const period = this.period(t);
      if (t.config & TN_PERIODIC && period > 0) {
        const k = Math.floor((now - t.fireTick) / period) + 1;
        t.fireTick += k * period;
        if (t.fireTick > NEVER) t.fireTick = Number.POSITIVE_INFINITY;
        else {
          // The comparator now holds the counter value of the next match.
          this.counterAt(t.fireTick, this.scratch);
          t.cmpLo = this.scratch[0]!;
          if (!this.is32(t)) t.cmpHi = this.scratch[1]!;
        }
      } else {
        t.fireTick = this.is32(t) ? t.fireTick + TWO32 : Number.POSITIVE_INFINITY;
      }
      this.fire(n);
    }
  }

  private fire(n: number): void {
    const t = this.timers[n]!;
    if (!(t.config & TN_ENABLE)) return;
    if (t.config & TN_FSB_EN) {
      this.options.msi?.(t.fsbAddress, t.fsbValue);
      return;
    }
    if (t.config & TN_LEVEL) {
      this.status |= 1 << n;
      this.updateLines();
    } else {
      const key = this.lineKey(n);
      if (this.lines.get(key) === true) return; // held high by a level timer
      const line = this.line(key);
      line.set(true);
      line.set(false);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Lines

  private lineKey(n: number): string {
    if (this.config & CNF_LEGACY && n < 2) return n === 0 ? "legacy0" : "legacy8";
    return `pin${(this.timers[n]!.config >> TN_ROUTE_SHIFT) & 0x1f}`;
  }

  private line(key: string): IrqLine {
    if (key === "legacy0") return this.options.legacyIrq0 ?? noIrqLine;
    if (key === "legacy8") return this.options.legacyIrq8 ?? noIrqLine;
    return this.options.ioapicLine?.(Number(key.slice(3))) ?? noIrqLine;
  }

  /** Drives every line to the OR of the level-triggered timers asserting it. */
  private updateLines(): void {
    const want = new Map<string, boolean>();
    for (const key of this.lines.keys()) want.set(key, false);
    for (let n = 0; n < HPET_TIMERS; n++) {
      const t = this.timers[n]!;
      const key = this.lineKey(n);
      const high =
        this.enabled() &&
        (t.config & (TN_LEVEL | TN_ENABLE | TN_FSB_EN)) === (TN_LEVEL | TN_ENABLE) &&
        (this.status & (1 << n)) !== 0;
      want.set(key, (want.get(key) ?? false) || high);
    }
    for (const [key, level] of want) {
      if ((this.lines.get(key) ?? false) === level) continue;
      this.lines.set(key, level);
      this.line(key).set(level);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Registers

  private readDword(offset: number): number {
    if (offset >= 0x100 && offset < 0x100 + 0x20 * HPET_TIMERS) {
      const t = this.timers[(offset - 0x100) >> 5]!;
      switch (offset & 0x1f) {
        case 0x00:
          return (t.config | TN_PERIODIC_CAP | TN_SIZE_CAP | (this.options.msi ? TN_FSB_CAP : 0)) >>> 0;
        case 0x04:
          return this.routeCap;
        case 0x08:
          return t.cmpLo;
        case 0x0c:
          return this.is32(t) ? 0 : t.cmpHi;
        case 0x10:
          return t.fsbValue;
        case 0x14:
          return t.fsbAddress;
        default:
          return 0;
      }
    }
    switch (offset) {
      case 0x00:
        return HPET_CAPABILITIES_LOW;
      case 0x04:
        return HPET_TICK_NS * 1_000_000; // COUNTER_CLK_PERIOD in femtoseconds
      case 0x10:
        return this.config;
      case 0x20:
        return this.status;
      case 0xf0:
      case 0xf4:
        this.counterAt(this.elapsed(), this.scratch);
        return this.scratch[offset === 0xf0 ? 0 : 1]!;
      default:
        return 0;
    }
  }

  private writeDword(offset: number, v: number): void {
    if (offset >= 0x100 && offset < 0x100 + 0x20 * HPET_TIMERS) {
      const n = (offset - 0x100) >> 5;
      const t = this.timers[n]!;
      const reg = offset & 0x1f;
      if (reg === 0x00) this.writeTimerConfig(n, v);
      else if (reg === 0x08 || reg === 0x0c) this.writeComparator(t, reg === 0x0c, v);
      else if (reg === 0x10) t.fsbValue = v;
      else if (reg === 0x14) t.fsbAddress = v;
      return;
    }
    switch (offset) {
      case 0x10:
        this.writeConfig(v & (CNF_ENABLE | CNF_LEGACY));
        return;
      case 0x20:
        this.status &= ~v;
        this.updateLines();
        return;
      case 0xf0:
      case 0xf4:
        this.rebase();
        if (offset === 0xf0) this.baseLo = v;
        else this.baseHi = v;
        for (const t of this.timers) this.arm(t);
        return;
    }
  }

  private writeConfig(v: number): void {
    const old = this.config;
    if ((old ^ v) & CNF_ENABLE) this.rebase();
    this.config = v;
    for (const t of this.timers) this.arm(t);
    this.updateLines();
    if ((old ^ v) & CNF_LEGACY) this.options.legacyChanged?.((v & CNF_LEGACY) !== 0);
  }

  private writeTimerConfig(n: number, v: number): void {
    const t = this.timers[n]!;
    const old = t.config;
    let config = (v & (TN_WRITABLE | (this.options.msi ? TN_FSB_EN : 0))) >>> 0;
    // A route the timer cannot drive is not accepted: the old route reads back (spec §2.3.8).
    const route = (config >> TN_ROUTE_SHIFT) & 0x1f;
    if (!(this.routeCap & (1 << route)))
      config = (config & ~(0x1f << TN_ROUTE_SHIFT)) | (old & (0x1f << TN_ROUTE_SHIFT));
    t.config = config >>> 0;
    if (t.config & TN_32BIT && !(old & TN_32BIT)) {
      t.cmpHi = 0;
      t.periodHi = 0;
    }
    if (!(t.config & TN_LEVEL)) this.status &= ~(1 << n);
    this.arm(t);
    this.updateLines();
  }

  private writeComparator(t: Timer, high: boolean, v: number): void {
    if (high && this.is32(t)) return;
    const periodic = (t.config & TN_PERIODIC) !== 0;
    if (!periodic || t.config & TN_VAL_SET) {
      if (high) t.cmpHi = v;
      else t.cmpLo = v;
    }
    if (periodic) {
      if (high) t.periodHi = v;
      else t.periodLo = v;
    }
    t.config &= ~TN_VAL_SET;
    this.arm(t);
  }

  /** MMIO read: 32-bit halves of the 64-bit registers (narrower reads take bytes of them). */
  read(offset: number, size: 1 | 2 | 4): number {
    this.poll();
    const v = this.readDword(offset & ~3) >>> (8 * (offset & 3));
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  /** MMIO write: aligned 32-bit writes (others are ignored). */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || offset & 3) return;
    this.poll();
    this.writeDword(offset, value >>> 0);
  }

  /** Whether legacy replacement routing is on. */
  get legacyReplacement(): boolean {
    return (this.config & CNF_LEGACY) !== 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  /** A plain-data snapshot. */
  state(): HpetState {
    return {
      config: this.config,
      status: this.status,
      baseLo: this.baseLo,
      baseHi: this.baseHi,
      startNs: this.startNs,
      timers: this.timers.map((t) => ({
        config: t.config,
        cmpLo: t.cmpLo,
        cmpHi: t.cmpHi,
        periodLo: t.periodLo,
        periodHi: t.periodHi,
        fireTick: Number.isFinite(t.fireTick) ? t.fireTick : null,
        fsbValue: t.fsbValue,
        fsbAddress: t.fsbAddress,
      })),
      lines: Object.fromEntries(this.lines),
    };
  }

  /** Restores a snapshot taken by {@link Hpet.state}; output lines are driven to their saved levels. */
  fromState(s: HpetState): void {
    if (s.timers.length !== HPET_TIMERS) throw new RangeError("Hpet.fromState: expected 3 timers");
    this.config = s.config & (CNF_ENABLE | CNF_LEGACY);
    this.status = s.status & 7;
    this.baseLo = s.baseLo >>> 0;
    this.baseHi = s.baseHi >>> 0;
    this.startNs = s.startNs;
    s.timers.forEach((x, n) => {
      const t = this.timers[n]!;
      t.config = x.config & (TN_WRITABLE | TN_FSB_EN);
      t.cmpLo = x.cmpLo >>> 0;
      t.cmpHi = x.cmpHi >>> 0;
      t.periodLo = x.periodLo >>> 0;
      t.periodHi = x.periodHi >>> 0;
      t.fireTick = x.fireTick ?? Number.POSITIVE_INFINITY;
      t.fsbValue = (x.fsbValue ?? 0) >>> 0;
      t.fsbAddress = (x.fsbAddress ?? 0) >>> 0;
    });
    this.lines.clear();
    for (const [key, level] of Object.entries(s.lines)) {
      this.lines.set(key, level);
      this.line(key).set(level);
    }
  }
}
