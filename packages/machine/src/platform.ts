import {
  IdentityDma,
  type MmioHandler,
  type PhysicalAddressSpace,
  type PortIoHandler,
  PortIoSpace,
  type Ram,
} from "@turtles/memory";
import type { AcpiTable } from "./acpi/table.js";
import { ACPI_DEFAULTS, buildAcpiTables } from "./acpi/tables.js";
import { type AcpiPlacement, writeAcpiTables } from "./acpi/write.js";
import { MemoryType, PcMemoryLayout } from "./boot/layout.js";
import { AcpiPmTimer } from "./devices/acpi-pm-timer.js";
import { type Clock, ManualClock, type TimedDevice } from "./devices/clock.js";
import { DEBUG_CONSOLE_PORT, DebugConsole } from "./devices/debug-console.js";
import { FW_CFG_PORTS, FwCfg } from "./devices/fw-cfg.js";
import { HPET_MMIO, Hpet } from "./devices/hpet.js";
import { I8042, I8042_PORTS } from "./devices/i8042.js";
import { IOAPIC_MMIO, IoApic } from "./devices/ioapic.js";
import { fanOut, type InterruptAcknowledge, type IrqLine, SharedIrqLine } from "./devices/irq-line.js";
import { type DebugExitPlacement, ISA_DEBUG_EXIT_PORTS, IsaDebugExit } from "./devices/isa-debug-exit.js";
import { LOCAL_APIC_MMIO, LocalApic, type LocalApicCpuSignals } from "./devices/local-apic.js";
import { PC_TESTDEV_MMIO, PC_TESTDEV_PORTS, PcTestdev } from "./devices/pc-testdev.js";
import { PIC_PORTS, PicPair } from "./devices/pic8259.js";
import { Pit8254 } from "./devices/pit8254.js";
import { PORT92, Port92 } from "./devices/port92.js";
import { ResetControl } from "./devices/reset-control.js";
import { RTC_PORTS, RtcCmos } from "./devices/rtc-cmos.js";
import type { ResetKind } from "./devices/signals.js";
import type { Snapshottable } from "./devices/snapshot.js";
import { UART_PORTS, Uart16550 } from "./devices/uart16550.js";
import { assignPciResources } from "./pci/firmware.js";
import { PciHostBridge } from "./pci/host-bridge.js";
import {
  formatPci,
  mapBarsInto,
  PCI_CONFIG_PORTS,
  type PciAddress,
  PciBus,
  PciConfigMechanism1,
  PciEcam,
} from "./pci/pci-bus.js";
import { PciConfig, type PciFunction } from "./pci/pci-function.js";
import { PciTestdev } from "./pci/pci-testdev.js";

/** Options of a {@link PcPlatform}. Everything but the RAM size has a default. */
export interface PcPlatformOptions {
  /** Guest RAM in bytes (a multiple of 1 MiB). */
  readonly ramSize: number;
  /** Start of the PCI hole below 4 GiB (default 0xC0000000). */
  readonly pciHoleStart?: number;
  /** The virtual clock (default a new `ManualClock` at 0). */
  readonly clock?: Clock;
  /** Bytes written to COM1. */
  readonly serial?: (byte: number) => void;
  /** Bytes written to the 0xE9 debug console. */
  readonly debugConsole?: (byte: number) => void;
  /** isa-debug-exit's requests: the status is `(value << 1) | 1`. */
  readonly exit?: (status: number) => void;
  /** Reset requests (8042 pulse, port 0x92, 0xCF9). */
  readonly reset?: (kind: ResetKind) => void;
  /** The A20 gate: the OR of port 0x92's and the 8042's outputs. */
  readonly a20?: (enabled: boolean) => void;
  /** The kernel command line offered through fw_cfg. */
  readonly cmdline?: string;
  /** Plug QEMU's pci-testdev at 00:01.0 (default true). */
  readonly pciTestdev?: boolean;
  /**
   * ECAM base (256 buses, 256 MiB), reserved in the memory map and described by the MCFG. Default:
   * the start of the PCI hole; BARs are placed after the ECAM window, below the I/O APIC.
   */
  readonly ecamBase?: number;
  /** The CPU's MAXPHYADDR, for IA32_APIC_BASE (default 52). */
  readonly physAddressBits?: number;
  /** More PCI functions to plug (before BARs are assigned and INTx routed). */
  readonly pciDevices?: readonly { readonly address: PciAddress; readonly fn: PciFunction }[];
  /** pci-testdev's device number on bus 0 (default 1; QEMU's `pc` with its VGA gives it 3). */
  readonly pciTestdevSlot?: number;
  /** Plug isa-debug-exit: `true` (default) at 0xF4, 4 ports; a placement; `false` leaves it out. */
  readonly isaDebugExit?: boolean | DebugExitPlacement;
  /** Plug the 0xE9 debug console (default true). */
  readonly debugConsolePort?: boolean;
  /** Plug QEMU's pc-testdev (default true). */
  readonly pcTestdev?: boolean;
  /** pc-testdev's flush-page requests (port 0xE4): the processor drops code it translated. */
  readonly flushPage?: (pageAddr: number) => void;
  /** The RTC's date at clock time 0, in ms since 1970 UTC (default 2000-01-01). */
  readonly rtcStartTimeMs?: number;
  /**
   * Called after every access to a timer's registers (PIT, RTC, HPET, local APIC), so a run loop
   * can end its slice when the access moved a deadline earlier.
   */
  readonly timerAccess?: () => void;
  /** Wraps each port window the platform registers (for tracing; default: as is). */
  readonly wrapPort?: (handler: PortIoHandler, base: number, name: string) => PortIoHandler;
  /** Wraps each ISA interrupt input (`IRQ0`-`IRQ15`) and the 8259A's `INTR` (for tracing). */
  readonly wrapIrq?: (line: IrqLine, name: string) => IrqLine;
}

/** Where the PCI hole starts by default: 3 GiB, QEMU `pc`'s split of RAM above 3.5 GiB. */
export const PC_PCI_HOLE_START = 0xc000_0000;

/**
 * PCI INTx routing, as on a PIIX board with SeaBIOS: pin P of device D drives PIRQ (D + P - 1) mod 4,
 * and PIRQ A-D go to ISA IRQs 10, 10, 11, 11 (level-triggered: ELCR and MADT overrides say so).
 * The Interrupt Line register holds that IRQ, which OSes without an ACPI `_PRT` use.
 */
export const PCI_INTX_IRQS = [10, 10, 11, 11] as const;

/** The ISA IRQ that pin `pin` (1-4) of `address` is routed to. */
export function pciIntxIrq(address: PciAddress, pin: number): number {
  return PCI_INTX_IRQS[(address.device + pin - 1) & 3]!;
}

/**
 * Two interrupt sources sharing one ISA input, selected by HPET legacy replacement: the PIT or
 * HPET timer 0 on IRQ0, the RTC or HPET timer 1 on IRQ8. The unselected source is disconnected.
 */
class LegacyMux {
  private levels = [false, false];
  private selected = 0;

  constructor(private readonly out: IrqLine) {}

  input(index: 0 | 1): IrqLine {
    return {
      set: (level: boolean) => {
        this.levels[index] = level;
        if (this.selected === index) this.out.set(level);
      },
    };
  }

  select(index: 0 | 1): void {
    this.selected = index;
    this.out.set(this.levels[index]!);
  }
}

const ECAM_SIZE = 0x1000_0000;

/**
 * QEMU's `etc/e820` fw_cfg file: 20-byte entries (base, length: 64-bit little-endian; type: 32-bit),
 * as QEMU gives SeaBIOS.
 */
function e820File(layout: PcMemoryLayout): Uint8Array {
  const map = layout.e820();
  const e820 = new Uint8Array(20 * map.length);
  const view = new DataView(e820.buffer);
  map.forEach((r, i) => {
    view.setUint32(20 * i, r.base % 0x1_0000_0000, true);
    view.setUint32(20 * i + 4, Math.floor(r.base / 0x1_0000_0000), true);
    view.setUint32(20 * i + 8, r.length % 0x1_0000_0000, true);
    view.setUint32(20 * i + 12, Math.floor(r.length / 0x1_0000_0000), true);
    view.setUint32(20 * i + 16, r.type, true);
  });
  return e820;
}

/** A device handler (port or MMIO: the same shape). */
type Handler = PortIoHandler & MmioHandler;

/** `handler`, calling `after` after each access. */
function watched(handler: Handler, after: (() => void) | undefined): Handler {
  if (after === undefined) return handler;
  return {
    read: (offset, size) => {
      const v = handler.read(offset, size);
      after();
      return v;
    },
    write: (offset, size, value) => {
      handler.write(offset, size, value);
      after();
    },
  };
}

/**
 * The Turtles PC without its processor: memory laid out as a PC, the chipset devices on their
 * usual ports and addresses, the I/O APIC, one local APIC, the HPET, PCI (host bridge, optional
 * pci-testdev, configuration mechanism #1 and ECAM, BARs assigned as firmware would), the ACPI
 * tables in the BIOS area and fw_cfg — all wired: the 8259A pair to the local APIC's LINT0
 * (virtual wire) and every ISA interrupt to both the 8259A and the I/O APIC (IRQ0 on pin 2), the
 * I/O APIC to the local APIC and EOIs back, HPET legacy replacement muting the PIT and RTC.
 *
 * The CPU takes interrupts from {@link PcPlatform.interrupts}, forwards the APIC MSRs to
 * {@link PcPlatform.lapic}, and its run loop calls {@link PcPlatform.pollTimers} when the clock
 * passes {@link PcPlatform.nextDeadlineNs}. Load a kernel with any loader into
 * {@link PcPlatform.space} and {@link PcPlatform.layout}.
 */
export class PcPlatform {
  /** The virtual clock. */
  readonly clock: Clock;
  /** The memory layout (its e820 map reserves the ECAM window). */
  readonly layout: PcMemoryLayout;
  /** The physical address space. */
  readonly space: PhysicalAddressSpace;
  /** Guest RAM. */
  readonly ram: Ram;
  /** The I/O port space. */
  readonly io = new PortIoSpace();
  /** 8259A pair. */
  readonly pic: PicPair;
  /** 8254 PIT. */
  readonly pit: Pit8254;
  /** RTC/CMOS. */
  readonly rtc: RtcCmos;
  /** COM1. */
  readonly com1: Uart16550;
  /** The 8042. */
  readonly i8042: I8042;
  /** Port 0x92. */
  readonly port92: Port92;
  /** 0xCF9 (reached through the PCI configuration ports' window). */
  readonly resetControl: ResetControl;
  /** isa-debug-exit at 0xF4. */
  readonly isaDebugExit: IsaDebugExit;
  /** The 0xE9 console. */
  readonly debugConsole: DebugConsole;
  /** QEMU's pc-testdev. */
  readonly pcTestdev: PcTestdev;
  /** fw_cfg at 0x510. */
  readonly fwCfg: FwCfg;
  /** The ACPI PM timer at PMBASE + 8. */
  readonly pmTimer: AcpiPmTimer;
  /** The I/O APIC. */
  readonly ioapic: IoApic;
  /** The local APIC of the one processor. */
  readonly lapic: LocalApic;
  /**
   * Where the local APIC's NMI, INIT and start-up signals go: the processor, once one is
   * attached (`createMachine` points it at its CPU's `raiseNmi`, `init` and `startup`).
   */
  cpuSignals: LocalApicCpuSignals | undefined;
  /** The HPET. */
  readonly hpet: Hpet;
  /** PCI configuration space. */
  readonly pci: PciBus;
  /** Where the ACPI tables went. */
  readonly acpi: AcpiPlacement;
  /** Every device with timed events. */
  readonly timed: readonly TimedDevice[];
  /** Configuration mechanism #1 (its CONFIG_ADDRESS is state). */
  readonly pciConfig: PciConfigMechanism1;
  /** QEMU's pci-testdev, when plugged. */
  readonly pciTestdev: PciTestdev | undefined;
  private readonly legacyMuxes: readonly LegacyMux[];
  private readonly lapicMmio: Handler;
  private readonly acpiTables: readonly AcpiTable[];
  private readonly powerOn: Record<string, unknown>;
  private lapicMappedAt: number | undefined;

  /** Builds and wires the platform. */
  constructor(options: PcPlatformOptions) {
    const clock = options.clock ?? new ManualClock();
    this.clock = clock;
    const hole = options.pciHoleStart ?? PC_PCI_HOLE_START;
    const ecamBase = options.ecamBase ?? hole;
    this.layout = new PcMemoryLayout({
      ramSize: options.ramSize,
      pciHoleStart: hole,
      reserved: [{ base: ecamBase, length: ECAM_SIZE, type: MemoryType.Reserved }],
    });
    const { space, ram } = this.layout.createSpace();
    this.space = space;
    this.ram = ram;
    const io = this.io;
    const register = (base: number, length: number, handler: PortIoHandler, name: string) =>
      io.register(base, length, options.wrapPort ? options.wrapPort(handler, base, name) : handler, name);
    const wrapIrq = (line: IrqLine, name: string) => (options.wrapIrq ? options.wrapIrq(line, name) : line);
    const timerAccess = options.timerAccess;

    // Interrupt controllers: 8259A -> LINT0 (virtual wire); I/O APIC -> local APIC; EOIs back.
    let lapic: LocalApic | undefined;
    this.pic = new PicPair(wrapIrq({ set: (level) => lapic?.lint0Line.set(level) }, "INTR"));
    this.ioapic = new IoApic({ deliver: (...message) => lapic?.deliver(...message) });
    lapic = new LocalApic({
      clock,
      extInt: this.pic,
      eoiBroadcast: (vector) => this.ioapic.eoi(vector),
      baseMoved: (_oldBase, newBase) => this.mapLapicAt(newBase),
      signals: {
        nmi: () => this.cpuSignals?.nmi?.(),
        init: () => this.cpuSignals?.init?.(),
        startup: (vector) => this.cpuSignals?.startup?.(vector),
        smi: () => this.cpuSignals?.smi?.(),
      },
      ...(options.physAddressBits === undefined ? {} : { physAddressBits: options.physAddressBits }),
    });
    this.lapic = lapic;
    this.lapicMmio = watched(lapic, timerAccess);
    const isaLines = Array.from({ length: 16 }, (_, irq) =>
      wrapIrq(fanOut(this.pic.irqLine(irq), this.ioapic.irqLine(irq === 0 ? 2 : irq)), `IRQ${irq}`),
    );
    const isa = (irq: number): IrqLine => isaLines[irq]!;

    // Legacy timers, muxed with the HPET's legacy replacement outputs.
    const irq0 = new LegacyMux(isa(0));
    const irq8 = new LegacyMux(isa(8));
    this.pit = new Pit8254(clock, irq0.input(0));
    this.rtc = new RtcCmos({
      clock,
      irq: irq8.input(0),
      ...(options.rtcStartTimeMs === undefined ? {} : { startTimeMs: options.rtcStartTimeMs }),
    });
    this.hpet = new Hpet({
      clock,
      ioapicLine: (pin) => this.ioapic.irqLine(pin),
      legacyIrq0: irq0.input(1),
      legacyIrq8: irq8.input(1),
      msi: (address, data) => this.lapic.deliverMsi(address, data),
      legacyChanged: (on) => {
        irq0.select(on ? 1 : 0);
        irq8.select(on ? 1 : 0);
      },
    });

    // Other ISA devices.
    this.com1 = new Uart16550({ clock, irq: isa(4), ...(options.serial ? { sink: options.serial } : {}) });
    const a20 = new SharedIrqLine({ set: (enabled) => options.a20?.(enabled) });
    const reset = (kind: ResetKind) => options.reset?.(kind);
    const a20FromPort92 = a20.output();
    const a20From8042 = a20.output();
    this.port92 = new Port92({ reset, a20: (on) => a20FromPort92.set(on) });
    this.i8042 = new I8042({ reset, a20: (on) => a20From8042.set(on) }, isa(1));
    // The gate starts as the devices' outputs are (the 8042's output port enables A20 at reset).
    a20FromPort92.set(this.port92.a20);
    a20From8042.set(this.i8042.a20);
    this.resetControl = new ResetControl({ reset });
    this.isaDebugExit = new IsaDebugExit((status) => options.exit?.(status));
    this.debugConsole = new DebugConsole((byte) => options.debugConsole?.(byte));
    this.pcTestdev = new PcTestdev({
      irq: (n) => (n < 16 ? isa(n) : this.ioapic.irqLine(n)),
      ...(options.flushPage ? { flushPage: options.flushPage } : {}),
    });
    this.fwCfg = new FwCfg({
      cpuCount: 1,
      ramSize: options.ramSize,
      ...(options.cmdline === undefined ? {} : { cmdline: options.cmdline }),
      dma: new IdentityDma(space),
    });
    this.fwCfg.addFile("etc/e820", e820File(this.layout));
    this.pmTimer = new AcpiPmTimer({ clock, width: 32 });

    register(PIC_PORTS.master, 2, this.pic.masterPorts, "pic-master");
    register(PIC_PORTS.slave, 2, this.pic.slavePorts, "pic-slave");
    register(PIC_PORTS.elcr, 2, this.pic.elcrPorts, "elcr");
    register(0x40, 4, watched(this.pit.ports, timerAccess), "pit");
    register(0x61, 1, this.pit.portBPorts, "port-b");
    register(RTC_PORTS.index, 2, watched(this.rtc.ports, timerAccess), "rtc");
    register(UART_PORTS.com1, 8, this.com1.ports, "com1");
    register(I8042_PORTS.data, 1, this.i8042.dataPorts, "i8042-data");
    register(I8042_PORTS.command, 1, this.i8042.commandPorts, "i8042-command");
    register(PORT92, 1, this.port92, "port92");
    const debugExit = options.isaDebugExit ?? true;
    if (debugExit !== false) {
      const at =
        debugExit === true
          ? { iobase: ISA_DEBUG_EXIT_PORTS.base, iosize: ISA_DEBUG_EXIT_PORTS.size }
          : debugExit;
      register(at.iobase, at.iosize, this.isaDebugExit, "isa-debug-exit");
    }
    const debugConsole = options.debugConsolePort ?? true;
    if (debugConsole) register(DEBUG_CONSOLE_PORT, 1, this.debugConsole, "debug-console");
    if (options.pcTestdev ?? true) {
      register(PC_TESTDEV_PORTS.data, 4, this.pcTestdev.dataPorts, "pc-testdev-data");
      register(PC_TESTDEV_PORTS.flushPage, 4, this.pcTestdev.flushPorts, "pc-testdev-flush");
      // pc-testdev's byte window is 0xE8-0xEB, but 0xE9 is the debug console's when there is one
      // (in QEMU the two overlap): the window is then registered around it.
      const bytes = this.pcTestdev.dataBytePorts;
      if (!debugConsole) register(PC_TESTDEV_PORTS.dataBytes, 4, bytes, "pc-testdev-bytes");
      else {
        register(PC_TESTDEV_PORTS.dataBytes, 1, bytes, "pc-testdev-bytes");
        register(
          PC_TESTDEV_PORTS.dataBytes + 2,
          2,
          { read: (o, n) => bytes.read(o + 2, n), write: (o, n, v) => bytes.write(o + 2, n, v) },
          "pc-testdev-bytes-hi",
        );
      }
      register(PC_TESTDEV_PORTS.irq, 24, this.pcTestdev.irqPorts, "pc-testdev-irq");
      space.mapMmio(PC_TESTDEV_MMIO.base, PC_TESTDEV_MMIO.size, this.pcTestdev.mmio, "pc-testdev");
    }
    register(FW_CFG_PORTS.selector, 2, this.fwCfg, "fw-cfg");
    register(FW_CFG_PORTS.dma, 8, this.fwCfg.dmaPorts, "fw-cfg-dma");
    register(ACPI_DEFAULTS.pmBase + 8, 4, this.pmTimer, "pm-timer");

    space.mapMmio(IOAPIC_MMIO.base, IOAPIC_MMIO.size, this.ioapic, "ioapic");
    this.mapLapicAt(LOCAL_APIC_MMIO.base);
    space.mapMmio(HPET_MMIO.base, HPET_MMIO.size, watched(this.hpet, timerAccess), "hpet");

    // PCI: host bridge, pci-testdev; mechanism #1 (sharing 0xCF8-0xCFF with 0xCF9) and ECAM.
    this.pci = new PciBus(mapBarsInto(space, io));
    this.pci.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge());
    this.pciTestdev = (options.pciTestdev ?? true) ? new PciTestdev() : undefined;
    if (this.pciTestdev)
      this.pci.plug({ bus: 0, device: options.pciTestdevSlot ?? 1, fn: 0 }, this.pciTestdev);
    for (const { address, fn } of options.pciDevices ?? []) this.pci.plug(address, fn);
    this.pciConfig = new PciConfigMechanism1(this.pci, this.resetControl);
    register(PCI_CONFIG_PORTS.address, PCI_CONFIG_PORTS.size, this.pciConfig, "pci-conf1");
    const ecam = new PciEcam(this.pci);
    space.mapMmio(ecamBase, ecam.size, ecam, "ecam");
    const barsStart = ecamBase === hole ? hole + ECAM_SIZE : hole;
    const barsEnd = ecamBase > hole ? ecamBase : IOAPIC_MMIO.base;
    assignPciResources(this.pci, { memory: { start: barsStart, end: barsEnd }, interruptLine: pciIntxIrq });
    // INTx: each PCI IRQ is a wired-OR of the pins routed to it, level-triggered on the 8259A
    // (ELCR, as firmware sets it) and on the I/O APIC (the MADT's overrides).
    const pciIrqs = new Map<number, SharedIrqLine>();
    for (const irq of new Set(PCI_INTX_IRQS)) {
      pciIrqs.set(irq, new SharedIrqLine(isa(irq)));
      const elcr = this.pic.elcrPorts;
      elcr.write(irq >> 3, 1, elcr.read(irq >> 3, 1) | (1 << (irq & 7)));
    }
    for (const { address, fn } of this.pci.list()) {
      const pin = fn.readConfig(PciConfig.interruptPin, 1);
      if (pin >= 1 && pin <= 4) fn.setIrqLine(pciIrqs.get(pciIntxIrq(address, pin))!.output());
    }

    // ACPI tables in the BIOS area.
    this.acpiTables = buildAcpiTables({
      cpus: 1,
      mcfg: { base: ecamBase, startBus: 0, endBus: 255 },
      levelIrqs: [...new Set(PCI_INTX_IRQS)],
    });
    this.acpi = writeAcpiTables(space, this.acpiTables);
    this.timed = [this.pit, this.rtc, this.com1, this.lapic, this.hpet];
    this.legacyMuxes = [irq0, irq8];
    this.powerOn = structuredClone(this.devicesState());
  }

  /**
   * A platform reset: every device back to its power-on state and the ACPI tables written again
   * (RAM is otherwise kept; the processor is the caller's).
   */
  reset(): void {
    this.fromDevicesState(structuredClone(this.powerOn));
    writeAcpiTables(this.space, this.acpiTables);
  }

  /** (Re)maps the local APIC's window at `base`. */
  private mapLapicAt(base: number): void {
    if (this.lapicMappedAt === base) return;
    if (this.lapicMappedAt !== undefined) this.space.unmap(this.lapicMappedAt);
    this.space.mapMmio(base, LOCAL_APIC_MMIO.size, this.lapicMmio, "lapic");
    this.lapicMappedAt = base;
  }

  /** The devices in restore order: interrupt sources first, the interrupt controllers last. */
  private devices(): [string, Snapshottable<unknown>][] {
    const list: [string, Snapshottable<unknown>][] = [
      ["pit", this.pit],
      ["rtc", this.rtc],
      ["com1", this.com1],
      ["i8042", this.i8042],
      ["port92", this.port92],
      ["resetControl", this.resetControl],
      ["isaDebugExit", this.isaDebugExit],
      ["debugConsole", this.debugConsole],
      ["pcTestdev", this.pcTestdev],
      ["fwCfg", this.fwCfg],
      ["pmTimer", this.pmTimer],
      ["hpet", this.hpet],
      ["pciConfig", this.pciConfig],
    ];
    for (const { address, fn } of this.pci.list()) list.push([`pci ${formatPci(address)}`, fn]);
    list.push(["pic", this.pic], ["ioapic", this.ioapic], ["lapic", this.lapic]);
    return list;
  }

  /**
   * A plain-data snapshot of every device (not of RAM, which the machine saves as bytes): one
   * entry per device, keyed by name.
   */
  devicesState(): Record<string, unknown> {
    return Object.fromEntries(this.devices().map(([name, d]) => [name, d.state()]));
  }

  /**
   * Restores a snapshot taken by {@link PcPlatform.devicesState} into a platform built with the
   * same options: interrupt sources first, so the controllers, restored last, end up exactly as
   * saved; legacy replacement routing follows the restored HPET.
   * @throws RangeError when a device's entry is missing.
   */
  fromDevicesState(state: Record<string, unknown>): void {
    for (const [name, d] of this.devices()) {
      if (name === "pic") for (const mux of this.legacyMuxes) mux.select(this.hpet.legacyReplacement ? 1 : 0);
      if (!(name in state)) throw new RangeError(`PcPlatform.fromDevicesState: no state for ${name}`);
      d.fromState(state[name]);
    }
    this.mapLapicAt(this.lapic.mmioBase);
  }

  /** The processor's INTR / INTA: the local APIC (which answers ExtINT through the 8259A). */
  get interrupts(): InterruptAcknowledge {
    return this.lapic;
  }

  /** The earliest deadline of the timed devices (ns), or `Infinity`. */
  nextDeadlineNs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.timed) next = Math.min(next, d.nextDeadlineNs());
    return next;
  }

  /** Polls every timed device whose deadline the clock has reached. */
  pollTimers(): void {
    const now = this.clock.nowNs();
    for (const d of this.timed) if (d.nextDeadlineNs() <= now) d.poll();
  }
}
