// Puts a fresh Cpu directly into real, 32-bit protected or 64-bit long mode (no boot code) with a
// flat GDT, an empty IDT, a 64-bit TSS and identity-mapped 2 MiB pages, for the unit tests.
import { createRamSpace, type PhysicalAddressSpace, PortIoSpace, type Ram } from "@turtles/memory";
import { Cpu, type CpuModel, type InterruptSource, Seg } from "../src/index.js";

/** Layout of the test machine (physical = linear). */
export const L = {
  GDT: 0x1000,
  IDT: 0x2000,
  TSS: 0x3000,
  PML4: 0x10000,
  PDPT: 0x11000,
  PD: 0x12000,
  STACK: 0x80000,
  IST1: 0x70000,
  KSTACK: 0x60000,
  CODE: 0x100000,
  HANDLER: 0x200000,
  DATA: 0x300000,
} as const;

/** GDT selectors. */
export const SEL = {
  CODE32: 0x08,
  DATA: 0x10,
  CODE64: 0x18,
  DATA64: 0x20,
  CODE32_U: 0x28 | 3,
  DATA_U: 0x30 | 3,
  CODE64_U: 0x38 | 3,
  TSS: 0x40,
  CODE16: 0x50,
  SMALL: 0x58,
} as const;

const GDT_ENTRIES: [number, number][] = [
  [0, 0],
  [0x0000ffff, 0x00cf9a00], // 0x08 code32
  [0x0000ffff, 0x00cf9200], // 0x10 data
  [0x0000ffff, 0x00af9a00], // 0x18 code64
  [0x0000ffff, 0x00cf9200], // 0x20 data
  [0x0000ffff, 0x00cffa00], // 0x28 code32 DPL3
  [0x0000ffff, 0x00cff200], // 0x30 data DPL3
  [0x0000ffff, 0x00affa00], // 0x38 code64 DPL3
  [0, 0], // 0x40 TSS (filled below)
  [0, 0],
  [0x0000ffff, 0x00009a00], // 0x50 code16
  [0x0000000f, 0x00409200], // 0x58 data, limit 15 bytes, base 0
];

/** A test machine. */
export interface TestMachine {
  readonly cpu: Cpu;
  readonly memory: PhysicalAddressSpace;
  readonly ram: Ram;
  readonly io: PortIoSpace;
  /** Copies bytes to a physical address. */
  load(addr: number, bytes: Uint8Array | number[]): void;
  read32(addr: number): number;
  read64(addr: number): bigint;
  write32(addr: number, v: number): void;
  write64(addr: number, v: bigint): void;
  /** Installs an IDT gate: 64-bit (16 bytes) in long mode, 32-bit interrupt gate otherwise. */
  gate(vector: number, handler: number, options?: { dpl?: number; ist?: number; trap?: boolean }): void;
}

/** Creates a machine with 16 MiB of RAM in the given mode, RIP at L.CODE (real mode: 0000:7C00). */
export function createMachine(
  mode: "real" | "protected" | "long",
  interrupts?: InterruptSource,
  model?: CpuModel,
): TestMachine {
  const { space, ram } = createRamSpace(16 * 1024 * 1024);
  const io = new PortIoSpace();
  const cpu = new Cpu({
    memory: space,
    io,
    ...(interrupts === undefined ? {} : { interrupts }),
    ...(model === undefined ? {} : { model }),
  });
  const view = new DataView(ram.buffer);
  const m: TestMachine = {
    cpu,
    memory: space,
    ram,
    io,
    load: (addr, bytes) => ram.bytes.set(bytes, addr),
    read32: (addr) => view.getUint32(addr, true),
    read64: (addr) => view.getBigUint64(addr, true),
    write32: (addr, v) => view.setUint32(addr, v, true),
    write64: (addr, v) => view.setBigUint64(addr, v, true),
    gate(vector, handler, options = {}) {
      const dpl = options.dpl ?? 0;
      const type = options.trap === true ? 0xf : 0xe;
      if (mode === "long") {
        const at = L.IDT + vector * 16;
        view.setUint16(at, handler & 0xffff, true);
        view.setUint16(at + 2, SEL.CODE64, true);
        view.setUint8(at + 4, options.ist ?? 0);
        view.setUint8(at + 5, 0x80 | (dpl << 5) | type);
        view.setUint16(at + 6, (handler >>> 16) & 0xffff, true);
        view.setUint32(at + 8, 0, true);
        view.setUint32(at + 12, 0, true);
      } else {
        const at = L.IDT + vector * 8;
        view.setUint16(at, handler & 0xffff, true);
        view.setUint16(at + 2, SEL.CODE32, true);
        view.setUint8(at + 4, 0);
        view.setUint8(at + 5, 0x80 | (dpl << 5) | type);
        view.setUint16(at + 6, (handler >>> 16) & 0xffff, true);
      }
    },
  };
  const s = cpu.state;
  if (mode === "real") {
    s.segSelector[Seg.CS] = 0;
    s.segBase[2 * Seg.CS] = 0;
    s.rip = 0x7c00;
    s.gpr[8] = 0x7000;
    return m;
  }
  GDT_ENTRIES.forEach(([lo, hi], k) => {
    view.setUint32(L.GDT + 8 * k, lo, true);
    view.setUint32(L.GDT + 8 * k + 4, hi, true);
  });
  // 64-bit TSS descriptor at 0x40: base L.TSS, limit 0x67, type 9; RSP0 and IST1 in the TSS.
  view.setUint32(L.GDT + 0x40, ((L.TSS & 0xffff) << 16) | 0x67, true);
  view.setUint32(L.GDT + 0x44, ((L.TSS >>> 16) & 0xff) | 0x8900 | (L.TSS & 0xff000000), true);
  view.setUint32(L.TSS + 4, L.KSTACK, true);
  view.setUint32(L.TSS + 0x24, L.IST1, true);
  view.setUint16(L.TSS + 0x66, 0x68, true);
  // 32-bit TSS fields for protected mode: ESP0 at 4, SS0 at 8.
  if (mode === "protected") view.setUint32(L.TSS + 8, SEL.DATA, true);
  s.gdtr.baseLo = L.GDT;
  s.gdtr.limit = GDT_ENTRIES.length * 8 - 1;
  s.idtr.baseLo = L.IDT;
  s.idtr.limit = mode === "long" ? 256 * 16 - 1 : 256 * 8 - 1;
  const flat = (seg: number, sel: number, ar: number): void => {
    s.segSelector[seg] = sel;
    s.segBase[2 * seg] = 0;
    s.segBase[2 * seg + 1] = 0;
    s.segLimit[seg] = 0xffffffff;
    s.segAccess[seg] = ar;
  };
  s.segSelector[Seg.TR] = SEL.TSS;
  s.segBase[2 * Seg.TR] = L.TSS;
  s.segLimit[Seg.TR] = 0x67;
  s.segAccess[Seg.TR] = 0x8b;
  if (mode === "protected") {
    s.cr[0] = 0x00000011;
    flat(Seg.CS, SEL.CODE32, 0xc09b);
    for (const seg of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) flat(seg, SEL.DATA, 0xc093);
    s.segAccess[Seg.TR] = 0x8b;
  } else {
    // Identity map of the first 1 GiB with 2 MiB pages, user-accessible and writable.
    view.setUint32(L.PML4, L.PDPT | 7, true);
    view.setUint32(L.PDPT, L.PD | 7, true);
    for (let k = 0; k < 512; k++) {
      view.setUint32(L.PD + 8 * k, (k * 0x200000 + 0x87) >>> 0, true);
      view.setUint32(L.PD + 8 * k + 4, 0, true);
    }
    s.cr[0] = 0x80010011; // PG, WP, ET, PE
    s.cr[6] = L.PML4;
    s.cr[8] = 0x20; // PAE
    s.efer[0] = 0x501; // LMA, LME, SCE
    flat(Seg.CS, SEL.CODE64, 0xa09b);
    for (const seg of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) flat(seg, SEL.DATA64, 0xc093);
  }
  s.rip = L.CODE;
  s.gpr[8] = L.STACK;
  return m;
}
