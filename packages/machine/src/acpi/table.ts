/**
 * One ACPI table as bytes, ready to be placed in guest memory. The list of these is what the
 * builder produces and the writer places, so a table built elsewhere (a DMAR from the IOMMU
 * package) joins the list like any other.
 */
export interface AcpiTable {
  /** The four-character signature ("APIC", "FACP", ...). */
  readonly signature: string;
  /** The whole table, header included, checksum valid (except FACS, which has none). */
  readonly bytes: Uint8Array;
}

/** The identity written into every table header. */
export interface AcpiOem {
  /** OEMID, at most 6 ASCII characters (default "TURTLE"). */
  readonly oemId?: string;
  /** OEM table ID, at most 8 ASCII characters (default "TURTLESP"). */
  readonly oemTableId?: string;
  /** OEM revision (default 1). */
  readonly oemRevision?: number;
}

/** Size of the standard system description table header (ACPI 6.5 §5.2.6). */
export const SDT_HEADER_SIZE = 36;
const CREATOR_ID = "TRTL";
const CREATOR_REVISION = 1;

/** Little-endian writer of a table's bytes, with a growing buffer. */
export class TableBytes {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. */
  length = 0;

  /** Starts empty with room for `size` bytes (it grows as needed). */
  constructor(size = 64) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): number {
    const at = this.length;
    if (at + n > this.buf.byteLength) {
      const next = new Uint8Array(Math.max(2 * this.buf.byteLength, at + n));
      next.set(this.buf);
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }

  /** Appends a byte. */
  u8(v: number): this {
    const at = this.room(1);
    this.view.setUint8(at, v);
    return this;
  }

  /** Appends a 16-bit value. */
  u16(v: number): this {
    const at = this.room(2);
    this.view.setUint16(at, v, true);
    return this;
  }

  /** Appends a 32-bit value. */
  u32(v: number): this {
    const at = this.room(4);
    this.view.setUint32(at, v >>> 0, true);
    return this;
  }

  /** A 64-bit field from a number below 2^53. */
  u64(v: number): this {
    this.u32(v >>> 0);
    return this.u32(Math.floor(v / 0x1_0000_0000));
  }

  /** `s` as ASCII, padded with spaces (or NULs) to `size` bytes; throws when longer. */
  ascii(s: string, size: number, pad = 0x20): this {
    if (s.length > size || !/^[\x20-\x7e]*$/.test(s))
      throw new RangeError(`ACPI: "${s}" is not ASCII of at most ${size} characters`);
    const at = this.room(size);
    for (let i = 0; i < size; i++) this.buf[at + i] = i < s.length ? s.charCodeAt(i) : pad;
    return this;
  }

  /** Appends `b`. */
  bytes(b: Uint8Array): this {
    const at = this.room(b.byteLength);
    this.buf.set(b, at);
    return this;
  }

  /** Appends `n` zero bytes. */
  zeros(n: number): this {
    this.room(n);
    return this;
  }

  /** A Generic Address Structure (ACPI 6.5 §5.2.3.2): 12 bytes. */
  gas(spaceId: number, bitWidth: number, bitOffset: number, accessSize: number, address: number): this {
    return this.u8(spaceId).u8(bitWidth).u8(bitOffset).u8(accessSize).u64(address);
  }

  /** The bytes written. */
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Generic Address Structure address-space IDs. */
export const GasSpace = { Memory: 0, Io: 1 } as const;

/** Sum of `bytes` modulo 256. */
export function byteSum(bytes: Uint8Array, start = 0, end = bytes.byteLength): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum;
}

/**
 * Builds a system description table: the 36-byte header (signature, length, revision, checksum,
 * OEM identity, creator) followed by `body`, with the checksum making the whole table sum to 0.
 */
export function sdt(
  signature: string,
  revision: number,
  oem: AcpiOem,
  body: (t: TableBytes) => void,
): AcpiTable {
  const t = new TableBytes(128);
  t.ascii(signature, 4)
    .u32(0)
    .u8(revision)
    .u8(0)
    .ascii(oem.oemId ?? "TURTLE", 6)
    .ascii(oem.oemTableId ?? "TURTLESP", 8)
    .u32(oem.oemRevision ?? 1)
    .ascii(CREATOR_ID, 4)
    .u32(CREATOR_REVISION);
  body(t);
  const bytes = t.done();
  new DataView(bytes.buffer).setUint32(4, bytes.byteLength, true);
  fixChecksum(bytes, 9);
  return { signature, bytes };
}

/** Sets the checksum byte at `at` so that `bytes[start, end)` sums to 0 modulo 256. */
export function fixChecksum(bytes: Uint8Array, at: number, start = 0, end = bytes.byteLength): void {
  bytes[at] = 0;
  bytes[at] = (0x100 - byteSum(bytes, start, end)) & 0xff;
}
