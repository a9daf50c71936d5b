import type { AccessKind } from "./access.js";

/**
 * The seam for code that *uses* physical memory: page-table walkers, the processor, devices,
 * virtqueues, loaders. Anything that provides memory implements it — flat RAM, a region map,
 * RAM seen through an EPT or an IOMMU, a test fake — and is passed into each call that needs it.
 *
 * All values are little-endian. 64-bit values travel as two unsigned 32-bit halves (no BigInt):
 * {@link PhysicalMemory.read64} stores them into a caller-owned `Uint32Array`, low half first.
 * Addresses are non-negative integers; the behaviour of unmapped addresses and of accesses that
 * cross region boundaries is defined by the implementation (see `PhysicalAddressSpace`).
 */
export interface PhysicalMemory {
  /** Reads one byte. */
  read8(addr: number, kind: AccessKind): number;
  /** Reads a 16-bit value. */
  read16(addr: number, kind: AccessKind): number;
  /** Reads an unsigned 32-bit value. */
  read32(addr: number, kind: AccessKind): number;
  /** Reads a 64-bit value into `out[index]` (low 32 bits) and `out[index + 1]` (high 32 bits). */
  read64(addr: number, kind: AccessKind, out: Uint32Array, index: number): void;
  /** Writes the low 8 bits of `value`. */
  write8(addr: number, value: number, kind: AccessKind): void;
  /** Writes the low 16 bits of `value`. */
  write16(addr: number, value: number, kind: AccessKind): void;
  /** Writes the low 32 bits of `value`. */
  write32(addr: number, value: number, kind: AccessKind): void;
  /** Writes the 64-bit value `hi:lo` (two unsigned 32-bit halves). */
  write64(addr: number, lo: number, hi: number, kind: AccessKind): void;
  /** Fills `dest` with the bytes at `addr`, `addr + 1`, ...; a zero-length `dest` touches nothing. */
  readBytes(addr: number, dest: Uint8Array, kind: AccessKind): void;
  /** Writes the bytes of `src` at `addr`, `addr + 1`, ...; a zero-length `src` touches nothing. */
  writeBytes(addr: number, src: Uint8Array, kind: AccessKind): void;
}

/**
 * A device's MMIO window. It receives the offset inside its window, the access size (1, 2 or 4
 * bytes) and, for writes, the value; it never sees the processor or the machine. Eight-byte
 * accesses arrive as two four-byte accesses, the lower address first.
 */
export interface MmioHandler {
  /** Returns the value read at `offset` (only the low `size * 8` bits are used). */
  read(offset: number, size: 1 | 2 | 4): number;
  /** Receives a write of `value` (already truncated to `size * 8` bits) at `offset`. */
  write(offset: number, size: 1 | 2 | 4, value: number): void;
}

/**
 * Watches the accesses a region map resolves without a target: reads and writes of unmapped
 * addresses (reads return all-ones, writes are dropped) and writes to ROM (dropped). Called on
 * the slow path only, so observing costs nothing on RAM accesses.
 */
export interface AccessObserver {
  /** An access to an address no region covers. `size` is the access size (1, 2, 4, 8) or a byte-range length. */
  unmapped?(addr: number, size: number, kind: AccessKind, isWrite: boolean): void;
  /** A write to a ROM region, which was dropped. */
  romWrite?(addr: number, size: number, kind: AccessKind): void;
}

/**
 * Receives a write to a watched page, after the bytes have changed: the write's first address,
 * its size in bytes and its kind. Called once per watched page the write touches.
 */
export type WriteListener = (addr: number, size: number, kind: AccessKind) => void;
