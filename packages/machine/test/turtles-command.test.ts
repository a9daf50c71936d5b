// The `turtles` command end to end: every guest-kit image boots to PASS through the command as a
// user runs it, and each way a run can end gives its documented status and a one-line message.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_STATUS } from "../src/index.js";
import { bootImageFile, KIT_FLAGS, KIT_IMAGES, kitDir, repoRoot, turtles } from "./turtles-command.js";

describe("turtles boots every guest-kit image to PASS", () => {
  for (const name of KIT_IMAGES) {
    it(`${name}.elf`, () => {
      const r = turtles(["-kernel", join(kitDir, `${name}.elf`), ...KIT_FLAGS, "--timeout", "60"]);
      expect(r.stdout).toContain("PASS\n");
      expect(r.stdout).not.toContain("FAIL");
      expect(r.status).toBe(1); // isa-debug-exit value 0: (0 << 1) | 1
    }, 120_000);
  }
});

describe("turtles exit statuses", () => {
  it("bad host input: unknown flag, missing file, malformed image, nothing to boot — status 2, one line each", () => {
    const cases: [string[], RegExp][] = [
      [["-frobnicate"], /^turtles: unknown option -frobnicate/],
      [
        ["-kernel", "/nonexistent/kernel.elf"],
        /^turtles: cannot read kernel \/nonexistent\/kernel\.elf: no such file/,
      ],
      [["-kernel", join(kitDir, "Makefile")], /^turtles: kernel: not a Linux bzImage, Multiboot/],
      [[], /^turtles: nothing to boot/],
      [["-m", "lots", "-kernel", "x"], /^turtles: -m: cannot read memory size "lots"/],
      [
        ["--boot-image", join(kitDir, "hello.elf"), "-device", "virtio-net"],
        /^turtles: -device: unsupported device "virtio-net"/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = turtles(args);
      expect(r.status, args.join(" ")).toBe(EXIT_STATUS.badInput);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  }, 120_000);

  it("halted forever (cli; hlt) is status 8 with a register report", () => {
    const r = turtles(["--boot-image", bootImageFile("cli-hlt", [0xfa, 0xf4])]);
    expect(r.status).toBe(EXIT_STATUS.haltedForever);
    expect(r.stderr).toContain("halted with interrupts disabled");
    expect(r.stderr).toMatch(/RIP=00007c02/);
    expect(r.stderr).toMatch(/code at linear 00007c02/);
  }, 60_000);

  it("an instruction budget (jmp $) is status 4; a timeout is status 6", () => {
    const loop = bootImageFile("loop", [0xeb, 0xfe]);
    const budget = turtles(["--boot-image", loop, "--max-instructions", "1000"]);
    expect(budget.status).toBe(EXIT_STATUS.budget);
    expect(budget.stderr).toContain("instruction budget of 1000 spent");
    expect(budget.stderr).toContain("code at linear 00007c00: eb fe");
    const timeout = turtles(["--boot-image", loop, "--timeout", "0.3"]);
    expect(timeout.status).toBe(EXIT_STATUS.timeout);
    expect(timeout.stderr).toContain("timeout after 0.3 s");
  }, 60_000);

  it("a triple fault with -no-reboot is status 12; a reset request through the 8042 is 0", () => {
    // lidt [0x7c10] (an empty IDT), int3: #GP, #DF, triple fault.
    const triple = [0x0f, 0x01, 0x1e, 0x10, 0x7c, 0xcc, ...new Array(10).fill(0), 0, 0, 0, 0, 0, 0];
    const t = turtles(["--boot-image", bootImageFile("triple", triple), "-no-reboot"]);
    expect(t.status).toBe(EXIT_STATUS.tripleFault);
    expect(t.stderr).toContain("triple fault");
    // mov al, 0xfe; out 0x64, al; hlt
    const reset = turtles([
      "--boot-image",
      bootImageFile("reset", [0xb0, 0xfe, 0xe6, 0x64, 0xf4]),
      "-no-reboot",
      "--stats",
    ]);
    expect(reset.status).toBe(EXIT_STATUS.shutdown);
    expect(reset.stderr).toContain("requested a soft reset");
    expect(reset.stderr).toMatch(/instructions in .* MIPS/);
  }, 60_000);
});

describe("turtles writing into a closed pipe", () => {
  it("stops quietly with status 141 (as SIGPIPE would) when the reader goes away", () => {
    const cmd = [
      process.execPath,
      "--conditions=@turtles/source",
      "--import",
      "tsx",
      "packages/machine/src/cli/main.ts",
      "-kernel",
      join(kitDir, "pit.elf"),
      "-device",
      "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-display",
      "none",
      "--trace",
      "io",
    ].join(" ");
    const r = spawnSync(
      "bash",
      ["-c", `${cmd} 2>&1 | head -c 100 > /dev/null; echo "status=\${PIPESTATUS[0]}"`],
      {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(r.stdout.trim()).toBe("status=141");
  }, 60_000);
});
