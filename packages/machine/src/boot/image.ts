import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import type { PcMemoryLayout } from "./layout.js";

/**
 * The error every loader throws for bad host input (a truncated image, a missing header, the
 * wrong machine, an image that does not fit): its message is one line meant for the user.
 */
export class BootLoadError extends Error {
  /** `what` names the loader ("multiboot", "bzImage", ...); `message` says what is wrong. */
  constructor(what: string, message: string) {
    super(`${what}: ${message}`);
    this.name = "BootLoadError";
  }
}

/** Little-endian reads from a host image, each checked against the image's end. */
export class ImageReader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The image length. */
  get length(): number {
    return this.bytes.byteLength;
  }

  /** Throws the loader's "truncated" error unless `[offset, offset + size)` is inside the image. */
  need(offset: number, size: number, field: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.byteLength) {
      throw new BootLoadError(
        this.what,
        `image is truncated: ${field} needs bytes 0x${offset.toString(16)}-0x${(offset + size).toString(16)} but the image has ${this.bytes.byteLength}`,
      );
    }
  }

  u8(offset: number, field: string): number {
    this.need(offset, 1, field);
    return this.view.getUint8(offset);
  }

  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.view.getUint32(offset, true);
  }

  /** A 64-bit field as a number; throws when it is 2^53 or more. */
  u64(offset: number, field: string): number {
    this.need(offset, 8, field);
    const lo = this.view.getUint32(offset, true);
    const hi = this.view.getUint32(offset + 4, true);
    if (hi >= 0x20_0000)
      throw new BootLoadError(this.what, `${field} 0x${hi.toString(16)}_${lo.toString(16)} is too large`);
    return hi * 0x1_0000_0000 + lo;
  }

  /** `size` bytes at `offset` (a view, not a copy). */
  slice(offset: number, size: number, field: string): Uint8Array {
    this.need(offset, size, field);
    return this.bytes.subarray(offset, offset + size);
  }
}

/** A range `[start, end)` the loader itself uses, which the image must leave alone, and its name. */
export type ReservedRange = readonly [start: number, end: number, name: string];

/**
 * Writes `data` at `addr` and zeroes the following `zeroBytes`, after checking that the whole
 * range is RAM of the layout and touches none of the `reserved` ranges.
 */
export function placeInRam(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  what: string,
  field: string,
  addr: number,
  data: Uint8Array,
  zeroBytes = 0,
  reserved: readonly ReservedRange[] = [],
): void {
  checkPlacement(layout, what, field, addr, data.byteLength + zeroBytes, reserved);
  mem.writeBytes(addr, data, AccessKind.Write);
  if (zeroBytes > 0) mem.writeBytes(addr + data.byteLength, new Uint8Array(zeroBytes), AccessKind.Write);
}

/** Throws unless `[addr, addr + length)` is RAM of the layout and touches none of the `reserved` ranges. */
export function checkPlacement(
  layout: PcMemoryLayout,
  what: string,
  field: string,
  addr: number,
  length: number,
  reserved: readonly ReservedRange[],
): void {
  checkFits(layout, what, field, addr, length);
  for (const [start, end, name] of reserved) {
    if (length > 0 && addr < end && start < addr + length) {
      throw new BootLoadError(
        what,
        `${field} at 0x${addr.toString(16)}-0x${(addr + length).toString(16)} overlaps ${name} at 0x${start.toString(16)}-0x${end.toString(16)}`,
      );
    }
  }
}

/** Throws unless `[addr, addr + length)` is RAM of the layout. */
export function checkFits(
  layout: PcMemoryLayout,
  what: string,
  field: string,
  addr: number,
  length: number,
): void {
  if (length > 0 && !layout.isRam(addr, length)) {
    throw new BootLoadError(
      what,
      `${field} at 0x${addr.toString(16)}-0x${(addr + length).toString(16)} does not fit in RAM (${layout.ramSize / 0x10_0000} MiB)`,
    );
  }
}

/** The UTF-8 bytes of `s` (no library needed: the build targets no DOM or Node types). */
export function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x1_0000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

/** The bytes of `s` (UTF-8) followed by a NUL. */
export function cString(s: string): Uint8Array {
  const body = utf8(s);
  const out = new Uint8Array(body.byteLength + 1);
  out.set(body);
  return out;
}

/** `x` rounded up to a multiple of `align` (a power of two). */
export function alignUp(x: number, align: number): number {
  return Math.ceil(x / align) * align;
}
