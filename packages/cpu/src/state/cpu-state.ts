import { LazyFlags } from "./lazy-flags.js";

/** A descriptor-table register (GDTR or IDTR): a 64-bit base as halves and a 16-bit limit. */
export class DescriptorTableRegister {
  /** Base address, low half. */
  baseLo = 0;
  /** Base address, high half. */
  baseHi = 0;
  /** Limit (16 bits). */
  limit = 0xffff;
}

/**
 * The architectural register state of one logical x86-64 processor, kept in typed arrays and plain
 * number fields so instruction handlers stay monomorphic and allocate nothing. 64-bit registers
 * are two 32-bit halves: element `2n` is the low half of register `n`, `2n + 1` the high half.
 *
 * Segment registers hold their hidden parts (SDM vol. 3, 3.4.3): selector, base, limit and access
 * rights, the latter in the VMCS format (SDM vol. 3, 25.4.1: type, S, DPL, P, AVL, L, D/B, G in
 * bits 0-15, bit 16 = unusable).
 */
export class CpuState {
  /** The 16 general-purpose registers as lo/hi halves (32 elements). */
  readonly gpr = new Uint32Array(32);
  /**
   * Instruction pointer as a number: a canonical address held signed (|rip| < 2^47) in 64-bit
   * mode, 0 .. 2^32 - 1 otherwise.
   */
  rip = 0xfff0;
  /** RFLAGS, with lazily computed arithmetic flags. */
  readonly flags = new LazyFlags();
  /** Segment selectors, indexed by {@link Seg}. */
  readonly segSelector = new Uint16Array(8);
  /** Segment bases as lo/hi halves (16 elements), indexed by 2 × {@link Seg}. */
  readonly segBase = new Uint32Array(16);
  /** Segment limits (expanded to bytes), indexed by {@link Seg}. */
  readonly segLimit = new Uint32Array(8);
  /** Segment access rights in the VMCS format, indexed by {@link Seg}. */
  readonly segAccess = new Uint32Array(8);
  /** GDTR. */
  readonly gdtr = new DescriptorTableRegister();
  /** IDTR. */
  readonly idtr = new DescriptorTableRegister();
  /** Control registers CR0-CR15 as lo/hi halves (32 elements); CR0, 2, 3, 4 and 8 exist. */
  readonly cr = new Uint32Array(32);
  /** Debug registers DR0-DR7 as lo/hi halves (16 elements). */
  readonly dr = new Uint32Array(16);
  /**
   * DR6 bits (BS, B0-B3, BT) of a #DB trap held over a MOV SS/POP SS shadow, delivered after the
   * next instruction (SDM vol. 3, 6.8.3); 0 when none.
   */
  pendingDebug = 0;
  /** IA32_EFER as lo/hi halves. */
  readonly efer = new Uint32Array(2);
  /** XCR0 as lo/hi halves. */
  readonly xcr0 = new Uint32Array(2);
  /** PKRU, the protection-key rights register (SDM vol. 3A, 4.6.2): AD and WD bits per key. */
  pkru = 0;
  /**
   * Activity state, in the VMCS encoding (SDM vol. 3, 25.4.2): 0 active, 1 HLT, 3 wait-for-SIPI
   * (after INIT on an application processor).
   */
  activity = 0;
  /**
   * Interruptibility state, in the VMCS encoding (SDM vol. 3, 25.4.2, "Format of Interruptibility
   * State"): bit 0 blocking by STI, bit 1 blocking by MOV SS/POP SS, bit 3 blocking by NMI (an NMI
   * handler runs until the next IRET).
   */
  interruptibility = 0;
  /** 1 while an NMI has been latched and not yet delivered (the NMI input is edge-triggered). */
  nmiPending = 0;
  /**
   * Scratch outputs of the ALU functions (not architectural): `[lo, hi, lo2, hi2]` — the result,
   * then a second result where there is one (high product, remainder, old value, ...).
   */
  readonly out = new Uint32Array(4);

  /** Creates a processor in its power-up state (SDM vol. 3, 10.1.1, Table 10-1). */
  constructor() {
    this.reset();
  }

  /** Puts the registers in their power-up state (SDM vol. 3, Table 10-1). */
  reset(): void {
    this.gpr.fill(0);
    this.gpr[2 * 2] = 0x600; // EDX holds the processor signature; a family-6 placeholder.
    this.rip = 0xfff0;
    this.flags.write(0x2);
    for (let s = 0; s < 8; s++) {
      this.segSelector[s] = 0;
      this.segBase[2 * s] = 0;
      this.segBase[2 * s + 1] = 0;
      this.segLimit[s] = 0xffff;
      this.segAccess[s] = 0x93; // present, read/write, accessed
    }
    this.segSelector[1] = 0xf000;
    this.segBase[2] = 0xffff0000;
    this.segAccess[1] = 0x9b; // present, execute/read, accessed
    this.segAccess[6] = 0x82; // LDT
    this.segAccess[7] = 0x8b; // busy 32-bit TSS
    this.gdtr.baseLo = this.gdtr.baseHi = 0;
    this.gdtr.limit = 0xffff;
    this.idtr.baseLo = this.idtr.baseHi = 0;
    this.idtr.limit = 0xffff;
    this.cr.fill(0);
    this.cr[0] = 0x60000010; // CD, NW, ET
    this.dr.fill(0);
    this.dr[12] = 0xffff0ff0; // DR6
    this.dr[14] = 0x400; // DR7
    this.pendingDebug = 0;
    this.efer.fill(0);
    this.xcr0[0] = 1;
    this.xcr0[1] = 0;
    this.pkru = 0;
    this.activity = 0;
    this.interruptibility = 0;
    this.nmiPending = 0;
    this.out.fill(0);
  }

  /**
   * Reads an 8-bit register. Without a REX prefix, numbers 4-7 name AH, CH, DH, BH (bits 8-15 of
   * registers 0-3); with any REX prefix they name SPL, BPL, SIL, DIL (SDM vol. 1, 3.4.1.1).
   */
  get8(reg: number, rex: boolean): number {
    if (!rex && reg >= 4 && reg < 8) return (this.gpr[2 * (reg - 4)]! >>> 8) & 0xff;
    return this.gpr[2 * reg]! & 0xff;
  }

  /** Writes an 8-bit register (see {@link CpuState.get8}); the other bits are kept. */
  set8(reg: number, rex: boolean, value: number): void {
    if (!rex && reg >= 4 && reg < 8) {
      const i = 2 * (reg - 4);
      this.gpr[i] = (this.gpr[i]! & 0xffff00ff) | ((value & 0xff) << 8);
    } else {
      const i = 2 * reg;
      this.gpr[i] = (this.gpr[i]! & 0xffffff00) | (value & 0xff);
    }
  }

  /** Reads the low 16 bits of a register. */
  get16(reg: number): number {
    return this.gpr[2 * reg]! & 0xffff;
  }

  /** Writes the low 16 bits of a register; bits 16-63 are kept. */
  set16(reg: number, value: number): void {
    const i = 2 * reg;
    this.gpr[i] = (this.gpr[i]! & 0xffff0000) | (value & 0xffff);
  }

  /** Reads the low 32 bits of a register (unsigned). */
  get32(reg: number): number {
    return this.gpr[2 * reg]!;
  }

  /** Writes the low 32 bits of a register and clears bits 32-63, as 32-bit results do in 64-bit mode. */
  set32(reg: number, value: number): void {
    this.gpr[2 * reg] = value;
    this.gpr[2 * reg + 1] = 0;
  }

  /** Reads the low half of a 64-bit register (unsigned). */
  lo(reg: number): number {
    return this.gpr[2 * reg]!;
  }

  /** Reads the high half of a 64-bit register (unsigned). */
  hi(reg: number): number {
    return this.gpr[2 * reg + 1]!;
  }

  /** Writes a 64-bit register from its halves. */
  set64(reg: number, lo: number, hi: number): void {
    this.gpr[2 * reg] = lo;
    this.gpr[2 * reg + 1] = hi;
  }

  /**
   * Writes a register at an operand size the way a legacy/64-bit instruction result does: 8 and
   * 16 bits merge into the old value, 32 bits zero-extend, 64 bits write both halves. For 8 bits
   * `rex` selects SPL-DIL over AH-BH.
   */
  setSized(reg: number, size: 8 | 16 | 32 | 64, lo: number, hi: number, rex: boolean): void {
    if (size === 64) this.set64(reg, lo, hi);
    else if (size === 32) this.set32(reg, lo);
    else if (size === 16) this.set16(reg, lo);
    else this.set8(reg, rex, lo);
  }
}
