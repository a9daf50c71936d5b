// The `turtles` command: parse the flags, read the images, build the machine, run it, report.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { VECTORS } from "@turtles/cpu";
import type { BootModule } from "../boot/multiboot.js";
import { moduleFileName, splitModuleList } from "../boot/multiboot.js";
import { EXIT_STATUS, exitStatusOf } from "../pc/exit-status.js";
import { createMachine } from "../pc/machine.js";
import type { MachineOptions } from "../pc/options.js";
import { RunEnd, type RunResult } from "../pc/run-result.js";
import { type CliArgs, parseArgs, USAGE, UsageError } from "./args.js";

/** Where the command's output goes (the process's streams by default; tests pass their own). */
export interface CliStreams {
  /** Guest serial output bytes (`-serial stdio`). */
  readonly stdout: (bytes: Uint8Array) => void;
  /** Our own messages, one line each. */
  readonly stderr: (line: string) => void;
}

const processStreams: CliStreams = {
  stdout: (bytes) => writeAll(1, bytes),
  stderr: (line) => writeAll(2, new TextEncoder().encode(`${line}\n`)),
};

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.byteLength) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // The reader went away (`turtles ... | head`): stop quietly, as a process killed by SIGPIPE.
      if (code === "EPIPE") process.exit(141);
      if (code !== "EAGAIN") throw e;
    }
  }
}

/** Buffers serial bytes and hands them on at each newline or 4 KiB. */
class LineBuffer {
  private readonly buf = new Uint8Array(4096);
  private n = 0;
  constructor(private readonly out: (bytes: Uint8Array) => void) {}
  push(byte: number): void {
    this.buf[this.n++] = byte;
    if (byte === 0x0a || this.n === this.buf.length) this.flush();
  }
  flush(): void {
    if (this.n > 0) this.out(this.buf.slice(0, this.n));
    this.n = 0;
  }
}

function readImage(what: string, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT"
        ? "no such file"
        : err.code === "EISDIR"
          ? "is a directory"
          : (err.code ?? err.message);
    throw new UsageError(`cannot read ${what} ${path}: ${why}`);
  }
}

function vectorName(v: number): string {
  const info = v < 32 ? VECTORS[v] : undefined;
  return info !== undefined ? `${v} (${info.mnemonic})` : String(v);
}

/** The `--stats` lines. */
export function formatStats(result: RunResult): string[] {
  const lines = [
    `turtles: ${result.message}`,
    `turtles: ${result.instructions} instructions in ${result.seconds.toFixed(3)} s = ${result.mips.toFixed(1)} MIPS; machine time ${(result.machineNs / 1e6).toFixed(3)} ms; resets ${result.resets}`,
    `turtles: stop reasons: ${
      Object.entries(result.stopReasons)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none"
    }`,
    `turtles: events by vector: ${
      Object.entries(result.events)
        .map(([v, n]) => `${vectorName(Number(v))} x${n}`)
        .join(", ") || "none"
    }`,
  ];
  return lines;
}

/**
 * Runs the `turtles` command with `argv` (without the program name) and returns its exit status.
 * Never throws: bad input and emulator errors become a one-line message and a status.
 */
export function runCli(argv: readonly string[], streams: CliStreams = processStreams): number {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      streams.stderr(`turtles: ${e.message}`);
      return EXIT_STATUS.badInput;
    }
    throw e;
  }
  if (args.help) {
    for (const line of USAGE.split("\n")) streams.stderr(line);
    return 0;
  }
  const fds: number[] = [];
  /** A sink for a target: the streams' stdout, a file (opened now), or nothing. */
  const sinkFor = (flag: string, target: CliArgs["serial"]): LineBuffer | undefined => {
    if (target.kind === "none") return undefined;
    if (target.kind === "stdio") return new LineBuffer(streams.stdout);
    let fd: number;
    try {
      fd = openSync(target.path, "w");
    } catch (e) {
      throw new UsageError(`${flag}: cannot open ${target.path}: ${(e as NodeJS.ErrnoException).code}`);
    }
    fds.push(fd);
    return new LineBuffer((bytes) => writeAll(fd, bytes));
  };
  const sinks: LineBuffer[] = [];
  try {
    const options: {
      -readonly [K in keyof MachineOptions]: MachineOptions[K];
    } = {
      ramSize: args.ramSize,
      noReboot: args.noReboot,
      pcTestdev: args.pcTestdev,
      pciTestdev: args.pciTestdev,
      trace: args.trace,
      traceSink: streams.stderr,
      time: args.hostTime ? "host" : "virtual",
    };
    if (args.isaDebugExit !== undefined) options.isaDebugExit = args.isaDebugExit;
    if (args.kernel !== undefined) {
      options.kernel = readImage("kernel", args.kernel);
      options.kernelName = args.kernel;
    }
    if (args.bootImage !== undefined) options.bootImage = readImage("boot image", args.bootImage);
    if (args.append !== undefined) options.append = args.append;
    if (args.initrd !== undefined) {
      const modules: BootModule[] = splitModuleList(args.initrd).map((entry) => ({
        data: readImage("initrd", moduleFileName(entry)),
        cmdline: entry,
      }));
      options.initrd = modules;
    }
    const serial = sinkFor("-serial", args.serial);
    if (serial !== undefined) {
      sinks.push(serial);
      options.serial = (byte) => serial.push(byte);
    }
    const debugcon = args.debugcon !== undefined ? sinkFor("-debugcon", args.debugcon) : undefined;
    if (debugcon !== undefined) {
      sinks.push(debugcon);
      options.debugConsole = (byte) => debugcon.push(byte);
    }
    let machine: ReturnType<typeof createMachine>;
    try {
      machine = createMachine(options);
    } catch (e) {
      if (e instanceof Error && (e.name === "BootLoadError" || e instanceof RangeError))
        throw new UsageError(e.message);
      throw e;
    }
    const result = machine.run({
      ...(args.maxInstructions !== undefined ? { maxInstructions: args.maxInstructions } : {}),
      ...(args.timeoutSeconds !== undefined ? { timeoutSeconds: args.timeoutSeconds } : {}),
    });
    for (const sink of sinks) sink.flush();
    const quiet = result.end === RunEnd.DebugExit || result.end === RunEnd.Shutdown;
    if (args.stats) for (const line of formatStats(result)) streams.stderr(line);
    else if (!quiet) streams.stderr(`turtles: ${result.message}`);
    if (result.report !== undefined)
      for (const line of result.report.split("\n")) streams.stderr(`turtles:   ${line}`);
    return exitStatusOf(result);
  } catch (e) {
    for (const sink of sinks) sink.flush();
    if (e instanceof UsageError) {
      streams.stderr(`turtles: ${e.message}`);
      return EXIT_STATUS.badInput;
    }
    streams.stderr(`turtles: emulator error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_STATUS.emulatorError;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}
