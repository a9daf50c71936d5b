import type { BootModule } from "../boot/multiboot.js";
import type { DebugExitPlacement } from "../devices/isa-debug-exit.js";

export type { DebugExitPlacement } from "../devices/isa-debug-exit.js";

/** What the machine can trace, each line to {@link MachineOptions.traceSink}. */
export const TraceKind = {
  /** Every port access to a device (port, size, value, device name). */
  Io: "io",
  /** Interrupt request lines changing level and vectors the processor acknowledges. */
  Irq: "irq",
  /** Exceptions and interrupts delivered by the processor (vector, RIP after delivery, CR2 for #PF). */
  Exceptions: "exceptions",
} as const;

/** One of the {@link TraceKind} values. */
export type TraceKind = (typeof TraceKind)[keyof typeof TraceKind];

/** Options of {@link createMachine}; every one has a default. */
export interface MachineOptions {
  /** RAM in bytes (a multiple of 1 MiB, at least 2 MiB; default 128 MiB, as QEMU). */
  readonly ramSize?: number;
  /** Processors: only 1 is supported (QEMU's `-smp 1`). */
  readonly cpus?: number;
  /**
   * A kernel as QEMU's `-kernel` takes it: a Multiboot v1 image (ELF or a.out kludge), a Multiboot2
   * image, a Linux bzImage, or a plain ELF32/ELF64 kernel (tried in that order).
   */
  readonly kernel?: Uint8Array;
  /** The kernel's file name (the first word of a multiboot command line; default `"kernel"`). */
  readonly kernelName?: string;
  /** The kernel command line (QEMU's `-append`). */
  readonly append?: string;
  /** Multiboot modules, or (the first one's data) a Linux initrd: QEMU's `-initrd`. */
  readonly initrd?: readonly BootModule[];
  /**
   * A boot sector image loaded at 0x7C00 and entered in real mode at 0000:7C00 with DL = 0x80
   * (no BIOS runs: the whole image is placed, so a payload after the first sector is already
   * there). Used instead of `kernel`.
   */
  readonly bootImage?: Uint8Array;
  /** Receives every byte the guest sends on COM1 (default: dropped). */
  readonly serial?: (byte: number) => void;
  /** Receives every byte written to the 0xE9 debug console (default: dropped). */
  readonly debugConsole?: (byte: number) => void;
  /** Adds QEMU's `isa-debug-exit` (true = at 0xF4, 4 ports). */
  readonly isaDebugExit?: boolean | DebugExitPlacement;
  /** Adds QEMU's `pc-testdev` (ports 0xE0-0xEB, 0x2000-0x2017, MMIO 0xFF000000). */
  readonly pcTestdev?: boolean;
  /** Adds QEMU's `pci-testdev` at 00:03.0. */
  readonly pciTestdev?: boolean;
  /** A reset request or triple fault ends the run instead of restarting the machine (QEMU's `-no-reboot`). */
  readonly noReboot?: boolean;
  /** `"virtual"` (default): time follows executed instructions; `"host"`: the host's clock. */
  readonly time?: "virtual" | "host";
  /** Virtual nanoseconds per executed instruction (a positive integer; default 1, a 1 GHz machine). */
  readonly nsPerInstruction?: number;
  /** The RTC's date at time 0, in ms since 1970 UTC (default: 2000-01-01 in virtual time, now in host time). */
  readonly rtcStartTimeMs?: number;
  /** What to trace (default nothing). */
  readonly trace?: readonly TraceKind[];
  /** Receives trace lines (default: `console.error`). */
  readonly traceSink?: (line: string) => void;
}

/** Options of one {@link PcMachine.run}. */
export interface RunOptions {
  /** Stop after this many instructions (default: no limit). */
  readonly maxInstructions?: number;
  /** Stop after this many seconds of host time (default: no limit). */
  readonly timeoutSeconds?: number;
}
