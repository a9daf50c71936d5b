import { Cpu, type InterruptSource, STOP_REASON_NAMES, StopReason } from "@turtles/cpu";
import {
  IdentityDma,
  type MmioHandler,
  type PhysicalAddressSpace,
  type PortIoHandler,
  PortIoSpace,
} from "@turtles/memory";
import { buildAcpiTables } from "../acpi/tables.js";
import { type AcpiPlacement, writeAcpiTables } from "../acpi/write.js";
import type { BootEntryState } from "../boot/entry.js";
import { MemoryType, PcMemoryLayout } from "../boot/layout.js";
import { AcpiPmTimer } from "../devices/acpi-pm-timer.js";
import type { TimedDevice } from "../devices/clock.js";
import { DEBUG_CONSOLE_PORT, DebugConsole } from "../devices/debug-console.js";
import { FW_CFG_PORTS, FwCfg } from "../devices/fw-cfg.js";
import { HPET_MMIO, Hpet } from "../devices/hpet.js";
import { I8042, I8042_PORTS } from "../devices/i8042.js";
import { IOAPIC_MMIO, IoApic } from "../devices/ioapic.js";
import { fanOut, type IrqLine } from "../devices/irq-line.js";
import { IsaDebugExit } from "../devices/isa-debug-exit.js";
import { LOCAL_APIC_MMIO, LocalApic } from "../devices/local-apic.js";
import { PC_TESTDEV_MMIO, PC_TESTDEV_PORTS, PcTestdev } from "../devices/pc-testdev.js";
import { PIC_PORTS, PicPair } from "../devices/pic8259.js";
import { PIT_PORTS, Pit8254 } from "../devices/pit8254.js";
import { PORT92, Port92 } from "../devices/port92.js";
import { ResetControl } from "../devices/reset-control.js";
import { RTC_PORTS, RtcCmos } from "../devices/rtc-cmos.js";
import type { PlatformSignals, ResetKind } from "../devices/signals.js";
import type { Snapshottable } from "../devices/snapshot.js";
import { UART_PORTS, Uart16550 } from "../devices/uart16550.js";
import { PciHostBridge } from "../pci/host-bridge.js";
import { mapBarsInto, PCI_CONFIG_PORTS, PciBus, PciConfigMechanism1, PciEcam } from "../pci/pci-bus.js";
import { PciTestdev } from "../pci/pci-testdev.js";
import { applyEntryState } from "./apply-entry.js";
import { HostClock, InstructionClock, type MachineClock } from "./clocks.js";
import { type KernelFormat, loadBoot } from "./load-boot.js";
import { type MachineOptions, type RunOptions, TraceKind } from "./options.js";
import { describeCpu } from "./report.js";
import { RunEnd, type RunResult } from "./run-result.js";

/** Fixed addresses and numbers of the Turtles PC (QEMU q35-like where a guest may look). */
export const PC_PLATFORM = {
  /** Start of the PCI hole below 4 GiB (RAM beyond it goes above 4 GiB). */
  pciHoleStart: 0xb000_0000,
  /** The ECAM (MCFG) window: 256 buses, 256 MiB. */
  ecamBase: 0xb000_0000,
  /** ECAM window size. */
  ecamSize: 0x1000_0000,
  /** ACPI PM I/O base (the PM timer is at +8). */
  pmBase: 0x600,
  /** The PCI device number of `pci-testdev` on bus 0. */
  pciTestdevSlot: 3,
  /** Default RAM: 128 MiB, as QEMU. */
  defaultRamSize: 128 * 0x10_0000,
} as const;

/** Instructions per processor run slice when no device deadline is nearer. */
const MAX_SLICE = 1_000_000;
/** Virtual nanoseconds a halted processor may sleep with no interrupt reaching it before the run ends. */
const MAX_IDLE_NS = 60_000_000_000;

/** A device handler (port or MMIO: the same shape). */
type Handler = PortIoHandler & MmioHandler;

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/**
 * The Turtles PC: one `@turtles/cpu` processor and the chipset, wired as a PC.
 * Build it with {@link createMachine}, then {@link PcMachine.run} it.
 */
export class PcMachine {
  /** The processor. */
  readonly cpu: Cpu;
  /** Physical memory: RAM by {@link PcMachine.layout}, the APICs, HPET, ECAM and PCI BARs. */
  readonly memory: PhysicalAddressSpace;
  /** The port I/O space. */
  readonly io: PortIoSpace = new PortIoSpace();
  /** The memory layout. */
  readonly layout: PcMemoryLayout;
  /** The machine's clock (virtual by default). */
  readonly clock: MachineClock;
  /** The 8259A pair (IRQ 0-15), its INTR on the local APIC's LINT0. */
  readonly pic: PicPair;
  /** The 8254 PIT (OUT0 on IRQ0 and I/O APIC pin 2). */
  readonly pit: Pit8254;
  /** The RTC/CMOS (IRQ8). */
  readonly rtc: RtcCmos;
  /** COM1 (0x3F8, IRQ4). */
  readonly com1: Uart16550;
  /** The I/O APIC at 0xFEC00000. */
  readonly ioapic: IoApic;
  /** The local APIC at 0xFEE00000: the processor's interrupt source. */
  readonly lapic: LocalApic;
  /** The HPET at 0xFED00000. */
  readonly hpet: Hpet;
  /** The ACPI PM timer at PMBASE + 8. */
  readonly pmTimer: AcpiPmTimer;
  /** QEMU's fw_cfg (0x510, DMA at 0x514). */
  readonly fwCfg: FwCfg;
  /** The 8042 keyboard controller (reset line, A20). */
  readonly i8042: I8042;
  /** Port 0x92 (fast A20, reset). */
  readonly port92: Port92;
  /** The reset control register 0xCF9. */
  readonly resetControl: ResetControl;
  /** PCI bus 0 (host bridge at 00:00.0). */
  readonly pci: PciBus;
  /** `pci-testdev`, when asked for. */
  readonly pciTestdev: PciTestdev | undefined;
  /** `pc-testdev`, when asked for. */
  readonly pcTestdev: PcTestdev | undefined;
  /** Where the ACPI tables went (the RSDP is at `acpi.rsdp`). */
  acpi: AcpiPlacement;
  /** Which loader took the kernel. */
  bootFormat: KernelFormat = "none";
  /** The entry state the loader described (undefined without a kernel). */
  entry: BootEntryState | undefined;

  private readonly options: MachineOptions;
  private readonly timed: TimedDevice[];
  private readonly initialStates: [Snapshottable<unknown>, unknown][] = [];
  private readonly trace: (line: string) => void;
  private readonly tracing: ReadonlySet<string>;
  private exitStatus: number | undefined;
  private resetRequest: ResetKind | undefined;
  private stopRequested = false;
  private running = false;
  private sliceEndNs = Number.POSITIVE_INFINITY;
  private hpetLegacy = false;
  private lapicBase = -1;

  /** Use {@link createMachine}. */
  constructor(options: MachineOptions) {
    this.options = options;
    const cpus = options.cpus ?? 1;
    if (cpus !== 1) throw new RangeError(`createMachine: ${cpus} processors asked for; only 1 is supported`);
    this.tracing = new Set(options.trace ?? []);
    this.trace = options.traceSink ?? ((line) => console.error(line));
    const ramSize = options.ramSize ?? PC_PLATFORM.defaultRamSize;
    this.layout = new PcMemoryLayout({
      ramSize,
      pciHoleStart: PC_PLATFORM.pciHoleStart,
      reserved: [{ base: PC_PLATFORM.ecamBase, length: PC_PLATFORM.ecamSize, type: MemoryType.Reserved }],
    });
    const { space } = this.layout.createSpace();
    this.memory = space;
    const virtualClock =
      options.time === "host" ? undefined : new InstructionClock(options.nsPerInstruction ?? 1);
    this.clock = virtualClock ?? new HostClock();
    const clock = this.clock;

    // Interrupt controllers: the I/O APIC and the 8259A pair both reach the local APIC.
    let lapic: LocalApic | undefined;
    this.ioapic = new IoApic({ deliver: (...message) => lapic?.deliver(...message) });
    this.pic = new PicPair(this.traced("INTR", { set: (level) => lapic?.lint0Line.set(level) }));
    lapic = new LocalApic({
      clock,
      eoiBroadcast: (vector) => this.ioapic.eoi(vector),
      extInt: this.pic,
      baseMoved: (_oldBase, newBase) => this.mapLapic(newBase),
    });
    this.lapic = lapic;
    const isa = (irq: number): IrqLine =>
      this.traced(`IRQ${irq}`, fanOut(this.pic.irqLine(irq), this.ioapic.irqLine(irq === 0 ? 2 : irq)));

    // The processor takes interrupts from its local APIC (fixed ones from the I/O APIC, ExtINT
    // from the 8259A through LINT0).
    this.cpu = new Cpu({ memory: space, io: this.io, interrupts: this.interruptSource() });
    virtualClock?.attach(this.cpu);

    const signals: PlatformSignals = {
      reset: (kind) => {
        this.resetRequest = kind;
        this.cpu.requestStop();
      },
    };

    // Timers: the PIT and RTC are muted while the HPET's legacy replacement route is on.
    const pitLine = isa(0);
    this.pit = new Pit8254(clock, { set: (level) => pitLine.set(level && !this.hpetLegacy) });
    const rtcLine = isa(8);
    this.rtc = new RtcCmos({
      clock,
      irq: { set: (level) => rtcLine.set(level && !this.hpetLegacy) },
      startTimeMs: options.rtcStartTimeMs ?? (options.time === "host" ? Date.now() : Date.UTC(2000, 0, 1)),
    });
    this.hpet = new Hpet({
      clock,
      ioapicLine: (pin) => this.ioapic.irqLine(pin),
      legacyIrq0: fanOut(this.pic.irqLine(0), this.ioapic.irqLine(2)),
      legacyIrq8: fanOut(this.pic.irqLine(8), this.ioapic.irqLine(8)),
      legacyChanged: (on) => {
        this.hpetLegacy = on;
      },
    });
    const serial = options.serial;
    this.com1 = new Uart16550({ clock, irq: isa(4), ...(serial !== undefined ? { sink: serial } : {}) });
    this.pmTimer = new AcpiPmTimer({ clock, width: 32 });
    this.i8042 = new I8042(signals, isa(1));
    this.port92 = new Port92(signals);
    this.resetControl = new ResetControl(signals);

    this.register(PIC_PORTS.master, 2, this.pic.masterPorts, "pic-master");
    this.register(PIC_PORTS.slave, 2, this.pic.slavePorts, "pic-slave");
    this.register(PIC_PORTS.elcr, 2, this.pic.elcrPorts, "elcr");
    this.register(PIT_PORTS.pit, 4, this.watched(this.pit.ports), "pit");
    this.register(PIT_PORTS.portB, 1, this.pit.portBPorts, "port-b");
    this.register(RTC_PORTS.index, 2, this.watched(this.rtc.ports), "rtc");
    this.register(UART_PORTS.com1, 8, this.com1.ports, "com1");
    this.register(I8042_PORTS.data, 1, this.i8042.dataPorts, "i8042-data");
    this.register(I8042_PORTS.command, 1, this.i8042.commandPorts, "i8042-command");
    this.register(PORT92, 1, this.port92, "port92");
    this.register(PC_PLATFORM.pmBase + 8, 4, this.pmTimer, "pm-timer");
    if (options.debugConsole !== undefined) {
      this.register(DEBUG_CONSOLE_PORT, 1, new DebugConsole(options.debugConsole), "debugcon");
    }
    space.mapMmio(IOAPIC_MMIO.base, IOAPIC_MMIO.size, this.ioapic, "ioapic");
    this.mapLapic(LOCAL_APIC_MMIO.base);
    space.mapMmio(HPET_MMIO.base, HPET_MMIO.size, this.watched(this.hpet), "hpet");

    // PCI: mechanism #1 (the reset control register 0xCF9 is served inside its window) and ECAM.
    this.pci = new PciBus(mapBarsInto(space, this.io));
    this.pci.plug({ bus: 0, device: 0, fn: 0 }, new PciHostBridge());
    this.register(
      PCI_CONFIG_PORTS.address,
      PCI_CONFIG_PORTS.size,
      new PciConfigMechanism1(this.pci, this.resetControl),
      "pci-conf1",
    );
    const ecam = new PciEcam(this.pci);
    space.mapMmio(PC_PLATFORM.ecamBase, ecam.size, ecam, "ecam");
    if (options.pciTestdev === true) {
      this.pciTestdev = new PciTestdev();
      this.pci.plug({ bus: 0, device: PC_PLATFORM.pciTestdevSlot, fn: 0 }, this.pciTestdev);
    }

    // Optional test devices.
    if (options.isaDebugExit !== undefined && options.isaDebugExit !== false) {
      const at = options.isaDebugExit === true ? { iobase: 0xf4, iosize: 4 } : options.isaDebugExit;
      const exit = new IsaDebugExit((status) => {
        this.exitStatus = status;
        this.cpu.requestStop();
      });
      this.register(at.iobase, at.iosize, exit, "isa-debug-exit");
    }
    if (options.pcTestdev === true) {
      const t = new PcTestdev({
        irq: (n) => (n < 16 ? isa(n) : n < 24 ? this.ioapic.irqLine(n) : undefined),
        flushPage: () => this.cpu.invalidateAllBlocks(),
      });
      this.pcTestdev = t;
      this.register(PC_TESTDEV_PORTS.data, 4, t.dataPorts, "pc-testdev");
      this.register(PC_TESTDEV_PORTS.flushPage, 4, t.flushPorts, "pc-testdev-flush");
      this.register(PC_TESTDEV_PORTS.dataBytes, 4, t.dataBytePorts, "pc-testdev-byte");
      this.register(PC_TESTDEV_PORTS.irq, 24, t.irqPorts, "pc-testdev-irq");
      space.mapMmio(PC_TESTDEV_MMIO.base, PC_TESTDEV_MMIO.size, t.mmio, "pc-testdev-mmio");
    }

    // fw_cfg, with what QEMU offers.
    this.fwCfg = new FwCfg({
      cpuCount: cpus,
      ramSize,
      dma: new IdentityDma(space),
    });
    this.register(FW_CFG_PORTS.selector, 2, this.fwCfg, "fw_cfg");
    this.register(FW_CFG_PORTS.dma, 8, this.fwCfg.dmaPorts, "fw_cfg-dma");
    this.addFwCfgBootItems();

    this.timed = [this.pit, this.rtc, this.com1, this.lapic, this.hpet];
    for (const d of [
      this.pic,
      this.pit,
      this.rtc,
      this.com1,
      this.ioapic,
      this.lapic,
      this.hpet,
      this.i8042,
      this.port92,
      this.resetControl,
    ] as Snapshottable<unknown>[]) {
      this.initialStates.push([d, structuredClone(d.state())]);
    }
    this.acpi = this.writeFirmwareTables();
    this.boot();
  }

  /** The exit status `isa-debug-exit` asked for, if it was written. */
  get debugExitStatus(): number | undefined {
    return this.exitStatus;
  }

  /** Asks a running {@link PcMachine.run} to return ({@link RunEnd.Stopped}) after the current instruction. */
  stop(): void {
    this.stopRequested = true;
    this.cpu.requestStop();
  }

  /**
   * Restarts the machine as a reset does: devices back to their power-on state, the ACPI tables
   * and the boot image written again, the processor at the kernel's entry. RAM is otherwise kept.
   */
  reboot(): void {
    for (const [device, state] of this.initialStates) device.fromState(structuredClone(state));
    this.mapLapic(LOCAL_APIC_MMIO.base);
    this.hpetLegacy = false;
    this.acpi = this.writeFirmwareTables();
    this.boot();
  }

  /**
   * Runs the processor until the guest exits through `isa-debug-exit`, shuts down or triple-faults
   * with `noReboot`, halts with nothing to wake it, meets an unimplemented instruction, or a
   * limit passes. Execution is sliced to the next device deadline; HLT skips virtual time to it.
   */
  run(options: RunOptions = {}): RunResult {
    const cpu = this.cpu;
    const t0 = performance.now();
    const ns0 = this.clock.nowNs();
    const insn0 = cpu.instructions;
    const stops0 = Array.from(cpu.stopCounts);
    const events0 = Array.from(cpu.eventCounts);
    const budgetEnd = options.maxInstructions !== undefined ? insn0 + options.maxInstructions : Infinity;
    const deadlineMs = options.timeoutSeconds !== undefined ? t0 + options.timeoutSeconds * 1000 : Infinity;
    const traceEvents = this.tracing.has(TraceKind.Exceptions);
    let resets = 0;
    let idleSinceNs = -1;
    let end: RunEnd | undefined;
    let message = "";
    let report: string | undefined;
    this.stopRequested = false;
    this.running = true;
    try {
      while (end === undefined) {
        if (this.exitStatus !== undefined) {
          end = RunEnd.DebugExit;
          message = `the guest wrote ${hex((this.exitStatus - 1) / 2)} to isa-debug-exit (status ${this.exitStatus})`;
          break;
        }
        if (this.stopRequested) {
          end = RunEnd.Stopped;
          message = "stopped by the host";
          break;
        }
        if (this.resetRequest !== undefined) {
          const kind = this.resetRequest;
          this.resetRequest = undefined;
          if (this.options.noReboot === true) {
            end = RunEnd.Shutdown;
            message = `the guest requested a ${kind} reset (no reboot: shut down)`;
            break;
          }
          resets++;
          this.reboot();
          continue;
        }
        if (performance.now() >= deadlineMs) {
          end = RunEnd.Timeout;
          message = `timeout after ${options.timeoutSeconds} s`;
          report = describeCpu(cpu);
          break;
        }
        this.pollDevices();
        const now = this.clock.nowNs();
        const next = this.nextDeadline();
        let slice = MAX_SLICE;
        if (traceEvents) slice = 1;
        else if (this.clock.host) slice = Math.min(slice, 20_000);
        else if (next !== Number.POSITIVE_INFINITY) {
          const ns = (this.clock as InstructionClock).nsPerInstruction;
          slice = Math.max(1, Math.min(slice, Math.ceil((next - now) / ns)));
        }
        if (cpu.instructions + slice > budgetEnd) slice = budgetEnd - cpu.instructions;
        if (slice <= 0) {
          end = RunEnd.Budget;
          message = `instruction budget of ${options.maxInstructions} spent`;
          report = describeCpu(cpu);
          break;
        }
        this.sliceEndNs = this.clock.host ? Number.POSITIVE_INFINITY : next;
        const before = traceEvents ? Array.from(cpu.eventCounts) : undefined;
        const ran = cpu.instructions;
        const reason = cpu.run(slice);
        // Instructions ran (an interrupt handler, say): the processor was not idle all along.
        if (cpu.instructions !== ran) idleSinceNs = -1;
        if (before !== undefined) this.traceEvents(before);
        switch (reason) {
          case StopReason.Budget:
          case StopReason.Stopped:
            break;
          case StopReason.Halted: {
            const ifSet = (cpu.state.flags.read() & 0x200) !== 0;
            if (!ifSet) {
              end = RunEnd.HaltedForever;
              message = "the processor halted with interrupts disabled: nothing can wake it";
              report = describeCpu(cpu);
              break;
            }
            this.pollDevices();
            if (cpu.interrupts?.hasInterrupt() === true) break;
            const wake = this.nextDeadline();
            const nowNs = this.clock.nowNs();
            if (idleSinceNs < 0) idleSinceNs = nowNs;
            if (wake === Number.POSITIVE_INFINITY || wake - idleSinceNs > MAX_IDLE_NS) {
              end = RunEnd.HaltedForever;
              message =
                wake === Number.POSITIVE_INFINITY
                  ? "the processor halted with interrupts enabled but no timer armed: nothing can wake it"
                  : `the processor halted and no interrupt reached it in ${MAX_IDLE_NS / 1e9} s of machine time`;
              report = describeCpu(cpu);
              break;
            }
            this.clock.idleUntil(wake);
            break;
          }
          case StopReason.Shutdown: {
            if (this.options.noReboot === true) {
              end = RunEnd.TripleFault;
              message = "triple fault: the processor shut down";
              report = describeCpu(cpu);
              break;
            }
            this.options.traceSink?.(`turtles: triple fault at RIP ${hex(cpu.state.rip)}; rebooting`);
            resets++;
            this.reboot();
            break;
          }
          case StopReason.Unimplemented: {
            const u = cpu.unimplemented;
            end = RunEnd.Unimplemented;
            message = `unimplemented instruction ${u?.name ?? "?"} at RIP ${hex(u?.rip ?? cpu.state.rip)}`;
            report = describeCpu(cpu);
            break;
          }
        }
      }
    } finally {
      this.running = false;
      this.sliceEndNs = Number.POSITIVE_INFINITY;
    }
    const seconds = (performance.now() - t0) / 1000;
    const instructions = cpu.instructions - insn0;
    const stopReasons: Record<string, number> = {};
    cpu.stopCounts.forEach((n, i) => {
      const d = n - (stops0[i] ?? 0);
      if (d > 0) stopReasons[STOP_REASON_NAMES[i] ?? String(i)] = d;
    });
    const events: Record<number, number> = {};
    cpu.eventCounts.forEach((n, v) => {
      const d = n - (events0[v] ?? 0);
      if (d > 0) events[v] = d;
    });
    return {
      end,
      exitStatus: end === RunEnd.DebugExit ? this.exitStatus : undefined,
      message,
      report,
      instructions,
      seconds,
      mips: seconds > 0 ? instructions / seconds / 1e6 : 0,
      machineNs: this.clock.nowNs() - ns0,
      stopReasons,
      events,
      resets,
      unimplemented: end === RunEnd.Unimplemented ? cpu.unimplemented : undefined,
    };
  }

  // ---------------------------------------------------------------------------------------------

  private boot(): void {
    this.exitStatus = undefined;
    this.resetRequest = undefined;
    const { entry, format } = loadBoot(this.memory, this.layout, this.options, this.acpi.rsdpBytes);
    this.entry = entry;
    this.bootFormat = format;
    if (entry !== undefined) applyEntryState(this.cpu, entry);
    else this.cpu.reset();
    // QEMU puts the command line in fw_cfg for Linux kernels only (a multiboot kernel gets it in
    // its information structure, and fw_cfg's item stays empty).
    const append = this.options.append;
    if (format === "linux" && append !== undefined) {
      const bytes = new TextEncoder().encode(`${append}\0`);
      const size = new Uint8Array(4);
      new DataView(size.buffer).setUint32(0, bytes.byteLength, true);
      this.fwCfg.setItem(0x14, size); // FW_CFG_CMDLINE_SIZE
      this.fwCfg.setItem(0x15, bytes); // FW_CFG_CMDLINE_DATA
    }
  }

  private writeFirmwareTables(): AcpiPlacement {
    return writeAcpiTables(
      this.memory,
      buildAcpiTables({
        cpus: 1,
        pmBase: PC_PLATFORM.pmBase,
        mcfg: { base: PC_PLATFORM.ecamBase, startBus: 0, endBus: 255 },
      }),
    );
  }

  /**
   * QEMU's items for the firmware: the `etc/e820` file (20-byte entries: base, length, type, as
   * QEMU gives SeaBIOS), the kernel image and its size, the initrd (the first module) and its size.
   */
  private addFwCfgBootItems(): void {
    const map = this.layout.e820();
    const e820 = new Uint8Array(20 * map.length);
    const view = new DataView(e820.buffer);
    map.forEach((r, i) => {
      view.setUint32(20 * i, r.base % 0x1_0000_0000, true);
      view.setUint32(20 * i + 4, Math.floor(r.base / 0x1_0000_0000), true);
      view.setUint32(20 * i + 8, r.length % 0x1_0000_0000, true);
      view.setUint32(20 * i + 12, Math.floor(r.length / 0x1_0000_0000), true);
      view.setUint32(20 * i + 16, r.type, true);
    });
    this.fwCfg.addFile("etc/e820", e820);
    const le32 = (v: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, v >>> 0, true);
      return b;
    };
    const kernel = this.options.kernel;
    if (kernel !== undefined) {
      this.fwCfg.setItem(0x08, le32(kernel.byteLength)); // FW_CFG_KERNEL_SIZE
      this.fwCfg.setItem(0x11, kernel); // FW_CFG_KERNEL_DATA
    }
    const initrd = this.options.initrd?.[0]?.data;
    if (initrd !== undefined) {
      this.fwCfg.setItem(0x0b, le32(initrd.byteLength)); // FW_CFG_INITRD_SIZE
      this.fwCfg.setItem(0x12, initrd); // FW_CFG_INITRD_DATA
    }
  }

  /** Maps the local APIC's window at `base` (where IA32_APIC_BASE puts it), unmapping the old one. */
  private mapLapic(base: number): void {
    if (this.lapicBase === base) return;
    if (this.lapicBase >= 0) this.memory.unmap(this.lapicBase);
    this.memory.mapMmio(base, LOCAL_APIC_MMIO.size, this.watched(this.lapic), "lapic");
    this.lapicBase = base;
  }

  private pollDevices(): void {
    const now = this.clock.nowNs();
    for (const d of this.timed) if (d.nextDeadlineNs() <= now) d.poll();
  }

  private nextDeadline(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.timed) {
      const t = d.nextDeadlineNs();
      if (t < next) next = t;
    }
    return next;
  }

  /** A timer's registers: after each access, a deadline moved earlier ends the processor's slice. */
  private watched(handler: Handler): Handler {
    return {
      read: (offset, size) => {
        const v = handler.read(offset, size);
        this.checkDeadline();
        return v;
      },
      write: (offset, size, value) => {
        handler.write(offset, size, value);
        this.checkDeadline();
      },
    };
  }

  private checkDeadline(): void {
    if (this.running && this.nextDeadline() < this.sliceEndNs) this.cpu.requestStop();
  }

  private register(base: number, length: number, handler: PortIoHandler, name: string): void {
    if (!this.tracing.has(TraceKind.Io)) {
      this.io.register(base, length, handler, name);
      return;
    }
    const trace = this.trace;
    this.io.register(
      base,
      length,
      {
        read(offset, size) {
          const v = handler.read(offset, size);
          trace(`io: in  ${hex(base + offset)}/${size} = ${hex(v)} (${name})`);
          return v;
        },
        write(offset, size, value) {
          trace(`io: out ${hex(base + offset)}/${size} = ${hex(value)} (${name})`);
          handler.write(offset, size, value);
        },
      },
      name,
    );
  }

  private traced(name: string, line: IrqLine): IrqLine {
    if (!this.tracing.has(TraceKind.Irq)) return line;
    let level = false;
    return {
      set: (high) => {
        if (high !== level) this.trace(`irq: ${name} ${high ? "raised" : "lowered"}`);
        level = high;
        line.set(high);
      },
    };
  }

  private interruptSource(): InterruptSource {
    const lapic = this.lapic;
    if (!this.tracing.has(TraceKind.Irq)) return lapic;
    return {
      hasInterrupt: () => lapic.hasInterrupt(),
      acknowledge: () => {
        const v = lapic.acknowledge();
        this.trace(`irq: INTA vector ${hex(v)} at RIP ${hex(this.cpu.state.rip)}`);
        return v;
      },
    };
  }

  private traceEvents(before: number[]): void {
    const cpu = this.cpu;
    cpu.eventCounts.forEach((n, v) => {
      if (n > (before[v] ?? 0)) {
        const cr2 = v === 14 ? ` CR2=${hex(cpu.state.cr[4]!)}` : "";
        this.trace(`exception: vector ${v} delivered; handler at RIP ${hex(cpu.state.rip)}${cr2}`);
      }
    });
  }
}

/**
 * Builds the Turtles PC: RAM laid out by {@link PcMemoryLayout} (`ramSize`, 128 MiB by default;
 * the PCI hole from 0xB0000000), the processor, the 8259A pair, PIT (IRQ0), RTC/CMOS (IRQ8), COM1
 * (IRQ4), the 8042, port 0x92, reset control 0xCF9, the I/O APIC, local APIC, HPET, ACPI PM timer,
 * fw_cfg, the PCI host bridge on mechanism #1 and ECAM, ACPI tables with the RSDP at 0xE0000, the
 * optional QEMU test devices, and the kernel or boot sector loaded with the processor at its entry.
 *
 * @throws BootLoadError for a kernel, initrd or boot image no loader accepts (host input).
 * @throws RangeError for impossible options (RAM size, processor count).
 */
export function createMachine(options: MachineOptions = {}): PcMachine {
  return new PcMachine(options);
}
