import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DeviceAccessSize } from "./access.js";
import { type PortIoHandler, PortIoSpace } from "./port-io-space.js";

/** Ports that remember the last byte written per offset and log every access. */
class Latches implements PortIoHandler {
  readonly log: string[] = [];
  readonly bytes: Uint8Array;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }
  read(offset: number, size: DeviceAccessSize): number {
    this.log.push(`in${size}@${offset}`);
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.bytes[offset + k]! << (8 * k);
    return v >>> 0;
  }
  write(offset: number, size: DeviceAccessSize, value: number): void {
    this.log.push(`out${size}@${offset}=${value.toString(16)}`);
    for (let k = 0; k < size; k++) this.bytes[offset + k] = (value >>> (8 * k)) & 0xff;
  }
}

describe("PortIoSpace", () => {
  it("delivers accesses to the window with the offset inside it", () => {
    const io = new PortIoSpace();
    const uart = new Latches(8);
    io.register(0x3f8, 8, uart, "com1");
    io.write(0x3fb, 1, 0x83);
    io.write(0x3f8, 2, 0x0c01);
    expect(io.read(0x3fb, 1)).toBe(0x83);
    expect(io.read(0x3f8, 4)).toBe(0x83000c01 >>> 0);
    expect(uart.log).toEqual(["out1@3=83", "out2@0=c01", "in1@3", "in4@0"]);
    expect(io.windowAt(0x3ff)).toEqual({ base: 0x3f8, length: 8, name: "com1" });
    expect(io.windowAt(0x400)).toBeUndefined();
  });

  it("truncates written values to the access size and returns unsigned values", () => {
    const io = new PortIoSpace();
    const dev = new Latches(4);
    io.register(0x100, 4, dev);
    io.write(0x100, 1, 0x1234);
    io.write(0x102, 2, -1);
    expect(dev.log).toEqual(["out1@0=34", "out2@2=ffff"]);
    expect(io.read(0x100, 4)).toBe(0xffff0034);
  });

  it("reads unclaimed ports as all-ones, drops writes, counts and reports them", () => {
    const io = new PortIoSpace();
    const seen: string[] = [];
    io.observer = {
      unclaimed: (port, size, isWrite, value) => seen.push(`${isWrite}:${port}/${size}=${value}`),
    };
    expect(io.read(0x80, 1)).toBe(0xff);
    expect(io.read(0x80, 2)).toBe(0xffff);
    expect(io.read(0x80, 4)).toBe(0xffffffff);
    io.write(0x80, 1, 0x55);
    expect(seen).toEqual(["false:128/1=255", "false:128/2=65535", "false:128/4=4294967295", "true:128/1=85"]);
    expect(io.unclaimed).toEqual({ reads: 3, writes: 1 });
  });

  it("splits accesses that span windows or unclaimed ports into bytes, ascending", () => {
    const io = new PortIoSpace();
    const a = new Latches(2);
    const b = new Latches(2);
    io.register(0x10, 2, a, "a");
    io.register(0x12, 2, b, "b");
    a.bytes.set([1, 2]);
    b.bytes.set([3, 4]);
    expect(io.read(0x11, 2)).toBe(0x0302);
    expect(io.read(0x13, 2)).toBe(0xff04); // b's last port, then an unclaimed one
    io.write(0x11, 4, 0xddccbbaa);
    expect(a.log.slice(-1)).toEqual(["out1@1=aa"]);
    expect(b.log.slice(-2)).toEqual(["out1@0=bb", "out1@1=cc"]);
    expect(io.unclaimed.writes).toBe(1); // the 0xdd byte at port 0x14
  });

  it("treats bytes above port 0xFFFF as unclaimed (no wrap-around)", () => {
    const io = new PortIoSpace();
    const top = new Latches(1);
    const bottom = new Latches(1);
    io.register(0xffff, 1, top);
    io.register(0, 1, bottom);
    top.bytes[0] = 0x42;
    expect(io.read(0xffff, 2)).toBe(0xff42);
    expect(bottom.log).toEqual([]);
  });

  it("rejects overlapping or out-of-range windows and bad ports", () => {
    const io = new PortIoSpace();
    io.register(0x60, 1, new Latches(1), "kbd-data");
    expect(() => io.register(0x5e, 4, new Latches(4), "x")).toThrow(/kbd-data/);
    expect(() => io.register(0xfffe, 4, new Latches(4))).toThrow(RangeError);
    expect(() => io.register(0x10, 0, new Latches(1))).toThrow(RangeError);
    expect(() => io.read(0x10000, 1)).toThrow(RangeError);
    expect(() => io.write(-1, 1, 0)).toThrow(RangeError);
  });

  it("frees a window on unregister so the ports can be claimed again", () => {
    const io = new PortIoSpace();
    io.register(0x70, 2, new Latches(2), "rtc");
    io.unregister(0x70);
    expect(io.read(0x71, 1)).toBe(0xff);
    io.register(0x70, 2, new Latches(2), "rtc2");
    expect(io.windowAt(0x71)?.name).toBe("rtc2");
    expect(() => io.unregister(0x71)).toThrow(/no port window starts/);
  });

  it("performs string I/O as repeated accesses, little-endian in the buffer", () => {
    const io = new PortIoSpace();
    let next = 0;
    const fifo: PortIoHandler = {
      read: (_offset, size) => (size === 2 ? 0x0100 + next++ : next++),
      write: () => {},
    };
    io.register(0x1f0, 8, fifo, "ide");
    const dest = new Uint8Array(8);
    expect(io.readString(0x1f0, 2, 3, dest, 2)).toBe(6);
    expect(Array.from(dest)).toEqual([0, 0, 0, 1, 1, 1, 2, 1]);
    const sink = new Latches(4);
    io.register(0x300, 4, sink);
    io.writeString(0x300, 2, 2, new Uint8Array([0x34, 0x12, 0x78, 0x56]));
    expect(sink.log).toEqual(["out2@0=1234", "out2@0=5678"]);
    expect(() => io.readString(0x1f0, 4, 3, dest)).toThrow(/too small/);
  });

  it("is equivalent to byte-wise routing for any layout (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(60), fc.integer({ min: 1, max: 4 })), { maxLength: 6 }),
        fc.nat(63),
        fc.constantFrom<DeviceAccessSize>(1, 2, 4),
        fc.nat(0xffff_ffff),
        (windows, port, size, value) => {
          const io = new PortIoSpace();
          const shadow = new Uint8Array(70).fill(0xff);
          const claimed = new Uint8Array(70);
          for (const [base, length] of windows) {
            const dev = new Latches(length);
            try {
              io.register(base, length, dev);
            } catch {
              continue; // overlapping: rejected
            }
            for (let k = 0; k < length; k++) {
              claimed[base + k] = 1;
              shadow[base + k] = 0;
            }
          }
          io.write(port, size, value);
          for (let k = 0; k < size; k++) if (claimed[port + k]) shadow[port + k] = (value >>> (8 * k)) & 0xff;
          let expected = 0;
          for (let k = 0; k < size; k++) expected |= shadow[port + k]! << (8 * k);
          expect(io.read(port, size)).toBe(expected >>> 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
