import { readFileSync } from "node:fs";
import {
  buildAcpiTables,
  IOAPIC_MMIO,
  IoApic,
  LOCAL_APIC_MMIO,
  LocalApic,
  loadMultiboot,
  ManualClock,
  MemoryType,
  mapBarsInto,
  PCI_CONFIG_PORTS,
  PciBus,
  PciConfigMechanism1,
  PciEcam,
  PciHostBridge,
  PciTestdev,
  PcMemoryLayout,
  writeAcpiTables,
} from "@turtles/machine";
import { AccessKind, PortIoSpace } from "@turtles/memory";

// 64 MiB of RAM below the PCI hole; the ECAM window (256 buses at 0xB0000000) is reserved.
const ecamBase = 0xb000_0000;
const layout = new PcMemoryLayout({
  ramSize: 64 * 0x10_0000,
  reserved: [{ base: ecamBase, length: 0x1000_0000, type: MemoryType.Reserved }],
});
const { space } = layout.createSpace();
const io = new PortIoSpace();

// ACPI: RSDP, XSDT/RSDT, FADT, FACS, DSDT, MADT, HPET and MCFG in the BIOS area.
const acpi = writeAcpiTables(space, buildAcpiTables({ mcfg: { base: ecamBase, startBus: 0, endBus: 255 } }));
console.log("RSDP at", acpi.rsdp.toString(16), "tables", Object.keys(acpi.tables).join(" "));

// PCI: the host bridge and QEMU's pci-testdev; BARs are (un)mapped as the guest programs them.
const pci = new PciBus(mapBarsInto(space, io));
pci.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge());
pci.plug({ bus: 0, device: 1, fn: 0 }, new PciTestdev());
io.register(PCI_CONFIG_PORTS.address, PCI_CONFIG_PORTS.size, new PciConfigMechanism1(pci), "pci-conf1");
const ecam = new PciEcam(pci);
space.mapMmio(ecamBase, ecam.size, ecam, "ecam");
// What a guest does: place BAR0 of 00:01.0 through ECAM, then enable memory decoding.
const fn01 = ecamBase + (1 << 15);
space.write32(fn01 + 0x10, 0xfebf_0000, AccessKind.Write);
space.write16(fn01 + 0x04, 0x2, AccessKind.Write);
console.log("0xFEBF0000 is", space.regionAt(0xfebf_0000)?.name);

// Interrupts: the I/O APIC sends to the local APIC, whose EOIs go back to the I/O APIC.
const clock = new ManualClock();
let lapic: LocalApic | undefined;
const ioapic = new IoApic({ deliver: (...message) => lapic?.deliver(...message) });
lapic = new LocalApic({ clock, eoiBroadcast: (vector) => ioapic.eoi(vector) });
space.mapMmio(IOAPIC_MMIO.base, IOAPIC_MMIO.size, ioapic, "ioapic");
space.mapMmio(LOCAL_APIC_MMIO.base, LOCAL_APIC_MMIO.size, lapic, "lapic");
// The guest enables its APIC and arms a one-shot timer: vector 0x40 after 1000 ticks of the bus clock.
space.write32(0xfee0_00f0, 0x1ff, AccessKind.Write);
space.write32(0xfee0_03e0, 0xb, AccessKind.Write);
space.write32(0xfee0_0320, 0x40, AccessKind.Write);
space.write32(0xfee0_0380, 1000, AccessKind.Write);
clock.advance(lapic.nextDeadlineNs());
lapic.poll();
console.log("timer vector", lapic.acknowledge().toString(16));

// Boot: a multiboot kernel, loaded as QEMU's -kernel would; the CPU applies the entry state.
const kernel = readFileSync(new URL("./guests/multiboot-hello.elf", import.meta.url));
const entry = loadMultiboot(space, layout, kernel, { kernelName: "hello.elf", cmdline: "verbose" });
const { rax, rbx } = entry.registers;
console.log(entry.mode, "at", entry.rip.toString(16), "eax", rax.toString(16), "ebx", rbx.toString(16));
