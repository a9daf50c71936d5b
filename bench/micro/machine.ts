// @turtles/machine: cost of the chipset devices' guest-visible operations, through PortIoSpace
// where a guest would reach them that way. Run: npm run bench -- machine
import { readFileSync } from "node:fs";
import {
  AcpiPmTimer,
  buildAcpiTables,
  Hpet,
  IoApic,
  LocalApic,
  loadMultiboot,
  ManualClock,
  PciBus,
  PciConfigMechanism1,
  PciEcam,
  PciHostBridge,
  PciTestdev,
  PcMemoryLayout,
  PicPair,
  Pit8254,
  RtcCmos,
  Uart16550,
  writeAcpiTables,
} from "@turtles/machine";
import { AccessKind, PhysicalAddressSpace, PortIoSpace } from "@turtles/memory";
import { measure, printTable } from "./_harness.js";

const N = 1_000_000;
let sink = 0;
const clock = new ManualClock();
const io = new PortIoSpace();

const pic = new PicPair();
io.register(0x20, 2, pic.masterPorts, "pic1");
io.register(0xa0, 2, pic.slavePorts, "pic2");
for (const [port, v] of [
  [0x20, 0x11],
  [0x21, 0x08],
  [0x21, 0x04],
  [0x21, 0x01],
  [0xa0, 0x11],
  [0xa1, 0x70],
  [0xa1, 0x02],
  [0xa1, 0x01],
] as const)
  io.write(port, 1, v);

const uart = new Uart16550({ clock, irq: pic.irqLine(4), sink: (b) => (sink ^= b) });
io.register(0x3f8, 8, uart.ports, "com1");
const pit = new Pit8254(clock, pic.irqLine(0));
io.register(0x40, 4, pit.ports, "pit");
const rtc = new RtcCmos({ clock, irq: pic.irqLine(8) });
io.register(0x70, 2, rtc.ports, "rtc");
const pm = new AcpiPmTimer({ clock, width: 32 });
io.register(0x608, 4, pm, "pm-timer");
const ioapic = new IoApic({ deliver: (v) => (sink ^= v) });

io.write(0x43, 1, 0x34); // PIT counter 0, mode 2, 1000 Hz
io.write(0x40, 1, 0xa9);
io.write(0x40, 1, 0x04);

const rows: ReturnType<typeof measure>[] = [
  measure("UART THR write (out8)", N, () => {
    for (let i = 0; i < N; i++) io.write(0x3f8, 1, 0x41);
  }),
  measure("UART LSR read (in8)", N, () => {
    for (let i = 0; i < N; i++) sink ^= io.read(0x3fd, 1);
  }),
  measure("PIC IRQ pulse + INTA + EOI", N, () => {
    for (let i = 0; i < N; i++) {
      pic.setIrq(3, true);
      pic.setIrq(3, false);
      sink ^= pic.acknowledge();
      io.write(0x20, 1, 0x20);
    }
  }),
  measure("PIT latch + 2 reads", N, () => {
    for (let i = 0; i < N; i++) {
      io.write(0x43, 1, 0x00);
      sink ^= io.read(0x40, 1) | (io.read(0x40, 1) << 8);
    }
  }),
  measure("PIT 1 ms tick: poll + INTA + EOI", N, () => {
    for (let i = 0; i < N; i++) {
      clock.set(pit.nextDeadlineNs());
      pit.poll();
      if (pic.hasInterrupt()) sink ^= pic.acknowledge();
      io.write(0x20, 1, 0x20);
    }
  }),
  measure("RTC seconds read (out 0x70, in 0x71)", N, () => {
    for (let i = 0; i < N; i++) {
      io.write(0x70, 1, 0x00);
      sink ^= io.read(0x71, 1);
    }
  }),
  measure("ACPI PM timer read (in32)", N, () => {
    for (let i = 0; i < N; i++) sink ^= io.read(0x608, 4);
  }),
  measure("I/O APIC level deliver + EOI", N, () => {
    ioapic.write(0, 4, 0x10);
    ioapic.write(0x10, 4, 0x8041);
    for (let i = 0; i < N; i++) {
      ioapic.setIrq(0, true);
      ioapic.setIrq(0, false);
      ioapic.eoi(0x41);
    }
  }),
];

// The platform: local APIC, HPET, PCI configuration space, pci-testdev, loaders.
const lapic = new LocalApic({ clock, eoiBroadcast: (v) => (sink ^= v) });
lapic.write(0xf0, 4, 0x1ff);
lapic.write(0x3e0, 4, 0xb);
lapic.write(0x320, 4, 0x40);
const hpet = new Hpet({ clock });
hpet.write(0x10, 4, 1);
const pciBus = new PciBus();
pciBus.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge());
const testdev = new PciTestdev();
pciBus.plug({ bus: 0, device: 1, fn: 0 }, testdev);
io.register(0xcf8, 8, new PciConfigMechanism1(pciBus), "pci-conf1");
const space = new PhysicalAddressSpace();
const ecam = new PciEcam(pciBus);
space.mapMmio(0xb000_0000, ecam.size, ecam, "ecam");
const testdevMmio = testdev.bar(0)!.handler;
testdevMmio.write(0, 1, 0); // mmio-no-eventfd: hits at offset 2048 with 0xFA
const layout = new PcMemoryLayout({ ramSize: 64 << 20 });
const { space: ramSpace } = layout.createSpace();
const kernel = new Uint8Array(
  readFileSync(new URL("../../packages/machine/test/guests/multiboot-hello.elf", import.meta.url)),
);
const L = N / 1000;

rows.push(
  measure("LAPIC fixed interrupt: deliver + INTA + EOI", N, () => {
    for (let i = 0; i < N; i++) {
      lapic.deliver(0x41, 0, false, 0, false);
      if (lapic.hasInterrupt()) sink ^= lapic.acknowledge();
      lapic.write(0xb0, 4, 0);
    }
  }),
  measure("LAPIC timer one-shot: arm + poll + INTA + EOI", N, () => {
    for (let i = 0; i < N; i++) {
      lapic.write(0x380, 4, 100);
      clock.set(lapic.nextDeadlineNs());
      lapic.poll();
      sink ^= lapic.acknowledge();
      lapic.write(0xb0, 4, 0);
    }
  }),
  measure("LAPIC hasInterrupt (nothing pending)", N, () => {
    for (let i = 0; i < N; i++) if (lapic.hasInterrupt()) sink ^= 1;
  }),
  measure("LAPIC TPR read (MMIO)", N, () => {
    for (let i = 0; i < N; i++) sink ^= lapic.read(0x80, 4);
  }),
  measure("HPET main counter read (low dword)", N, () => {
    for (let i = 0; i < N; i++) sink ^= hpet.read(0xf0, 4);
  }),
  measure("PCI config dword via 0xCF8/0xCFC", N, () => {
    for (let i = 0; i < N; i++) {
      io.write(0xcf8, 4, 0x8000_0800);
      sink ^= io.read(0xcfc, 4);
    }
  }),
  measure("PCI config dword via ECAM", N, () => {
    for (let i = 0; i < N; i++) sink ^= space.read32(0xb000_8000, AccessKind.Read);
  }),
  measure("pci-testdev MMIO hit (write8)", N, () => {
    for (let i = 0; i < N; i++) testdevMmio.write(2048, 1, 0xfa);
  }),
  measure("ACPI tables: build + write", L, () => {
    for (let i = 0; i < L; i++) sink ^= writeAcpiTables(ramSpace, buildAcpiTables()).end;
  }),
  measure("multiboot load (4 KiB ELF, info, mmap)", L, () => {
    for (let i = 0; i < L; i++) sink ^= loadMultiboot(ramSpace, layout, kernel).rip;
  }),
);

printTable(rows);
if (sink === 0.5) console.log(sink); // keep the loops observable
