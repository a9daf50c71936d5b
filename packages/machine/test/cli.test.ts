// The `turtles` command in-process (runCli with captured streams): serial targets, --stats,
// --help, modules and the one-line errors.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArgs } from "../src/cli/args.js";
import { runCli } from "../src/cli/run-cli.js";
import { EXIT_STATUS } from "../src/index.js";

const kit = (name: string) => new URL(`./guests/kit/${name}.elf`, import.meta.url).pathname;

function run(args: string[]) {
  let stdout = "";
  const stderr: string[] = [];
  const status = runCli(args, {
    stdout: (bytes) => {
      stdout += new TextDecoder().decode(bytes);
    },
    stderr: (line) => stderr.push(line),
  });
  return { status, stdout, stderr };
}

describe("runCli", () => {
  it("-serial file:PATH writes the guest's output there; -serial none drops it", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-serial-"));
    const path = join(dir, "com1.txt");
    const r = run([
      "-kernel",
      kit("pci"),
      "-device",
      "isa-debug-exit,iobase=0xf4",
      "-device",
      "pci-testdev",
      "-serial",
      `file:${path}`,
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(readFileSync(path, "utf8")).toContain("pci-testdev 1b36:0005");
    const none = run([
      "-kernel",
      kit("pci"),
      "-device",
      "isa-debug-exit,iobase=0xf4",
      "-device",
      "pci-testdev",
      "-serial",
      "none",
    ]);
    expect(none.status).toBe(1);
    expect(none.stdout).toBe("");
  });

  it("--stats reports the end, instructions, MIPS, stop reasons and events by vector", () => {
    const r = run(["-kernel", kit("pit"), "-device", "isa-debug-exit,iobase=0xf4", "--stats"]);
    expect(r.status).toBe(1);
    expect(r.stderr[0]).toBe("turtles: the guest wrote 0x0 to isa-debug-exit (status 1)");
    expect(r.stderr[1]).toMatch(
      /^turtles: \d+ instructions in [\d.]+ s = [\d.]+ MIPS; machine time 90\.002 ms; resets 0$/,
    );
    expect(r.stderr[2]).toMatch(/^turtles: stop reasons: .*Halted \d+/);
    expect(r.stderr[3]).toBe("turtles: events by vector: 32 x10");
  });

  it("-debugcon stdio shows the 0xE9 console; a bare isa-debug-exit sits at QEMU's 0x501", () => {
    const hello = new URL("./guests/multiboot-hello.elf", import.meta.url).pathname;
    const r = run(["-kernel", hello, "-debugcon", "stdio", "-device", "isa-debug-exit,iobase=0xf4"]);
    expect(r.stdout).toBe("hello from multiboot\n");
    expect(r.status).toBe(33);
    expect(parseArgs(["-kernel", "k", "-device", "isa-debug-exit"]).isaDebugExit).toEqual({
      iobase: 0x501,
      iosize: 2,
    });
  });

  it("--help prints the usage with the exit statuses and exits 0", () => {
    const r = run(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stderr.join("\n")).toContain("--boot-image FILE");
    expect(r.stderr.join("\n")).toContain("8 halted forever");
  });

  it("-initrd passes multiboot modules, and a missing module is a one-line error", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-mod-"));
    writeFileSync(join(dir, "mod.bin"), "module");
    const ok = run([
      "-kernel",
      kit("hello"),
      "-device",
      "isa-debug-exit,iobase=0xf4",
      "-initrd",
      `${join(dir, "mod.bin")} arg`,
    ]);
    expect(ok.status).toBe(1);
    const missing = run(["-kernel", kit("hello"), "-initrd", join(dir, "absent.bin")]);
    expect(missing.status).toBe(EXIT_STATUS.badInput);
    expect(missing.stderr).toEqual([`turtles: cannot read initrd ${join(dir, "absent.bin")}: no such file`]);
  });

  it("an unimplemented instruction is status 10 with the instruction named", () => {
    const dir = mkdtempSync(join(tmpdir(), "turtles-unimp-"));
    const path = join(dir, "fninit.img");
    writeFileSync(path, Uint8Array.from([0xdb, 0xe3, 0xf4])); // FNINIT: the CPU has no x87 yet
    const r = run(["--boot-image", path]);
    expect(r.status).toBe(EXIT_STATUS.unimplemented);
    expect(r.stderr[0]).toBe("turtles: unimplemented instruction Fninit at RIP 0x7c00");
  });
});
