import {
  assignPciResources,
  mapBarsInto,
  PciBus,
  PciConfigMechanism1,
  PciEcam,
  PciHostBridge,
  PciTestdev,
} from "@turtles/machine";
import { AccessKind, PhysicalAddressSpace, PortIoSpace } from "@turtles/memory";

const space = new PhysicalAddressSpace();
const io = new PortIoSpace();

// The bus keeps every BAR window mapped in the address spaces as the guest programs the BARs.
const pci = new PciBus(mapBarsInto(space, io));
pci.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge());
pci.plug({ bus: 0, device: 1, fn: 0 }, new PciTestdev());
io.register(0xcf8, 8, new PciConfigMechanism1(pci), "pci-conf1");
const ecam = new PciEcam(pci);
space.mapMmio(0xb000_0000, ecam.size, ecam, "ecam");

// A guest reads 00:01.0's IDs through 0xCF8/0xCFC, and a missing device through ECAM.
io.write(0xcf8, 4, 0x8000_0800);
console.log(
  "00:01.0 is",
  io.read(0xcfc, 4).toString(16),
  "00:02.0 is",
  space.read32(0xb001_0000, AccessKind.Read).toString(16),
);

// Firmware's job before boot: size, place and enable the BARs.
for (const a of assignPciResources(pci))
  console.log(`BAR${a.bar} at ${a.base.toString(16)} (${a.size} bytes)`);

// pci-testdev's MMIO test as kvm-unit-tests runs it: select test 0, write the data at the offset.
space.write8(0xc000_0000, 0, AccessKind.Write);
const offset = space.read32(0xc000_0004, AccessKind.Read);
space.write8(0xc000_0000 + offset, space.read8(0xc000_0008, AccessKind.Read), AccessKind.Write);
console.log("hits", space.read32(0xc000_000c, AccessKind.Read));
