import type { PortIoHandler } from "@turtles/memory";
import { bytewiseHandler } from "./byte-ports.js";
import type { Clock, TimedDevice } from "./clock.js";
import type { IrqLine } from "./irq-line.js";
import type { Snapshottable } from "./snapshot.js";

/** Conventional I/O bases (8 ports each) and IRQs of the PC's serial ports. */
export const UART_PORTS = {
  /** COM1: 0x3F8, IRQ4. */
  com1: 0x3f8,
  /** COM2: 0x2F8, IRQ3. */
  com2: 0x2f8,
  /** COM3: 0x3E8, IRQ4. */
  com3: 0x3e8,
  /** COM4: 0x2E8, IRQ3. */
  com4: 0x2e8,
} as const;

/** The UART's reference clock: 1.8432 MHz, divided by 16 and then by the divisor latch. */
export const UART_CLOCK_HZ = 1_843_200;

const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;

// Interrupt Identification Register codes, highest priority first (16550A datasheet, table 4).
const IIR_NONE = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_TIMEOUT = 0x0c;
const IIR_THRE = 0x02;
const IIR_MS = 0x00;

// Line Status Register bits.
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_ERRORS = 0x1e;

/** The host side's view of the modem-status inputs (used when not in loopback). */
export interface UartModemLines {
  /** Clear To Send. */
  cts: boolean;
  /** Data Set Ready. */
  dsr: boolean;
  /** Ring Indicator. */
  ri: boolean;
  /** Data Carrier Detect. */
  dcd: boolean;
}

/** Construction options of a {@link Uart16550}. */
export interface Uart16550Options {
  /** The virtual clock (for the character-timeout interrupt). */
  clock: Clock;
  /** The interrupt line (IRQ4 for COM1). */
  irq?: IrqLine;
  /** Receives every transmitted byte (not called in loopback mode). */
  sink?: (byte: number) => void;
  /**
   * Gate the interrupt output with MCR.OUT2, as PC serial boards wire it (default false, as
   * QEMU's UART: the interrupt reaches the line whatever OUT2 says).
   */
  irqNeedsOut2?: boolean;
}

/** The state of a {@link Uart16550}, as plain data. */
export interface Uart16550State {
  /** Interrupt enable register (low four bits). */
  ier: number;
  /** Line control register. */
  lcr: number;
  /** Modem control register (low five bits). */
  mcr: number;
  /** Scratch register. */
  scr: number;
  /** Divisor latch, low byte. */
  dll: number;
  /** Divisor latch, high byte. */
  dlm: number;
  /** FCR bit 0: FIFOs enabled. */
  fifoEnabled: boolean;
  /** FCR bits 7-6: receiver trigger level selector (0-3). */
  triggerSelect: number;
  /** Received bytes not yet read, oldest first. */
  rx: number[];
  /** Sticky LSR error bits (OE, PE, FE, BI) not yet read. */
  lsrErrors: number;
  /** MSR delta bits (low nibble) not yet read. */
  msrDeltas: number;
  /** The host's modem-status inputs as MSR bits 7-4 (DCD, RI, DSR, CTS). */
  modemInputs: number;
  /** A THR-empty interrupt is latched. */
  threPending: boolean;
  /** Clock time (ns) of the last byte put into or taken from the receiver FIFO. */
  lastRxActivityNs: number;
  /** The level currently driven on the interrupt line. */
  irqLevel: boolean;
}

/**
 * A National Semiconductor 16550A UART: RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR and the
 * divisor latch (DLAB), 16-byte receive FIFO with trigger levels 1/4/8/14, the four interrupt
 * sources in their IIR priority order (line status, received data or character timeout, THR
 * empty, modem status) and loopback. Transmission is instantaneous: a byte written to THR goes
 * to the sink at once and THR is empty again, so THRE and TEMT always read 1. The host pushes
 * input with {@link Uart16550.receive}.
 */
export class Uart16550 implements TimedDevice, Snapshottable<Uart16550State> {
  /** The eight registers at base + 0..7. */
  readonly ports: PortIoHandler;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0x0c; // 9600 baud, as after a typical BIOS
  private dlm = 0;
  private fifoEnabled = false;
  private triggerSelect = 0;
  private rx: number[] = [];
  private lsrErrors = 0;
  private msrDeltas = 0;
  private modemInputs = 0xb0; // DCD, DSR, CTS asserted by the host side
  private threPending = false;
  private lastRxActivityNs = 0;
  private irqLevel = false;

  private readonly clock: Clock;
  private readonly irq: IrqLine | undefined;
  private readonly sink: ((byte: number) => void) | undefined;
  private readonly irqNeedsOut2: boolean;

  /** Creates a UART in its reset state (divisor 12, 8N1 line settings left to the guest). */
  constructor(options: Uart16550Options) {
    this.clock = options.clock;
    this.irq = options.irq;
    this.sink = options.sink;
    this.irqNeedsOut2 = options.irqNeedsOut2 ?? false;
    this.lastRxActivityNs = this.clock.nowNs();
    this.ports = bytewiseHandler(
      (o) => this.readRegister(o),
      (o, v) => this.writeRegister(o, v),
    );
  }

  /**
   * Host input: appends `bytes` to the receiver. Bytes beyond the receiver's capacity (16 with
   * FIFOs, 1 without) are lost and set the overrun error, as on the chip. Use
   * {@link Uart16550.rxFree} to avoid overruns. In loopback mode the line is disconnected and
   * the bytes are dropped. Returns the number of bytes accepted.
   */
  receive(bytes: ArrayLike<number>): number {
    if (this.loopback) return 0;
    let accepted = 0;
    for (let i = 0; i < bytes.length; i++) if (this.pushRx(bytes[i]! & 0xff)) accepted++;
    this.update();
    return accepted;
  }

  /** Free space in the receiver (bytes the host can push without an overrun). */
  get rxFree(): number {
    return this.capacity() - this.rx.length;
  }

  /** Sets the host's modem-status inputs (ignored by MSR while in loopback). */
  setModemLines(lines: UartModemLines): void {
    const v =
      (lines.cts ? 0x10 : 0) | (lines.dsr ? 0x20 : 0) | (lines.ri ? 0x40 : 0) | (lines.dcd ? 0x80 : 0);
    const before = this.msrInputs();
    this.modemInputs = v;
    this.noteModemChange(before);
    this.update();
  }

  /** The divisor latch value (baud = 115200 / divisor). */
  get divisor(): number {
    return this.dll | (this.dlm << 8);
  }

  private get loopback(): boolean {
    return (this.mcr & 0x10) !== 0;
  }

  private capacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  private pushRx(byte: number): boolean {
    this.lastRxActivityNs = this.clock.nowNs();
    if (this.rx.length >= this.capacity()) {
      this.lsrErrors |= LSR_OE;
      return false;
    }
    this.rx.push(byte);
    return true;
  }

  /** MSR bits 7-4 as the chip sees them: the host's lines, or MCR looped back. */
  private msrInputs(): number {
    if (!this.loopback) return this.modemInputs;
    const m = this.mcr;
    // Loopback: RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 -> DCD.
    return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4);
  }

  private noteModemChange(before: number): void {
    const after = this.msrInputs();
    const changed = before ^ after;
    if (changed & 0x10) this.msrDeltas |= 0x01;
    if (changed & 0x20) this.msrDeltas |= 0x02;
    if (before & 0x40 && !(after & 0x40)) this.msrDeltas |= 0x04; // trailing edge of RI
    if (changed & 0x80) this.msrDeltas |= 0x08;
  }

  /** Nanoseconds per character at the current divisor and line settings. */
  private charTimeNs(): number {
    const dataBits = 5 + (this.lcr & 3);
    const parity = (this.lcr & 0x08) !== 0 ? 1 : 0;
    const stop = (this.lcr & 0x04) === 0 ? 1 : dataBits === 5 ? 1.5 : 2;
    const bits = 1 + dataBits + parity + stop;
    const divisor = Math.max(1, this.divisor);
    return Math.ceil((bits * divisor * 16 * 1e9) / UART_CLOCK_HZ);
  }

  private timeoutAtNs(): number {
    if (!this.fifoEnabled || this.rx.length === 0) return Number.POSITIVE_INFINITY;
    return this.lastRxActivityNs + 4 * this.charTimeNs();
  }

  private trigger(): number {
    return this.fifoEnabled ? TRIGGER_LEVELS[this.triggerSelect]! : 1;
  }

  /** The interrupt the IIR reports now, as its low four bits. */
  private pendingInterrupt(): number {
    const ier = this.ier;
    if (ier & 0x04 && this.lsrErrors !== 0) return IIR_RLS;
    if (ier & 0x01) {
      if (this.rx.length >= this.trigger()) return IIR_RDA;
      if (this.clock.nowNs() >= this.timeoutAtNs()) return IIR_TIMEOUT;
    }
    if (ier & 0x02 && this.threPending) return IIR_THRE;
    if (ier & 0x08 && this.msrDeltas !== 0) return IIR_MS;
    return IIR_NONE;
  }

  private update(): void {
    const gated = this.irqNeedsOut2 && (this.mcr & 0x08) === 0;
    const level = !gated && this.pendingInterrupt() !== IIR_NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq?.set(level);
    }
  }

  private transmit(byte: number): void {
    if (this.loopback) this.pushRx(byte);
    else this.sink?.(byte);
    // THR empties at once: writing it cleared the THRE interrupt and the transfer sets it again.
    this.threPending = true;
  }

  private readRegister(o: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    let v: number;
    switch (o) {
      case 0:
        if (dlab) return this.dll;
        v = this.rx.shift() ?? 0;
        this.lastRxActivityNs = this.clock.nowNs();
        break;
      case 1:
        return dlab ? this.dlm : this.ier;
      case 2: {
        const id = this.pendingInterrupt();
        if (id === IIR_THRE) this.threPending = false; // reading IIR clears a THRE interrupt
        v = id | (this.fifoEnabled ? 0xc0 : 0);
        break;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        v = this.lineStatus();
        this.lsrErrors = 0;
        break;
      case 6:
        v = this.msrInputs() | this.msrDeltas;
        this.msrDeltas = 0;
        break;
      case 7:
        return this.scr;
      default:
        return 0xff;
    }
    this.update();
    return v;
  }

  private lineStatus(): number {
    let v = this.lsrErrors | LSR_THRE | LSR_TEMT;
    if (this.rx.length > 0) v |= LSR_DR;
    if (this.fifoEnabled && (this.lsrErrors & (LSR_BI | 0x0c)) !== 0) v |= 0x80;
    return v;
  }

  private writeRegister(o: number, v: number): void {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (o) {
      case 0:
        if (dlab) this.dll = v;
        else this.transmit(v);
        break;
      case 1:
        if (dlab) {
          this.dlm = v;
        } else {
          // Enabling the THRE interrupt while THR is empty raises it (16550A behaviour).
          if (v & 0x02 && !(this.ier & 0x02)) this.threPending = true;
          this.ier = v & 0x0f;
        }
        break;
      case 2:
        this.writeFcr(v);
        break;
      case 3:
        this.lcr = v;
        break;
      case 4: {
        const before = this.msrInputs();
        this.mcr = v & 0x1f;
        this.noteModemChange(before);
        break;
      }
      case 7:
        this.scr = v;
        break;
      default: // LSR and MSR writes (factory test) are ignored
        break;
    }
    this.update();
  }

  private writeFcr(v: number): void {
    const enable = (v & 0x01) !== 0;
    if (enable !== this.fifoEnabled) {
      this.rx = []; // changing the FIFO mode clears both FIFOs
      this.fifoEnabled = enable;
    }
    if (!enable) return;
    if (v & 0x02) this.rx = [];
    if (v & 0x04) this.threPending = true; // the (always empty) transmitter FIFO is cleared
    this.triggerSelect = (v >> 6) & 3;
  }

  /** When the character-timeout interrupt becomes due, or Infinity. */
  nextDeadlineNs(): number {
    if ((this.ier & 0x01) === 0 || this.rx.length >= this.trigger()) return Number.POSITIVE_INFINITY;
    const at = this.timeoutAtNs();
    return at > this.clock.nowNs() || !this.irqLevel ? at : Number.POSITIVE_INFINITY;
  }

  /** Raises the interrupt line if the character timeout has expired. */
  poll(): void {
    this.update();
  }

  /** A plain-data snapshot. */
  state(): Uart16550State {
    return {
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fifoEnabled: this.fifoEnabled,
      triggerSelect: this.triggerSelect,
      rx: [...this.rx],
      lsrErrors: this.lsrErrors,
      msrDeltas: this.msrDeltas,
      modemInputs: this.modemInputs,
      threPending: this.threPending,
      lastRxActivityNs: this.lastRxActivityNs,
      irqLevel: this.irqLevel,
    };
  }

  /** Restores a snapshot taken by {@link Uart16550.state} and drives the line to its level. */
  fromState(s: Uart16550State): void {
    if (s.rx.length > FIFO_SIZE) throw new RangeError("Uart16550.fromState: receive FIFO over 16 bytes");
    this.ier = s.ier & 0x0f;
    this.lcr = s.lcr & 0xff;
    this.mcr = s.mcr & 0x1f;
    this.scr = s.scr & 0xff;
    this.dll = s.dll & 0xff;
    this.dlm = s.dlm & 0xff;
    this.fifoEnabled = s.fifoEnabled;
    this.triggerSelect = s.triggerSelect & 3;
    this.rx = s.rx.map((b) => b & 0xff);
    this.lsrErrors = s.lsrErrors & LSR_ERRORS;
    this.msrDeltas = s.msrDeltas & 0x0f;
    this.modemInputs = s.modemInputs & 0xf0;
    this.threPending = s.threPending;
    this.lastRxActivityNs = s.lastRxActivityNs;
    this.irqLevel = s.irqLevel;
    this.irq?.set(this.irqLevel);
  }
}
