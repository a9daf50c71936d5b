import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { type AcpiOem, type AcpiTable, fixChecksum, sdt, TableBytes } from "./table.js";
import { FadtOffset } from "./tables.js";

/** Where {@link writeAcpiTables} puts things. */
export interface AcpiPlacementOptions extends AcpiOem {
  /**
   * Address of the RSDP: 16-byte aligned in 0xE0000-0xFFFFF, where OSes search. The default,
   * 0xF0000, is in the F segment, where SeaBIOS puts it and older kvm-unit-tests look (they scan
   * 0xF0000-0xFFFFF only).
   */
  readonly rsdpAddress?: number;
  /** First address for the tables (default: right after the RSDP). */
  readonly tablesAddress?: number;
  /** End (exclusive) of the area the tables may use (default 0x100000). */
  readonly limit?: number;
}

/** Where everything went. */
export interface AcpiPlacement {
  /** The RSDP's address. */
  readonly rsdp: number;
  /** The XSDT's address. */
  readonly xsdt: number;
  /** The RSDT's address. */
  readonly rsdt: number;
  /** Each table's address by signature (the first one of a signature). */
  readonly tables: Readonly<Record<string, number>>;
  /** End (exclusive) of the last byte written. */
  readonly end: number;
  /** The RSDP's 36 bytes (for a multiboot2 ACPI tag or fw_cfg). */
  readonly rsdpBytes: Uint8Array;
}

/** The RSDP's size in revision 2. */
export const RSDP_SIZE = 36;

/**
 * Places `tables` in guest memory, links the FADT to the FACS and DSDT (32-bit and X_ fields,
 * checksum recomputed), builds the XSDT (64-bit entries) and RSDT (32-bit entries) listing every
 * table but the FACS and DSDT, and writes a revision-2 RSDP with both checksums (at 0xF0000 unless told). Tables are
 * 16-byte aligned (the FACS 64-byte aligned, as the spec requires).
 *
 * @throws RangeError when the RSDP is not 16-byte aligned in 0xE0000-0xFFFFF or the tables do
 * not fit below the limit (an emulator configuration error).
 */
export function writeAcpiTables(
  mem: PhysicalMemory,
  tables: readonly AcpiTable[],
  options: AcpiPlacementOptions = {},
): AcpiPlacement {
  const rsdp = options.rsdpAddress ?? 0xf_0000;
  if (rsdp % 16 !== 0 || rsdp < 0xe_0000 || rsdp + RSDP_SIZE > 0x10_0000) {
    throw new RangeError(
      `ACPI: RSDP address 0x${rsdp.toString(16)} is not 16-byte aligned in 0xE0000-0xFFFFF`,
    );
  }
  const limit = options.limit ?? 0x10_0000;
  let at = options.tablesAddress ?? rsdp + 0x40;
  const addresses: Record<string, number> = {};
  const placed: { table: AcpiTable; addr: number }[] = [];
  const place = (bytes: Uint8Array, align: number): number => {
    at = Math.ceil(at / align) * align;
    const addr = at;
    if (addr + bytes.byteLength > limit)
      throw new RangeError(`ACPI: tables do not fit below 0x${limit.toString(16)}`);
    at += bytes.byteLength;
    return addr;
  };
  for (const table of tables) {
    const addr = place(table.bytes, table.signature === "FACS" ? 64 : 16);
    placed.push({ table, addr });
    addresses[table.signature] ??= addr;
  }
  // Link the FADT to the FACS and DSDT.
  for (const p of placed) {
    if (p.table.signature !== "FACP") continue;
    const bytes = p.table.bytes.slice();
    const v = new DataView(bytes.buffer);
    const facs = addresses.FACS ?? 0;
    const dsdt = addresses.DSDT ?? 0;
    v.setUint32(FadtOffset.firmwareCtrl, facs, true);
    v.setUint32(FadtOffset.dsdt, dsdt, true);
    if (bytes.byteLength >= FadtOffset.xDsdt + 8) {
      v.setUint32(FadtOffset.xFirmwareCtrl, facs, true);
      v.setUint32(FadtOffset.xDsdt, dsdt, true);
    }
    fixChecksum(bytes, 9);
    p.table = { signature: "FACP", bytes };
  }
  for (const p of placed) mem.writeBytes(p.addr, p.table.bytes, AccessKind.Write);

  const listed = placed.filter((p) => p.table.signature !== "FACS" && p.table.signature !== "DSDT");
  const xsdtTable = sdt("XSDT", 1, options, (t) => {
    for (const p of listed) t.u64(p.addr);
  });
  const rsdtTable = sdt("RSDT", 1, options, (t) => {
    for (const p of listed) t.u32(p.addr);
  });
  const xsdt = place(xsdtTable.bytes, 16);
  mem.writeBytes(xsdt, xsdtTable.bytes, AccessKind.Write);
  const rsdt = place(rsdtTable.bytes, 16);
  mem.writeBytes(rsdt, rsdtTable.bytes, AccessKind.Write);

  const r = new TableBytes(RSDP_SIZE);
  r.ascii("RSD PTR ", 8)
    .u8(0)
    .ascii(options.oemId ?? "TURTLE", 6)
    .u8(2)
    .u32(rsdt)
    .u32(RSDP_SIZE)
    .u64(xsdt)
    .u8(0)
    .zeros(3);
  const rsdpBytes = r.done();
  fixChecksum(rsdpBytes, 8, 0, 20);
  fixChecksum(rsdpBytes, 32);
  mem.writeBytes(rsdp, rsdpBytes, AccessKind.Write);
  return { rsdp, xsdt, rsdt, tables: addresses, end: at, rsdpBytes };
}
