import { Cpu, type InterruptSource, type MsrDevice, STOP_REASON_NAMES, StopReason } from "@turtles/cpu";
import type { PhysicalAddressSpace, PortIoHandler, PortIoSpace } from "@turtles/memory";
import { ACPI_DEFAULTS } from "../acpi/tables.js";
import type { AcpiPlacement } from "../acpi/write.js";
import type { BootEntryState } from "../boot/entry.js";
import type { PcMemoryLayout } from "../boot/layout.js";
import type { AcpiPmTimer } from "../devices/acpi-pm-timer.js";
import type { FwCfg } from "../devices/fw-cfg.js";
import type { Hpet } from "../devices/hpet.js";
import type { I8042 } from "../devices/i8042.js";
import type { IoApic } from "../devices/ioapic.js";
import type { IrqLine } from "../devices/irq-line.js";
import { type LocalApic, MsrAccess } from "../devices/local-apic.js";
import type { PcTestdev } from "../devices/pc-testdev.js";
import type { PicPair } from "../devices/pic8259.js";
import type { Pit8254 } from "../devices/pit8254.js";
import type { Port92 } from "../devices/port92.js";
import type { ResetControl } from "../devices/reset-control.js";
import type { RtcCmos } from "../devices/rtc-cmos.js";
import type { ResetKind } from "../devices/signals.js";
import type { Uart16550 } from "../devices/uart16550.js";
import type { PciBus } from "../pci/pci-bus.js";
import type { PciTestdev } from "../pci/pci-testdev.js";
import { PC_PCI_HOLE_START, PcPlatform } from "../platform.js";
import { applyEntryState } from "./apply-entry.js";
import { HostClock, InstructionClock, type MachineClock } from "./clocks.js";
import { type KernelFormat, loadBoot } from "./load-boot.js";
import { type MachineOptions, type RunOptions, TraceKind } from "./options.js";
import { describeCpu } from "./report.js";
import { RunEnd, type RunResult } from "./run-result.js";

/** Fixed addresses and numbers of the Turtles PC (QEMU `pc`-like where a guest may look). */
export const PC_PLATFORM = {
  /** Start of the PCI hole below 4 GiB (RAM beyond it goes above 4 GiB), as QEMU `pc` splits large RAM. */
  pciHoleStart: PC_PCI_HOLE_START,
  /** The ECAM (MCFG) window: 256 buses, 256 MiB, at the start of the PCI hole. */
  ecamBase: PC_PCI_HOLE_START,
  /** ECAM window size. */
  ecamSize: 0x1000_0000,
  /** ACPI PM I/O base (the PM timer is at +8). */
  pmBase: ACPI_DEFAULTS.pmBase,
  /** The PCI device number of `pci-testdev` on bus 0. */
  pciTestdevSlot: 3,
  /** Default RAM: 128 MiB, as QEMU. */
  defaultRamSize: 128 * 0x10_0000,
} as const;

/** Instructions per processor run slice when no device deadline is nearer. */
const MAX_SLICE = 1_000_000;
/** Virtual nanoseconds a halted processor may sleep with no interrupt reaching it before the run ends. */
const MAX_IDLE_NS = 60_000_000_000;

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/**
 * The Turtles PC: a {@link PcPlatform} (the chipset, wired as a PC) with one `@turtles/cpu`
 * processor, its clock, the boot loaders and the run loop.
 * Build it with {@link createMachine}, then {@link PcMachine.run} it.
 */
export class PcMachine {
  /** The platform: every device, wired; the parts below are its parts. */
  readonly platform: PcPlatform;
  /** The processor. */
  readonly cpu: Cpu;
  /** Physical memory: RAM by {@link PcMachine.layout}, the APICs, HPET, ECAM and PCI BARs. */
  readonly memory: PhysicalAddressSpace;
  /** The port I/O space. */
  readonly io: PortIoSpace;
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
  /** Which loader took the kernel. */
  bootFormat: KernelFormat = "none";
  /** The entry state the loader described (undefined without a kernel). */
  entry: BootEntryState | undefined;

  private readonly options: MachineOptions;
  private readonly trace: (line: string) => void;
  private readonly tracing: ReadonlySet<string>;
  private exitStatus: number | undefined;
  private resetRequest: ResetKind | undefined;
  private stopRequested = false;
  private running = false;
  private sliceEndNs = Number.POSITIVE_INFINITY;

  /** Use {@link createMachine}. */
  constructor(options: MachineOptions) {
    this.options = options;
    const cpus = options.cpus ?? 1;
    if (cpus !== 1) throw new RangeError(`createMachine: ${cpus} processors asked for; only 1 is supported`);
    this.tracing = new Set(options.trace ?? []);
    this.trace = options.traceSink ?? ((line) => console.error(line));
    const virtualClock =
      options.time === "host" ? undefined : new InstructionClock(options.nsPerInstruction ?? 1);
    this.clock = virtualClock ?? new HostClock();

    const p = new PcPlatform({
      ramSize: options.ramSize ?? PC_PLATFORM.defaultRamSize,
      pciHoleStart: PC_PLATFORM.pciHoleStart,
      ecamBase: PC_PLATFORM.ecamBase,
      clock: this.clock,
      rtcStartTimeMs: options.rtcStartTimeMs ?? (options.time === "host" ? Date.now() : Date.UTC(2000, 0, 1)),
      ...(options.serial === undefined ? {} : { serial: options.serial }),
      ...(options.debugConsole === undefined ? {} : { debugConsole: options.debugConsole }),
      debugConsolePort: options.debugConsole !== undefined,
      isaDebugExit: options.isaDebugExit ?? false,
      exit: (status) => {
        this.exitStatus = status;
        this.cpu.requestStop();
      },
      reset: (kind) => {
        this.resetRequest = kind;
        this.cpu.requestStop();
      },
      pcTestdev: options.pcTestdev === true,
      flushPage: () => this.cpu.invalidateAllBlocks(),
      pciTestdev: options.pciTestdev === true,
      pciTestdevSlot: PC_PLATFORM.pciTestdevSlot,
      timerAccess: () => this.checkDeadline(),
      ...(this.tracing.has(TraceKind.Io)
        ? { wrapPort: (h, base, name) => this.tracedPorts(h, base, name) }
        : {}),
      ...(this.tracing.has(TraceKind.Irq) ? { wrapIrq: (line, name) => this.tracedLine(line, name) } : {}),
    });
    this.platform = p;
    this.memory = p.space;
    this.io = p.io;
    this.layout = p.layout;
    this.pic = p.pic;
    this.pit = p.pit;
    this.rtc = p.rtc;
    this.com1 = p.com1;
    this.ioapic = p.ioapic;
    this.lapic = p.lapic;
    this.hpet = p.hpet;
    this.pmTimer = p.pmTimer;
    this.fwCfg = p.fwCfg;
    this.i8042 = p.i8042;
    this.port92 = p.port92;
    this.resetControl = p.resetControl;
    this.pci = p.pci;
    this.pciTestdev = p.pciTestdev;
    this.pcTestdev = options.pcTestdev === true ? p.pcTestdev : undefined;

    // The processor takes interrupts from its local APIC (fixed ones from the I/O APIC, ExtINT
    // from the 8259A through LINT0).
    this.cpu = new Cpu({
      memory: p.space,
      io: p.io,
      interrupts: this.interruptSource(),
      msrDevice: lapicMsrs(p.lapic),
      tpr: p.lapic,
    });
    const cpu = this.cpu;
    p.cpuSignals = {
      nmi: () => cpu.raiseNmi(),
      init: () => cpu.init(),
      startup: (vector) => {
        cpu.startup(vector);
      },
    };
    virtualClock?.attach(this.cpu);
    this.addFwCfgBootItems();
    this.boot();
  }

  /** Where the ACPI tables went (the RSDP is at `acpi.rsdp`). */
  get acpi(): AcpiPlacement {
    return this.platform.acpi;
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
    this.platform.reset();
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
        this.platform.pollTimers();
        const now = this.clock.nowNs();
        const next = this.platform.nextDeadlineNs();
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
            this.platform.pollTimers();
            if (cpu.interrupts?.hasInterrupt() === true) break;
            const wake = this.platform.nextDeadlineNs();
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

  /**
   * QEMU's fw_cfg items for the firmware beyond the platform's (which offers `etc/e820`): the
   * kernel image and its size, the initrd (the first module) and its size.
   */
  private addFwCfgBootItems(): void {
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

  private checkDeadline(): void {
    if (this.running && this.platform.nextDeadlineNs() < this.sliceEndNs) this.cpu.requestStop();
  }

  /** A port window that traces each access (`TraceKind.Io`). */
  private tracedPorts(handler: PortIoHandler, base: number, name: string): PortIoHandler {
    const trace = this.trace;
    return {
      read(offset, size) {
        const v = handler.read(offset, size);
        trace(`io: in  ${hex(base + offset)}/${size} = ${hex(v)} (${name})`);
        return v;
      },
      write(offset, size, value) {
        trace(`io: out ${hex(base + offset)}/${size} = ${hex(value)} (${name})`);
        handler.write(offset, size, value);
      },
    };
  }

  /** An interrupt line that traces its level changes (`TraceKind.Irq`). */
  private tracedLine(line: IrqLine, name: string): IrqLine {
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
    const lapic = this.platform.interrupts;
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
 * Builds the Turtles PC: a {@link PcPlatform} (RAM laid out by {@link PcMemoryLayout}, `ramSize`,
 * 128 MiB by default, the PCI hole from 0xC0000000; the chipset, APICs, HPET, PCI, fw_cfg and the
 * ACPI tables with the RSDP at 0xF0000, the optional QEMU test devices as asked), the processor
 * taking interrupts from its local APIC, the clock, and the kernel or boot sector loaded with the
 * processor at its entry.
 *
 * @throws BootLoadError for a kernel, initrd or boot image no loader accepts (host input).
 * @throws RangeError for impossible options (RAM size, processor count).
 */
export function createMachine(options: MachineOptions = {}): PcMachine {
  return new PcMachine(options);
}

/** The local APIC's MSRs (IA32_APIC_BASE, TSC deadline, the x2APIC range) as the CPU reaches them. */
function lapicMsrs(lapic: LocalApic): MsrDevice {
  return {
    handlesMsr: (index) => lapic.handlesMsr(index),
    readMsr: (index, out) => {
      if (lapic.readMsr(index) !== MsrAccess.Ok) return false;
      out[0] = lapic.msrLo;
      out[1] = lapic.msrHi;
      return true;
    },
    writeMsr: (index, lo, hi) => lapic.writeMsr(index, lo, hi) === MsrAccess.Ok,
  };
}
