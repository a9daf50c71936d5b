/**
 * `@turtles/machine`: the Turtles PC. The chipset devices — 8259A
 * PICs, 8254 PIT, MC146818 RTC/CMOS, 16550A UART, I/O APIC, local APIC, HPET, ACPI PM timer, the
 * reset and A20 controls, and QEMU-compatible test devices (isa-debug-exit, the 0xE9 console,
 * pc-testdev, fw_cfg, pci-testdev) — each a self-contained module that sees only
 * `(offset, size, value)` on its port or MMIO window, an injected {@link Clock} and injected
 * {@link IrqLine}s, and saves its state as plain data ({@link Snapshottable}); PCI configuration
 * space ({@link PciBus}, mechanism #1 and ECAM); ACPI tables ({@link buildAcpiTables},
 * {@link writeAcpiTables}); the PC memory layout ({@link PcMemoryLayout}) and boot loaders
 * (Multiboot v1/v2, ELF, raw, Linux bzImage) that describe the entry state
 * ({@link BootEntryState}) for the CPU to apply; {@link PcPlatform} assembles all of it, wired;
 * and the machine itself: {@link createMachine} wires it to a `@turtles/cpu` processor and runs it
 * ({@link PcMachine.run}), which the `turtles` command (the package's bin) drives with QEMU's flags.
 *
 * @packageDocumentation
 */

export {
  type AcpiOem,
  type AcpiTable,
  byteSum,
  fixChecksum,
  GasSpace,
  SDT_HEADER_SIZE,
  sdt,
  TableBytes,
} from "./acpi/table.js";
export {
  ACPI_DEFAULTS,
  type AcpiHpet,
  type AcpiMcfgAllocation,
  type AcpiPlatform,
  buildAcpiTables,
  buildDsdt,
  buildFacs,
  buildFadt,
  buildHpetTable,
  buildMadt,
  buildMcfg,
  DSDT_AML,
  FadtOffset,
  MadtEntryType,
  MpsIntiFlags,
} from "./acpi/tables.js";
export { type AcpiPlacement, type AcpiPlacementOptions, RSDP_SIZE, writeAcpiTables } from "./acpi/write.js";
export { type ElfImage, ElfMachine, type ElfSegment, isElf, loadElfKernel, parseElf } from "./boot/elf.js";
export {
  BOOT_ADDRESSES,
  BOOT_RESERVED,
  BOOT_SELECTORS,
  type BootEntryState,
  BootMode,
  type BootRegisters,
  longModeEntry,
  protectedModeEntry,
  realModeEntry,
  type SegmentSetup,
  type TableRegister,
  writeBootGdt,
  writeIdentityMap,
} from "./boot/entry.js";
export { BootLoadError } from "./boot/image.js";
export {
  LOW_MEMORY,
  type MemoryRange,
  MemoryType,
  PcMemoryLayout,
  type PcMemoryLayoutOptions,
} from "./boot/layout.js";
export {
  BootParams,
  type BzImageInfo,
  LINUX_BOOT,
  type LinuxBootOptions,
  loadLinux,
  parseBzImage,
  SetupHeader,
} from "./boot/linux.js";
export {
  type BootModule,
  findMultibootHeader,
  loadMultiboot,
  MULTIBOOT,
  type MultibootHeader,
  type MultibootOptions,
  moduleFileName,
  splitModuleList,
} from "./boot/multiboot.js";
export {
  findMultiboot2Header,
  loadMultiboot2,
  MULTIBOOT2,
  type Multiboot2Options,
} from "./boot/multiboot2.js";
export { loadRaw, type RawImageOptions } from "./boot/raw.js";
export {
  ACPI_PM_TIMER_HZ,
  AcpiPmTimer,
  type AcpiPmTimerOptions,
  type AcpiPmTimerState,
} from "./devices/acpi-pm-timer.js";
export { type Clock, ManualClock, nsToTicks, type TimedDevice, ticksToNs } from "./devices/clock.js";
export { DEBUG_CONSOLE_PORT, DebugConsole, type DebugConsoleState } from "./devices/debug-console.js";
export {
  FW_CFG_MAX_NAME,
  FW_CFG_PORTS,
  FwCfg,
  FwCfgDmaControl,
  type FwCfgFile,
  FwCfgKey,
  type FwCfgOptions,
  type FwCfgState,
} from "./devices/fw-cfg.js";
export {
  HPET_CAPABILITIES_LOW,
  HPET_MMIO,
  HPET_TICK_NS,
  HPET_TIMERS,
  Hpet,
  type HpetOptions,
  type HpetState,
  type HpetTimerState,
} from "./devices/hpet.js";
export { I8042, I8042_PORTS, type I8042State } from "./devices/i8042.js";
export {
  type InterruptMessageSink,
  IOAPIC_MMIO,
  IOAPIC_PINS,
  IoApic,
  type IoApicState,
} from "./devices/ioapic.js";
export {
  fanOut,
  type InterruptAcknowledge,
  type IrqLine,
  noIrqLine,
  SharedIrqLine,
} from "./devices/irq-line.js";
export { ISA_DEBUG_EXIT_PORTS, IsaDebugExit, type IsaDebugExitState } from "./devices/isa-debug-exit.js";
export {
  ApicError,
  ApicMsr,
  DeliveryMode,
  type IpiSender,
  LOCAL_APIC_MMIO,
  LocalApic,
  type LocalApicCpuSignals,
  type LocalApicOptions,
  type LocalApicState,
  MsrAccess,
} from "./devices/local-apic.js";
export { Lvt } from "./devices/local-apic-registers.js";
export {
  PC_TESTDEV_MMIO,
  PC_TESTDEV_PORTS,
  PcTestdev,
  type PcTestdevOptions,
  type PcTestdevState,
} from "./devices/pc-testdev.js";
export { PIC_PORTS, type PicChipState, PicPair, type PicPairState } from "./devices/pic8259.js";
export { PIT_HZ, PIT_PORTS, Pit8254, type Pit8254State, type PitChannelState } from "./devices/pit8254.js";
export { PORT92, Port92, type Port92State } from "./devices/port92.js";
export { RESET_CONTROL_PORT, ResetControl, type ResetControlState } from "./devices/reset-control.js";
export {
  RTC_PORTS,
  RtcCmos,
  type RtcCmosOptions,
  type RtcCmosState,
  RtcRegister,
} from "./devices/rtc-cmos.js";
export { type PlatformSignals, ResetKind } from "./devices/signals.js";
export type { Snapshottable } from "./devices/snapshot.js";
export {
  UART_CLOCK_HZ,
  UART_PORTS,
  Uart16550,
  type Uart16550Options,
  type Uart16550State,
  type UartModemLines,
} from "./devices/uart16550.js";
export { applyEntryState } from "./pc/apply-entry.js";
export { HostClock, InstructionClock, type InstructionCounter, type MachineClock } from "./pc/clocks.js";
export { EXIT_STATUS, exitStatusOf } from "./pc/exit-status.js";
export { BOOT_SECTOR_ADDRESS, type KernelFormat, loadBoot } from "./pc/load-boot.js";
export { createMachine, PC_PLATFORM, PcMachine } from "./pc/machine.js";
export {
  type DebugExitPlacement,
  type MachineOptions,
  type RunOptions,
  TraceKind,
} from "./pc/options.js";
export { codeBytesAtRip, describeCpu, describeMode, linearRip } from "./pc/report.js";
export { RunEnd, type RunResult } from "./pc/run-result.js";
export { assignPciResources, type PciBarAssignment, type PciResourceOptions } from "./pci/firmware.js";

export { HOST_BRIDGE_IDENTITY, PciHostBridge } from "./pci/host-bridge.js";
export {
  formatPci,
  mapBarsInto,
  PCI_CONFIG_PORTS,
  type PciAddress,
  PciBus,
  PciConfigMechanism1,
  type PciConfigMechanism1State,
  PciEcam,
  pciKey,
} from "./pci/pci-bus.js";
export {
  type PciBar,
  type PciBarChange,
  type PciBarKind,
  type PciBarListener,
  PciCommand,
  PciConfig,
  PciFunction,
  type PciFunctionState,
  type PciIdentity,
  PciStatus,
} from "./pci/pci-function.js";
export { PCI_TESTDEV_BARS, PCI_TESTDEV_ID, PciTestdev, type PciTestdevState } from "./pci/pci-testdev.js";
export { PCI_INTX_IRQS, PcPlatform, type PcPlatformOptions, pciIntxIrq } from "./platform.js";
