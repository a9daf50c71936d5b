import type { PortIoHandler } from "@turtles/memory";
import { bytewiseHandler } from "./byte-ports.js";
import { type Clock, nsToTicks, type TimedDevice, ticksToNs } from "./clock.js";
import type { IrqLine } from "./irq-line.js";
import type { Snapshottable } from "./snapshot.js";

/** The PIT's input clock in Hz (14.31818 MHz / 12, rounded as PCs and QEMU use it). */
export const PIT_HZ = 1_193_182;

/** Conventional I/O ports of the 8254 PIT and system control port B. */
export const PIT_PORTS = {
  /** Counters 0-2 (0x40-0x42) and the control word register (0x43). */
  pit: 0x40,
  /** System control port B (0x61): channel 2 gate, speaker enable, OUT2, refresh toggle. */
  portB: 0x61,
} as const;

/** The state of one PIT counter, as plain data. */
export interface PitChannelState {
  /** Counter mode 0-5. */
  mode: number;
  /** BCD counting. */
  bcd: boolean;
  /** Read/write access: 1 = LSB only, 2 = MSB only, 3 = LSB then MSB. */
  access: number;
  /** The initial count N in counter units (1-65536 binary, 1-10000 BCD); 0 before any count. */
  count: number;
  /** A count has been written since the control word (the counter can be started). */
  loaded: boolean;
  /** The counting element holds a count that is being (or was being) decremented. */
  counting: boolean;
  /** The counting element is advancing now (gate permitting). */
  running: boolean;
  /** Ticks counted before `runStart` (while the gate paused counting). */
  acc: number;
  /** Absolute PIT tick at which counting last (re)started advancing. */
  runStart: number;
  /** The gate input level. */
  gate: boolean;
  /** The control word was written and no count has followed yet. */
  nullCount: boolean;
  /** LSB of a two-byte count written, MSB awaited. */
  writeHigh: boolean;
  /** The LSB written first (valid while `writeHigh`). */
  writeLow: number;
  /** Next unlatched two-byte read returns the MSB. */
  readHigh: boolean;
  /** A count latch holds `latchValue`; `latchBytes` bytes remain to be read (0 = none). */
  latchBytes: number;
  /** The latched count. */
  latchValue: number;
  /** A latched status byte awaits reading. */
  statusLatched: boolean;
  /** The latched status byte. */
  statusValue: number;
}

/** The state of a {@link Pit8254}, as plain data. */
export interface Pit8254State {
  /** Counters 0, 1 and 2. */
  channels: PitChannelState[];
  /** Absolute PIT tick at which channel 0's IRQ output was last brought up to date. */
  lastSyncTick: number;
  /** The level currently driven on IRQ0. */
  irqLevel: boolean;
  /** Port 0x61 writable bits (0-3). */
  portB: number;
}

function toBcd(v: number): number {
  return (
    (v % 10) |
    ((Math.floor(v / 10) % 10) << 4) |
    ((Math.floor(v / 100) % 10) << 8) |
    ((Math.floor(v / 1000) % 10) << 12)
  );
}

function fromBcd(v: number): number {
  return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}

/**
 * Mode 3's counting element `p` clocks into a period of `n`: it decrements by two; an odd count
 * loses one on the first clock of the high half and three on the first clock of the low half, so
 * OUT is high for (n + 1) / 2 clocks and low for (n - 1) / 2 (8254 datasheet, mode 3).
 */
function squareWaveCount(n: number, p: number): number {
  const high = Math.ceil(n / 2);
  if (n % 2 === 0) return p < high ? n - 2 * p : n - 2 * (p - high);
  if (p < high) return p === 0 ? n : n + 1 - 2 * p;
  const q = p - high;
  return q === 0 ? n : n - 1 - 2 * q;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** One counter of the 8254 (Intel 8254 datasheet, "Modes"). Internal to {@link Pit8254}. */
class PitChannel implements PitChannelState {
  mode = 0;
  bcd = false;
  access = 3;
  count = 0;
  loaded = false;
  counting = false;
  running = false;
  acc = 0;
  runStart = 0;
  gate: boolean;
  nullCount = false;
  writeHigh = false;
  writeLow = 0;
  readHigh = false;
  latchBytes = 0;
  latchValue = 0;
  statusLatched = false;
  statusValue = 0;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  /** Ticks the counting element has counted at absolute tick `now`. */
  elapsed(now: number): number {
    return this.acc + (this.running ? now - this.runStart : 0);
  }

  /** OUT as a function of the elapsed count `d` (the datasheet waveforms, count loaded at once). */
  outAt(d: number): boolean {
    if (!this.counting) return this.mode !== 0;
    const n = this.count;
    switch (this.mode) {
      case 0:
      case 1:
        return d >= n;
      case 2:
        return mod(d, n) !== n - 1;
      case 3:
        return mod(d, n) < Math.ceil(n / 2);
      default:
        return d !== n; // modes 4 and 5: one-tick low strobe at terminal count
    }
  }

  out(now: number): boolean {
    return this.outAt(this.elapsed(now));
  }

  /** The smallest elapsed count d' > d at which OUT changes, or Infinity. */
  nextChange(d: number): number {
    if (!this.counting || !this.running) return Number.POSITIVE_INFINITY;
    const n = this.count;
    switch (this.mode) {
      case 0:
      case 1:
        return d < n ? n : Number.POSITIVE_INFINITY;
      case 2: {
        if (n < 2) return Number.POSITIVE_INFINITY;
        const p = mod(d, n);
        return p < n - 1 ? d + (n - 1 - p) : d + 1;
      }
      case 3: {
        const h = Math.ceil(n / 2);
        if (h >= n) return Number.POSITIVE_INFINITY;
        const p = mod(d, n);
        return p < h ? d + (h - p) : d + (n - p);
      }
      default:
        return d < n ? n : d === n ? n + 1 : Number.POSITIVE_INFINITY;
    }
  }

  /** Whether OUT rose at some tick in (from, to] (at most two transitions need checking). */
  roseBetween(from: number, to: number): boolean {
    if (!this.running || to <= from) return false;
    const d0 = this.elapsed(from);
    const d1 = this.elapsed(to);
    const t1 = this.nextChange(d0);
    if (t1 > d1) return false;
    if (this.outAt(t1)) return true;
    return this.nextChange(t1) <= d1;
  }

  /** The counting element as the datasheet's CE would read it. */
  value(now: number): number {
    const n = this.count;
    let v: number;
    if (!this.counting) {
      v = n;
    } else {
      const d = this.elapsed(now);
      if (this.mode === 2) v = n - mod(d, n);
      else if (this.mode === 3) v = squareWaveCount(n, mod(d, n));
      else v = n - d;
    }
    return this.bcd ? toBcd(mod(v, 10000)) : mod(v, 0x10000);
  }

  status(now: number): number {
    return (
      (this.out(now) ? 0x80 : 0) |
      (this.nullCount ? 0x40 : 0) |
      (this.access << 4) |
      (this.mode << 1) |
      (this.bcd ? 1 : 0)
    );
  }

  latchCount(now: number): void {
    if (this.latchBytes !== 0) return; // a latch already pending is kept (datasheet)
    this.latchValue = this.value(now);
    this.latchBytes = this.access === 3 ? 2 : 1;
  }

  latchStatus(now: number): void {
    if (this.statusLatched) return;
    this.statusValue = this.status(now);
    this.statusLatched = true;
  }

  controlWord(v: number): void {
    this.access = (v >> 4) & 3;
    const m = (v >> 1) & 7;
    this.mode = m > 5 ? m - 4 : m;
    this.bcd = (v & 1) !== 0;
    this.loaded = false;
    this.counting = false;
    this.running = false;
    this.acc = 0;
    this.nullCount = true;
    this.writeHigh = false;
    this.readHigh = false;
    this.latchBytes = 0;
    this.statusLatched = false;
  }

  read(now: number): number {
    if (this.statusLatched) {
      this.statusLatched = false;
      return this.statusValue;
    }
    let v: number;
    let high: boolean;
    if (this.latchBytes !== 0) {
      v = this.latchValue;
      high = this.access === 2 || (this.access === 3 && this.latchBytes === 1);
      this.latchBytes--;
    } else {
      v = this.value(now);
      high = this.access === 2 || (this.access === 3 && this.readHigh);
      if (this.access === 3) this.readHigh = !this.readHigh;
    }
    return high ? (v >> 8) & 0xff : v & 0xff;
  }

  write(now: number, v: number): void {
    let raw: number;
    if (this.access === 1) raw = v;
    else if (this.access === 2) raw = v << 8;
    else if (!this.writeHigh) {
      this.writeHigh = true;
      this.writeLow = v;
      // Mode 0: writing the first byte of a new count stops counting (OUT low).
      if (this.mode === 0) this.counting = false;
      return;
    } else {
      this.writeHigh = false;
      raw = this.writeLow | (v << 8);
    }
    let n = this.bcd ? fromBcd(raw) : raw;
    if (n === 0) n = this.bcd ? 10000 : 0x10000;
    this.count = n;
    this.loaded = true;
    this.nullCount = false;
    if (this.mode === 1 || this.mode === 5) return; // waits for a gate trigger
    this.start(now);
    if ((this.mode === 2 || this.mode === 3) && !this.gate) this.counting = false;
  }

  private start(now: number): void {
    this.counting = true;
    this.acc = 0;
    this.runStart = now;
    this.running = this.gate || this.mode === 1 || this.mode === 5;
  }

  setGate(now: number, level: boolean): void {
    if (level === this.gate) return;
    this.gate = level;
    switch (this.mode) {
      case 0:
      case 4:
        if (!this.counting) break;
        if (level) {
          this.runStart = now;
          this.running = true;
        } else {
          this.acc = this.elapsed(now);
          this.running = false;
        }
        break;
      case 2:
      case 3:
        if (level && this.loaded) this.start(now);
        else this.counting = false;
        break;
      default: // 1 and 5: a rising gate (re)triggers
        if (level && this.loaded) this.start(now);
        break;
    }
  }

  state(): PitChannelState {
    const { mode, bcd, access, count, loaded, counting, running, acc, runStart, gate } = this;
    const { nullCount, writeHigh, writeLow, readHigh, latchBytes, latchValue, statusLatched, statusValue } =
      this;
    return {
      mode,
      bcd,
      access,
      count,
      loaded,
      counting,
      running,
      acc,
      runStart,
      gate,
      nullCount,
      writeHigh,
      writeLow,
      readHigh,
      latchBytes,
      latchValue,
      statusLatched,
      statusValue,
    };
  }

  fromState(s: PitChannelState): void {
    this.mode = s.mode;
    this.bcd = s.bcd;
    this.access = s.access;
    this.count = s.count;
    this.loaded = s.loaded;
    this.counting = s.counting;
    this.running = s.running;
    this.acc = s.acc;
    this.runStart = s.runStart;
    this.gate = s.gate;
    this.nullCount = s.nullCount;
    this.writeHigh = s.writeHigh;
    this.writeLow = s.writeLow;
    this.readHigh = s.readHigh;
    this.latchBytes = s.latchBytes;
    this.latchValue = s.latchValue;
    this.statusLatched = s.statusLatched;
    this.statusValue = s.statusValue;
  }
}

/**
 * The Intel 8254 programmable interval timer: three 16-bit counters in modes 0-5 with binary or
 * BCD counting, LSB/MSB/LSB-then-MSB access, counter latch and read-back commands. Counter 0's
 * OUT drives IRQ0; counter 2's gate and OUT are wired to system control port B (0x61), whose
 * handler is {@link Pit8254.portBPorts}. Time comes only from the injected {@link Clock}.
 *
 * Modelling choices: a count is loaded into the counting element at the write (the datasheet's
 * extra load clock is not modelled); a new count in modes 2 and 3 takes effect at once rather
 * than at the end of the current period.
 */
export class Pit8254 implements TimedDevice, Snapshottable<Pit8254State> {
  /** Ports 0x40-0x43: counters 0-2 and the control word register. */
  readonly ports: PortIoHandler;
  /** Port 0x61 (one port): channel 2 gate (bit 0), speaker enable (bit 1), OUT2 (bit 5). */
  readonly portBPorts: PortIoHandler;

  private readonly channels: PitChannel[] = [
    new PitChannel(true),
    new PitChannel(true),
    new PitChannel(false),
  ];
  private lastSyncTick = 0;
  private irqLevel = false;
  private portB = 0;

  /** `irq0` receives counter 0's OUT. */
  constructor(
    private readonly clock: Clock,
    private readonly irq0?: IrqLine,
  ) {
    this.lastSyncTick = this.now();
    this.ports = bytewiseHandler(
      (o) => this.readPort(o),
      (o, v) => this.writePort(o, v),
    );
    this.portBPorts = bytewiseHandler(
      (o) => (o === 0 ? this.readPortB() : 0xff),
      (o, v) => (o === 0 ? this.writePortB(v) : undefined),
    );
  }

  private now(): number {
    return nsToTicks(this.clock.nowNs(), PIT_HZ);
  }

  private channel(n: number): PitChannel {
    const c = this.channels[n];
    if (c === undefined) throw new RangeError(`Pit8254: no channel ${n}`);
    return c;
  }

  /** OUT of counter `n` (0-2) now. */
  out(n: number): boolean {
    return this.channel(n).out(this.now());
  }

  /** Drives the gate of counter `n` (0-2); the PC ties 0 and 1 high and wires 2 to port 0x61. */
  setGate(n: number, level: boolean): void {
    this.sync();
    this.channel(n).setGate(this.now(), level);
    this.sync();
  }

  /**
   * The clock time of counter 0's first OUT transition after the last {@link Pit8254.poll} (or
   * port access), or Infinity: once the clock reaches it, it stays in the past until polled.
   */
  nextDeadlineNs(): number {
    const c = this.channels[0]!;
    const from = this.lastSyncTick;
    const d = c.elapsed(from);
    const next = c.nextChange(d);
    if (next === Number.POSITIVE_INFINITY) return next;
    return ticksToNs(from + (next - d), PIT_HZ);
  }

  /** Brings IRQ0 up to date: a rising edge of OUT0 since the last call is delivered as one pulse. */
  poll(): void {
    this.sync();
  }

  private sync(): void {
    const now = this.now();
    const c = this.channels[0]!;
    const rose = c.roseBetween(this.lastSyncTick, now);
    this.lastSyncTick = now;
    const level = c.out(now);
    if (rose) {
      if (this.irqLevel) this.irq0?.set(false);
      this.irq0?.set(true);
      this.irqLevel = true;
    }
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq0?.set(level);
    }
  }

  private readPort(o: number): number {
    if (o > 2) return 0xff; // the control word register is write-only
    this.sync();
    return this.channel(o).read(this.now());
  }

  private writePort(o: number, v: number): void {
    this.sync();
    const now = this.now();
    if (o === 3) {
      const sc = v >> 6;
      if (sc === 3) {
        // Read-back command: bit 5 = don't latch count, bit 4 = don't latch status.
        for (let n = 0; n < 3; n++) {
          if ((v & (2 << n)) === 0) continue;
          const c = this.channels[n]!;
          if ((v & 0x20) === 0) c.latchCount(now);
          if ((v & 0x10) === 0) c.latchStatus(now);
        }
      } else if ((v & 0x30) === 0) {
        this.channels[sc]!.latchCount(now); // counter latch command
      } else {
        this.channels[sc]!.controlWord(v);
      }
    } else if (o < 3) {
      this.channel(o).write(now, v);
    }
    this.sync();
  }

  private readPortB(): number {
    const ns = this.clock.nowNs();
    // Bit 4 toggles with every DRAM refresh request (15.085 us on the PC/AT).
    const refresh = Math.floor(ns / 15_085) & 1;
    return (this.portB & 0x0f) | (refresh << 4) | (this.out(2) ? 0x20 : 0);
  }

  private writePortB(v: number): void {
    this.portB = v & 0x0f;
    this.setGate(2, (v & 1) !== 0);
  }

  /** Whether the speaker sounds now (port 0x61 bit 1 and OUT2), for a host that plays it. */
  get speakerOn(): boolean {
    return (this.portB & 2) !== 0 && this.out(2);
  }

  /** A plain-data snapshot. */
  state(): Pit8254State {
    return {
      channels: this.channels.map((c) => c.state()),
      lastSyncTick: this.lastSyncTick,
      irqLevel: this.irqLevel,
      portB: this.portB,
    };
  }

  /** Restores a snapshot taken by {@link Pit8254.state} and drives IRQ0 to its level. */
  fromState(s: Pit8254State): void {
    if (s.channels.length !== 3) throw new RangeError("Pit8254.fromState: expected 3 channels");
    for (const c of s.channels) {
      if (!Number.isInteger(c.mode) || c.mode < 0 || c.mode > 5 || c.access < 1 || c.access > 3) {
        throw new RangeError("Pit8254.fromState: bad channel mode or access");
      }
    }
    for (let n = 0; n < 3; n++) this.channels[n]!.fromState(s.channels[n]!);
    this.lastSyncTick = s.lastSyncTick;
    this.irqLevel = s.irqLevel;
    this.portB = s.portB & 0x0f;
    this.irq0?.set(this.irqLevel);
  }
}
