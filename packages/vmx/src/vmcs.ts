import { FieldWidth, fieldWidth } from "./field-encoding.js";
import { VMCS_FIELDS } from "./vmcs-fields.js";

/** Number of field slots of a {@link Vmcs} (one per entry of the field table). */
export const VMCS_SLOT_COUNT = VMCS_FIELDS.length;

/** Slot of each full encoding (index = encoding), -1 when the encoding names no field. */
const SLOT_OF = new Int16Array(0x8000).fill(-1);
/** Value mask of the low half per slot (16-bit fields keep 16 bits, 32-bit fields 32). */
const LO_MASK = new Uint32Array(VMCS_SLOT_COUNT);
/** Whether the slot keeps a high half (64-bit and natural-width fields). */
const HAS_HI = new Uint8Array(VMCS_SLOT_COUNT);
VMCS_FIELDS.forEach(({ encoding }, slot) => {
  SLOT_OF[encoding] = slot;
  const w = fieldWidth(encoding);
  LO_MASK[slot] = w === FieldWidth.Bits16 ? 0xffff : 0xffff_ffff;
  HAS_HI[slot] = w === FieldWidth.Bits64 || w === FieldWidth.Natural ? 1 : 0;
});

/**
 * The slot of a field in the table and in the VMCS12 layout, for its full or high-alias encoding;
 * -1 when the encoding names no field of the table (including a "high" alias of a field that is
 * not 64-bit).
 */
export function vmcsSlot(encoding: number): number {
  if (!Number.isInteger(encoding) || encoding < 0 || encoding >= 0x8000) return -1;
  if ((encoding & 1) === 1) {
    if (fieldWidth(encoding) !== FieldWidth.Bits64) return -1;
    return SLOT_OF[encoding & ~1] ?? -1;
  }
  return SLOT_OF[encoding] ?? -1;
}

/** Launch state of a VMCS (SDM 25.1). */
export const LaunchState = {
  /** "Clear": the next entry must be VMLAUNCH. */
  Clear: 0,
  /** "Launched": the next entry must be VMRESUME. */
  Launched: 1,
} as const;
/** One of the {@link LaunchState} values. */
export type LaunchState = (typeof LaunchState)[keyof typeof LaunchState];

function slotOrThrow(encoding: number): number {
  const slot = vmcsSlot(encoding);
  if (slot < 0 || (encoding & 1) === 1)
    throw new RangeError(`Vmcs: not a full field encoding: 0x${encoding.toString(16)}`);
  return slot;
}

/**
 * The contents of one VMCS: every field of the table as a (lo, hi) pair of unsigned 32-bit
 * halves, plus the header the SDM names (revision id, shadow-VMCS indicator, VMX-abort indicator,
 * launch state). Values are always stored truncated to the field's width.
 *
 * These accessors are the engine's own (no support or read-only checks; an encoding that is not
 * a field is an emulator bug and throws). Guest software reaches a VMCS only through
 * {@link vmread} and {@link vmwrite}.
 */
export class Vmcs {
  /** Field values: slot `s` at `[2s]` (low half) and `[2s + 1]` (high half). */
  readonly data = new Uint32Array(VMCS_SLOT_COUNT * 2);
  /** VMCS revision identifier (bits 30:0 of the first word). */
  revisionId = 0;
  /** Shadow-VMCS indicator (bit 31 of the first word). */
  shadow = false;
  /** VMX-abort indicator (second word). */
  abortIndicator = 0;
  /** Launch state. */
  launchState: LaunchState = LaunchState.Clear;

  /** Low 32 bits of a field (the whole value of 16- and 32-bit fields). */
  get32(encoding: number): number {
    return this.data[slotOrThrow(encoding) * 2]!;
  }

  /** High 32 bits of a 64-bit or natural-width field (0 for narrower fields). */
  getHi(encoding: number): number {
    return this.data[slotOrThrow(encoding) * 2 + 1]!;
  }

  /** A field's value as a number; for addresses and counts known to fit below 2^53. */
  getNumber(encoding: number): number {
    const s = slotOrThrow(encoding) * 2;
    return this.data[s + 1]! * 0x1_0000_0000 + this.data[s]!;
  }

  /** Sets a field to `hi:lo`, truncated to its width. */
  set(encoding: number, lo: number, hi = 0): void {
    const slot = slotOrThrow(encoding);
    this.data[slot * 2] = (lo & LO_MASK[slot]!) >>> 0;
    this.data[slot * 2 + 1] = HAS_HI[slot] === 1 ? hi >>> 0 : 0;
  }

  /** Sets a field from a number below 2^53 (split into halves), truncated to its width. */
  setNumber(encoding: number, value: number): void {
    this.set(encoding, value >>> 0, Math.floor(value / 0x1_0000_0000) >>> 0);
  }

  /** Copies every field and the header from `other`. */
  copyFrom(other: Vmcs): void {
    this.data.set(other.data);
    this.revisionId = other.revisionId;
    this.shadow = other.shadow;
    this.abortIndicator = other.abortIndicator;
    this.launchState = other.launchState;
  }

  /** Clears every field to 0 (header untouched). */
  clearFields(): void {
    this.data.fill(0);
  }
}
