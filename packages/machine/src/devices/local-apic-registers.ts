// The local APIC's register map as data (SDM vol. 3 §11.4.1 Table 11-1 for the xAPIC MMIO
// offsets, §11.12.1.2 Table 11-6 for the x2APIC MSRs). Index = MMIO offset >> 4 = MSR - 0x800.

/** How a register may be reached in one mode. */
export const RegAccess = {
  /** Not present: xAPIC MMIO reads 0 and sets ESR "illegal register address"; x2APIC #GP. */
  None: 0,
  /** Read-only: writes are ignored (xAPIC) or #GP (x2APIC). */
  ReadOnly: 1,
  /** Write-only: reads return 0 (xAPIC) or #GP (x2APIC). */
  WriteOnly: 2,
  /** Read/write. */
  ReadWrite: 3,
} as const;

/** One of the {@link RegAccess} values. */
export type RegAccess = (typeof RegAccess)[keyof typeof RegAccess];

/** Register indexes (MMIO offset >> 4). */
export const ApicReg = {
  Id: 0x02,
  Version: 0x03,
  Tpr: 0x08,
  Apr: 0x09,
  Ppr: 0x0a,
  Eoi: 0x0b,
  Rrd: 0x0c,
  Ldr: 0x0d,
  Dfr: 0x0e,
  Svr: 0x0f,
  Isr0: 0x10,
  Tmr0: 0x18,
  Irr0: 0x20,
  Esr: 0x28,
  LvtCmci: 0x2f,
  IcrLow: 0x30,
  IcrHigh: 0x31,
  LvtTimer: 0x32,
  LvtThermal: 0x33,
  LvtPerf: 0x34,
  LvtLint0: 0x35,
  LvtLint1: 0x36,
  LvtError: 0x37,
  InitialCount: 0x38,
  CurrentCount: 0x39,
  DivideConfig: 0x3e,
  SelfIpi: 0x3f,
} as const;

/** Access and writable bits of a register in each mode. */
export interface RegisterSpec {
  /** Access in xAPIC mode (MMIO). */
  readonly xapic: RegAccess;
  /** Access in x2APIC mode (MSR). */
  readonly x2apic: RegAccess;
  /** Bits software may write; in x2APIC mode a 1 in any other bit (but `readOnlyBits`) is #GP. */
  readonly writable: number;
  /** Read-only bits that a write may carry without fault (delivery status, remote IRR). */
  readonly readOnlyBits: number;
}

const { None, ReadOnly, WriteOnly, ReadWrite } = RegAccess;

function spec(xapic: RegAccess, x2apic: RegAccess, writable = 0xffff_ffff, readOnlyBits = 0): RegisterSpec {
  return { xapic, x2apic, writable, readOnlyBits };
}

const LVT_STATUS = 1 << 12;
const LVT_REMOTE_IRR = 1 << 14;

/** The table, 64 entries (index 0x00-0x3F); absent entries are `None` in both modes. */
export const APIC_REGISTERS: readonly RegisterSpec[] = (() => {
  const t: RegisterSpec[] = Array.from({ length: 0x40 }, () => spec(None, None, 0));
  t[ApicReg.Id] = spec(ReadWrite, ReadOnly, 0xff00_0000);
  t[ApicReg.Version] = spec(ReadOnly, ReadOnly, 0);
  t[ApicReg.Tpr] = spec(ReadWrite, ReadWrite, 0xff);
  t[ApicReg.Apr] = spec(ReadOnly, None, 0);
  t[ApicReg.Ppr] = spec(ReadOnly, ReadOnly, 0);
  t[ApicReg.Eoi] = spec(WriteOnly, WriteOnly, 0);
  t[ApicReg.Rrd] = spec(ReadOnly, None, 0);
  t[ApicReg.Ldr] = spec(ReadWrite, ReadOnly, 0xff00_0000);
  t[ApicReg.Dfr] = spec(ReadWrite, None, 0xf000_0000);
  t[ApicReg.Svr] = spec(ReadWrite, ReadWrite, 0x11ff);
  for (let i = 0; i < 8; i++) {
    t[ApicReg.Isr0 + i] = spec(ReadOnly, ReadOnly, 0);
    t[ApicReg.Tmr0 + i] = spec(ReadOnly, ReadOnly, 0);
    t[ApicReg.Irr0 + i] = spec(ReadOnly, ReadOnly, 0);
  }
  t[ApicReg.Esr] = spec(ReadWrite, ReadWrite, 0);
  t[ApicReg.LvtCmci] = spec(ReadWrite, ReadWrite, 0x1_07ff, LVT_STATUS);
  t[ApicReg.IcrLow] = spec(ReadWrite, ReadWrite, 0x000c_cfff, LVT_STATUS);
  t[ApicReg.IcrHigh] = spec(ReadWrite, None, 0xff00_0000);
  t[ApicReg.LvtTimer] = spec(ReadWrite, ReadWrite, 0x7_00ff, LVT_STATUS);
  t[ApicReg.LvtThermal] = spec(ReadWrite, ReadWrite, 0x1_07ff, LVT_STATUS);
  t[ApicReg.LvtPerf] = spec(ReadWrite, ReadWrite, 0x1_07ff, LVT_STATUS);
  t[ApicReg.LvtLint0] = spec(ReadWrite, ReadWrite, 0x1_a7ff, LVT_STATUS | LVT_REMOTE_IRR);
  t[ApicReg.LvtLint1] = spec(ReadWrite, ReadWrite, 0x1_a7ff, LVT_STATUS | LVT_REMOTE_IRR);
  t[ApicReg.LvtError] = spec(ReadWrite, ReadWrite, 0x1_00ff, LVT_STATUS);
  t[ApicReg.InitialCount] = spec(ReadWrite, ReadWrite);
  t[ApicReg.CurrentCount] = spec(ReadOnly, ReadOnly, 0);
  t[ApicReg.DivideConfig] = spec(ReadWrite, ReadWrite, 0xb);
  t[ApicReg.SelfIpi] = spec(None, WriteOnly, 0xff);
  return t;
})();

/** The LVT registers in the order of the snapshot's `lvt` array. */
export const LVT_REGS = [
  ApicReg.LvtCmci,
  ApicReg.LvtTimer,
  ApicReg.LvtThermal,
  ApicReg.LvtPerf,
  ApicReg.LvtLint0,
  ApicReg.LvtLint1,
  ApicReg.LvtError,
] as const;

/** Indexes into the `lvt` array. */
export const Lvt = { Cmci: 0, Timer: 1, Thermal: 2, Perf: 3, Lint0: 4, Lint1: 5, Error: 6 } as const;

/** One of the {@link Lvt} values. */
export type Lvt = (typeof Lvt)[keyof typeof Lvt];
