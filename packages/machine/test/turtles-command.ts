// Helpers for the tests of the `turtles` command: spawn it as a user would (no build), and make
// tiny boot-sector images.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the worktree). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** The guest kit folder. */
export const kitDir = fileURLToPath(new URL("./guests/kit/", import.meta.url));
/** The guest kit images every test boots. */
export const KIT_IMAGES = [
  "hello",
  "pit",
  "rtc",
  "longmode",
  "pci",
  "fwcfg",
  "acpi",
  "ioapic",
  "pctestdev",
  "v86",
  "tasks",
  "rings",
  "debug",
  "faults",
  "realmode",
  "pae",
  "long64",
  "smc",
  "shadow",
] as const;
/** The flags every kit guest is booted with, under Turtles and under QEMU alike. */
export const KIT_FLAGS = [
  "-append",
  "a b=c",
  "-m",
  "128",
  "-device",
  "isa-debug-exit,iobase=0xf4,iosize=0x04",
  "-device",
  "pci-testdev",
  "-device",
  "pc-testdev",
  "-serial",
  "stdio",
  "-display",
  "none",
  "-no-reboot",
];

/** What a run of the command gave. */
export interface CommandRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node --conditions=@turtles/source --import tsx packages/machine/src/cli/main.ts ...args` from the root. */
export function turtles(args: readonly string[]): CommandRun {
  const r = spawnSync(
    process.execPath,
    ["--conditions=@turtles/source", "--import", "tsx", "packages/machine/src/cli/main.ts", ...args],
    { cwd: repoRoot, encoding: "utf8", timeout: 120_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes `bytes` as a boot image in a temporary folder and returns its path. */
export function bootImageFile(name: string, bytes: readonly number[]): string {
  const dir = mkdtempSync(join(tmpdir(), "turtles-boot-"));
  const path = join(dir, `${name}.img`);
  writeFileSync(path, Uint8Array.from(bytes));
  return path;
}
