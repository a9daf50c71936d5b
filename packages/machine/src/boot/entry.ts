import { AccessKind, type PhysicalMemory } from "@turtles/memory";

/** The processor mode a loader leaves the machine in. */
export const BootMode = {
  /** Real mode: CS:IP, 16-bit segments, paging and protection off. */
  Real: "real",
  /** 32-bit protected mode, flat segments, paging off. */
  Protected32: "protected32",
  /** 64-bit long mode with an identity map, flat segments. */
  Long64: "long64",
} as const;

/** One of the {@link BootMode} values. */
export type BootMode = (typeof BootMode)[keyof typeof BootMode];

/**
 * A segment register as the processor holds it after a load: selector and its hidden part. The
 * access rights use the VMCS guest-segment layout (SDM vol. 3 §25.4.1 Table 25-2): bits 3:0 type,
 * 4 S, 6:5 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G.
 */
export interface SegmentSetup {
  /** The selector. */
  readonly selector: number;
  /** Base address. */
  readonly base: number;
  /** Limit in bytes (already scaled by G). */
  readonly limit: number;
  /** Access rights (VMCS layout). */
  readonly access: number;
}

/** A descriptor-table register (GDTR/IDTR). */
export interface TableRegister {
  /** Linear base address. */
  readonly base: number;
  /** Limit (size - 1). */
  readonly limit: number;
}

/** The general-purpose registers a loader sets (every other register is 0). */
export interface BootRegisters {
  /** RAX. */
  readonly rax: number;
  /** RBX. */
  readonly rbx: number;
  /** RCX. */
  readonly rcx: number;
  /** RDX. */
  readonly rdx: number;
  /** RSI. */
  readonly rsi: number;
  /** RDI. */
  readonly rdi: number;
  /** RBP. */
  readonly rbp: number;
  /** RSP. */
  readonly rsp: number;
}

/**
 * The processor state a boot loader asks for at the kernel's entry: plain data the CPU applies
 * (the loader never sees the CPU). Control registers are given in full; RFLAGS is 0x2 (IF clear)
 * unless stated.
 */
export interface BootEntryState {
  /** The mode the state describes. */
  readonly mode: BootMode;
  /** The entry point: RIP (EIP / IP relative to CS in real mode). */
  readonly rip: number;
  /** RFLAGS. */
  readonly rflags: number;
  /** General-purpose registers. */
  readonly registers: BootRegisters;
  /** CS. */
  readonly cs: SegmentSetup;
  /** DS. */
  readonly ds: SegmentSetup;
  /** ES. */
  readonly es: SegmentSetup;
  /** FS. */
  readonly fs: SegmentSetup;
  /** GS. */
  readonly gs: SegmentSetup;
  /** SS. */
  readonly ss: SegmentSetup;
  /** GDTR (the table is written in guest memory; base 0, limit 0xFFFF in real mode). */
  readonly gdt: TableRegister;
  /** IDTR (an empty table: the kernel installs its own). */
  readonly idt: TableRegister;
  /** CR0. */
  readonly cr0: number;
  /** CR3 (the PML4 in long mode, else 0). */
  readonly cr3: number;
  /** CR4. */
  readonly cr4: number;
  /** IA32_EFER. */
  readonly efer: number;
}

/** Where the loaders put their fixed low-memory structures. */
export const BOOT_ADDRESSES = {
  /** The boot GDT (4 entries, 32 bytes). */
  gdt: 0x500,
  /** The boot stack top used by the Linux and plain-ELF entries. */
  stack: 0x8ff0,
  /** The identity-map page tables (PML4, PDPT, 4 page directories: 0x9000-0xEFFF). */
  pml4: 0x9000,
} as const;

/** Low-memory ranges the entry state uses, by mode (a kernel loaded over them is refused). */
export const BOOT_RESERVED = {
  /** The boot GDT. */
  gdt: [0x500, 0x520, "the boot GDT"],
  /** The page below the boot stack pointer. */
  stack: [0x8000, 0x9000, "the boot stack"],
  /** The long-mode identity map. */
  pageTables: [0x9000, 0xf000, "the identity-map page tables"],
} as const;

/** Selectors of the boot GDT: the Linux boot protocol's `__BOOT_CS` and `__BOOT_DS`. */
export const BOOT_SELECTORS = { code: 0x10, data: 0x18 } as const;

const CR0_PE = 0x1;
const CR0_ET = 0x10;
const CR0_PG = 0x8000_0000;
const CR4_PAE = 0x20;
const EFER_LME = 0x100;
const EFER_LMA = 0x400;

// Access rights (VMCS layout) of flat segments.
const AR_CODE32 = 0xc09b; // G, D, P, S, type 0xB (execute/read, accessed)
const AR_CODE64 = 0xa09b; // G, L, P, S, type 0xB
const AR_DATA = 0xc093; // G, B, P, S, type 0x3 (read/write, accessed)
const AR_REAL_CODE = 0x9b;
const AR_REAL_DATA = 0x93;

/**
 * Writes the boot GDT at {@link BOOT_ADDRESSES}.gdt: two null entries, a flat code segment at
 * 0x10 (32-bit, or 64-bit for long mode) and a flat data segment at 0x18.
 */
export function writeBootGdt(mem: PhysicalMemory, long: boolean): TableRegister {
  const base = BOOT_ADDRESSES.gdt;
  mem.write64(base, 0, 0, AccessKind.Write);
  mem.write64(base + 8, 0, 0, AccessKind.Write);
  // Descriptor = limit 15:0 | base 15:0 ; base 23:16 | type/S/DPL/P | limit 19:16 | AVL/L/DB/G | base 31:24.
  mem.write64(base + 0x10, 0x0000_ffff, long ? 0x00af_9b00 : 0x00cf_9b00, AccessKind.Write);
  mem.write64(base + 0x18, 0x0000_ffff, 0x00cf_9300, AccessKind.Write);
  return { base, limit: 0x1f };
}

/**
 * Writes page tables identity-mapping the first 4 GiB with 2 MiB pages (present, writable) at
 * {@link BOOT_ADDRESSES}.pml4 and returns the PML4's address (the CR3 value).
 */
export function writeIdentityMap(mem: PhysicalMemory): number {
  const pml4 = BOOT_ADDRESSES.pml4;
  const pdpt = pml4 + 0x1000;
  const pd0 = pml4 + 0x2000;
  for (let i = 0; i < 512; i++) {
    mem.write64(pml4 + 8 * i, i === 0 ? pdpt | 3 : 0, 0, AccessKind.Write);
    mem.write64(pdpt + 8 * i, i < 4 ? (pd0 + 0x1000 * i) | 3 : 0, 0, AccessKind.Write);
  }
  for (let i = 0; i < 4 * 512; i++) {
    const addr = i * 0x20_0000;
    mem.write64(pd0 + 8 * i, (addr | 0x83) >>> 0, 0, AccessKind.Write); // P, RW, PS
  }
  return pml4;
}

const NO_REGISTERS: BootRegisters = { rax: 0, rbx: 0, rcx: 0, rdx: 0, rsi: 0, rdi: 0, rbp: 0, rsp: 0 };

function flat(selector: number, access: number): SegmentSetup {
  return { selector, base: 0, limit: 0xffff_ffff, access };
}

/**
 * The entry state of a 32-bit protected-mode kernel (multiboot, Linux 32-bit protocol, ELF32):
 * writes the boot GDT and returns flat CS = 0x10 and DS/ES/FS/GS/SS = 0x18, paging off.
 */
export function protectedModeEntry(
  mem: PhysicalMemory,
  rip: number,
  registers: Partial<BootRegisters>,
): BootEntryState {
  const gdt = writeBootGdt(mem, false);
  const data = flat(BOOT_SELECTORS.data, AR_DATA);
  return {
    mode: BootMode.Protected32,
    rip,
    rflags: 0x2,
    registers: { ...NO_REGISTERS, ...registers },
    cs: flat(BOOT_SELECTORS.code, AR_CODE32),
    ds: data,
    es: data,
    fs: data,
    gs: data,
    ss: data,
    gdt,
    idt: { base: 0, limit: 0 },
    cr0: CR0_PE | CR0_ET,
    cr3: 0,
    cr4: 0,
    efer: 0,
  };
}

/**
 * The entry state of a 64-bit kernel (Linux 64-bit protocol, ELF64): writes the boot GDT (64-bit
 * code at 0x10) and a 4 GiB identity map; paging, PAE, LME/LMA on.
 */
export function longModeEntry(
  mem: PhysicalMemory,
  rip: number,
  registers: Partial<BootRegisters>,
): BootEntryState {
  const gdt = writeBootGdt(mem, true);
  const cr3 = writeIdentityMap(mem);
  const data = flat(BOOT_SELECTORS.data, AR_DATA);
  return {
    mode: BootMode.Long64,
    rip,
    rflags: 0x2,
    registers: { ...NO_REGISTERS, ...registers },
    cs: flat(BOOT_SELECTORS.code, AR_CODE64),
    ds: data,
    es: data,
    fs: data,
    gs: data,
    ss: data,
    gdt,
    idt: { base: 0, limit: 0 },
    cr0: (CR0_PE | CR0_ET | CR0_PG) >>> 0,
    cr3,
    cr4: CR4_PAE,
    efer: EFER_LME | EFER_LMA,
  };
}

/** The entry state of real-mode code at `cs:ip` (all data segments equal to CS, SP as given). */
export function realModeEntry(cs: number, ip: number, sp = 0xfffe): BootEntryState {
  const seg = (access: number): SegmentSetup => ({ selector: cs, base: cs * 16, limit: 0xffff, access });
  const data = seg(AR_REAL_DATA);
  return {
    mode: BootMode.Real,
    rip: ip,
    rflags: 0x2,
    registers: { ...NO_REGISTERS, rsp: sp },
    cs: seg(AR_REAL_CODE),
    ds: data,
    es: data,
    fs: data,
    gs: data,
    ss: data,
    gdt: { base: 0, limit: 0xffff },
    idt: { base: 0, limit: 0x3ff },
    cr0: CR0_ET,
    cr3: 0,
    cr4: 0,
    efer: 0,
  };
}
