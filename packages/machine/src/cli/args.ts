// The `turtles` command line: QEMU's flags where users know them, and a few of our own.
import { type DebugExitPlacement, TraceKind } from "../pc/options.js";

/** A command-line mistake: the message is one line for the user. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Where COM1 goes. */
export type SerialTarget =
  | { readonly kind: "stdio" }
  | { readonly kind: "none" }
  | { readonly kind: "file"; readonly path: string };

/** The parsed command line. */
export interface CliArgs {
  kernel?: string;
  append?: string;
  initrd?: string;
  bootImage?: string;
  ramSize: number;
  serial: SerialTarget;
  debugcon?: SerialTarget;
  isaDebugExit?: DebugExitPlacement;
  pcTestdev: boolean;
  pciTestdev: boolean;
  noReboot: boolean;
  stats: boolean;
  trace: TraceKind[];
  maxInstructions?: number;
  timeoutSeconds?: number;
  hostTime: boolean;
  help: boolean;
}

/** The help text. */
export const USAGE = `usage: turtles [options]
  -kernel FILE          Multiboot v1/v2, Linux bzImage or ELF kernel
  -append STRING        kernel command line
  -initrd FILE[,FILE]   multiboot modules ("file args", comma-separated) or a Linux initrd
  -m SIZE               RAM (MiB, or with a K/M/G suffix; default 128M)
  -smp 1                processors (only 1)
  -serial stdio|file:PATH|none   where COM1 goes (default stdio)
  -debugcon stdio|file:PATH|none where the 0xE9 debug console goes (default: not present)
  -device isa-debug-exit[,iobase=0x501,iosize=0x02]  (QEMU's defaults; kit guests use 0xf4)
  -device pc-testdev | -device pci-testdev
  -no-reboot            a reset request or triple fault ends the run
  -display none, -nographic      accepted (there is no display)
  --boot-image FILE     boot sector image at 0x7C00, real mode, DL=0x80
  --stats               instructions, MIPS, stop reasons, exceptions by vector (stderr)
  --trace io|irq|exceptions      trace to stderr (comma-separated or repeated)
  --max-instructions N  stop after N instructions
  --timeout S           stop after S seconds of host time
  --host-time           run devices on the host's clock (default: 1 ns per instruction)
exit status: (v << 1) | 1 for isa-debug-exit value v; 0 clean shutdown (-no-reboot);
  2 bad command line or image; 4 instruction budget spent; 6 timeout; 8 halted forever;
  10 unimplemented instruction; 12 triple fault (-no-reboot); 14 emulator error`;

/** Flags that take a value, by name (without leading dashes). */
const WITH_VALUE = new Set([
  "kernel",
  "append",
  "initrd",
  "m",
  "smp",
  "serial",
  "debugcon",
  "device",
  "display",
  "boot-image",
  "trace",
  "max-instructions",
  "timeout",
]);
const WITHOUT_VALUE = new Set(["no-reboot", "nographic", "stats", "host-time", "help", "h"]);

/** Parses a QEMU memory size: a number of MiB, or with a K/M/G/T suffix (optionally `size=`). */
export function parseMemorySize(text: string): number {
  const m = /^(?:size=)?(\d+(?:\.\d+)?)([kKmMgGtT]?)[bB]?$/.exec(text);
  if (m === null) throw new UsageError(`-m: cannot read memory size "${text}"`);
  const unit = (m[2] ?? "").toUpperCase();
  const scale = unit === "K" ? 1024 : unit === "G" ? 2 ** 30 : unit === "T" ? 2 ** 40 : 2 ** 20;
  const bytes = Math.round(Number(m[1]) * scale);
  if (bytes % 2 ** 20 !== 0 || bytes < 2 * 2 ** 20) {
    throw new UsageError(`-m: ${text} is not a whole number of MiB of at least 2 MiB`);
  }
  return bytes;
}

function parseNumber(flag: string, text: string, integer: boolean): number {
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v) || v <= 0 || (integer && !Number.isSafeInteger(v))) {
    throw new UsageError(`${flag}: "${text}" is not a positive ${integer ? "integer" : "number"}`);
  }
  return v;
}

function parseDevice(args: CliArgs, text: string): void {
  const [name, ...props] = text.split(",");
  const kv = new Map<string, string>();
  for (const p of props) {
    const eq = p.indexOf("=");
    if (eq < 0) throw new UsageError(`-device ${name}: property "${p}" is not key=value`);
    kv.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const known = (allowed: string[]) => {
    for (const k of kv.keys()) {
      if (!allowed.includes(k)) throw new UsageError(`-device ${name}: unknown property "${k}"`);
    }
  };
  const int = (k: string, fallback: number): number => {
    const v = kv.get(k);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 0xffff)
      throw new UsageError(`-device ${name}: ${k}=${v} is not a port number`);
    return n;
  };
  switch (name) {
    case "isa-debug-exit":
      known(["iobase", "iosize"]);
      args.isaDebugExit = { iobase: int("iobase", 0x501), iosize: int("iosize", 2) }; // QEMU's defaults
      if (args.isaDebugExit.iosize < 1)
        throw new UsageError("-device isa-debug-exit: iosize must be at least 1");
      return;
    case "pc-testdev":
      known([]);
      args.pcTestdev = true;
      return;
    case "pci-testdev":
      known(["addr"]);
      args.pciTestdev = true;
      return;
    default:
      throw new UsageError(`-device: unsupported device "${name}" (isa-debug-exit, pc-testdev, pci-testdev)`);
  }
}

function parseSerial(text: string, flag = "-serial"): SerialTarget {
  if (text === "stdio" || text === "mon:stdio") return { kind: "stdio" };
  if (text === "none" || text === "null") return { kind: "none" };
  if (text.startsWith("file:") && text.length > 5) return { kind: "file", path: text.slice(5) };
  throw new UsageError(`${flag}: unsupported target "${text}" (stdio, file:PATH, none)`);
}

const TRACE_KINDS: readonly string[] = Object.values(TraceKind);

/**
 * Parses the `turtles` command line (without the program name).
 * @throws UsageError for an unknown flag, a missing or malformed value.
 */
export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    ramSize: 128 * 2 ** 20,
    serial: { kind: "stdio" },
    pcTestdev: false,
    pciTestdev: false,
    noReboot: false,
    stats: false,
    trace: [],
    hostTime: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith("-") || raw === "-" || raw === "--") {
      throw new UsageError(`unexpected argument "${raw}" (options start with -; see --help)`);
    }
    const name = raw.replace(/^--?/, "");
    if (WITHOUT_VALUE.has(name)) {
      if (name === "no-reboot") args.noReboot = true;
      else if (name === "stats") args.stats = true;
      else if (name === "host-time") args.hostTime = true;
      else if (name === "help" || name === "h") args.help = true;
      continue;
    }
    if (!WITH_VALUE.has(name)) throw new UsageError(`unknown option ${raw} (see --help)`);
    const value = argv[++i];
    if (value === undefined) throw new UsageError(`${raw} needs a value`);
    switch (name) {
      case "kernel":
        args.kernel = value;
        break;
      case "append":
        args.append = value;
        break;
      case "initrd":
        args.initrd = value;
        break;
      case "boot-image":
        args.bootImage = value;
        break;
      case "m":
        args.ramSize = parseMemorySize(value);
        break;
      case "smp": {
        const n = /^(?:cpus=)?(\d+)$/.exec(value)?.[1];
        if (n !== "1") throw new UsageError(`-smp ${value}: only one processor is supported (-smp 1)`);
        break;
      }
      case "serial":
        args.serial = parseSerial(value);
        break;
      case "debugcon":
        args.debugcon = parseSerial(value, "-debugcon");
        break;
      case "device":
        parseDevice(args, value);
        break;
      case "display":
        break; // there is no display: any value is accepted and ignored
      case "trace":
        for (const kind of value.split(",")) {
          if (!TRACE_KINDS.includes(kind))
            throw new UsageError(`--trace: unknown kind "${kind}" (io, irq, exceptions)`);
          args.trace.push(kind as TraceKind);
        }
        break;
      case "max-instructions":
        args.maxInstructions = parseNumber(raw, value, true);
        break;
      case "timeout":
        args.timeoutSeconds = parseNumber(raw, value, false);
        break;
    }
  }
  if (!args.help && args.kernel !== undefined && args.bootImage !== undefined) {
    throw new UsageError("give -kernel or --boot-image, not both");
  }
  if (!args.help && args.kernel === undefined && args.bootImage === undefined) {
    throw new UsageError("nothing to boot: give -kernel FILE or --boot-image FILE (see --help)");
  }
  if (args.kernel === undefined && (args.append !== undefined || args.initrd !== undefined) && !args.help) {
    throw new UsageError("-append and -initrd need -kernel");
  }
  return args;
}
