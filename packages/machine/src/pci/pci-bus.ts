import type {
  DeviceAccessSize,
  MmioHandler,
  PhysicalAddressSpace,
  PortIoHandler,
  PortIoSpace,
} from "@turtles/memory";
import type { Snapshottable } from "../devices/snapshot.js";
import type { PciBarChange, PciBarListener, PciFunction } from "./pci-function.js";

/** Ports of configuration mechanism #1. */
export const PCI_CONFIG_PORTS = {
  /** CONFIG_ADDRESS (dword). */
  address: 0xcf8,
  /** CONFIG_DATA (bytes 0xCFC-0xCFF). */
  data: 0xcfc,
  /** The window to register: 0xCF8-0xCFF. */
  size: 8,
} as const;

/** A function's place on the bus. */
export interface PciAddress {
  /** Bus number (0-255). */
  readonly bus: number;
  /** Device number (0-31). */
  readonly device: number;
  /** Function number (0-7). */
  readonly fn: number;
}

/**
 * The PCI configuration space of the machine: functions plugged at bus/device/function
 * addresses, reached by configuration mechanism #1 ({@link PciConfigMechanism1}) and ECAM
 * ({@link PciEcam}). Absent functions read all-ones and ignore writes. BAR changes of every
 * plugged function go to one listener (see {@link mapBarsInto}).
 */
export class PciBus {
  private readonly functions = new Map<number, PciFunction>();
  private listener: PciBarListener | undefined;

  /** `listener` hears every BAR (re)mapping of every function. */
  constructor(listener?: PciBarListener) {
    this.listener = listener;
  }

  /** Plugs `fn` at `address`. @throws RangeError when the slot is taken or the address is invalid. */
  plug(address: PciAddress, fn: PciFunction): void {
    const key = pciKey(address);
    if (this.functions.has(key)) throw new RangeError(`PciBus.plug: ${formatPci(address)} is taken`);
    this.functions.set(key, fn);
    fn.setBarListener((change) => this.listener?.(change));
  }

  /** The function at `address`, if any. */
  at(address: PciAddress): PciFunction | undefined {
    return this.functions.get(pciKey(address));
  }

  /** Every plugged function with its address, in address order. */
  list(): { address: PciAddress; fn: PciFunction }[] {
    return [...this.functions.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([key, fn]) => ({ address: { bus: key >> 8, device: (key >> 3) & 31, fn: key & 7 }, fn }));
  }

  /** A configuration read by bus/device/function (`key` = bus << 8 | device << 3 | fn). */
  readConfig(key: number, offset: number, size: DeviceAccessSize): number {
    const fn = this.functions.get(key);
    if (fn === undefined) return allOnes(size);
    return offset < 256 ? fn.readConfig(offset, size) : 0;
  }

  /** A configuration write; dropped for absent functions and beyond the 256 conventional bytes. */
  writeConfig(key: number, offset: number, size: DeviceAccessSize, value: number): void {
    const fn = this.functions.get(key);
    if (fn !== undefined && offset < 256) fn.writeConfig(offset, size, value);
  }
}

function allOnes(size: DeviceAccessSize): number {
  return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
}

/** The key of a bus/device/function: bus << 8 | device << 3 | fn. */
export function pciKey(a: PciAddress): number {
  if (
    ![a.bus, a.device, a.fn].every(Number.isInteger) ||
    a.bus < 0 ||
    a.bus > 255 ||
    a.device < 0 ||
    a.device > 31 ||
    a.fn < 0 ||
    a.fn > 7
  ) {
    throw new RangeError(`PCI address ${a.bus}:${a.device}.${a.fn} is out of range`);
  }
  return (a.bus << 8) | (a.device << 3) | a.fn;
}

/** `bb:dd.f` in hexadecimal, as lspci prints it. */
export function formatPci(a: PciAddress): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, "0");
  return `${h(a.bus, 2)}:${h(a.device, 2)}.${a.fn}`;
}

/**
 * A {@link PciBarListener} that keeps BAR windows mapped in the machine's spaces: memory BARs in
 * `space` (as MMIO), I/O BARs in `io`; the old window is removed before the new one is added.
 */
export function mapBarsInto(space: PhysicalAddressSpace, io: PortIoSpace): PciBarListener {
  return (c: PciBarChange) => {
    const name = `pci-bar${c.bar}`;
    if (c.spec.kind === "io") {
      if (c.oldBase !== undefined) io.unregister(c.oldBase);
      if (c.newBase !== undefined) io.register(c.newBase, c.spec.size, c.spec.handler, name);
    } else {
      if (c.oldBase !== undefined) space.unmap(c.oldBase);
      if (c.newBase !== undefined) space.mapMmio(c.newBase, c.spec.size, c.spec.handler, name);
    }
  };
}

/** The state of a {@link PciConfigMechanism1}, as plain data. */
export interface PciConfigMechanism1State {
  /** CONFIG_ADDRESS. */
  address: number;
}

/**
 * Configuration mechanism #1 on ports 0xCF8-0xCFF (register it with length 8): CONFIG_ADDRESS is
 * a dword at 0xCF8 (bit 31 enable, bus 23:16, device 15:11, function 10:8, register 7:2; bits
 * 30:24 and 1:0 read 0); CONFIG_DATA at 0xCFC-0xCFF takes byte, word and dword accesses at their
 * offset. With the enable bit clear, data reads are all-ones and writes are dropped. Non-dword
 * accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS: a byte at 0xCF9 goes to `resetControl` (the
 * chipset's reset register shares the window), the rest read all-ones and are dropped.
 */
export class PciConfigMechanism1 implements PortIoHandler, Snapshottable<PciConfigMechanism1State> {
  private address = 0;

  /** `bus` is the configuration space; `resetControl` serves byte accesses at 0xCF9. */
  constructor(
    private readonly bus: PciBus,
    private readonly resetControl?: PortIoHandler,
  ) {}

  /** Port read at `offset` from 0xCF8. */
  read(offset: number, size: DeviceAccessSize): number {
    if (offset === 0 && size === 4) return this.address;
    if (offset === 1 && size === 1 && this.resetControl !== undefined) return this.resetControl.read(0, 1);
    if (offset < 4 || !(this.address & 0x8000_0000)) return allOnes(size);
    return this.bus.readConfig((this.address >>> 8) & 0xffff, (this.address & 0xfc) + offset - 4, size);
  }

  /** Port write at `offset` from 0xCF8. */
  write(offset: number, size: DeviceAccessSize, value: number): void {
    if (offset === 0 && size === 4) {
      this.address = (value & 0x80ff_fffc) >>> 0;
      return;
    }
    if (offset === 1 && size === 1) {
      this.resetControl?.write(0, 1, value);
      return;
    }
    if (offset < 4 || !(this.address & 0x8000_0000)) return;
    this.bus.writeConfig((this.address >>> 8) & 0xffff, (this.address & 0xfc) + offset - 4, size, value);
  }

  /** A plain-data snapshot. */
  state(): PciConfigMechanism1State {
    return { address: this.address };
  }

  /** Restores a snapshot taken by {@link PciConfigMechanism1.state}. */
  fromState(s: PciConfigMechanism1State): void {
    this.address = (s.address & 0x80ff_fffc) >>> 0;
  }
}

/**
 * The ECAM (PCI Express enhanced configuration access mechanism) window for `buses` buses from
 * `startBus`: 1 MiB per bus, 4 KiB per function; offset = bus << 20 | device << 15 | fn << 12 |
 * register. Registers 0x100-0xFFF of a present function read 0 (no extended capabilities). Map it
 * at the MCFG base with {@link PciEcam.size} bytes.
 */
export class PciEcam implements MmioHandler {
  /** The window size: `buses` MiB. */
  readonly size: number;

  /** @throws RangeError when the bus range leaves 0-255. */
  constructor(
    private readonly bus: PciBus,
    buses = 256,
    private readonly startBus = 0,
  ) {
    if (!Number.isInteger(buses) || buses < 1 || startBus < 0 || startBus + buses > 256) {
      throw new RangeError(`PciEcam: ${buses} buses from ${startBus}`);
    }
    this.size = buses * 0x10_0000;
  }

  /** MMIO read. */
  read(offset: number, size: 1 | 2 | 4): number {
    return this.bus.readConfig(((offset >>> 12) + (this.startBus << 8)) & 0xffff, offset & 0xfff, size);
  }

  /** MMIO write. */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    this.bus.writeConfig(((offset >>> 12) + (this.startBus << 8)) & 0xffff, offset & 0xfff, size, value);
  }
}
