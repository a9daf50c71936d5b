import type { DeviceAccessSize } from "@turtles/memory";

/**
 * Reads `size` consecutive byte-wide registers starting at `offset`, little-endian: how a
 * 16- or 32-bit IN reaches a device whose registers are bytes.
 */
export function readBytewise(
  readByte: (offset: number) => number,
  offset: number,
  size: DeviceAccessSize,
): number {
  let v = readByte(offset) & 0xff;
  for (let k = 1; k < size; k++) v |= (readByte(offset + k) & 0xff) << (8 * k);
  return v >>> 0;
}

/** Writes `value` to `size` consecutive byte-wide registers starting at `offset`, little-endian. */
export function writeBytewise(
  writeByte: (offset: number, value: number) => void,
  offset: number,
  size: DeviceAccessSize,
  value: number,
): void {
  for (let k = 0; k < size; k++) writeByte(offset + k, (value >>> (8 * k)) & 0xff);
}
