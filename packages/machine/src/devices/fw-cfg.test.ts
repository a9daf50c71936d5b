import { AccessKind, createRamSpace, IdentityDma, PortIoSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRoundTrip } from "../../test/round-trip.js";
import { FwCfgDmaControl as Ctl, FW_CFG_PORTS, FwCfg, FwCfgKey, type FwCfgState } from "./fw-cfg.js";

function wire(dev: FwCfg) {
  const io = new PortIoSpace();
  io.register(FW_CFG_PORTS.selector, 2, dev, "fw_cfg");
  const select = (key: number) => io.write(FW_CFG_PORTS.selector, 2, key);
  const bytes = (n: number) => Array.from({ length: n }, () => io.read(FW_CFG_PORTS.data, 1));
  return { io, select, bytes };
}

/** Parses the directory the way a guest driver does (big-endian fields). */
function readDirectory(select: (k: number) => void, bytes: (n: number) => number[]) {
  select(FwCfgKey.FileDir);
  const [a, b, c, d] = bytes(4) as [number, number, number, number];
  const count = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const files: { size: number; select: number; name: string }[] = [];
  for (let i = 0; i < count; i++) {
    const e = bytes(64);
    const size = ((e[0]! << 24) | (e[1]! << 16) | (e[2]! << 8) | e[3]!) >>> 0;
    const key = (e[4]! << 8) | e[5]!;
    const nameBytes = e.slice(8, 64);
    const name = String.fromCharCode(...nameBytes.slice(0, nameBytes.indexOf(0)));
    files.push({ size, select: key, name });
  }
  return files;
}

describe("FwCfg", () => {
  const options = { cpuCount: 2, ramSize: 0x1_2000_0000, cmdline: "console=ttyS0" };

  it("reads the signature, ID, CPU count, RAM size and command line", () => {
    const { io, select, bytes } = wire(new FwCfg(options));
    select(FwCfgKey.Signature);
    expect(String.fromCharCode(...bytes(4))).toBe("QEMU");
    expect(bytes(2)).toEqual([0, 0]); // past the end
    select(FwCfgKey.Id);
    expect(bytes(4)).toEqual([1, 0, 0, 0]);
    select(FwCfgKey.NbCpus);
    expect(bytes(2)).toEqual([2, 0]);
    select(FwCfgKey.RamSize);
    expect(bytes(8)).toEqual([0, 0, 0, 0x20, 1, 0, 0, 0]);
    select(FwCfgKey.CmdlineSize);
    expect(bytes(4)).toEqual([14, 0, 0, 0]);
    select(FwCfgKey.CmdlineData);
    expect(String.fromCharCode(...bytes(14))).toBe("console=ttyS0\0");
    select(0x1234); // no such item
    expect(bytes(2)).toEqual([0, 0]);
    select(FwCfgKey.Signature);
    io.write(FW_CFG_PORTS.selector, 1, FwCfgKey.Id); // a byte write is a (refused) data write
    expect(io.read(FW_CFG_PORTS.selector, 1)).toBe(0x51); // a byte read of either port reads data
    expect(bytes(1)).toEqual([0x45]);
  });

  it("lists files in a big-endian, name-sorted directory whose keys read the contents", () => {
    const dev = new FwCfg(options);
    dev.addFile("etc/e820", new Uint8Array([1, 2, 3]));
    dev.addFile("bootorder", new Uint8Array(300));
    const { select, bytes } = wire(dev);
    const dir = readDirectory(select, bytes);
    expect(dir).toEqual([
      { size: 300, select: 0x20, name: "bootorder" },
      { size: 3, select: 0x21, name: "etc/e820" },
    ]);
    expect(dev.directory()).toEqual(dir);
    select(0x21);
    expect(bytes(3)).toEqual([1, 2, 3]);
    expect(() => dev.addFile("x".repeat(56), new Uint8Array())).toThrow(RangeError);
    expect(() => dev.setItem(0x20, new Uint8Array())).toThrow(RangeError);
    dev.setItem(0x8003, new Uint8Array([9]));
    select(0x8003);
    expect(bytes(1)).toEqual([9]);
  });

  it("runs DMA transfers: select + read, skip, zero fill past the end, write refused", () => {
    const { space } = createRamSpace(1 << 20);
    const dev = new FwCfg({ ...options, dma: new IdentityDma(space) });
    dev.addFile("etc/e820", new Uint8Array([1, 2, 3, 4, 5]));
    const io = new PortIoSpace();
    io.register(FW_CFG_PORTS.selector, 2, dev);
    io.register(FW_CFG_PORTS.dma, 8, dev.dmaPorts);
    const be32 = (v: number) => ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    /** What a guest driver does: build the access structure, write its address, read control back. */
    const transfer = (control: number, length: number, target: number): number => {
      const desc = new DataView(new ArrayBuffer(16));
      desc.setUint32(0, control);
      desc.setUint32(4, length);
      desc.setUint32(12, target);
      space.writeBytes(0x1000, new Uint8Array(desc.buffer), AccessKind.Write);
      io.write(FW_CFG_PORTS.dma, 4, be32(0));
      io.write(FW_CFG_PORTS.dma + 4, 4, be32(0x1000) >>> 0);
      const back = new Uint8Array(4);
      space.readBytes(0x1000, back, AccessKind.Read);
      return new DataView(back.buffer).getUint32(0);
    };
    const bytes = (at: number, n: number) => {
      const out = new Uint8Array(n);
      space.readBytes(at, out, AccessKind.Read);
      return Array.from(out);
    };
    expect(io.read(FW_CFG_PORTS.dma, 4)).toBe(0x554d4551); // "QEMU" in port order
    expect(io.read(FW_CFG_PORTS.dma + 4, 4)).toBe(0x47464320); // " CFG"
    expect(transfer((FwCfgKey.Id << 16) | Ctl.Select | Ctl.Read, 4, 0x2000)).toBe(0);
    expect(bytes(0x2000, 4)).toEqual([3, 0, 0, 0]); // traditional + DMA
    expect(transfer((FwCfgKey.FileDir << 16) | Ctl.Select | Ctl.Skip, 4, 0)).toBe(0);
    expect(transfer(Ctl.Read, 8, 0x3000)).toBe(0);
    expect(bytes(0x3000, 8)).toEqual([0, 0, 0, 5, 0, 0x20, 0, 0]); // size 5, select 0x20
    space.writeBytes(0x4000, new Uint8Array(8).fill(0xee), AccessKind.Write);
    expect(transfer((0x20 << 16) | Ctl.Select | Ctl.Read, 8, 0x4000)).toBe(0);
    expect(bytes(0x4000, 8)).toEqual([1, 2, 3, 4, 5, 0, 0, 0]);
    expect(transfer((0x20 << 16) | Ctl.Select | Ctl.Write, 1, 0x4000)).toBe(Ctl.Error);
    // Traditional reads continue from the DMA offset.
    transfer((0x20 << 16) | Ctl.Select | Ctl.Skip, 2, 0);
    expect(io.read(FW_CFG_PORTS.data, 1)).toBe(3);
    io.write(FW_CFG_PORTS.selector, 2, 0x20);
    expect(io.read(FW_CFG_PORTS.data, 1)).toBe(1);
  });

  it("offers no DMA without a DmaSpace", () => {
    const dev = new FwCfg(options);
    const { select, bytes } = wire(dev);
    select(FwCfgKey.Id);
    expect(bytes(4)).toEqual([1, 0, 0, 0]);
  });

  it("state()/fromState() round-trips (property)", () => {
    type Op = { select: number } | { read: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ select: fc.constantFrom(0, 1, 3, 5, 0x14, 0x15, 0x19, 0x20, 0x4000, 0x99) }),
      fc.record({ read: fc.integer({ min: 1, max: 20 }) }),
    );
    checkRoundTrip<FwCfgState, Op>((start) => {
      const dev = new FwCfg(options);
      dev.addFile(
        "etc/table",
        new Uint8Array(40).map((_, i) => i),
      );
      const { select, bytes } = wire(dev);
      const log: unknown[] = [];
      return {
        log,
        nowNs: () => start,
        state: () => dev.state(),
        fromState: (s) => dev.fromState(s),
        apply: (o) => ("select" in o ? select(o.select) : log.push(bytes(o.read))),
      };
    }, op);
  });
});
