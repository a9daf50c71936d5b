import type { DeviceAccessSize, MmioHandler, PortIoHandler } from "@turtles/memory";
import { PciFunction, type PciFunctionState } from "./pci-function.js";

/** pci-testdev's identity: Red Hat 1B36:0005, class "other" (0xFF0000), revision 0, no interrupt pin. */
export const PCI_TESTDEV_ID = { vendorId: 0x1b36, deviceId: 0x0005 } as const;

/** Size of BAR0 (memory) and BAR1 (I/O). */
export const PCI_TESTDEV_BARS = { memory: 4096, io: 256 } as const;

const TESTS_PER_TYPE = 3;
const TEST_NAMES = ["no-eventfd", "wildcard-eventfd", "datamatch-eventfd"] as const;
const TYPE_NAMES = ["mmio", "portio"] as const;
const DATA_MATCH = 0xfa;
const NO_MATCH = 0xce;
/** Header layout: test u8, width u8, pad 2, offset u32, data u8, pad 3, count u32, name. */
const HEADER_SIZE = 16;

interface TestHeader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly offset: number;
  readonly data: number;
}

/** The state of a {@link PciTestdev}, as plain data. */
export interface PciTestdevState extends PciFunctionState {
  /** The selected test (0-5), or -1. */
  current: number;
  /** Each test's hit counter. */
  counts: number[];
}

/**
 * QEMU's `pci-testdev` (hw/misc/pci-testdev.c), which kvm-unit-tests use to test MMIO and port
 * I/O exits. BAR0 is a 4 KiB memory window and BAR1 a 256-byte I/O window. Six tests exist: for
 * each window type (mmio = 0-2, portio = 3-5) "no-eventfd", "wildcard-eventfd" and
 * "datamatch-eventfd". Writing n (0-2) to offset 0 of a window selects test type*3 + n and clears
 * its counter (any other value deselects). Reads return the selected test's header byte by byte:
 * test number, width 1, the offset to write (window size / 2 + test number), the data byte to
 * match (0xFA, or 0xCE for the wildcard test), the 32-bit hit count and the test's name — and 0
 * past it or with no test selected. A byte write at the test's offset counts a hit when its value
 * equals the data byte (any value for the wildcard test). Like QEMU, every access is handled one
 * byte at a time. There are no eventfds here: the three tests differ only in their matching.
 */
export class PciTestdev extends PciFunction {
  private current = -1;
  private readonly tests: TestHeader[] = [];

  /** The device, with BAR0 (memory) and BAR1 (I/O) served by its own handlers. */
  constructor() {
    const handlers: [MmioHandler, PortIoHandler] = [
      { read: (o, s) => this.readBytes(o, s), write: (o, s, v) => this.writeBytes(o, s, v, 0) },
      { read: (o, s) => this.readBytes(o, s), write: (o, s, v) => this.writeBytes(o, s, v, 1) },
    ];
    super({ ...PCI_TESTDEV_ID, classCode: 0xff_00_00, revision: 0, interruptPin: 0 }, [
      { kind: "mem32", size: PCI_TESTDEV_BARS.memory, handler: handlers[0] },
      { kind: "io", size: PCI_TESTDEV_BARS.io, handler: handlers[1] },
    ]);
    for (let i = 0; i < TESTS_PER_TYPE * 2; i++) {
      const type = Math.floor(i / TESTS_PER_TYPE);
      const name = `${TYPE_NAMES[type]}-${TEST_NAMES[i % TESTS_PER_TYPE]}`;
      const bytes = new Uint8Array(HEADER_SIZE + name.length + 1);
      const v = new DataView(bytes.buffer);
      const offset = (type === 0 ? PCI_TESTDEV_BARS.memory : PCI_TESTDEV_BARS.io) / 2 + i;
      const data = i % TESTS_PER_TYPE === 1 ? NO_MATCH : DATA_MATCH;
      v.setUint8(0, i);
      v.setUint8(1, 1);
      v.setUint32(4, offset, true);
      v.setUint8(8, data);
      for (let k = 0; k < name.length; k++) bytes[HEADER_SIZE + k] = name.charCodeAt(k);
      this.tests.push({ bytes, view: v, offset, data });
    }
  }

  private readBytes(offset: number, size: DeviceAccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.readByte(offset + i);
    return v;
  }

  private readByte(addr: number): number {
    const test = this.tests[this.current];
    // QEMU compares addr + access size (1) with the header size: the last byte reads 0 too.
    if (test === undefined || addr + 1 >= test.bytes.byteLength) return 0;
    return test.bytes[addr]!;
  }

  private writeBytes(offset: number, size: DeviceAccessSize, value: number, type: number): void {
    for (let i = 0; i < size; i++) this.writeByte(offset + i, Math.floor(value / 2 ** (8 * i)) & 0xff, type);
  }

  private writeByte(addr: number, value: number, type: number): void {
    if (addr === 0) {
      this.current = -1;
      if (value >= TESTS_PER_TYPE) return;
      this.current = type * TESTS_PER_TYPE + value;
      this.setCount(this.current, 0);
      return;
    }
    const test = this.tests[this.current];
    if (test === undefined || addr !== test.offset) return;
    const matchData = this.current % TESTS_PER_TYPE !== 1;
    if (matchData && value !== test.data) return;
    this.setCount(this.current, this.count(this.current) + 1);
  }

  /** The hit counter of test `i` (0-5). */
  count(i: number): number {
    const t = this.tests[i];
    return t === undefined ? 0 : t.view.getUint32(12, true);
  }

  private setCount(i: number, n: number): void {
    this.tests[i]!.view.setUint32(12, n >>> 0, true);
  }

  /** A plain-data snapshot. */
  override state(): PciTestdevState {
    return { ...super.state(), current: this.current, counts: this.tests.map((_, i) => this.count(i)) };
  }

  /** Restores a snapshot taken by {@link PciTestdev.state}. */
  override fromState(s: PciTestdevState): void {
    this.current = s.current >= 0 && s.current < this.tests.length ? s.current : -1;
    s.counts.forEach((n, i) => {
      if (i < this.tests.length) this.setCount(i, n);
    });
    super.fromState(s);
  }
}
