import type { MmioHandler, PortIoHandler } from "@turtles/memory";
import { type IrqLine, noIrqLine } from "../devices/irq-line.js";
import type { Snapshottable } from "../devices/snapshot.js";

/** Offsets of the type-0 configuration header (PCI Local Bus 3.0 §6.1). */
export const PciConfig = {
  vendorId: 0x00,
  deviceId: 0x02,
  command: 0x04,
  status: 0x06,
  revision: 0x08,
  classCode: 0x09,
  cacheLineSize: 0x0c,
  latencyTimer: 0x0d,
  headerType: 0x0e,
  bar0: 0x10,
  subsystemVendorId: 0x2c,
  subsystemId: 0x2e,
  expansionRom: 0x30,
  capabilities: 0x34,
  interruptLine: 0x3c,
  interruptPin: 0x3d,
} as const;

/** Command register bits. */
export const PciCommand = {
  /** I/O space decode. */
  Io: 0x1,
  /** Memory space decode. */
  Memory: 0x2,
  /** Bus master (DMA). */
  BusMaster: 0x4,
  /** Parity error response. */
  Parity: 0x40,
  /** SERR# enable. */
  Serr: 0x100,
  /** INTx emulation disable. */
  IntxDisable: 0x400,
} as const;

/** Status register bits. */
export const PciStatus = {
  /** INTx asserted (read-only). */
  Interrupt: 0x8,
  /** Capabilities list present (read-only). */
  CapabilityList: 0x10,
} as const;

/** Write-one-to-clear bits of the status register (parity, aborts, SERR). */
const STATUS_W1C = 0xf900;

/** The kind of a BAR. */
export type PciBarKind = "io" | "mem32" | "mem64";

/** One base address register of a {@link PciFunction}. */
export interface PciBar {
  /** The kind: I/O, 32-bit memory or 64-bit memory (which takes two BAR slots). */
  readonly kind: PciBarKind;
  /** Size in bytes: a power of two, at least 4 (I/O, at most 256) or 16 (memory). */
  readonly size: number;
  /** Memory BARs: the prefetchable bit. */
  readonly prefetchable?: boolean;
  /** What serves the window once it is mapped. */
  readonly handler: MmioHandler | PortIoHandler;
}

/** A BAR's window moved, appeared or disappeared (`undefined`: not mapped). */
export interface PciBarChange {
  /** The function. */
  readonly fn: PciFunction;
  /** BAR index (0-5). */
  readonly bar: number;
  /** The BAR. */
  readonly spec: PciBar;
  /** Where it was mapped before, or `undefined`. */
  readonly oldBase: number | undefined;
  /** Where it is mapped now, or `undefined`. */
  readonly newBase: number | undefined;
}

/** Receives BAR (re)mappings, so the machine can (un)map windows in its address spaces. */
export type PciBarListener = (change: PciBarChange) => void;

/** Identity of a PCI function. */
export interface PciIdentity {
  /** Vendor ID. */
  readonly vendorId: number;
  /** Device ID. */
  readonly deviceId: number;
  /** Class code, subclass and programming interface as one 24-bit value (e.g. 0x060000). */
  readonly classCode: number;
  /** Revision ID (default 0). */
  readonly revision?: number;
  /** Subsystem vendor ID (default 0x1AF4, as QEMU). */
  readonly subsystemVendorId?: number;
  /** Subsystem ID (default 0x1100, as QEMU). */
  readonly subsystemId?: number;
  /** Interrupt pin: 0 none, 1-4 INTA#-INTD# (default 0). */
  readonly interruptPin?: number;
  /** Header type byte (default 0; bit 7 = multi-function). */
  readonly headerType?: number;
}

/** The state of a {@link PciFunction}, as plain data. */
export interface PciFunctionState {
  /** The 256 configuration bytes. */
  config: number[];
  /** The INTx level the device drives. */
  intx: boolean;
}

const BAR_LIMIT: Record<PciBarKind, number> = { io: 0x1_0000, mem32: 0x1_0000_0000, mem64: 2 ** 52 };

function isPowerOfTwo(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0 && 2 ** Math.round(Math.log2(x)) === x;
}

/**
 * A PCI function with a type-0 configuration header: 256 configuration bytes with a write mask
 * per byte and write-one-to-clear status bits; up to six BARs (I/O, 32-bit and 64-bit memory)
 * that read back their size when all-ones is written; decode enables in the command register;
 * a capability list; the interrupt pin/line and an INTx output gated by the command register's
 * INTx-disable bit. Whenever a BAR's effective window changes (decode enabled, address valid and
 * not the all-ones probe), the {@link PciBarListener} hears of it.
 *
 * Devices extend it and may override {@link PciFunction.configWritten} to react to writes.
 */
export class PciFunction implements Snapshottable<PciFunctionState> {
  /** The configuration bytes (reads return them; writes go through the masks). */
  protected readonly config = new Uint8Array(256);
  /** Per byte: bits software may write. */
  protected readonly writeMask = new Uint8Array(256);
  /** Per byte: bits a write of 1 clears. */
  protected readonly w1cMask = new Uint8Array(256);
  private readonly view = new DataView(this.config.buffer);
  private readonly bars: (PciBar | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  private readonly mapped: (number | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  private nextCapability = 0x40;
  private lastCapability = 0;
  private intx = false;
  private listener: PciBarListener | undefined;
  private irq: IrqLine = noIrqLine;

  /** `bars[i]` is BAR i (a 64-bit BAR also takes slot i + 1, which must be left empty). */
  constructor(identity: PciIdentity, bars: readonly (PciBar | undefined)[] = []) {
    const v = this.view;
    v.setUint16(PciConfig.vendorId, identity.vendorId, true);
    v.setUint16(PciConfig.deviceId, identity.deviceId, true);
    v.setUint8(PciConfig.revision, identity.revision ?? 0);
    v.setUint8(PciConfig.classCode, identity.classCode & 0xff);
    v.setUint16(PciConfig.classCode + 1, (identity.classCode >> 8) & 0xffff, true);
    v.setUint8(PciConfig.headerType, identity.headerType ?? 0);
    v.setUint16(PciConfig.subsystemVendorId, identity.subsystemVendorId ?? 0x1af4, true);
    v.setUint16(PciConfig.subsystemId, identity.subsystemId ?? 0x1100, true);
    v.setUint8(PciConfig.interruptPin, identity.interruptPin ?? 0);
    this.setMask(
      PciConfig.command,
      2,
      PciCommand.Io |
        PciCommand.Memory |
        PciCommand.BusMaster |
        PciCommand.Parity |
        PciCommand.Serr |
        PciCommand.IntxDisable,
    );
    this.w1cMask[PciConfig.status + 1] = STATUS_W1C >> 8;
    this.writeMask[PciConfig.cacheLineSize] = 0xff;
    this.writeMask[PciConfig.latencyTimer] = 0xff;
    this.writeMask[PciConfig.interruptLine] = 0xff;
    for (let i = 0; i < bars.length; i++) {
      const bar = bars[i];
      if (bar !== undefined) this.defineBar(i, bar, bars);
    }
  }

  private defineBar(i: number, bar: PciBar, all: readonly (PciBar | undefined)[]): void {
    const min = bar.kind === "io" ? 4 : 16;
    if (
      !isPowerOfTwo(bar.size) ||
      bar.size < min ||
      (bar.kind === "io" && bar.size > 256) ||
      (bar.kind === "mem32" && bar.size > 2 ** 31)
    ) {
      throw new RangeError(`PciFunction: BAR ${i} size ${bar.size} is not a valid ${bar.kind} size`);
    }
    if (i > 5 || (bar.kind === "mem64" && (i > 4 || all[i + 1] !== undefined))) {
      throw new RangeError(`PciFunction: BAR ${i} does not fit (a 64-bit BAR needs the next slot free)`);
    }
    this.bars[i] = bar;
    const at = PciConfig.bar0 + 4 * i;
    const flags = bar.kind === "io" ? 0x1 : (bar.kind === "mem64" ? 0x4 : 0) | (bar.prefetchable ? 0x8 : 0);
    this.view.setUint32(at, flags, true);
    const lowBits = bar.kind === "io" ? 0x3 : 0xf;
    this.setMask(at, 4, bar.size >= 0x1_0000_0000 ? 0 : (~(bar.size - 1) & ~lowBits) >>> 0);
    if (bar.kind === "mem64") {
      const sizeHi = Math.floor(bar.size / 0x1_0000_0000);
      this.setMask(at + 4, 4, sizeHi > 0 ? ~(sizeHi - 1) >>> 0 : 0xffff_ffff);
    }
  }

  /** Sets the write mask of `size` bytes at `offset` from the little-endian `mask`. */
  protected setMask(offset: number, size: number, mask: number): void {
    for (let i = 0; i < size; i++) this.writeMask[offset + i] = Math.floor(mask / 2 ** (8 * i)) & 0xff;
  }

  /**
   * Appends a capability: `body` (the bytes after the ID and next pointer) at the next free
   * 4-byte aligned offset from 0x40, linked at the end of the list, with `bodyWriteMask` (same
   * length, default read-only). Returns the capability's offset.
   */
  addCapability(id: number, body: Uint8Array, bodyWriteMask?: Uint8Array): number {
    const at = this.nextCapability;
    if (at + 2 + body.byteLength > 256)
      throw new RangeError("PciFunction.addCapability: no room in configuration space");
    this.config[at] = id;
    this.config[at + 1] = 0;
    this.config.set(body, at + 2);
    if (bodyWriteMask !== undefined) this.writeMask.set(bodyWriteMask.subarray(0, body.byteLength), at + 2);
    if (this.lastCapability === 0) this.config[PciConfig.capabilities] = at;
    else this.config[this.lastCapability + 1] = at;
    this.lastCapability = at;
    this.config[PciConfig.status] = this.config[PciConfig.status]! | PciStatus.CapabilityList;
    this.nextCapability = Math.ceil((at + 2 + body.byteLength) / 4) * 4;
    return at;
  }

  /** Connects the BAR listener (the bus does it when the function is plugged in). */
  setBarListener(listener: PciBarListener | undefined): void {
    this.listener = listener;
  }

  /** Connects the INTx output (the machine routes the pin to an interrupt controller input). */
  setIrqLine(line: IrqLine): void {
    this.irq = line;
    this.irq.set(this.intxOut());
  }

  /** Drives INTx: the line follows `level` unless the command register disables INTx; status bit 3 shows it. */
  setIntx(level: boolean): void {
    this.intx = level;
    this.updateIntx();
  }

  private intxOut(): boolean {
    return this.intx && !(this.view.getUint16(PciConfig.command, true) & PciCommand.IntxDisable);
  }

  private updateIntx(): void {
    const s = this.config[PciConfig.status]!;
    this.config[PciConfig.status] = this.intx ? s | PciStatus.Interrupt : s & ~PciStatus.Interrupt;
    this.irq.set(this.intxOut());
  }

  /** The BAR at `index`, if any. */
  bar(index: number): PciBar | undefined {
    return this.bars[index];
  }

  /** Where BAR `index` is mapped now, or `undefined`. */
  barAddress(index: number): number | undefined {
    return this.mapped[index];
  }

  /** Reads `size` bytes (1, 2, 4) of configuration space at `offset` (0-255), little-endian. */
  readConfig(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (this.config[(offset + i) & 0xff] ?? 0);
    return v;
  }

  /** Writes `size` bytes at `offset` through the write and write-one-to-clear masks. */
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      if (at > 0xff) break;
      const b = Math.floor(value / 2 ** (8 * i)) & 0xff;
      const mask = this.writeMask[at]!;
      const old = this.config[at]!;
      this.config[at] = ((old & ~mask) | (b & mask)) & ~(b & this.w1cMask[at]!);
    }
    if (offset < PciConfig.command + 2 && offset + size > PciConfig.command) this.updateIntx();
    if (offset < PciConfig.bar0 + 24 && offset + size > PciConfig.command) this.updateMappings();
    this.configWritten(offset, size);
  }

  /** Called after every configuration write; devices override it to react. */
  protected configWritten(_offset: number, _size: 1 | 2 | 4): void {}

  /** The address BAR `i` decodes now, or `undefined` (decode off, address 0, or past its limit). */
  private effectiveBase(i: number): number | undefined {
    const bar = this.bars[i];
    if (bar === undefined) return undefined;
    const command = this.view.getUint16(PciConfig.command, true);
    if (!(command & (bar.kind === "io" ? PciCommand.Io : PciCommand.Memory))) return undefined;
    const lo = this.view.getUint32(PciConfig.bar0 + 4 * i, true);
    let base = bar.kind === "io" ? lo & ~0x3 : lo & ~0xf;
    base >>>= 0;
    if (bar.kind === "mem64") base += this.view.getUint32(PciConfig.bar0 + 4 * i + 4, true) * 0x1_0000_0000;
    if (base === 0 || base + bar.size >= BAR_LIMIT[bar.kind]) return undefined;
    return base;
  }

  /** Recomputes every BAR's window and tells the listener about each change. */
  protected updateMappings(): void {
    for (let i = 0; i < 6; i++) {
      const bar = this.bars[i];
      if (bar === undefined) continue;
      const now = this.effectiveBase(i);
      const before = this.mapped[i];
      if (now === before) continue;
      this.mapped[i] = now;
      this.listener?.({ fn: this, bar: i, spec: bar, oldBase: before, newBase: now });
    }
  }

  /** A plain-data snapshot. */
  state(): PciFunctionState {
    return { config: Array.from(this.config), intx: this.intx };
  }

  /** Restores a snapshot taken by {@link PciFunction.state}; BAR windows are re-announced. */
  fromState(s: PciFunctionState): void {
    if (s.config.length !== 256)
      throw new RangeError("PciFunction.fromState: expected 256 configuration bytes");
    this.config.set(s.config);
    this.intx = s.intx;
    this.updateIntx();
    this.updateMappings();
  }
}
