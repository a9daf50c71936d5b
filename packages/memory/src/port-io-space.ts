import { allOnes, type DeviceAccessSize } from "./access.js";

/**
 * A device's window of I/O ports. It receives the offset inside its window, the access size and,
 * for writes, the value (already truncated to `size * 8` bits); it never sees the processor.
 */
export interface PortIoHandler {
  /** Returns the value read at `offset` (only the low `size * 8` bits are used). */
  read(offset: number, size: DeviceAccessSize): number;
  /** Receives a write of `value` at `offset`. */
  write(offset: number, size: DeviceAccessSize, value: number): void;
}

/** Watches port accesses that no handler claims (reads return all-ones, writes are dropped). */
export interface PortIoObserver {
  /** An access to a port no handler claims. */
  unclaimed(port: number, size: DeviceAccessSize, isWrite: boolean, value: number): void;
}

/** A description of one registered port window. */
export interface PortRangeInfo {
  /** First port. */
  readonly base: number;
  /** Number of ports. */
  readonly length: number;
  /** The name given at registration. */
  readonly name: string;
}

/** The number of ports of the x86 I/O address space. */
export const PORT_COUNT = 0x1_0000;

interface Entry {
  readonly base: number;
  readonly length: number;
  readonly name: string;
  readonly handler: PortIoHandler;
}

/**
 * The x86 I/O address space: 65,536 byte-wide ports, claimed in windows by handlers.
 *
 * Rules (each one tested):
 * - Lookup is O(1): a 64 Ki-entry table maps each port to its window.
 * - An access (1, 2 or 4 bytes) whose bytes all fall in one window goes to that window's handler
 *   as one access. One that spans windows, or a window and unclaimed ports, is split into byte
 *   accesses in ascending port order. Ports above 0xFFFF do not exist: their bytes are unclaimed.
 * - Unclaimed reads return all-ones and unclaimed writes are dropped; both are counted and
 *   reported to the observer.
 */
export class PortIoSpace {
  /** Receives unclaimed accesses; set or replace at any time. */
  observer: PortIoObserver | undefined;
  /** Number of unclaimed reads and writes seen. */
  readonly unclaimed = { reads: 0, writes: 0 };

  private readonly owner = new Uint16Array(PORT_COUNT); // 0 = unclaimed, else entries index + 1
  private readonly entries: (Entry | undefined)[] = [];

  /**
   * Claims ports `[base, base + length)` for `handler`.
   * @throws RangeError on overlap with a registered window or a range outside 0..0xFFFF.
   */
  register(base: number, length: number, handler: PortIoHandler, name = "io"): void {
    if (
      !Number.isInteger(base) ||
      !Number.isInteger(length) ||
      length <= 0 ||
      base < 0 ||
      base + length > PORT_COUNT
    ) {
      throw new RangeError(`register ${name}: ports ${base}+${length} are outside 0x0000-0xFFFF`);
    }
    for (let p = base; p < base + length; p++) {
      const other = this.owner[p]!;
      if (other !== 0) {
        throw new RangeError(
          `register ${name}: port 0x${p.toString(16)} already belongs to ${this.entries[other - 1]!.name}`,
        );
      }
    }
    let slot = this.entries.indexOf(undefined);
    if (slot < 0) slot = this.entries.length;
    if (slot >= 0xffff) throw new RangeError("register: too many port windows");
    this.entries[slot] = { base, length, name, handler };
    this.owner.fill(slot + 1, base, base + length);
  }

  /**
   * Releases the window that starts at `base`.
   * @throws RangeError when no window starts there.
   */
  unregister(base: number): void {
    const id = base >= 0 && base < PORT_COUNT ? this.owner[base]! : 0;
    const entry = id === 0 ? undefined : this.entries[id - 1];
    if (entry === undefined || entry.base !== base) {
      throw new RangeError(`unregister: no port window starts at 0x${base.toString(16)}`);
    }
    this.owner.fill(0, entry.base, entry.base + entry.length);
    this.entries[id - 1] = undefined;
  }

  /** The window holding `port`, if any. */
  windowAt(port: number): PortRangeInfo | undefined {
    const id = port >= 0 && port < PORT_COUNT ? this.owner[port]! : 0;
    const entry = id === 0 ? undefined : this.entries[id - 1];
    return entry === undefined ? undefined : { base: entry.base, length: entry.length, name: entry.name };
  }

  /** Reads `size` bytes at `port` (IN). */
  read(port: number, size: DeviceAccessSize): number {
    const id = this.owner[port];
    if (id !== undefined && id !== 0 && (size === 1 || this.owner[port + size - 1] === id)) {
      const entry = this.entries[id - 1]!;
      return (entry.handler.read(port - entry.base, size) & allOnes(size)) >>> 0;
    }
    checkPort(port);
    if (size === 1 || this.allUnclaimed(port, size)) {
      this.unclaimed.reads++;
      this.observer?.unclaimed(port, size, false, allOnes(size));
      return allOnes(size);
    }
    let value = 0;
    for (let k = 0; k < size; k++) {
      const byte = port + k < PORT_COUNT ? this.read(port + k, 1) : this.unclaimedByte(port + k, false, 0xff);
      value |= byte << (8 * k);
    }
    return value >>> 0;
  }

  /** Writes the low `size * 8` bits of `value` at `port` (OUT). */
  write(port: number, size: DeviceAccessSize, value: number): void {
    const v = (value & allOnes(size)) >>> 0;
    const id = this.owner[port];
    if (id !== undefined && id !== 0 && (size === 1 || this.owner[port + size - 1] === id)) {
      const entry = this.entries[id - 1]!;
      entry.handler.write(port - entry.base, size, v);
      return;
    }
    checkPort(port);
    if (size === 1 || this.allUnclaimed(port, size)) {
      this.unclaimed.writes++;
      this.observer?.unclaimed(port, size, true, v);
      return;
    }
    for (let k = 0; k < size; k++) {
      const byte = (v >>> (8 * k)) & 0xff;
      if (port + k < PORT_COUNT) this.write(port + k, 1, byte);
      else this.unclaimedByte(port + k, true, byte);
    }
  }

  /** A byte of a split access that lies above port 0xFFFF: it has no port, so it is unclaimed. */
  private unclaimedByte(port: number, isWrite: boolean, value: number): number {
    if (isWrite) this.unclaimed.writes++;
    else this.unclaimed.reads++;
    this.observer?.unclaimed(port, 1, isWrite, value);
    return 0xff;
  }

  /**
   * String input (INS): `count` reads of `size` bytes at `port`, stored little-endian into `dest`
   * from `offset` on. Returns the number of bytes stored (`count * size`).
   * @throws RangeError when `dest` is too small.
   */
  readString(port: number, size: DeviceAccessSize, count: number, dest: Uint8Array, offset = 0): number {
    const bytes = count * size;
    if (offset + bytes > dest.byteLength) throw new RangeError("readString: destination too small");
    for (let i = 0; i < count; i++) {
      const v = this.read(port, size);
      const at = offset + i * size;
      for (let k = 0; k < size; k++) dest[at + k] = (v >>> (8 * k)) & 0xff;
    }
    return bytes;
  }

  /**
   * String output (OUTS): `count` writes of `size` bytes to `port`, taken little-endian from `src`
   * from `offset` on. Returns the number of bytes consumed.
   * @throws RangeError when `src` is too small.
   */
  writeString(port: number, size: DeviceAccessSize, count: number, src: Uint8Array, offset = 0): number {
    const bytes = count * size;
    if (offset + bytes > src.byteLength) throw new RangeError("writeString: source too small");
    for (let i = 0; i < count; i++) {
      const at = offset + i * size;
      let v = 0;
      for (let k = 0; k < size; k++) v |= src[at + k]! << (8 * k);
      this.write(port, size, v >>> 0);
    }
    return bytes;
  }

  private allUnclaimed(port: number, size: number): boolean {
    for (let k = 0; k < size; k++) {
      const id = this.owner[port + k];
      if (id !== undefined && id !== 0) return false;
    }
    return true;
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port >= PORT_COUNT) {
    throw new RangeError(`port must be an integer in 0..0xFFFF, got ${port}`);
  }
}
