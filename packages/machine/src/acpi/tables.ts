import { type AcpiOem, type AcpiTable, GasSpace, sdt, TableBytes } from "./table.js";

/** The platform facts the ACPI tables describe. Every field has the Turtles PC's default. */
export interface AcpiPlatform extends AcpiOem {
  /** Number of processors, with APIC IDs 0..n-1 (default 1). */
  readonly cpus?: number;
  /** Local APIC MMIO base (default 0xFEE00000). */
  readonly localApicAddress?: number;
  /** The I/O APIC: ID, MMIO base, first GSI (default 0, 0xFEC00000, 0). */
  readonly ioApic?: { readonly id: number; readonly address: number; readonly gsiBase: number };
  /** PM register block base in I/O space: PM1a_EVT at +0, PM1a_CNT at +4, PM_TMR at +8 (default 0x600). */
  readonly pmBase?: number;
  /** Whether the PM timer is 32 bits wide (TMR_VAL_EXT; default true). */
  readonly pmTimer32?: boolean;
  /** The SCI's ISA IRQ, routed level/active-high (default 9). */
  readonly sciIrq?: number;
  /** CMOS index of the RTC century byte (default 0x32). */
  readonly century?: number;
  /** Reset register port and value (default 0xCF9, 0x06). */
  readonly reset?: { readonly port: number; readonly value: number };
  /**
   * More ISA IRQs to declare level-triggered, active high in the MADT (e.g. the Interrupt Line
   * values given to PCI functions, which OSes without a `_PRT` use as GSIs). Default none.
   */
  readonly levelIrqs?: readonly number[];
  /** The HPET block (default at 0xFED00000 with 3 timers), or `false` for no HPET table. */
  readonly hpet?: AcpiHpet | false;
  /** The ECAM window (MCFG), or `false` for none (default: none). */
  readonly mcfg?: AcpiMcfgAllocation | false;
  /** More tables to list in the XSDT/RSDT after the standard ones (e.g. a DMAR). */
  readonly extraTables?: readonly AcpiTable[];
}

/** The HPET table's content (IA-PC HPET specification 1.0a, §3.2.4). */
export interface AcpiHpet {
  /** Base address of the event timer block. */
  readonly address: number;
  /** Event Timer Block ID: the low 32 bits of the HPET capabilities register. */
  readonly blockId: number;
  /** Main counter minimum clock tick in periodic mode. */
  readonly minimumTick: number;
}

/** One ECAM allocation of the MCFG (PCI Firmware specification 3.x, §4.1.2). */
export interface AcpiMcfgAllocation {
  /** Base address of the ECAM window (for bus 0). */
  readonly base: number;
  /** PCI segment group (default 0). */
  readonly segment?: number;
  /** First bus decoded. */
  readonly startBus: number;
  /** Last bus decoded. */
  readonly endBus: number;
}

/** Defaults of {@link AcpiPlatform}. */
export const ACPI_DEFAULTS = {
  localApicAddress: 0xfee0_0000,
  ioApic: { id: 0, address: 0xfec0_0000, gsiBase: 0 },
  pmBase: 0x600,
  sciIrq: 9,
  century: 0x32,
  reset: { port: 0xcf9, value: 0x06 },
  /** Intel vendor, revision 1, 3 comparators, 64-bit counter, legacy replacement capable. */
  hpet: { address: 0xfed0_0000, blockId: 0x8086_a201, minimumTick: 0x80 },
} as const;

/** FADT field offsets used by the writer to link the FACS and DSDT (ACPI 6.5 §5.2.9, Table 5.9). */
export const FadtOffset = {
  firmwareCtrl: 36,
  dsdt: 40,
  xFirmwareCtrl: 132,
  xDsdt: 140,
  /** The FADT's length in revision 6. */
  size: 276,
} as const;

// FADT fixed feature flags (Table 5.10).
const FADT_WBINVD = 1 << 0;
const FADT_PROC_C1 = 1 << 2;
const FADT_PWR_BUTTON = 1 << 4;
const FADT_SLP_BUTTON = 1 << 5;
const FADT_TMR_VAL_EXT = 1 << 8;
const FADT_RESET_REG_SUP = 1 << 10;
// IA-PC boot architecture flags (Table 5.11): legacy devices, 8042, VGA not present.
const IAPC_BOOT_ARCH = 0x1 | 0x2 | 0x4;

/**
 * The FACS (ACPI 6.5 §5.2.10): 64 bytes, no checksum, version 2, hardware signature 0. Firmware
 * waking vectors stay 0 (no S3 resume).
 */
export function buildFacs(): AcpiTable {
  const t = new TableBytes(64);
  t.ascii("FACS", 4).u32(64).u32(0).u32(0).u32(0).u32(0).u64(0).u8(2).zeros(3).u32(0).zeros(24);
  return { signature: "FACS", bytes: t.done() };
}

/**
 * Our DSDT's AML body, hand-assembled: `Name (\_S5, Package (4) { 5, 5, 0, 0 })` — the soft-off
 * sleep type for PM1a_CNT.SLP_TYP. Bytes: NameOp, "_S5_", PackageOp, PkgLength 8, 4 elements,
 * BytePrefix 5, BytePrefix 5, Zero, Zero.
 */
export const DSDT_AML = Uint8Array.from([
  0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
]);

/** The DSDT (revision 2: 64-bit integers) holding {@link DSDT_AML}. */
export function buildDsdt(oem: AcpiOem = {}): AcpiTable {
  return sdt("DSDT", 2, oem, (t) => t.bytes(DSDT_AML));
}

/**
 * The FADT (signature "FACP", revision 6.5, 276 bytes): SCI on the given IRQ, no SMI command port
 * (the hardware is always in ACPI mode), PM1a event/control blocks and the PM timer in I/O space
 * (legacy and X_ fields), the RTC century index, IA-PC boot flags (legacy devices, 8042, no VGA),
 * the reset register (I/O 0xCF9, value 6). FIRMWARE_CTRL and DSDT are 0 here; the writer links
 * them when it places the FACS and DSDT.
 */
export function buildFadt(p: AcpiPlatform = {}): AcpiTable {
  const pm = p.pmBase ?? ACPI_DEFAULTS.pmBase;
  const reset = p.reset ?? ACPI_DEFAULTS.reset;
  const pm32 = p.pmTimer32 ?? true;
  const flags =
    FADT_WBINVD |
    FADT_PROC_C1 |
    FADT_PWR_BUTTON |
    FADT_SLP_BUTTON |
    (pm32 ? FADT_TMR_VAL_EXT : 0) |
    FADT_RESET_REG_SUP;
  return sdt("FACP", 6, p, (t) => {
    t.u32(0) // FIRMWARE_CTRL (linked later)
      .u32(0) // DSDT (linked later)
      .u8(0) // reserved
      .u8(0) // Preferred_PM_Profile: unspecified
      .u16(p.sciIrq ?? ACPI_DEFAULTS.sciIrq)
      .u32(0) // SMI_CMD: none
      .u8(0) // ACPI_ENABLE
      .u8(0) // ACPI_DISABLE
      .u8(0) // S4BIOS_REQ
      .u8(0) // PSTATE_CNT
      .u32(pm) // PM1a_EVT_BLK
      .u32(0) // PM1b_EVT_BLK
      .u32(pm + 4) // PM1a_CNT_BLK
      .u32(0) // PM1b_CNT_BLK
      .u32(0) // PM2_CNT_BLK
      .u32(pm + 8) // PM_TMR_BLK
      .u32(0) // GPE0_BLK
      .u32(0) // GPE1_BLK
      .u8(4) // PM1_EVT_LEN
      .u8(2) // PM1_CNT_LEN
      .u8(0) // PM2_CNT_LEN
      .u8(4) // PM_TMR_LEN
      .u8(0) // GPE0_BLK_LEN
      .u8(0) // GPE1_BLK_LEN
      .u8(0) // GPE1_BASE
      .u8(0) // CST_CNT
      .u16(101) // P_LVL2_LAT: > 100, C2 not supported
      .u16(1001) // P_LVL3_LAT: > 1000, C3 not supported
      .u16(0) // FLUSH_SIZE
      .u16(0) // FLUSH_STRIDE
      .u8(0) // DUTY_OFFSET
      .u8(0) // DUTY_WIDTH
      .u8(0) // DAY_ALRM
      .u8(0) // MON_ALRM
      .u8(p.century ?? ACPI_DEFAULTS.century)
      .u16(IAPC_BOOT_ARCH)
      .u8(0) // reserved
      .u32(flags)
      .gas(GasSpace.Io, 8, 0, 1, reset.port) // RESET_REG
      .u8(reset.value)
      .u16(0) // ARM_BOOT_ARCH
      .u8(5) // FADT minor version: ACPI 6.5
      .u64(0) // X_FIRMWARE_CTRL (linked later)
      .u64(0) // X_DSDT (linked later)
      .gas(GasSpace.Io, 32, 0, 3, pm) // X_PM1a_EVT_BLK
      .gas(0, 0, 0, 0, 0) // X_PM1b_EVT_BLK
      .gas(GasSpace.Io, 16, 0, 2, pm + 4) // X_PM1a_CNT_BLK
      .gas(0, 0, 0, 0, 0) // X_PM1b_CNT_BLK
      .gas(0, 0, 0, 0, 0) // X_PM2_CNT_BLK
      .gas(GasSpace.Io, 32, 0, 3, pm + 8) // X_PM_TMR_BLK
      .gas(0, 0, 0, 0, 0) // X_GPE0_BLK
      .gas(0, 0, 0, 0, 0) // X_GPE1_BLK
      .gas(0, 0, 0, 0, 0) // SLEEP_CONTROL_REG
      .gas(0, 0, 0, 0, 0) // SLEEP_STATUS_REG
      .ascii("TURTLES", 8, 0); // Hypervisor Vendor Identity
  });
}

/** MADT interrupt controller structure types (ACPI 6.5 §5.2.12, Table 5.21). */
export const MadtEntryType = {
  LocalApic: 0,
  IoApic: 1,
  InterruptSourceOverride: 2,
  LocalApicNmi: 4,
} as const;

/** MPS INTI flags: polarity (bits 1:0) and trigger mode (bits 3:2). */
export const MpsIntiFlags = {
  /** Conforms to the bus (ISA: edge, active high). */
  Conforming: 0x0,
  /** Active high, level-triggered (the SCI). */
  ActiveHighLevel: 0x1 | (0x3 << 2),
} as const;

/**
 * The MADT (signature "APIC", revision 5): local APIC address and PCAT_COMPAT (dual 8259s
 * present); one enabled Processor Local APIC per CPU; the I/O APIC; interrupt source overrides
 * ISA IRQ0 -> GSI 2 (the PIT on I/O APIC pin 2), the SCI IRQ and any `levelIrqs` level/active-high;
 * a Local APIC NMI on LINT1 for every processor.
 */
export function buildMadt(p: AcpiPlatform = {}): AcpiTable {
  const cpus = p.cpus ?? 1;
  const io = p.ioApic ?? ACPI_DEFAULTS.ioApic;
  const sci = p.sciIrq ?? ACPI_DEFAULTS.sciIrq;
  return sdt("APIC", 5, p, (t) => {
    t.u32(p.localApicAddress ?? ACPI_DEFAULTS.localApicAddress).u32(1); // flags: PCAT_COMPAT
    for (let i = 0; i < cpus; i++) t.u8(MadtEntryType.LocalApic).u8(8).u8(i).u8(i).u32(1); // enabled
    t.u8(MadtEntryType.IoApic).u8(12).u8(io.id).u8(0).u32(io.address).u32(io.gsiBase);
    t.u8(MadtEntryType.InterruptSourceOverride).u8(10).u8(0).u8(0).u32(2).u16(MpsIntiFlags.Conforming);
    const override = (irq: number, flags: number) => {
      t.u8(MadtEntryType.InterruptSourceOverride).u8(10).u8(0).u8(irq).u32(irq).u16(flags);
    };
    override(sci, MpsIntiFlags.ActiveHighLevel);
    for (const irq of p.levelIrqs ?? []) {
      if (irq === sci) continue;
      if (!Number.isInteger(irq) || irq < 1 || irq > 15 || irq === 2) {
        throw new RangeError(`buildMadt: IRQ ${irq} cannot be declared level-triggered`);
      }
      override(irq, MpsIntiFlags.ActiveHighLevel);
    }
    t.u8(MadtEntryType.LocalApicNmi).u8(6).u8(0xff).u16(0).u8(1); // all processors, LINT1
  });
}

/** The HPET table (signature "HPET", revision 1, 56 bytes). */
export function buildHpetTable(hpet: AcpiHpet, oem: AcpiOem = {}): AcpiTable {
  return sdt("HPET", 1, oem, (t) => {
    t.u32(hpet.blockId)
      .gas(GasSpace.Memory, 64, 0, 0, hpet.address)
      .u8(0) // HPET number
      .u16(hpet.minimumTick)
      .u8(0); // page protection: none
  });
}

/** The MCFG (signature "MCFG", revision 1): 8 reserved bytes and one 16-byte allocation per window. */
export function buildMcfg(allocations: readonly AcpiMcfgAllocation[], oem: AcpiOem = {}): AcpiTable {
  return sdt("MCFG", 1, oem, (t) => {
    t.zeros(8);
    for (const a of allocations)
      t.u64(a.base)
        .u16(a.segment ?? 0)
        .u8(a.startBus)
        .u8(a.endBus)
        .u32(0);
  });
}

/**
 * The Turtles PC's table list, in placement order: FACS, DSDT, FADT, MADT, HPET (unless
 * disabled), MCFG (when an ECAM window is given), then the extra tables.
 */
export function buildAcpiTables(p: AcpiPlatform = {}): AcpiTable[] {
  const tables = [buildFacs(), buildDsdt(p), buildFadt(p), buildMadt(p)];
  const hpet = p.hpet ?? ACPI_DEFAULTS.hpet;
  if (hpet !== false) tables.push(buildHpetTable(hpet, p));
  if (p.mcfg !== undefined && p.mcfg !== false) tables.push(buildMcfg([p.mcfg], p));
  tables.push(...(p.extraTables ?? []));
  return tables;
}
