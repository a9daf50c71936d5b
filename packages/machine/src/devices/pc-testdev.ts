import type { DeviceAccessSize, MmioHandler, PortIoHandler } from "@turtles/memory";
import { bytewiseHandler } from "./byte-ports.js";
import type { IrqLine } from "./irq-line.js";
import type { Snapshottable } from "./snapshot.js";

/** The port windows of QEMU's `pc-testdev`. */
export const PC_TESTDEV_PORTS = {
  /** 0xE0-0xE3: a 32-bit scratch register accessed at its natural width. */
  data: 0xe0,
  /** 0xE4-0xE7: a 32-bit write of a physical address asks to flush that page. */
  flushPage: 0xe4,
  /** 0xE8-0xEB: the same scratch register, accessed one byte at a time. */
  dataBytes: 0xe8,
  /** 0x2000-0x2017: a byte write to 0x2000 + n sets ISA IRQ n to (value != 0). */
  irq: 0x2000,
  /** Number of IRQ ports. */
  irqCount: 24,
} as const;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The MMIO scratch window of QEMU's `pc-testdev`. */
export const PC_TESTDEV_MMIO = {
  /** Physical base address. */
  base: 0xff00_0000,
  /** Size in bytes (64 KiB). */
  size: 0x1_0000,
} as const;

/** Construction options of a {@link PcTestdev}. */
export interface PcTestdevOptions {
  /** ISA IRQ line `n` (0-23), or undefined when not connected. */
  irq?: (n: number) => IrqLine | undefined;
  /** Receives the page address written to the flush port (the machine drops cached translations and code). */
  flushPage?: (pageAddr: number) => void;
}

/** The state of a {@link PcTestdev}, as plain data. */
export interface PcTestdevState {
  /** The 32-bit scratch register. */
  data: number;
  /** Levels the device drives on IRQ 0-23 (bit n = IRQ n). */
  irqLevels: number;
  /** The non-zero parts of the MMIO scratch window: [offset, hex bytes] pairs, ascending. */
  iomem: [number, string][];
}

/**
 * QEMU's `pc-testdev` (hw/misc/pc-testdev.c), used by kvm-unit-tests: a 32-bit scratch register
 * at 0xE0 (read back as written, any width, at byte offset `port & 3`) and again byte-wise at
 * 0xE8; a page-flush request at 0xE4 (32-bit writes only); IRQ control at 0x2000 + n; and a
 * 64 KiB scratch memory at 0xFF000000 ({@link PcTestdev.mmio}, little-endian at any width).
 */
export class PcTestdev implements Snapshottable<PcTestdevState> {
  /** Ports 0xE0-0xE3. */
  readonly dataPorts: PortIoHandler;
  /** Ports 0xE4-0xE7. */
  readonly flushPorts: PortIoHandler;
  /** Ports 0xE8-0xEB. */
  readonly dataBytePorts: PortIoHandler;
  /** Ports 0x2000-0x2017. */
  readonly irqPorts: PortIoHandler;
  /** The 64 KiB scratch window for {@link PC_TESTDEV_MMIO}. */
  readonly mmio: MmioHandler;

  private data = 0;
  private irqLevels = 0;
  private readonly iomem = new Uint8Array(PC_TESTDEV_MMIO.size);

  /** Creates the device; unconnected IRQs and a missing flush callback make those ports no-ops. */
  constructor(private readonly options: PcTestdevOptions = {}) {
    this.dataPorts = {
      read: (offset: number, size: DeviceAccessSize) => this.readData(offset, size),
      write: (offset: number, size: DeviceAccessSize, value: number) => this.writeData(offset, size, value),
    };
    this.dataBytePorts = bytewiseHandler(
      (o) => this.readData(o, 1),
      (o, v) => this.writeData(o, 1, v),
    );
    this.flushPorts = {
      read: () => 0xffff_ffff,
      write: (_offset: number, size: DeviceAccessSize, value: number) => {
        if (size === 4) this.options.flushPage?.((value & 0xffff_f000) >>> 0);
      },
    };
    this.mmio = {
      read: (offset: number, size: DeviceAccessSize) => {
        let v = 0;
        for (let k = 0; k < size; k++) v |= (this.iomem[offset + k] ?? 0) << (8 * k);
        return v >>> 0;
      },
      write: (offset: number, size: DeviceAccessSize, value: number) => {
        for (let k = 0; k < size && offset + k < PC_TESTDEV_MMIO.size; k++) {
          this.iomem[offset + k] = (value >>> (8 * k)) & 0xff;
        }
      },
    };
    this.irqPorts = {
      read: () => 0xffff_ffff,
      write: (offset: number, size: DeviceAccessSize, value: number) => {
        if (size === 1) this.setIrq(offset, value !== 0);
      },
    };
  }

  private readData(offset: number, size: DeviceAccessSize): number {
    const shift = (offset & 3) * 8;
    const mask = size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
    return ((this.data >>> shift) & mask) >>> 0;
  }

  private writeData(offset: number, size: DeviceAccessSize, value: number): void {
    const shift = (offset & 3) * 8;
    const mask = size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
    this.data = ((this.data & ~(mask << shift)) | ((value & mask) << shift)) >>> 0;
  }

  private setIrq(n: number, level: boolean): void {
    if (n >= PC_TESTDEV_PORTS.irqCount) return;
    this.irqLevels = level ? this.irqLevels | (1 << n) : this.irqLevels & ~(1 << n);
    this.options.irq?.(n)?.set(level);
  }

  /** A plain-data snapshot. */
  state(): PcTestdevState {
    const iomem: [number, string][] = [];
    const mem = this.iomem;
    for (let i = 0; i < mem.length; ) {
      if (mem[i] === 0) {
        i++;
        continue;
      }
      const start = i;
      let hex = "";
      while (i < mem.length && mem[i] !== 0) hex += HEX[mem[i++]!]!;
      iomem.push([start, hex]);
    }
    return { data: this.data, irqLevels: this.irqLevels, iomem };
  }

  /** Restores a snapshot taken by {@link PcTestdev.state} and drives the IRQ lines it had raised. */
  fromState(s: PcTestdevState): void {
    this.data = s.data >>> 0;
    this.irqLevels = s.irqLevels & 0xff_ffff;
    this.iomem.fill(0);
    for (const [offset, hex] of s.iomem) {
      if (
        !Number.isInteger(offset) ||
        offset < 0 ||
        offset + hex.length / 2 > PC_TESTDEV_MMIO.size ||
        !/^(?:[0-9a-f]{2})*$/.test(hex)
      ) {
        throw new RangeError("PcTestdev.fromState: bad iomem run");
      }
      for (let i = 0; i < hex.length / 2; i++)
        this.iomem[offset + i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    }
    for (let n = 0; n < PC_TESTDEV_PORTS.irqCount; n++) {
      if (this.irqLevels & (1 << n)) this.options.irq?.(n)?.set(true);
    }
  }
}
