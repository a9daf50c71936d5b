import type { PortIoHandler } from "@turtles/memory";
import { bytewiseHandler } from "./byte-ports.js";
import { type Clock, nsToTicks, type TimedDevice, ticksToNs } from "./clock.js";
import type { IrqLine } from "./irq-line.js";
import type { Snapshottable } from "./snapshot.js";

/** The RTC's index (0x70, bit 7 = NMI disable) and data (0x71) ports. */
export const RTC_PORTS = {
  /** Index port (write). */
  index: 0x70,
  /** Data port. */
  data: 0x71,
} as const;

/** Register numbers of the MC146818 and the PC's CMOS conventions. */
export const RtcRegister = {
  /** Seconds. */
  Seconds: 0x00,
  /** Seconds alarm. */
  SecondsAlarm: 0x01,
  /** Minutes. */
  Minutes: 0x02,
  /** Minutes alarm. */
  MinutesAlarm: 0x03,
  /** Hours (bit 7 = PM in 12-hour mode). */
  Hours: 0x04,
  /** Hours alarm. */
  HoursAlarm: 0x05,
  /** Day of week, 1 = Sunday. */
  DayOfWeek: 0x06,
  /** Day of month. */
  DayOfMonth: 0x07,
  /** Month. */
  Month: 0x08,
  /** Year within the century. */
  Year: 0x09,
  /** Register A: UIP, divider, rate select. */
  A: 0x0a,
  /** Register B: SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE. */
  B: 0x0b,
  /** Register C: IRQF, PF, AF, UF (read-only, cleared by reading). */
  C: 0x0c,
  /** Register D: VRT (read-only). */
  D: 0x0d,
  /** The century byte of the PC CMOS map (ACPI FADT's default). */
  Century: 0x32,
} as const;

/** One of the {@link RtcRegister} values. */
export type RtcRegister = (typeof RtcRegister)[keyof typeof RtcRegister];

const REG_A_UIP = 0x80;
const REG_B_SET = 0x80;
const REG_B_PIE = 0x40;
const REG_B_AIE = 0x20;
const REG_B_UIE = 0x10;
const REG_B_DM = 0x04; // 1 = binary
const REG_B_24H = 0x02;
const REG_C_IRQF = 0x80;
const REG_C_PF = 0x40;
const REG_C_AF = 0x20;
const REG_C_UF = 0x10;

const NS_PER_S = 1_000_000_000;
const DIVIDER_HZ = 32_768;
/** UIP is set this long before each update (MC146818A datasheet, "Update cycle"). */
const UIP_LEAD_NS = 244_000;

/** Construction options of an {@link RtcCmos}. */
export interface RtcCmosOptions {
  /** The virtual clock. */
  clock: Clock;
  /** IRQ8. */
  irq?: IrqLine;
  /** The wall-clock time at clock time 0, in milliseconds since 1970 UTC (default 2000-01-01). */
  startTimeMs?: number;
  /** Receives the NMI-disable bit whenever the index port is written. */
  nmiMask?: (masked: boolean) => void;
}

/** The state of an {@link RtcCmos}, as plain data. */
export interface RtcCmosState {
  /** The 128 CMOS bytes (clock registers as last encoded, A, B, C, user RAM). */
  cmos: number[];
  /** The selected register. */
  index: number;
  /** Index-port bit 7: NMIs disabled. */
  nmiMasked: boolean;
  /** The current time in whole seconds since 1970 UTC. */
  seconds: number;
  /** Clock time (ns) at which the current second began. */
  secondStartNs: number;
  /** Clock time (ns) at which the divider chain last left reset (the periodic-interrupt phase). */
  dividerStartNs: number;
  /** Clock time (ns) up to which flags have been brought. */
  lastSyncNs: number;
  /** The level driven on IRQ8. */
  irqLevel: boolean;
}

function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}

/**
 * The Motorola MC146818 real-time clock with the PC's 128 bytes of CMOS RAM: index port with the
 * NMI-disable bit, time and alarm registers in BCD or binary and 12- or 24-hour format (a format
 * change in register B re-encodes the current time), registers A-D, the update-in-progress flag,
 * and update-ended, alarm and periodic interrupts on IRQ8 (rates from register A's RS bits).
 * Time runs from the injected {@link Clock} only, starting at a configurable date; the century
 * lives in CMOS byte 0x32. The update itself is instantaneous; daylight saving (DSE) and the
 * square-wave output are not modelled.
 */
export class RtcCmos implements TimedDevice, Snapshottable<RtcCmosState> {
  /** Ports 0x70-0x71. */
  readonly ports: PortIoHandler;

  private cmos = new Uint8Array(128);
  private index = 0;
  private nmiMasked = false;
  private seconds: number;
  private secondStartNs: number;
  private dividerStartNs: number;
  private lastSyncNs: number;
  private irqLevel = false;

  private readonly clock: Clock;
  private readonly irq: IrqLine | undefined;
  private readonly onNmiMask: ((masked: boolean) => void) | undefined;

  /** Creates the RTC showing `startTimeMs` at clock time 0, 24-hour BCD, 1024 Hz rate selected. */
  constructor(options: RtcCmosOptions) {
    this.clock = options.clock;
    this.irq = options.irq;
    this.onNmiMask = options.nmiMask;
    const now = this.clock.nowNs();
    const startMs = options.startTimeMs ?? Date.UTC(2000, 0, 1);
    if (!Number.isFinite(startMs)) throw new RangeError("RtcCmos: bad start time");
    // `startTimeMs` is the time at clock 0; the divider chain has run since then.
    this.seconds = Math.floor(startMs / 1000) + Math.floor(now / NS_PER_S);
    this.secondStartNs = now - (now % NS_PER_S);
    this.dividerStartNs = 0;
    this.lastSyncNs = now;
    this.cmos[RtcRegister.A] = 0x26;
    this.cmos[RtcRegister.B] = REG_B_24H;
    this.cmos[RtcRegister.D] = 0x80;
    this.encodeTime();
    this.ports = bytewiseHandler(
      (o) => this.readPort(o),
      (o, v) => this.writePort(o, v),
    );
  }

  /** Whether the index port's bit 7 disables NMIs. */
  get nmiDisabled(): boolean {
    return this.nmiMasked;
  }

  /** Reads CMOS byte `i` (0-127) as the guest would see it, for the machine and tests. */
  readCmos(i: number): number {
    this.checkIndex(i);
    this.sync();
    return this.readRegister(i);
  }

  /** Sets CMOS RAM byte `i` (0x0E-0x7F), e.g. memory sizes or the century, before the guest runs. */
  setCmos(i: number, value: number): void {
    this.checkIndex(i);
    if (i < 0x0e) throw new RangeError(`RtcCmos.setCmos: 0x${i.toString(16)} is a clock register`);
    this.cmos[i] = value & 0xff;
    if (i === RtcRegister.Century) this.decodeTime();
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i > 127) throw new RangeError(`RtcCmos: no CMOS byte ${i}`);
  }

  private get regB(): number {
    return this.cmos[RtcRegister.B]!;
  }

  private dividerRunning(): boolean {
    return (this.cmos[RtcRegister.A]! & 0x70) === 0x20;
  }

  /** Periodic interrupt period in 32.768 kHz ticks, or 0 when RS = 0. */
  private periodTicks(): number {
    const rs = this.cmos[RtcRegister.A]! & 0x0f;
    if (rs === 0) return 0;
    return 1 << ((rs <= 2 ? rs + 7 : rs) - 1);
  }

  private enc(v: number): number {
    return this.regB & REG_B_DM ? v : toBcd(v);
  }

  private dec(v: number): number {
    return this.regB & REG_B_DM ? v : fromBcd(v);
  }

  private encodeHour(h: number): number {
    if (this.regB & REG_B_24H) return this.enc(h);
    return this.enc(h % 12 || 12) | (h >= 12 ? 0x80 : 0);
  }

  /** Writes `seconds` into the clock registers in the current format. */
  private encodeTime(): void {
    const d = new Date(this.seconds * 1000);
    const c = this.cmos;
    c[RtcRegister.Seconds] = this.enc(d.getUTCSeconds());
    c[RtcRegister.Minutes] = this.enc(d.getUTCMinutes());
    c[RtcRegister.Hours] = this.encodeHour(d.getUTCHours());
    c[RtcRegister.DayOfWeek] = this.enc(d.getUTCDay() + 1);
    c[RtcRegister.DayOfMonth] = this.enc(d.getUTCDate());
    c[RtcRegister.Month] = this.enc(d.getUTCMonth() + 1);
    c[RtcRegister.Year] = this.enc(d.getUTCFullYear() % 100);
    c[RtcRegister.Century] = this.enc(Math.floor(d.getUTCFullYear() / 100));
  }

  /** Reads the clock registers back into `seconds` (after the guest wrote one). */
  private decodeTime(): void {
    const c = this.cmos;
    const hourByte = c[RtcRegister.Hours]!;
    let hour: number;
    if (this.regB & REG_B_24H) hour = this.dec(hourByte);
    else hour = (this.dec(hourByte & 0x7f) % 12) + (hourByte & 0x80 ? 12 : 0);
    const year = this.dec(c[RtcRegister.Century]!) * 100 + this.dec(c[RtcRegister.Year]!);
    // Pure calendar arithmetic (no host time); setUTCFullYear keeps years 0-99 as written.
    const date = new Date(0);
    date.setUTCFullYear(year, this.dec(c[RtcRegister.Month]!) - 1, this.dec(c[RtcRegister.DayOfMonth]!));
    date.setUTCHours(hour, this.dec(c[RtcRegister.Minutes]!), this.dec(c[RtcRegister.Seconds]!), 0);
    const ms = date.getTime();
    if (Number.isFinite(ms)) this.seconds = Math.floor(ms / 1000);
  }

  /** Whether the alarm registers match time `t` (seconds since 1970). */
  private alarmMatches(t: number): boolean {
    const sod = ((t % 86_400) + 86_400) % 86_400;
    const c = this.cmos;
    const match = (alarm: number, now: number) => (alarm & 0xc0) === 0xc0 || alarm === now;
    return (
      match(c[RtcRegister.SecondsAlarm]!, this.enc(sod % 60)) &&
      match(c[RtcRegister.MinutesAlarm]!, this.enc(Math.floor(sod / 60) % 60)) &&
      match(c[RtcRegister.HoursAlarm]!, this.encodeHour(Math.floor(sod / 3600)))
    );
  }

  /** Brings time, flags and IRQ8 up to the clock's current time. */
  private sync(): void {
    const now = this.clock.nowNs();
    if (this.dividerRunning()) {
      const elapsed = Math.floor((now - this.secondStartNs) / NS_PER_S);
      if (elapsed > 0) {
        if ((this.regB & REG_B_SET) === 0) {
          let flags = REG_C_UF;
          // The alarm pattern repeats daily: one day of seconds covers every possible match.
          for (let k = Math.max(1, elapsed - 86_399); k <= elapsed; k++) {
            if (this.alarmMatches(this.seconds + k)) {
              flags |= REG_C_AF;
              break;
            }
          }
          this.seconds += elapsed;
          this.encodeTime();
          this.cmos[RtcRegister.C]! |= flags;
        }
        this.secondStartNs += elapsed * NS_PER_S;
      }
      const period = this.periodTicks();
      if (period !== 0 && now > this.lastSyncNs) {
        const before = Math.floor(
          nsToTicks(Math.max(0, this.lastSyncNs - this.dividerStartNs), DIVIDER_HZ) / period,
        );
        const after = Math.floor(nsToTicks(Math.max(0, now - this.dividerStartNs), DIVIDER_HZ) / period);
        if (after > before) this.cmos[RtcRegister.C]! |= REG_C_PF;
      }
    }
    this.lastSyncNs = now;
    this.updateIrq();
  }

  private updateIrq(): void {
    const c = this.cmos[RtcRegister.C]! & 0x70;
    const enabled = this.regB & (REG_B_PIE | REG_B_AIE | REG_B_UIE);
    const irqf = (c & enabled) !== 0;
    this.cmos[RtcRegister.C] = c | (irqf ? REG_C_IRQF : 0);
    if (irqf !== this.irqLevel) {
      this.irqLevel = irqf;
      this.irq?.set(irqf);
    }
  }

  private readRegister(i: number): number {
    switch (i) {
      case RtcRegister.A: {
        const a = this.cmos[RtcRegister.A]! & 0x7f;
        const updating =
          this.dividerRunning() &&
          (this.regB & REG_B_SET) === 0 &&
          this.clock.nowNs() - this.secondStartNs >= NS_PER_S - UIP_LEAD_NS;
        return a | (updating ? REG_A_UIP : 0);
      }
      case RtcRegister.D:
        return 0x80; // valid RAM and time
      default:
        return this.cmos[i]!;
    }
  }

  private readPort(o: number): number {
    if (o !== 1) return 0xff; // the index port is write-only
    this.sync();
    const i = this.index;
    const v = this.readRegister(i);
    if (i === RtcRegister.C) {
      this.cmos[RtcRegister.C] = 0; // reading C clears every flag
      this.updateIrq();
    }
    return v;
  }

  private writePort(o: number, v: number): void {
    if (o === 0) {
      this.index = v & 0x7f;
      this.nmiMasked = (v & 0x80) !== 0;
      this.onNmiMask?.(this.nmiMasked);
      return;
    }
    if (o !== 1) return;
    this.sync();
    const i = this.index;
    switch (i) {
      case RtcRegister.A: {
        const wasRunning = this.dividerRunning();
        this.cmos[RtcRegister.A] = v & 0x7f;
        if (!wasRunning && this.dividerRunning()) {
          // Leaving divider reset: the first update comes half a second later.
          const now = this.clock.nowNs();
          this.dividerStartNs = now;
          this.secondStartNs = now - NS_PER_S / 2;
        }
        break;
      }
      case RtcRegister.B: {
        let b = v;
        if (b & REG_B_SET) b &= ~REG_B_UIE; // setting SET clears UIE
        const formatChanged = ((b ^ this.regB) & (REG_B_DM | REG_B_24H)) !== 0;
        this.cmos[RtcRegister.B] = b;
        if (formatChanged) this.encodeTime();
        break;
      }
      case RtcRegister.C:
      case RtcRegister.D:
        break; // read-only
      default:
        this.cmos[i] = v;
        if (i <= RtcRegister.Year || i === RtcRegister.Century) {
          if (
            i !== RtcRegister.SecondsAlarm &&
            i !== RtcRegister.MinutesAlarm &&
            i !== RtcRegister.HoursAlarm
          ) {
            this.decodeTime();
          }
        }
        break;
    }
    this.updateIrq();
  }

  /**
   * The clock time of the first event after the last {@link RtcCmos.poll} (or port access) that
   * would raise IRQ8, or Infinity: once the clock reaches it, it stays in the past until polled.
   */
  nextDeadlineNs(): number {
    if (!this.dividerRunning() || this.irqLevel) return Number.POSITIVE_INFINITY;
    let next = Number.POSITIVE_INFINITY;
    const b = this.regB;
    if (b & (REG_B_UIE | REG_B_AIE) && (b & REG_B_SET) === 0) next = this.secondStartNs + NS_PER_S;
    const period = this.periodTicks();
    if (b & REG_B_PIE && period !== 0) {
      const from = this.lastSyncNs;
      const k = Math.floor(nsToTicks(Math.max(0, from - this.dividerStartNs), DIVIDER_HZ) / period) + 1;
      next = Math.min(next, this.dividerStartNs + ticksToNs(k * period, DIVIDER_HZ));
    }
    return next;
  }

  /** Brings the clock, flags and IRQ8 up to date. */
  poll(): void {
    this.sync();
  }

  /** A plain-data snapshot. */
  state(): RtcCmosState {
    return {
      cmos: Array.from(this.cmos),
      index: this.index,
      nmiMasked: this.nmiMasked,
      seconds: this.seconds,
      secondStartNs: this.secondStartNs,
      dividerStartNs: this.dividerStartNs,
      lastSyncNs: this.lastSyncNs,
      irqLevel: this.irqLevel,
    };
  }

  /** Restores a snapshot taken by {@link RtcCmos.state} and drives IRQ8 to its level. */
  fromState(s: RtcCmosState): void {
    if (s.cmos.length !== 128) throw new RangeError("RtcCmos.fromState: expected 128 CMOS bytes");
    this.cmos = Uint8Array.from(s.cmos);
    this.index = s.index & 0x7f;
    this.nmiMasked = s.nmiMasked;
    this.seconds = s.seconds;
    this.secondStartNs = s.secondStartNs;
    this.dividerStartNs = s.dividerStartNs;
    this.lastSyncNs = s.lastSyncNs;
    this.irqLevel = s.irqLevel;
    this.irq?.set(this.irqLevel);
  }
}
