// Decomposition of a VMCS field encoding (Intel SDM vol. 3, 25.11.2 "VMREAD, VMWRITE, and
// Encodings of VMCS Fields"):
//   bit 0       access type (0 = full, 1 = high half of a 64-bit field)
//   bits 9:1    index
//   bits 11:10  type (0 control, 1 VM-exit information, 2 guest state, 3 host state)
//   bit 12      reserved (0)
//   bits 14:13  width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width)
//   bits 31:15  reserved (0)

/** Width of a VMCS field (encoding bits 14:13). */
export const FieldWidth = {
  /** 16-bit field. */
  Bits16: 0,
  /** 64-bit field (readable in full or as its high half). */
  Bits64: 1,
  /** 32-bit field. */
  Bits32: 2,
  /** Natural-width field: 64 bits on processors that support Intel 64. */
  Natural: 3,
} as const;
/** One of the {@link FieldWidth} values. */
export type FieldWidth = (typeof FieldWidth)[keyof typeof FieldWidth];

/** Kind of a VMCS field (encoding bits 11:10). */
export const FieldKind = {
  /** VM-execution, VM-exit and VM-entry control fields. */
  Control: 0,
  /** Read-only VM-exit information fields. */
  ExitInfo: 1,
  /** Guest-state fields. */
  Guest: 2,
  /** Host-state fields. */
  Host: 3,
} as const;
/** One of the {@link FieldKind} values. */
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

/** The width (bits 14:13) of a field encoding. */
export function fieldWidth(encoding: number): FieldWidth {
  return ((encoding >>> 13) & 3) as FieldWidth;
}

/** The kind (bits 11:10) of a field encoding. */
export function fieldKind(encoding: number): FieldKind {
  return ((encoding >>> 10) & 3) as FieldKind;
}

/** The index (bits 9:1) of a field encoding. */
export function fieldIndex(encoding: number): number {
  return (encoding >>> 1) & 0x1ff;
}

/** True when the encoding names the high 32 bits of a 64-bit field (access type 1). */
export function isHighAccess(encoding: number): boolean {
  return (encoding & 1) === 1;
}

/** Builds a field encoding from its parts (access type 0 = full, 1 = high). */
export function makeFieldEncoding(width: FieldWidth, kind: FieldKind, index: number, high = false): number {
  if (!Number.isInteger(index) || index < 0 || index > 0x1ff)
    throw new RangeError(`bad field index ${index}`);
  return (width << 13) | (kind << 10) | (index << 1) | (high ? 1 : 0);
}

/** Size in bytes of a field of the given width as stored (natural width counts as 8). */
export function fieldWidthBits(width: FieldWidth): 16 | 32 | 64 {
  return width === FieldWidth.Bits16 ? 16 : width === FieldWidth.Bits32 ? 32 : 64;
}
