// The emulators the harness runs workload images on: ours and the peers users would pick instead.
// Each adapter boots a prepared disk image and returns what the guest printed on COM1.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The outcome of one boot of a workload image. */
export interface RunOutcome {
  /** Wall-clock seconds from spawn to exit. */
  readonly seconds: number;
  /** What the guest wrote to COM1. */
  readonly serial: string;
  /** Peak resident memory of the emulator process in KiB, when measurable. */
  readonly maxRssKiB: number | undefined;
  /** A message when the run did not end as a workload should. */
  readonly error: string | undefined;
}

/** An emulator the harness can run images on. */
export interface Emulator {
  /** Short name used in tables and JSON. */
  readonly name: string;
  /** `undefined` when it can run; otherwise why not (e.g. not installed). */
  unavailable(): string | undefined;
  /** Boots `disk` (a raw disk image) and waits for the guest to exit, at most `timeoutSeconds`. */
  run(disk: string, workDir: string, timeoutSeconds: number): RunOutcome;
}

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const path = join(dir, command);
    if (dir !== "" && existsSync(path)) return path;
  }
  return undefined;
}

const GNU_TIME = "/usr/bin/time";

/** Runs a command, timing it, with GNU time's peak-RSS report when /usr/bin/time exists. */
function timed(
  command: string,
  args: string[],
  timeoutSeconds: number,
  cwd?: string,
): { seconds: number; status: number | null; output: string; stdout: string; maxRssKiB: number | undefined } {
  const useTime = existsSync(GNU_TIME);
  const [cmd, argv] = useTime ? [GNU_TIME, ["-f", "TURTLES_MAXRSS=%M", command, ...args]] : [command, args];
  const t0 = process.hrtime.bigint();
  const run = spawnSync(cmd, argv, {
    encoding: "latin1",
    timeout: timeoutSeconds * 1000,
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
    ...(cwd === undefined ? {} : { cwd }),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
  const rss = /TURTLES_MAXRSS=(\d+)/.exec(output);
  return {
    seconds,
    status: run.status,
    output,
    stdout: run.stdout ?? "",
    maxRssKiB: rss ? Number(rss[1]) : undefined,
  };
}

/** QEMU in software emulation (TCG), booting the image from an IDE disk through SeaBIOS. */
export const qemu: Emulator = {
  name: "qemu-tcg",
  unavailable: () =>
    which("qemu-system-x86_64") ? undefined : "qemu-system-x86_64 not installed (npm run bench:peers)",
  run(disk, workDir, timeoutSeconds) {
    const serialFile = join(workDir, "qemu-com1.txt");
    rmSync(serialFile, { force: true });
    const r = timed(
      "qemu-system-x86_64",
      [
        "-accel",
        "tcg",
        "-display",
        "none",
        "-no-reboot",
        "-m",
        "128",
        "-drive",
        `file=${disk},format=raw,if=ide`,
        "-serial",
        `file:${serialFile}`,
        "-monitor",
        "none",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
      ],
      timeoutSeconds,
    );
    const serial = existsSync(serialFile) ? readFileSync(serialFile, "latin1") : "";
    // isa-debug-exit with value 0 ends QEMU with status 1.
    const error =
      r.status === 1 ? undefined : `qemu exited with status ${r.status}: ${r.output.trim().slice(-300)}`;
    return { seconds: r.seconds, serial, maxRssKiB: r.maxRssKiB, error };
  },
};

/**
 * Bochs, booting the image from an ATA disk through its own BIOS. Debian's build has the
 * internal debugger and no headless display, so it runs with the terminal display under
 * `script` (a pseudo-terminal) and a debugger command file that says "continue". The workload
 * ends it through the "Shutdown" port (0x8900), which Bochs reports as a panic and exit status 1.
 */
export const bochs: Emulator = {
  name: "bochs",
  unavailable() {
    if (!which("bochs")) return "bochs not installed (npm run bench:peers)";
    if (!which("script")) return "script (util-linux) not installed";
    if (!existsSync("/usr/share/bochs/BIOS-bochs-latest")) return "bochsbios not installed";
    return undefined;
  },
  run(disk, workDir, timeoutSeconds) {
    const serialFile = join(workDir, "bochs-com1.txt");
    const rc = join(workDir, "bochsrc");
    const commands = join(workDir, "bochs-commands");
    rmSync(serialFile, { force: true });
    writeFileSync(
      rc,
      [
        "megs: 128",
        "romimage: file=/usr/share/bochs/BIOS-bochs-latest",
        "vgaromimage: file=/usr/share/vgabios/vgabios.bin",
        `ata0-master: type=disk, path=${disk}, mode=flat, cylinders=2, heads=16, spt=63`,
        "boot: disk",
        `com1: enabled=1, mode=file, dev=${serialFile}`,
        "display_library: term",
        `log: ${join(workDir, "bochs.log")}`,
        "clock: sync=none",
        "cpu: model=corei7_sandy_bridge_2600k, ips=100000000",
        "speaker: enabled=0",
        "sound: driver=dummy",
        "",
      ].join("\n"),
    );
    writeFileSync(commands, "continue\nquit\n");
    const r = timed("script", ["-qec", `bochs -q -f ${rc} -rc ${commands}`, "/dev/null"], timeoutSeconds);
    const serial = existsSync(serialFile) ? readFileSync(serialFile, "latin1") : "";
    const error = r.status === 1 || r.status === 0 ? undefined : `bochs exited with status ${r.status}`;
    return { seconds: r.seconds, serial, maxRssKiB: r.maxRssKiB, error };
  },
};

/**
 * Turtles itself: `bench/turtles-run.ts` boots the image on `@turtles/cpu` with the machine
 * package's UART, isa-debug-exit and I/O APIC, in its own Node process (like the peers, its start-up
 * — Node, TypeScript loading, JIT warm-up — is measured by the 1-iteration run and subtracted).
 */
export const turtles: Emulator = {
  name: "turtles",
  unavailable: () => undefined,
  run(disk, _workDir, timeoutSeconds) {
    const root = join(here, "..");
    const r = timed(
      process.execPath,
      ["--conditions=@turtles/source", "--import", "tsx", join(here, "turtles-run.ts"), disk],
      timeoutSeconds,
      root,
    );
    // isa-debug-exit with value 0 ends the run with status 1, as in QEMU.
    const error =
      r.status === 1 ? undefined : `turtles exited with status ${r.status}: ${r.output.trim().slice(-300)}`;
    return { seconds: r.seconds, serial: r.stdout, maxRssKiB: r.maxRssKiB, error };
  },
};

/** Every emulator, ours first. */
export const emulators: readonly Emulator[] = [turtles, qemu, bochs];
