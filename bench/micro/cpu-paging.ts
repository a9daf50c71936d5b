// Micro-benchmark of @turtles/cpu's paging: guest code that switches address spaces with MOV to
// CR3 and touches 16 pages after each switch, with CR4.PCIDE = 0 (every switch empties the TLB),
// with PCIDs but bit 63 clear (the new PCID's entries are dropped), and with PCIDs and bit 63 set
// (each PCID keeps its translations). Also a plain loop of TLB hits for reference.
//   node --conditions=@turtles/source --import tsx bench/micro/cpu-paging.ts
import { Cpu } from "@turtles/cpu";
import { createRamSpace, PortIoSpace } from "@turtles/memory";
import { measure, printTable } from "./_harness.js";

const PML4 = 0x10000;
// top: mov rax,r8; mov cr3,rax; mov rbx,0x400000; mov ecx,16;
//      1: mov rdx,[rbx]; add rbx,4096; dec ecx; jnz 1b
//      mov rax,r9; mov cr3,rax; (the same 16 touches); jmp top
const TOUCH = [
  0x48, 0xc7, 0xc3, 0, 0, 0x40, 0, 0xb9, 16, 0, 0, 0, 0x48, 0x8b, 0x13, 0x48, 0x81, 0xc3, 0, 0x10, 0, 0, 0xff,
  0xc9, 0x75, 0xf2,
];
const SWITCH = [
  ...[0x4c, 0x89, 0xc0, 0x0f, 0x22, 0xd8],
  ...TOUCH,
  ...[0x4c, 0x89, 0xc8, 0x0f, 0x22, 0xd8],
  ...TOUCH,
];
const SWITCH_LOOP = [...SWITCH, 0xeb, -(SWITCH.length + 2) & 0xff];
// A loop of hits: mov rdx,[rbx]; add rbx,8; and rbx,0x3fff (4 pages); or rbx,0x400000; dec ecx... forever
const HITS = [
  0x48, 0x8b, 0x13, 0x48, 0x83, 0xc3, 0x08, 0x48, 0x81, 0xe3, 0xff, 0x3f, 0, 0, 0x48, 0x81, 0xcb, 0, 0, 0x40,
  0, 0xeb, 0xe9,
];

function machine(code: number[], cr4: number, r8: [number, number], r9: [number, number]): Cpu {
  const { space, ram } = createRamSpace(16 << 20);
  const v = new DataView(ram.buffer);
  const cpu = new Cpu({ memory: space, io: new PortIoSpace() });
  v.setUint32(PML4, 0x11000 | 7, true);
  v.setUint32(0x11000, 0x12000 | 7, true);
  for (let k = 0; k < 512; k++) v.setUint32(0x12000 + 8 * k, k * 0x200000 + 0x87, true);
  ram.bytes.set(code, 0x100000);
  const s = cpu.state;
  s.cr[0] = 0x80010011;
  s.cr[6] = PML4;
  s.cr[8] = cr4;
  s.efer[0] = 0x500;
  s.segAccess[1] = 0xa09b;
  s.segSelector[1] = 8;
  s.rip = 0x100000;
  s.set64(8, r8[0], r8[1]);
  s.set64(9, r9[0], r9[1]);
  s.set64(3, 0x400000, 0);
  return cpu;
}

const N = 2_000_000;
const PAE = 0x20;
const PCIDE = 0x20000;
const cases: [string, Cpu][] = [
  ["TLB hits (mov from 4 pages), instr", machine(HITS, PAE, [0, 0], [0, 0])],
  ["CR3 switch + 16 pages, PCIDE=0, instr", machine(SWITCH_LOOP, PAE, [PML4, 0], [PML4, 0])],
  [
    "CR3 switch + 16 pages, PCID, bit 63=0, instr",
    machine(SWITCH_LOOP, PAE | PCIDE, [PML4 | 1, 0], [PML4 | 2, 0]),
  ],
  [
    "CR3 switch + 16 pages, PCID, bit 63=1, instr",
    machine(SWITCH_LOOP, PAE | PCIDE, [PML4 | 1, 0x8000_0000], [PML4 | 2, 0x8000_0000]),
  ],
];
const rows = cases.map(([name, cpu]) =>
  measure(name, N, () => {
    if (cpu.run(N) !== 0) throw new Error(`${name}: the guest stopped`);
  }),
);
printTable(rows);
console.log(`(one switch iteration = ${2 * (2 + 2 + 16 * 4) + 1} guest instructions with two MOV to CR3)`);
