import type { PortIoHandler } from "@turtles/memory";
import { bytewiseHandler } from "./byte-ports.js";
import type { InterruptAcknowledge, IrqLine } from "./irq-line.js";
import type { Snapshottable } from "./snapshot.js";

/** Conventional I/O ports of the PC's two 8259A PICs and their edge/level control registers. */
export const PIC_PORTS = {
  /** Master command (0x20) and data (0x21) ports. */
  master: 0x20,
  /** Slave command (0xA0) and data (0xA1) ports. */
  slave: 0xa0,
  /** ELCR1 (0x4D0, IRQ0-7) and ELCR2 (0x4D1, IRQ8-15). */
  elcr: 0x4d0,
} as const;

/** The state of one 8259A chip, as plain data. */
export interface PicChipState {
  /** Interrupt request register. */
  irr: number;
  /** In-service register. */
  isr: number;
  /** Interrupt mask register (OCW1). */
  imr: number;
  /** Current levels of the eight IR inputs. */
  inputs: number;
  /** Edge/level control register: a set bit makes that input level-triggered. */
  elcr: number;
  /** Rotation: the IR with the highest priority is `priorityAdd` (0 = IR0 highest). */
  priorityAdd: number;
  /** Vector base from ICW2 (low three bits zero). */
  vectorBase: number;
  /** 0 = operational; 1, 2, 3 = expecting ICW2, ICW3, ICW4. */
  initStep: number;
  /** ICW1.IC4: an ICW4 follows. */
  icw4Needed: boolean;
  /** ICW1.SNGL: no cascade (no ICW3). */
  single: boolean;
  /** ICW1.LTIM: every input level-triggered. */
  levelTriggeredAll: boolean;
  /** ICW3 as written. */
  icw3: number;
  /** ICW4.AEOI. */
  autoEoi: boolean;
  /** OCW2 rotate-in-automatic-EOI mode. */
  rotateOnAutoEoi: boolean;
  /** ICW4.SFNM. */
  specialFullyNested: boolean;
  /** OCW3 special mask mode. */
  specialMask: boolean;
  /** OCW3 RIS: command-port reads return ISR (true) or IRR (false). */
  readIsr: boolean;
  /** OCW3 poll command pending: the next read is a poll. */
  poll: boolean;
}

/** The state of a {@link PicPair}, as plain data. */
export interface PicPairState {
  /** The master chip (IRQ0-7). */
  master: PicChipState;
  /** The slave chip (IRQ8-15), cascaded on the master's IR2. */
  slave: PicChipState;
}

/** One 8259A: request/priority logic and its two ports. Internal to {@link PicPair}. */
class Pic8259Chip {
  irr = 0;
  isr = 0;
  imr = 0;
  inputs = 0;
  elcr = 0;
  priorityAdd = 0;
  vectorBase = 0;
  initStep = 0;
  icw4Needed = false;
  single = false;
  levelTriggeredAll = false;
  icw3 = 0;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  poll = false;

  constructor(
    readonly isMaster: boolean,
    readonly elcrMask: number,
    private readonly changed: () => void,
  ) {}

  private levelMask(): number {
    return this.levelTriggeredAll ? 0xff : this.elcr;
  }

  /** Drives input `n` (0-7). Edge inputs latch rising edges into IRR; level inputs follow. */
  setInput(n: number, level: boolean): void {
    const bit = 1 << n;
    const wasHigh = (this.inputs & bit) !== 0;
    if (level) {
      this.inputs |= bit;
      if (!wasHigh || (this.levelMask() & bit) !== 0) this.irr |= bit;
    } else {
      this.inputs &= ~bit;
      if ((this.levelMask() & bit) !== 0) this.irr &= ~bit;
    }
    this.changed();
  }

  /** Priority rank (0 = highest) of the highest-priority bit of `mask`, or 8 when none. */
  private rank(mask: number): number {
    if ((mask & 0xff) === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The IR the chip would present now, or -1 (priority resolution against ISR). */
  pending(): number {
    const req = this.rank(this.irr & ~this.imr);
    if (req === 8) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    const current = this.rank(inService);
    const n = (req + this.priorityAdd) & 7;
    if (req < current) return n;
    // Special fully nested mode: with the cascade input in service, the master still accepts a
    // new request on it (a higher-priority interrupt of the same slave).
    if (req === current && n === 2 && this.isMaster && this.specialFullyNested) return n;
    return -1;
  }

  /** Commits to IR `n`: sets ISR (unless auto-EOI), clears the edge request. */
  commit(n: number): void {
    const bit = 1 << n;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (n + 1) & 7;
    } else {
      this.isr |= bit;
    }
    if ((this.levelMask() & bit) === 0) this.irr &= ~bit;
  }

  readPort(offset: number): number {
    if (this.poll) {
      this.poll = false;
      const n = this.pending();
      if (n < 0) return 0;
      this.commit(n);
      this.changed();
      return 0x80 | n;
    }
    if (offset === 0) return this.readIsr ? this.isr : this.irr;
    return this.imr;
  }

  writePort(offset: number, v: number): void {
    if (offset === 0) {
      if (v & 0x10) this.icw1(v);
      else if (v & 0x08) this.ocw3(v);
      else this.ocw2(v);
    } else {
      switch (this.initStep) {
        case 0:
          this.imr = v; // OCW1
          break;
        case 1:
          this.vectorBase = v & 0xf8; // ICW2 (x86 mode: T7-T3)
          this.initStep = this.single ? (this.icw4Needed ? 3 : 0) : 2;
          break;
        case 2:
          this.icw3 = v;
          this.initStep = this.icw4Needed ? 3 : 0;
          break;
        default:
          this.specialFullyNested = (v & 0x10) !== 0; // ICW4
          this.autoEoi = (v & 0x02) !== 0;
          this.initStep = 0;
          break;
      }
    }
    this.changed();
  }

  /** ICW1: starts initialization (8259A datasheet, "Initialization command words"). */
  private icw1(v: number): void {
    this.icw4Needed = (v & 0x01) !== 0;
    this.single = (v & 0x02) !== 0;
    this.levelTriggeredAll = (v & 0x08) !== 0;
    this.initStep = 1;
    // The edge-sense latches are reset: an input already high must go low and high again.
    this.irr = this.inputs & this.levelMask();
    this.isr = 0;
    this.imr = 0;
    this.priorityAdd = 0;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.icw3 = 0;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
  }

  /** OCW2: EOI and rotation commands, selected by R, SL, EOI (bits 7-5). */
  private ocw2(v: number): void {
    const level = v & 7;
    switch (v >> 5) {
      case 0: // rotate in automatic EOI mode (clear)
        this.rotateOnAutoEoi = false;
        break;
      case 4: // rotate in automatic EOI mode (set)
        this.rotateOnAutoEoi = true;
        break;
      case 1: // non-specific EOI
      case 5: {
        // rotate on non-specific EOI
        const p = this.rank(this.isr);
        if (p === 8) break;
        const n = (p + this.priorityAdd) & 7;
        this.isr &= ~(1 << n);
        if (v >> 5 === 5) this.priorityAdd = (n + 1) & 7;
        break;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 6: // set priority: `level` becomes the lowest
        this.priorityAdd = (level + 1) & 7;
        break;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        break;
      default: // 2: no operation
        break;
    }
  }

  /** OCW3: special mask mode, poll, read-register select. */
  private ocw3(v: number): void {
    if (v & 0x04) this.poll = true;
    if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
    if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
  }

  state(): PicChipState {
    return {
      irr: this.irr,
      isr: this.isr,
      imr: this.imr,
      inputs: this.inputs,
      elcr: this.elcr,
      priorityAdd: this.priorityAdd,
      vectorBase: this.vectorBase,
      initStep: this.initStep,
      icw4Needed: this.icw4Needed,
      single: this.single,
      levelTriggeredAll: this.levelTriggeredAll,
      icw3: this.icw3,
      autoEoi: this.autoEoi,
      rotateOnAutoEoi: this.rotateOnAutoEoi,
      specialFullyNested: this.specialFullyNested,
      specialMask: this.specialMask,
      readIsr: this.readIsr,
      poll: this.poll,
    };
  }

  fromState(s: PicChipState): void {
    this.irr = s.irr & 0xff;
    this.isr = s.isr & 0xff;
    this.imr = s.imr & 0xff;
    this.inputs = s.inputs & 0xff;
    this.elcr = s.elcr & this.elcrMask;
    this.priorityAdd = s.priorityAdd & 7;
    this.vectorBase = s.vectorBase & 0xf8;
    this.initStep = s.initStep;
    this.icw4Needed = s.icw4Needed;
    this.single = s.single;
    this.levelTriggeredAll = s.levelTriggeredAll;
    this.icw3 = s.icw3 & 0xff;
    this.autoEoi = s.autoEoi;
    this.rotateOnAutoEoi = s.rotateOnAutoEoi;
    this.specialFullyNested = s.specialFullyNested;
    this.specialMask = s.specialMask;
    this.readIsr = s.readIsr;
    this.poll = s.poll;
  }
}

/**
 * The PC's two cascaded Intel 8259A programmable interrupt controllers: the master takes IRQ0-7,
 * the slave IRQ8-15 and signals the master on IR2. Implements ICW1-4, OCW1-3 (specific and
 * non-specific EOI, rotation, set priority, special mask mode, poll), auto-EOI, special fully
 * nested mode, per-input edge/level selection through the ELCR registers, and spurious IRQ7/IRQ15.
 *
 * Wiring: register {@link PicPair.masterPorts}, {@link PicPair.slavePorts} and
 * {@link PicPair.elcrPorts} at {@link PIC_PORTS}; devices drive {@link PicPair.irqLine}s; the CPU
 * uses {@link PicPair.hasInterrupt} / {@link PicPair.acknowledge}; `intr` follows the INT output.
 */
export class PicPair implements InterruptAcknowledge, Snapshottable<PicPairState> {
  /** Ports 0x20-0x21 (offset 0 = command, 1 = data). */
  readonly masterPorts: PortIoHandler;
  /** Ports 0xA0-0xA1 (offset 0 = command, 1 = data). */
  readonly slavePorts: PortIoHandler;
  /** Ports 0x4D0-0x4D1: ELCR1 and ELCR2. */
  readonly elcrPorts: PortIoHandler;

  private readonly master: Pic8259Chip;
  private readonly slave: Pic8259Chip;
  private readonly lines: IrqLine[] = [];
  private intrLevel = false;
  private updating = false;

  /** `intr` receives the master's INT output (the CPU's INTR pin). */
  constructor(private readonly intr?: IrqLine) {
    const update = () => this.update();
    // IRQ0-2 (timer, keyboard, cascade) and IRQ8, IRQ13 are always edge-triggered.
    this.master = new Pic8259Chip(true, 0xf8, update);
    this.slave = new Pic8259Chip(false, 0xde, update);
    const chipPorts = (chip: Pic8259Chip): PortIoHandler =>
      bytewiseHandler(
        (o) => (o < 2 ? chip.readPort(o) : 0xff),
        (o, v) => (o < 2 ? chip.writePort(o, v) : undefined),
      );
    this.masterPorts = chipPorts(this.master);
    this.slavePorts = chipPorts(this.slave);
    this.elcrPorts = bytewiseHandler(
      (o) => (o === 0 ? this.master.elcr : o === 1 ? this.slave.elcr : 0xff),
      (o, v) => this.writeElcr(o, v),
    );
    for (let n = 0; n < 16; n++) this.lines.push({ set: (level: boolean) => this.setIrq(n, level) });
  }

  /** The input line of IRQ `n` (0-15), for a device to drive. */
  irqLine(n: number): IrqLine {
    const line = this.lines[n];
    if (line === undefined) throw new RangeError(`PicPair.irqLine: IRQ ${n} is not 0-15`);
    return line;
  }

  /** Drives IRQ `n` (0-15). IRQ2 is the cascade input and cannot be driven from outside. */
  setIrq(n: number, level: boolean): void {
    if (!Number.isInteger(n) || n < 0 || n > 15) throw new RangeError(`PicPair.setIrq: IRQ ${n} is not 0-15`);
    if (n === 2) return; // the slave's INT output owns IR2 (ISA IRQ2 is rerouted to IRQ9)
    if (n < 8) this.master.setInput(n, level);
    else this.slave.setInput(n - 8, level);
  }

  /** Whether the master asserts INT (some unmasked request outranks what is in service). */
  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  /**
   * The interrupt-acknowledge cycle: returns the vector of the highest-priority request and
   * marks it in service. With nothing pending, the master answers a spurious IRQ7 (or the slave a
   * spurious IRQ15, the master's IR2 still being acknowledged) without setting ISR.
   */
  acknowledge(): number {
    const m = this.master.pending();
    let vector: number;
    if (m < 0) {
      vector = this.master.vectorBase + 7;
    } else {
      this.master.commit(m);
      if (m === 2) {
        const s = this.slave.pending();
        if (s >= 0) {
          this.slave.commit(s);
          vector = this.slave.vectorBase + s;
        } else {
          vector = this.slave.vectorBase + 7;
        }
      } else {
        vector = this.master.vectorBase + m;
      }
    }
    this.update();
    return vector;
  }

  /** IRR of both chips: bits 0-7 master, 8-15 slave (for inspection and tests). */
  get irr(): number {
    return this.master.irr | (this.slave.irr << 8);
  }

  /** ISR of both chips: bits 0-7 master, 8-15 slave. */
  get isr(): number {
    return this.master.isr | (this.slave.isr << 8);
  }

  /** IMR of both chips: bits 0-7 master, 8-15 slave. */
  get imr(): number {
    return this.master.imr | (this.slave.imr << 8);
  }

  private writeElcr(o: number, v: number): void {
    const chip = o === 0 ? this.master : o === 1 ? this.slave : undefined;
    if (chip === undefined) return;
    chip.elcr = v & chip.elcrMask;
    // A newly level-triggered input holds IRR at its current level.
    chip.irr = (chip.irr & ~chip.elcr) | (chip.inputs & chip.elcr);
    this.update();
  }

  /** Propagates the slave's INT to the master's IR2 and the master's INT to `intr`. */
  private update(): void {
    if (this.updating) return;
    this.updating = true;
    try {
      this.master.setInput(2, this.slave.pending() >= 0);
    } finally {
      this.updating = false;
    }
    const level = this.master.pending() >= 0;
    if (level !== this.intrLevel) {
      this.intrLevel = level;
      this.intr?.set(level);
    }
  }

  /** A plain-data snapshot of both chips. */
  state(): PicPairState {
    return { master: this.master.state(), slave: this.slave.state() };
  }

  /** Restores a snapshot taken by {@link PicPair.state} and drives `intr` to match it. */
  fromState(s: PicPairState): void {
    this.master.fromState(s.master);
    this.slave.fromState(s.slave);
    this.intrLevel = this.master.pending() >= 0;
    this.intr?.set(this.intrLevel);
  }
}
