// @turtles/memory: accesses per second for aligned 32/64-bit RAM reads and writes, and for MMIO
// and port I/O dispatch. Run: npm run bench -- memory
import { AccessKind, createRamSpace, PortIoSpace } from "@turtles/memory";
import { measure, printTable } from "./_harness.js";

const N = 4_000_000;
const { space } = createRamSpace(1 << 20);
const mask = (1 << 20) - 8;
const out = new Uint32Array(2);
let sink = 0;

const rows = [
  measure("RAM read32 (aligned)", N, () => {
    for (let i = 0; i < N; i++) sink ^= space.read32((i * 4) & mask, AccessKind.Read);
  }),
  measure("RAM read64 (aligned)", N, () => {
    for (let i = 0; i < N; i++) {
      space.read64((i * 8) & mask, AccessKind.Read, out, 0);
      sink ^= out[0]!;
    }
  }),
  measure("RAM write32 (aligned)", N, () => {
    for (let i = 0; i < N; i++) space.write32((i * 4) & mask, i, AccessKind.Write);
  }),
];

// The same writes once the region has a watched page (elsewhere): each write also tests a flag.
space.watchPage((1 << 20) - 4096, () => {});
rows.push(
  measure("RAM write32, region has a watched page", N, () => {
    for (let i = 0; i < N; i++) space.write32((i * 4) & (mask >> 1), i, AccessKind.Write);
  }),
);

let reg = 0;
space.mapMmio(0xfee00000, 0x1000, {
  read: (offset) => reg + offset,
  write: (_offset, _size, value) => {
    reg = value;
  },
});
rows.push(
  measure("MMIO read32 dispatch", N, () => {
    for (let i = 0; i < N; i++) sink ^= space.read32(0xfee00000 + ((i * 4) & 0xffc), AccessKind.Read);
  }),
  measure("MMIO write32 dispatch", N, () => {
    for (let i = 0; i < N; i++) space.write32(0xfee000b0, i, AccessKind.Write);
  }),
);

const io = new PortIoSpace();
io.register(0xf4, 4, {
  read: () => reg,
  write: (_o, _s, v) => {
    reg = v;
  },
});
rows.push(
  measure("port out8 dispatch", N, () => {
    for (let i = 0; i < N; i++) io.write(0xf4, 1, i);
  }),
  measure("port in32 dispatch", N, () => {
    for (let i = 0; i < N; i++) sink ^= io.read(0xf4, 4);
  }),
);

printTable(rows);
if (sink === 0.5) console.log(sink); // keep the loops observable
