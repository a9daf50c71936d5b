import type { DeviceAccessSize, PortIoHandler } from "@turtles/memory";

/**
 * A port handler over byte-wide registers: a byte access calls `readByte` / `writeByte` once; a
 * 16- or 32-bit access reaches consecutive registers in little-endian order, as an IN/OUT of
 * that width does on the ISA bus. The two functions are made once per device, so an access
 * allocates nothing.
 */
export function bytewiseHandler(
  readByte: (offset: number) => number,
  writeByte: (offset: number, value: number) => void,
): PortIoHandler {
  return {
    read(offset: number, size: DeviceAccessSize): number {
      if (size === 1) return readByte(offset) & 0xff;
      let v = 0;
      for (let k = 0; k < size; k++) v |= (readByte(offset + k) & 0xff) << (8 * k);
      return v >>> 0;
    },
    write(offset: number, size: DeviceAccessSize, value: number): void {
      if (size === 1) {
        writeByte(offset, value & 0xff);
        return;
      }
      for (let k = 0; k < size; k++) writeByte(offset + k, (value >>> (8 * k)) & 0xff);
    },
  };
}
