import type { MmioHandler } from "@turtles/memory";
import type { IrqLine } from "./irq-line.js";
import type { Snapshottable } from "./snapshot.js";

/** The I/O APIC's conventional MMIO base and window size. */
export const IOAPIC_MMIO = {
  /** Physical base address. */
  base: 0xfec0_0000,
  /** Size of the register window (IOREGSEL 0x00, IOWIN 0x10, EOI 0x40). */
  size: 0x100,
} as const;

/** Number of interrupt inputs (redirection table entries). */
export const IOAPIC_PINS = 24;

/** Version register value: version 0x20 (with the EOI register), 24 entries. */
const IOAPIC_VERSION = 0x20 | ((IOAPIC_PINS - 1) << 16);

// Redirection entry bits (low dword).
const RTE_VECTOR = 0xff;
const RTE_DELIVERY_MODE = 0x700;
const RTE_DEST_MODE = 0x800;
const RTE_POLARITY_LOW = 0x2000;
const RTE_REMOTE_IRR = 0x4000;
const RTE_LEVEL = 0x8000;
const RTE_MASKED = 0x1_0000;
const RTE_WRITABLE_LO =
  RTE_VECTOR | RTE_DELIVERY_MODE | RTE_DEST_MODE | RTE_POLARITY_LOW | RTE_LEVEL | RTE_MASKED;

/**
 * Where the I/O APIC sends interrupt messages (the system bus to the local APICs). All fields
 * are numbers so a delivery allocates nothing.
 */
export interface InterruptMessageSink {
  /**
   * Delivers one interrupt message.
   * @param vector 0-255.
   * @param deliveryMode 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT.
   * @param logical destination mode: false = physical APIC ID, true = logical.
   * @param destination the destination field (bits 56-63 of the entry).
   * @param level whether the entry is level-triggered (the target must send an EOI back).
   */
  deliver(vector: number, deliveryMode: number, logical: boolean, destination: number, level: boolean): void;
}

/** The state of an {@link IoApic}, as plain data. */
export interface IoApicState {
  /** IOREGSEL. */
  select: number;
  /** The APIC ID (bits 24-27 of register 0). */
  id: number;
  /** Redirection table: entry n's low dword at 2n, high dword at 2n + 1. */
  redirection: number[];
  /** Current levels of the 24 input pins (bit n = pin n, before polarity). */
  inputs: number;
}

/**
 * The I/O APIC (82093AA programming model, version 0x20): IOREGSEL/IOWIN indirect access to the
 * ID, version and arbitration registers and a 24-entry redirection table; edge- and
 * level-triggered inputs with polarity; level-triggered entries hold Remote IRR until an EOI
 * for their vector — broadcast by a local APIC ({@link IoApic.eoi}) or written to the EOI
 * register at offset 0x40 — and are delivered again if the input is still asserted. Delivery
 * status always reads idle: messages are handed to the sink at once. Masked edges are lost.
 */
export class IoApic implements MmioHandler, Snapshottable<IoApicState> {
  private select = 0;
  private id = 0;
  private readonly redirection = new Array<number>(2 * IOAPIC_PINS).fill(0);
  private inputs = 0;
  private readonly lines: IrqLine[] = [];

  /** `sink` receives the interrupt messages. */
  constructor(private readonly sink: InterruptMessageSink) {
    for (let n = 0; n < IOAPIC_PINS; n++) {
      this.redirection[2 * n] = RTE_MASKED;
      this.lines.push({ set: (level: boolean) => this.setIrq(n, level) });
    }
  }

  /** The input line of pin `n` (0-23). */
  irqLine(n: number): IrqLine {
    const line = this.lines[n];
    if (line === undefined) throw new RangeError(`IoApic.irqLine: pin ${n} is not 0-23`);
    return line;
  }

  /** Drives pin `n` (0-23) to `level` (electrical level; the entry's polarity decides assertion). */
  setIrq(n: number, level: boolean): void {
    if (!Number.isInteger(n) || n < 0 || n >= IOAPIC_PINS) throw new RangeError(`IoApic.setIrq: pin ${n}`);
    const bit = 1 << n;
    const wasAsserted = this.asserted(n);
    this.inputs = level ? this.inputs | bit : this.inputs & ~bit;
    const lo = this.redirection[2 * n]!;
    if (lo & RTE_LEVEL) this.service(n);
    else if (!wasAsserted && this.asserted(n) && !(lo & RTE_MASKED)) this.send(n);
  }

  /** A local APIC's EOI for `vector`: clears Remote IRR of level entries with that vector. */
  eoi(vector: number): void {
    for (let n = 0; n < IOAPIC_PINS; n++) {
      const lo = this.redirection[2 * n]!;
      if ((lo & RTE_VECTOR) === (vector & 0xff) && lo & RTE_LEVEL && lo & RTE_REMOTE_IRR) {
        this.redirection[2 * n] = lo & ~RTE_REMOTE_IRR;
        this.service(n);
      }
    }
  }

  private asserted(n: number): boolean {
    const high = (this.inputs & (1 << n)) !== 0;
    return (this.redirection[2 * n]! & RTE_POLARITY_LOW) !== 0 ? !high : high;
  }

  /** Delivers a level-triggered entry if asserted, unmasked and not awaiting EOI. */
  private service(n: number): void {
    const lo = this.redirection[2 * n]!;
    if (lo & RTE_LEVEL && !(lo & (RTE_MASKED | RTE_REMOTE_IRR)) && this.asserted(n)) {
      this.redirection[2 * n] = lo | RTE_REMOTE_IRR;
      this.send(n);
    }
  }

  private send(n: number): void {
    const lo = this.redirection[2 * n]!;
    const hi = this.redirection[2 * n + 1]!;
    this.sink.deliver(
      lo & RTE_VECTOR,
      (lo >> 8) & 7,
      (lo & RTE_DEST_MODE) !== 0,
      hi >>> 24,
      (lo & RTE_LEVEL) !== 0,
    );
  }

  /** MMIO read: IOREGSEL at 0x00, IOWIN at 0x10 (other offsets read 0). */
  read(offset: number, size: 1 | 2 | 4): number {
    let v: number;
    if (offset >= 0x10 && offset < 0x14) v = this.readRegister() >>> (8 * (offset - 0x10));
    else if (offset < 4) v = this.select >>> (8 * offset);
    else v = 0;
    return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  }

  /** MMIO write: IOREGSEL, IOWIN (32-bit), and the EOI register at 0x40. */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset === 0) this.select = value & 0xff;
    else if (offset === 0x10 && size === 4) this.writeRegister(value >>> 0);
    else if (offset === 0x40) this.eoi(value & 0xff);
  }

  private readRegister(): number {
    const r = this.select;
    if (r === 0x00) return (this.id & 0x0f) << 24;
    if (r === 0x01) return IOAPIC_VERSION;
    if (r === 0x02) return (this.id & 0x0f) << 24; // arbitration ID follows the APIC ID
    const i = r - 0x10;
    return i >= 0 && i < 2 * IOAPIC_PINS ? this.redirection[i]! >>> 0 : 0;
  }

  private writeRegister(v: number): void {
    const r = this.select;
    if (r === 0x00) {
      this.id = (v >>> 24) & 0x0f;
      return;
    }
    const i = r - 0x10;
    if (i < 0 || i >= 2 * IOAPIC_PINS) return;
    if (i & 1) {
      this.redirection[i] = (v & 0xff00_0000) >>> 0;
      return;
    }
    const old = this.redirection[i]!;
    let lo = (old & RTE_REMOTE_IRR) | (v & RTE_WRITABLE_LO);
    if (!(lo & RTE_LEVEL)) lo &= ~RTE_REMOTE_IRR; // edge entries have no Remote IRR
    this.redirection[i] = lo >>> 0;
    this.service(i >> 1); // unmasking an asserted level input delivers it
  }

  /** A plain-data snapshot. */
  state(): IoApicState {
    return { select: this.select, id: this.id, redirection: [...this.redirection], inputs: this.inputs };
  }

  /** Restores a snapshot taken by {@link IoApic.state}. */
  fromState(s: IoApicState): void {
    if (s.redirection.length !== 2 * IOAPIC_PINS)
      throw new RangeError("IoApic.fromState: expected 48 dwords");
    this.select = s.select & 0xff;
    this.id = s.id & 0x0f;
    for (let i = 0; i < s.redirection.length; i++) this.redirection[i] = s.redirection[i]! >>> 0;
    this.inputs = s.inputs & 0xff_ffff;
  }
}
