import { buildAcpiTables, PcMemoryLayout, writeAcpiTables } from "@turtles/machine";
import { AccessKind } from "@turtles/memory";

const layout = new PcMemoryLayout({ ramSize: 64 * 0x10_0000 });
const { space } = layout.createSpace();

// Two CPUs, the default chipset (I/O APIC, HPET, PM timer at 0x608), an ECAM window.
const tables = buildAcpiTables({ cpus: 2, mcfg: { base: 0xb000_0000, startBus: 0, endBus: 255 } });
const placed = writeAcpiTables(space, tables);

// What an OS does: find "RSD PTR " on a 16-byte boundary of the BIOS area, follow the XSDT.
let rsdp = 0xe0000;
while (
  space.read32(rsdp, AccessKind.Read) !== 0x20445352 ||
  space.read32(rsdp + 4, AccessKind.Read) !== 0x20525450
)
  rsdp += 16;
const xsdt = space.read32(rsdp + 24, AccessKind.Read);
const count = (space.read32(xsdt + 4, AccessKind.Read) - 36) / 8;
const signatures: string[] = [];
for (let i = 0; i < count; i++) {
  const table = space.read32(xsdt + 36 + 8 * i, AccessKind.Read);
  const sig = space.read32(table, AccessKind.Read);
  signatures.push(String.fromCharCode(sig & 0xff, (sig >> 8) & 0xff, (sig >> 16) & 0xff, sig >>> 24));
}
console.log("RSDP at", rsdp.toString(16), "XSDT lists", signatures.join(" "));
console.log("DSDT at", placed.tables.DSDT?.toString(16), "tables end at", placed.end.toString(16));
