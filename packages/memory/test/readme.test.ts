// Keeps the README's example true: the same code, with its results checked.
import { AccessKind, PhysicalAddressSpace, PortIoSpace, Ram } from "@turtles/memory";
import { expect, it } from "vitest";

it("runs the README example", () => {
  const space = new PhysicalAddressSpace();
  space.mapRam(0, new Ram(16 << 20), { name: "low RAM" });
  let lastWrite = 0;
  space.mapMmio(
    0xfec0_0000,
    0x20,
    {
      read: (offset) => (offset === 0 ? 0x11 : 0),
      write: (_offset, _size, value) => {
        lastWrite = value;
      },
    },
    "ioapic",
  );
  space.write32(0x1000, 0xdead_beef, AccessKind.Write);
  expect(space.read32(0x1000, AccessKind.Read)).toBe(0xdeadbeef);
  const pair = new Uint32Array(2);
  space.write64(0x2000, 0x89ab_cdef, 0x0123_4567, AccessKind.Write);
  space.read64(0x2000, AccessKind.Read, pair, 0);
  expect(Array.from(pair)).toEqual([0x89abcdef, 0x01234567]);
  space.write32(0xfec0_0010, 7, AccessKind.Write);
  expect(lastWrite).toBe(7);
  expect(space.read32(0xf000_0000, AccessKind.Read)).toBe(0xffffffff);
  expect(space.unresolved.unmappedReads).toBe(1);
  const io = new PortIoSpace();
  const out: number[] = [];
  io.register(0xe9, 1, { read: () => 0xe9, write: (_o, _s, v) => void out.push(v) }, "debugcon");
  io.write(0xe9, 1, 0x41);
  expect(out).toEqual([0x41]);
});
