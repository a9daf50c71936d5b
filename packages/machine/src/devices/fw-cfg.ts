import {
  type DeviceAccessSize,
  type DmaSpace,
  DmaStatus,
  PHYSICAL_ADDRESS_LIMIT,
  type PortIoHandler,
} from "@turtles/memory";
import type { Snapshottable } from "./snapshot.js";

/** The fw_cfg I/O ports on x86: the 16-bit selector at 0x510 and the byte-wide data port at 0x511. */
export const FW_CFG_PORTS = {
  /** Selector (write, 16-bit). */
  selector: 0x510,
  /** Data (read, byte). */
  data: 0x511,
  /** DMA address register, 8 ports (big-endian high half at 0x514, low half at 0x518). */
  dma: 0x514,
} as const;

/** Bits of the DMA access structure's control field. */
export const FwCfgDmaControl = {
  /** Set by the device when the transfer failed. */
  Error: 0x01,
  /** Read the selected item into guest memory. */
  Read: 0x02,
  /** Advance the item offset without transferring. */
  Skip: 0x04,
  /** Select the item in bits 31-16 first. */
  Select: 0x08,
  /** Write guest memory into the item (not supported: every item is read-only). */
  Write: 0x10,
} as const;

/** "QEMU CFG": what the DMA address register reads as, byte by byte. */
const DMA_SIGNATURE = [0x51, 0x45, 0x4d, 0x55, 0x20, 0x43, 0x46, 0x47];
const ZERO_CHUNK = new Uint8Array(4096);

/**
 * Selector keys of the well-known fw_cfg items (QEMU docs/specs/fw_cfg.rst and
 * include/standard-headers/linux/qemu_fw_cfg.h).
 */
export const FwCfgKey = {
  /** "QEMU". */
  Signature: 0x00,
  /** Feature bitmap, 32-bit little-endian: bit 0 traditional interface, bit 1 DMA. */
  Id: 0x01,
  /** 16-byte machine UUID. */
  Uuid: 0x02,
  /** RAM size in bytes, 64-bit little-endian. */
  RamSize: 0x03,
  /** Whether there is no graphical console, 16-bit. */
  NoGraphic: 0x04,
  /** Number of boot CPUs, 16-bit. */
  NbCpus: 0x05,
  /** Maximum number of CPUs, 16-bit. */
  MaxCpus: 0x0f,
  /** Kernel command line size including its NUL, 32-bit. */
  CmdlineSize: 0x14,
  /** Kernel command line, NUL-terminated. */
  CmdlineData: 0x15,
  /** The file directory (big-endian entries). */
  FileDir: 0x19,
  /** Selector of the first file. */
  FileFirst: 0x20,
} as const;

/** One of the {@link FwCfgKey} values. */
export type FwCfgKey = (typeof FwCfgKey)[keyof typeof FwCfgKey];

/** Longest file name (the directory's 56-byte field keeps a terminating NUL). */
export const FW_CFG_MAX_NAME = 55;

/** Construction options of a {@link FwCfg}. */
export interface FwCfgOptions {
  /** Number of boot CPUs (`NB_CPUS`, also `MAX_CPUS` unless given). */
  cpuCount: number;
  /** Maximum number of CPUs (defaults to `cpuCount`). */
  maxCpus?: number;
  /** RAM size in bytes (a safe integer). */
  ramSize: number;
  /** Kernel command line (ASCII). */
  cmdline?: string;
  /** 16-byte UUID (zeros by default). */
  uuid?: Uint8Array;
  /**
   * The device's bus-master view of memory. With it the DMA interface is offered (FW_CFG_ID
   * bit 1) at {@link FW_CFG_PORTS}.dma through {@link FwCfg.dmaPorts}; without it, it is not.
   */
  dma?: DmaSpace;
}

/** One file of the fw_cfg directory. */
export interface FwCfgFile {
  /** Its name, e.g. "etc/e820". */
  readonly name: string;
  /** The selector key a guest writes to read it. */
  readonly select: number;
  /** Its size in bytes. */
  readonly size: number;
}

/** The state of a {@link FwCfg}, as plain data: the guest's position. */
export interface FwCfgState {
  /** The selected key. */
  selector: number;
  /** The offset of the next data byte in the selected item. */
  offset: number;
  /** The high half of the DMA address last written. */
  dmaAddressHigh: number;
}

/**
 * QEMU's firmware configuration device (fw_cfg): write a key to the selector port, then read the
 * item's bytes one at a time from the data port (past the end, reads return 0) — or, when given
 * a `DmaSpace`, through the DMA interface (read, skip and select; writes fail: every item
 * is read-only). Offers the signature, ID (traditional interface only, no DMA), UUID, RAM
 * size, CPU counts, the kernel command line, arbitrary items and named files listed in the
 * directory at key 0x19 (a big-endian count, then 64-byte entries: size, select, reserved,
 * 56-byte name), sorted by name with keys from 0x20 in that order.
 *
 * Items are configuration set up by the machine, not guest state: a snapshot holds only the
 * selector and offset, and is restored into a device built with the same items.
 */
export class FwCfg implements PortIoHandler, Snapshottable<FwCfgState> {
  /**
   * Ports 0x514-0x51B: the DMA interface (reads "QEMU CFG"; a 32-bit big-endian write of the low
   * address half at 0x518 runs the transfer described at that address).
   */
  readonly dmaPorts: PortIoHandler;

  private readonly items = new Map<number, Uint8Array>();
  private files: { name: string; data: Uint8Array }[] = [];
  private selector = 0;
  private offset = 0;
  private dmaAddressHigh = 0;
  private readonly dma: DmaSpace | undefined;

  /** Creates the device with its standard items. */
  constructor(options: FwCfgOptions) {
    this.dma = options.dma;
    this.dmaPorts = {
      read: (offset: number, size: DeviceAccessSize) => {
        let v = 0;
        for (let k = 0; k < size; k++) v |= (DMA_SIGNATURE[offset + k] ?? 0) << (8 * k);
        return v >>> 0;
      },
      write: (offset: number, size: DeviceAccessSize, value: number) =>
        this.writeDmaAddress(offset, size, value),
    };
    this.setItem(FwCfgKey.Signature, ascii("QEMU"));
    this.setItem(FwCfgKey.Id, le(this.dma === undefined ? 1 : 3, 4));
    this.setItem(FwCfgKey.Uuid, options.uuid?.slice(0, 16) ?? new Uint8Array(16));
    this.setItem(FwCfgKey.RamSize, le(options.ramSize, 8));
    this.setItem(FwCfgKey.NoGraphic, le(0, 2));
    this.setItem(FwCfgKey.NbCpus, le(options.cpuCount, 2));
    this.setItem(FwCfgKey.MaxCpus, le(options.maxCpus ?? options.cpuCount, 2));
    if (options.cmdline !== undefined) {
      const cmdline = ascii(`${options.cmdline}\0`);
      this.setItem(FwCfgKey.CmdlineSize, le(cmdline.length, 4));
      this.setItem(FwCfgKey.CmdlineData, cmdline);
    }
    this.rebuildDirectory();
  }

  /**
   * Sets the item at `key` (e.g. an architecture-local key from 0x8000).
   * @throws RangeError for a key outside 0..0xFFFF, or one of the directory and files (0x19,
   * 0x20-0x3FFF: use {@link FwCfg.addFile}).
   */
  setItem(key: number, data: Uint8Array): void {
    if (!Number.isInteger(key) || key < 0 || key > 0xffff) throw new RangeError(`FwCfg: bad key ${key}`);
    if (key === FwCfgKey.FileDir || (key >= FwCfgKey.FileFirst && key < 0x4000)) {
      throw new RangeError(`FwCfg: key 0x${key.toString(16)} belongs to the file directory`);
    }
    this.items.set(key, data);
  }

  /**
   * Adds (or replaces) the named file and returns its directory entry. Keys follow name order,
   * so adding a file can renumber the files after it: add every file before the guest runs.
   * @throws RangeError for an empty or over-long name.
   */
  addFile(name: string, data: Uint8Array): FwCfgFile {
    if (name.length === 0 || name.length > FW_CFG_MAX_NAME)
      throw new RangeError(`FwCfg: bad file name "${name}"`);
    const existing = this.files.find((f) => f.name === name);
    if (existing !== undefined) existing.data = data;
    else this.files.push({ name, data });
    this.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.rebuildDirectory();
    const file = this.directory().find((f) => f.name === name);
    if (file === undefined) throw new Error("FwCfg.addFile: file vanished");
    return file;
  }

  /** The directory as the guest sees it. */
  directory(): FwCfgFile[] {
    return this.files.map((f, i) => ({ name: f.name, select: FwCfgKey.FileFirst + i, size: f.data.length }));
  }

  private rebuildDirectory(): void {
    for (const key of [...this.items.keys()]) {
      if (key >= FwCfgKey.FileFirst && key < 0x4000) this.items.delete(key);
    }
    const dir = new Uint8Array(4 + 64 * this.files.length);
    const view = new DataView(dir.buffer);
    view.setUint32(0, this.files.length); // big-endian
    this.files.forEach((f, i) => {
      const at = 4 + 64 * i;
      view.setUint32(at, f.data.length);
      view.setUint16(at + 4, FwCfgKey.FileFirst + i);
      dir.set(ascii(f.name), at + 8);
      this.items.set(FwCfgKey.FileFirst + i, f.data);
    });
    this.items.set(FwCfgKey.FileDir, dir);
  }

  /**
   * Port read: a byte read at either port returns the next data byte (as QEMU's combined port
   * does); wider reads are not valid and read all-ones.
   */
  read(_offset: number, size: DeviceAccessSize): number {
    return size === 1 ? this.nextByte() : size === 2 ? 0xffff : 0xffff_ffff;
  }

  /** Port write: a 16-bit write at 0x510 selects an item; byte writes are data writes, ignored. */
  write(offset: number, size: DeviceAccessSize, value: number): void {
    if (offset !== 0 || size !== 2) return;
    this.selector = value & 0xffff;
    this.offset = 0;
  }

  private nextByte(): number {
    const item = this.items.get(this.selector & ~0x4000); // the write-channel bit does not change the item
    if (item === undefined || this.offset >= item.length) return 0;
    return item[this.offset++]!;
  }

  private writeDmaAddress(offset: number, size: DeviceAccessSize, value: number): void {
    if (size !== 4 || this.dma === undefined) return;
    // The register is big-endian: the guest's OUTL carries the bytes in memory order.
    const half = bswap32(value);
    if (offset === 0) this.dmaAddressHigh = half;
    else if (offset === 4) this.runDma(this.dma, this.dmaAddressHigh * 0x1_0000_0000 + half);
  }

  /** Runs the transfer described by the access structure at `addr` (QEMU docs/specs/fw_cfg.rst, "DMA interface"). */
  private runDma(dma: DmaSpace, addr: number): void {
    if (addr + 16 > PHYSICAL_ADDRESS_LIMIT) return; // no memory there to read the structure from
    const desc = new Uint8Array(16);
    const view = new DataView(desc.buffer);
    let error = dma.read(addr, desc) !== DmaStatus.Ok;
    if (!error) {
      const control = view.getUint32(0);
      let length = view.getUint32(4);
      let target = view.getUint32(8) * 0x1_0000_0000 + view.getUint32(12);
      if (control & FwCfgDmaControl.Select) {
        this.selector = control >>> 16;
        this.offset = 0;
      }
      if (control & FwCfgDmaControl.Write) {
        error = true;
      } else if (control & (FwCfgDmaControl.Read | FwCfgDmaControl.Skip)) {
        const reading = (control & FwCfgDmaControl.Read) !== 0;
        if (reading && target + length > PHYSICAL_ADDRESS_LIMIT) error = true;
        const item = this.items.get(this.selector & ~0x4000);
        while (!error && length > 0) {
          let n: number;
          if (item === undefined || this.offset >= item.length) {
            // Past the item: a read fills with zeros.
            n = Math.min(length, ZERO_CHUNK.length);
            if (reading) error = dma.write(target, ZERO_CHUNK.subarray(0, n)) !== DmaStatus.Ok;
          } else {
            n = Math.min(length, item.length - this.offset);
            if (reading)
              error = dma.write(target, item.subarray(this.offset, this.offset + n)) !== DmaStatus.Ok;
            this.offset += n;
          }
          target += n;
          length -= n;
        }
      }
    }
    view.setUint32(0, error ? FwCfgDmaControl.Error : 0);
    dma.write(addr, desc.subarray(0, 4));
  }

  /** A plain-data snapshot (selector, offset, DMA address high half). */
  state(): FwCfgState {
    return { selector: this.selector, offset: this.offset, dmaAddressHigh: this.dmaAddressHigh };
  }

  /** Restores a snapshot taken by {@link FwCfg.state}. */
  fromState(s: FwCfgState): void {
    this.selector = s.selector & 0xffff;
    this.offset = s.offset;
    this.dmaAddressHigh = s.dmaAddressHigh >>> 0;
  }
}

function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function le(value: number, bytes: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`FwCfg: bad value ${value}`);
  const out = new Uint8Array(bytes);
  let v = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}
