import type { PortIoHandler } from "@turtles/memory";
import { bytewiseHandler } from "./byte-ports.js";
import type { IrqLine } from "./irq-line.js";
import { type PlatformSignals, ResetKind } from "./signals.js";
import type { Snapshottable } from "./snapshot.js";

/** The 8042 keyboard controller's ports: data (0x60) and status/command (0x64). */
export const I8042_PORTS = {
  /** Data port. */
  data: 0x60,
  /** Status (read) and command (write) port. */
  command: 0x64,
} as const;

// Status register bits.
const STAT_OBF = 0x01;
const STAT_SYS = 0x04;
const STAT_CMD = 0x08;
const STAT_UNLOCKED = 0x10;

// Output port bits.
const OUT_RESET = 0x01; // active low: 0 holds the processor in reset
const OUT_A20 = 0x02;

/** The state of an {@link I8042}, as plain data. */
export interface I8042State {
  /** Controller command byte (RAM byte 0). */
  commandByte: number;
  /** Controller RAM bytes 1-31. */
  ram: number[];
  /** The output port (bit 0 reset line, bit 1 A20). */
  outputPort: number;
  /** Status bits kept by the controller (SYS flag, last write was a command). */
  status: number;
  /** Bytes waiting for the output buffer, oldest first. */
  output: number[];
  /** The controller command whose data byte is awaited (0 = none). */
  pendingCommand: number;
  /** The keyboard command whose argument byte is awaited (0 = none). */
  pendingKeyboardCommand: number;
  /** The level driven on IRQ1. */
  irqLevel: boolean;
}

/** Bytes the controller and keyboard hold for the guest before further ones are lost. */
const OUTPUT_LIMIT = 16;

/** Keyboard commands that take one argument byte (LEDs, scan-code set, typematic rate). */
const KEYBOARD_COMMANDS_WITH_ARGUMENT = new Set([0xed, 0xf0, 0xf3]);

/**
 * The PC/AT 8042 keyboard controller, as far as firmware and kernels need it before a keyboard
 * matters: the status register, the command byte, self tests, the output port with its reset
 * (bit 0) and A20 (bit 1) lines — command 0xD1 writes it, 0xDD/0xDF switch A20, 0xF0-0xFF pulse
 * its low bits so 0xFE requests a reset — and a keyboard that acknowledges its commands. Key
 * input is pushed by the host with {@link I8042.pushScancodes}; there is no PS/2 mouse.
 */
export class I8042 implements Snapshottable<I8042State> {
  /** Port 0x60 (one port). */
  readonly dataPorts: PortIoHandler;
  /** Port 0x64 (one port). */
  readonly commandPorts: PortIoHandler;

  private commandByte = 0x03; // keyboard and aux interrupts enabled, as QEMU starts
  private ram: number[] = new Array(31).fill(0);
  private outputPort = 0xcf; // reset line high, A20 on, unused bits high
  private status = STAT_CMD;
  private output: number[] = [];
  private pendingCommand = 0;
  private pendingKeyboardCommand = 0;
  private irqLevel = false;

  /** `signals` receives reset requests and this controller's A20 level; `irq1` the keyboard IRQ. */
  constructor(
    private readonly signals: PlatformSignals = {},
    private readonly irq1?: IrqLine,
  ) {
    this.dataPorts = bytewiseHandler(
      (o) => (o === 0 ? this.readData() : 0xff),
      (o, v) => (o === 0 ? this.writeData(v) : undefined),
    );
    this.commandPorts = bytewiseHandler(
      (o) => (o === 0 ? this.readStatus() : 0xff),
      (o, v) => (o === 0 ? this.writeCommand(v) : undefined),
    );
  }

  /** Whether this controller's output port enables A20. */
  get a20(): boolean {
    return (this.outputPort & OUT_A20) !== 0;
  }

  /**
   * Host input: scan codes from the keyboard, delivered while the keyboard is enabled. The
   * keyboard buffers 16 bytes; codes beyond that are lost. Returns the number accepted.
   */
  pushScancodes(codes: ArrayLike<number>): number {
    if (this.commandByte & 0x10) return 0; // keyboard interface disabled
    let accepted = 0;
    for (let i = 0; i < codes.length && this.output.length < OUTPUT_LIMIT; i++, accepted++) {
      this.output.push(codes[i]! & 0xff);
    }
    this.update();
    return accepted;
  }

  private readStatus(): number {
    return this.status | STAT_UNLOCKED | (this.output.length > 0 ? STAT_OBF : 0);
  }

  private readData(): number {
    const v = this.output.shift() ?? 0;
    this.update();
    return v;
  }

  private reply(...bytes: number[]): void {
    // Bounded like the keyboard's buffer, so a guest that never reads cannot grow it.
    for (const b of bytes) if (this.output.length < OUTPUT_LIMIT) this.output.push(b);
  }

  private writeCommand(cmd: number): void {
    this.status |= STAT_CMD;
    this.pendingCommand = 0;
    if (cmd >= 0x20 && cmd <= 0x3f) {
      this.reply(cmd === 0x20 ? this.commandByte : this.ram[cmd - 0x21]!);
    } else if ((cmd >= 0x60 && cmd <= 0x7f) || cmd === 0xd1 || cmd === 0xd2 || cmd === 0xd3 || cmd === 0xd4) {
      this.pendingCommand = cmd;
    } else if (cmd >= 0xf0) {
      // Pulse output port bits 0-3 that are 0 in the command: bit 0 is the processor reset line.
      if ((cmd & OUT_RESET) === 0) this.signals.reset?.(ResetKind.Soft);
    } else {
      switch (cmd) {
        case 0xa7:
          this.commandByte |= 0x20;
          break;
        case 0xa8:
          this.commandByte &= ~0x20;
          break;
        case 0xa9: // aux interface test: no error
        case 0xab: // keyboard interface test: no error
          this.reply(0x00);
          break;
        case 0xaa: // controller self test
          this.status |= STAT_SYS;
          this.reply(0x55);
          break;
        case 0xad:
          this.commandByte |= 0x10;
          break;
        case 0xae:
          this.commandByte &= ~0x10;
          break;
        case 0xc0: // read input port: keyboard not locked
          this.reply(0x80);
          break;
        case 0xd0:
          this.reply(this.outputPort);
          break;
        case 0xdd:
          this.setOutputPort(this.outputPort & ~OUT_A20);
          break;
        case 0xdf:
          this.setOutputPort(this.outputPort | OUT_A20);
          break;
        default: // unknown commands are ignored
          break;
      }
    }
    this.update();
  }

  private writeData(v: number): void {
    this.status &= ~STAT_CMD;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    if (cmd === 0x60) {
      this.commandByte = v;
      this.status = (this.status & ~STAT_SYS) | (v & STAT_SYS);
    } else if (cmd > 0x60 && cmd <= 0x7f) {
      this.ram[cmd - 0x61] = v;
    } else if (cmd === 0xd1) {
      this.setOutputPort(v);
    } else if (cmd === 0xd2) {
      this.reply(v); // as if from the keyboard
    } else if (cmd === 0xd3 || cmd === 0xd4) {
      // No PS/2 mouse: bytes for it are dropped.
    } else {
      this.keyboardByte(v);
    }
    this.update();
  }

  private keyboardByte(v: number): void {
    if (this.pendingKeyboardCommand !== 0) {
      const cmd = this.pendingKeyboardCommand;
      this.pendingKeyboardCommand = 0;
      this.reply(0xfa);
      if (cmd === 0xf0 && v === 0) this.reply(0x02); // current scan-code set
      return;
    }
    if (KEYBOARD_COMMANDS_WITH_ARGUMENT.has(v)) {
      this.pendingKeyboardCommand = v;
      this.reply(0xfa);
    } else if (v === 0xff) {
      this.reply(0xfa, 0xaa); // reset and self test passed
    } else if (v === 0xf2) {
      this.reply(0xfa, 0xab, 0x83); // MF2 keyboard
    } else if (v === 0xee) {
      this.reply(0xee);
    } else {
      this.reply(0xfa);
    }
  }

  private setOutputPort(v: number): void {
    const old = this.outputPort;
    this.outputPort = v & 0xff;
    if ((old ^ this.outputPort) & OUT_A20) this.signals.a20?.(this.a20);
    if ((this.outputPort & OUT_RESET) === 0) {
      // Driving the reset line low resets the processor; the BIOS restarts with it high again.
      this.outputPort |= OUT_RESET;
      this.signals.reset?.(ResetKind.Soft);
    }
  }

  private update(): void {
    const level = this.output.length > 0 && (this.commandByte & 0x01) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq1?.set(level);
    }
  }

  /** A plain-data snapshot. */
  state(): I8042State {
    return {
      commandByte: this.commandByte,
      ram: [...this.ram],
      outputPort: this.outputPort,
      status: this.status,
      output: [...this.output],
      pendingCommand: this.pendingCommand,
      pendingKeyboardCommand: this.pendingKeyboardCommand,
      irqLevel: this.irqLevel,
    };
  }

  /** Restores a snapshot taken by {@link I8042.state}, re-announcing A20 and IRQ1. */
  fromState(s: I8042State): void {
    if (s.ram.length !== 31) throw new RangeError("I8042.fromState: expected 31 RAM bytes");
    this.commandByte = s.commandByte & 0xff;
    this.ram = s.ram.map((b) => b & 0xff);
    this.outputPort = s.outputPort & 0xff;
    this.status = s.status & (STAT_SYS | STAT_CMD);
    if (s.output.length > OUTPUT_LIMIT) throw new RangeError("I8042.fromState: output over 16 bytes");
    this.output = s.output.map((b) => b & 0xff);
    this.pendingCommand = s.pendingCommand & 0xff;
    this.pendingKeyboardCommand = s.pendingKeyboardCommand & 0xff;
    this.irqLevel = s.irqLevel;
    this.signals.a20?.(this.a20);
    this.irq1?.set(this.irqLevel);
  }
}
