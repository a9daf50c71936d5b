/**
 * A block of guest RAM backed by one `ArrayBuffer`, with the typed views that make a RAM access
 * a single typed-array operation. One `Ram` can be mapped at several places of an address space
 * (aliases) or in several spaces.
 */
export class Ram {
  /** The backing store. */
  readonly buffer: ArrayBuffer;
  /** All bytes of the block. */
  readonly bytes: Uint8Array;
  /** A little-endian view used for 16/32-bit accesses. */
  readonly view: DataView;

  /**
   * Allocates `size` zeroed bytes, or wraps `from` (its whole buffer range) without copying.
   * @throws RangeError when `size` is not a positive safe integer.
   */
  constructor(size: number, from?: Uint8Array) {
    if (from !== undefined) {
      this.bytes = from;
      this.buffer = from.buffer as ArrayBuffer;
      this.view = new DataView(from.buffer, from.byteOffset, from.byteLength);
      return;
    }
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`Ram: size must be a positive integer, got ${size}`);
    }
    this.buffer = new ArrayBuffer(size);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Wraps existing bytes as RAM (no copy): writes through the RAM change `bytes`. */
  static fromBytes(bytes: Uint8Array): Ram {
    if (bytes.byteLength === 0) throw new RangeError("Ram.fromBytes: empty byte array");
    return new Ram(bytes.byteLength, bytes);
  }

  /** Size in bytes. */
  get size(): number {
    return this.bytes.byteLength;
  }
}
