// The committed guest images must match their sources (rebuilt where GNU as/ld exist), and where
// QEMU is installed they boot there: multiboot-info prints what QEMU's -kernel loader gave it, and
// our loader must give the same (the memory map aside: QEMU's comes from SeaBIOS).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import {
  BootMode,
  createMachine,
  LINUX_BOOT,
  loadLinux,
  loadMultiboot,
  PcMemoryLayout,
} from "../src/index.js";

const dir = new URL("./guests/", import.meta.url);
const guests = [
  "multiboot-hello.elf",
  "multiboot-info.elf",
  "multiboot-info-aout.bin",
  "linux-setup-info.bin",
];
const image = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));

function have(cmd: string, ...args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const haveBinutils = have("as", "--version") && have("ld", "-m", "elf_i386", "--version");
const haveQemu = have("qemu-system-x86_64", "--version");

/** Boots `kernel` in QEMU's pc machine with 64 MiB; returns the 0xE9 output and the exit status. */
function qemu(
  cwd: string,
  kernel: string,
  append: string,
  initrd?: string,
): { output: string; status: number | null } {
  const args = ["-machine", "pc", "-m", "64", "-display", "none", "-serial", "none", "-monitor", "none"];
  args.push(
    "-debugcon",
    "stdio",
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=4",
    "-no-reboot",
    "-kernel",
    kernel,
  );
  args.push("-append", append);
  if (initrd !== undefined) args.push("-initrd", initrd);
  const r = spawnSync("qemu-system-x86_64", args, { cwd, encoding: "utf8", timeout: 20_000 });
  return { output: r.stdout, status: r.status };
}

/** The text multiboot-info.S prints, produced from our loader's memory by a reader of our own. */
function describeInfo(mem: PhysicalMemory, eax: number, ebx: number): string {
  const u32 = (a: number) => mem.read32(a, AccessKind.Read);
  const hex = (v: number) => v.toString(16).padStart(8, "0");
  const str = (a: number) => {
    let s = "";
    for (let c = mem.read8(a, AccessKind.Read); c !== 0; c = mem.read8(++a, AccessKind.Read))
      s += String.fromCharCode(c);
    return s;
  };
  const lines = [
    `eax=${hex(eax)}`,
    `ebx=${hex(ebx)}`,
    `flags=${hex(u32(ebx))}`,
    `mem_lower=${hex(u32(ebx + 4))}`,
  ];
  lines.push(
    `mem_upper=${hex(u32(ebx + 8))}`,
    `boot_device=${hex(u32(ebx + 12))}`,
    `cmdline=${str(u32(ebx + 16))}`,
  );
  lines.push(`mods_count=${hex(u32(ebx + 20))}`, `mods_addr=${hex(u32(ebx + 24))}`);
  for (let i = 0; i < u32(ebx + 20); i++) {
    const m = u32(ebx + 24) + 16 * i;
    lines.push(
      `mod start=${hex(u32(m))} end=${hex(u32(m + 4))} first=${hex(u32(u32(m)))} string=${str(u32(m + 8))}`,
    );
  }
  lines.push(`mmap_length=${hex(u32(ebx + 44))}`);
  for (let p = u32(ebx + 48); p < u32(ebx + 48) + u32(ebx + 44); p += u32(p) + 4) {
    lines.push(
      `mmap base=${hex(u32(p + 8))}${hex(u32(p + 4))} length=${hex(u32(p + 16))}${hex(u32(p + 12))} type=${hex(u32(p + 20))}`,
    );
  }
  lines.push(`loader=${str(u32(ebx + 64))}`);
  return `${lines.join("\n")}\n`;
}

/** Fields of the printed text, the memory map and mem_upper set apart. */
function fields(text: string) {
  const lines = text.trim().split("\n");
  const mmap = lines
    .filter((l) => l.startsWith("mmap base="))
    .map((l) => {
      const m = /base=([0-9a-f]+) length=([0-9a-f]+) type=([0-9a-f]+)/.exec(l)!;
      return {
        base: Number.parseInt(m[1]!, 16),
        length: Number.parseInt(m[2]!, 16),
        type: Number.parseInt(m[3]!, 16),
      };
    });
  const value = (key: string) =>
    Number.parseInt(lines.find((l) => l.startsWith(`${key}=`))!.slice(key.length + 1), 16);
  const common = lines.filter((l) => !l.startsWith("mmap") && !l.startsWith("mem_upper="));
  return { mmap, common, memLower: value("mem_lower"), memUpper: value("mem_upper") };
}

describe("guest images", () => {
  it.skipIf(!haveBinutils)(
    "are built from their sources",
    () => {
      const out = mkdtempSync(join(tmpdir(), "turtles-guest-"));
      execFileSync("sh", [new URL("build.sh", dir).pathname, out]);
      for (const g of guests)
        expect(Buffer.compare(readFileSync(join(out, g)), Buffer.from(image(g))), g).toBe(0);
    },
    60_000,
  );

  it("multiboot-hello.elf loads as QEMU would load it", () => {
    const layout = new PcMemoryLayout({ ramSize: 16 * 0x10_0000 });
    const { space } = layout.createSpace();
    const entry = loadMultiboot(space, layout, image("multiboot-hello.elf"), {
      kernelName: "multiboot-hello.elf",
    });
    expect(entry.mode).toBe(BootMode.Protected32);
    expect(entry.rip).toBe(0x10000c);
    expect(entry.registers.rax).toBe(0x2badb002);
    // First instruction: cmp eax, 0x2BADB002 (3D imm32).
    expect(space.read8(0x10000c, AccessKind.Read)).toBe(0x3d);
    expect(space.read32(0x10000d, AccessKind.Read)).toBe(0x2badb002);
  });

  it.skipIf(!haveQemu)(
    "multiboot-hello.elf boots in QEMU",
    () => {
      const cwd = mkdtempSync(join(tmpdir(), "turtles-qemu-"));
      copyFileSync(new URL("multiboot-hello.elf", dir), join(cwd, "multiboot-hello.elf"));
      expect(qemu(cwd, "multiboot-hello.elf", "")).toEqual({ output: "hello from multiboot\n", status: 33 });
    },
    60_000,
  );

  for (const kernel of ["multiboot-info.elf", "multiboot-info-aout.bin"]) {
    it.skipIf(!haveQemu)(
      `our multiboot loader gives ${kernel} what QEMU's -kernel gives it`,
      () => {
        const cwd = mkdtempSync(join(tmpdir(), "turtles-qemu-"));
        copyFileSync(new URL(kernel, dir), join(cwd, kernel));
        const mod1 = new TextEncoder().encode("MOD1 first module, 33 bytes long");
        const mod2 = new Uint8Array(5000).fill(0x5a);
        writeFileSync(join(cwd, "mod1.bin"), mod1);
        writeFileSync(join(cwd, "mod2.bin"), mod2);
        const ran = qemu(cwd, kernel, "console=ttyS0 x=1", "mod1.bin arg=1 b,mod2.bin");
        expect(ran.status).toBe(33);

        const layout = new PcMemoryLayout({ ramSize: 64 * 0x10_0000 });
        const { space } = layout.createSpace();
        const entry = loadMultiboot(space, layout, image(kernel), {
          kernelName: kernel,
          cmdline: "console=ttyS0 x=1",
          modules: [
            { data: mod1, cmdline: "mod1.bin arg=1 b" },
            { data: mod2, cmdline: "mod2.bin" },
          ],
          bootLoaderName: "qemu",
        });
        if (kernel.endsWith(".bin")) {
          // The flat image lands at load_addr; the entry is the header's entry_addr.
          const flat = image(kernel);
          const header = new DataView(flat.buffer, flat.byteOffset);
          expect(entry.rip).toBe(header.getUint32(28, true));
          const loaded = new Uint8Array(flat.byteLength);
          space.readBytes(header.getUint32(16, true), loaded, AccessKind.Read);
          expect(loaded).toEqual(flat);
        }
        const ours = fields(describeInfo(space, entry.registers.rax, entry.registers.rbx));
        const theirs = fields(ran.output);
        expect(ours.common).toEqual(theirs.common);
        // Both derive mem_lower and mem_upper from their memory map the same way.
        for (const side of [ours, theirs]) {
          expect(side.memLower).toBe(side.mmap.find((e) => e.base === 0 && e.type === 1)!.length / 1024);
          expect(side.memUpper).toBe(
            side.mmap.find((e) => e.base === 0x10_0000 && e.type === 1)!.length / 1024,
          );
        }
        expect(ours.mmap).toEqual(layout.e820());
      },
      60_000,
    );
  }

  it.skipIf(!haveQemu)(
    "our Linux loader fills the setup header as QEMU's -kernel does",
    () => {
      const cwd = mkdtempSync(join(tmpdir(), "turtles-qemu-"));
      const kernel = "linux-setup-info.bin";
      copyFileSync(new URL(kernel, dir), join(cwd, kernel));
      const initrd = new Uint8Array(10_000).fill(0x52);
      writeFileSync(join(cwd, "initrd.img"), initrd);
      const ran = qemu(cwd, kernel, "console=ttyS0 quiet", "initrd.img");
      expect(ran.status).toBe(33);

      const layout = new PcMemoryLayout({ ramSize: 64 * 0x10_0000 });
      const { space } = layout.createSpace();
      const entry = loadLinux(space, layout, image(kernel), { cmdline: "console=ttyS0 quiet", initrd });
      const bp = entry.registers.rsi;
      expect(bp).toBe(LINUX_BOOT.bootParams);
      const u8 = (o: number) => space.read8(bp + o, AccessKind.Read);
      const u16 = (o: number) => space.read16(bp + o, AccessKind.Read);
      const u32 = (o: number) => space.read32(bp + o, AccessKind.Read);
      const hex = (v: number, digits: number) => v.toString(16).padStart(digits, "0");
      let cmdline = "";
      for (let a = u32(0x228); space.read8(a, AccessKind.Read) !== 0; a++)
        cmdline += String.fromCharCode(space.read8(a, AccessKind.Read));
      const ours = [
        `loadflags=${hex(u8(0x211), 2)}`,
        `heap_end_ptr=${hex(u16(0x224), 4)}`,
        `vid_mode=${hex(u16(0x1fa), 4)}`,
        `cmd_line_ptr=${hex(u32(0x228), 8)}`,
        `ramdisk_image=${hex(u32(0x218), 8)}`,
        `ramdisk_size=${hex(u32(0x21c), 8)}`,
        `code32_start=${hex(u32(0x214), 8)}`,
        `cmdline=${cmdline}`,
      ];
      const theirs = ran.output.trim().split("\n");
      // type_of_loader is the loader's own ID: QEMU's 0xB0, ours 0xFF (undefined).
      expect(theirs[0]).toBe("type_of_loader=b0");
      expect(u8(0x210)).toBe(0xff);
      expect(ours).toEqual(theirs.slice(1));
    },
    60_000,
  );

  it.skipIf(!haveQemu)(
    "multiboot-info.elf prints the same on the Turtles machine as on QEMU",
    () => {
      const cwd = mkdtempSync(join(tmpdir(), "turtles-qemu-"));
      const kernel = "multiboot-info.elf";
      copyFileSync(new URL(kernel, dir), join(cwd, kernel));
      const mod1 = new TextEncoder().encode("MOD1 first module, 33 bytes long");
      const mod2 = new Uint8Array(5000).fill(0x5a);
      writeFileSync(join(cwd, "mod1.bin"), mod1);
      writeFileSync(join(cwd, "mod2.bin"), mod2);
      const ran = qemu(cwd, kernel, "console=ttyS0 x=1", "mod1.bin arg=1 b,mod2.bin");
      let output = "";
      const machine = createMachine({
        kernel: image(kernel),
        kernelName: kernel,
        append: "console=ttyS0 x=1",
        initrd: [
          { data: mod1, cmdline: "mod1.bin arg=1 b" },
          { data: mod2, cmdline: "mod2.bin" },
        ],
        ramSize: 64 * 0x10_0000,
        isaDebugExit: true,
        debugConsole: (byte) => {
          output += String.fromCharCode(byte);
        },
      });
      const result = machine.run({ maxInstructions: 10_000_000 });
      expect(result.exitStatus).toBe(33);
      // The guest ran on our CPU and read our loader's structures: the same as on QEMU, but for the
      // memory map and the boot loader's name.
      const ours = fields(output).common.filter((l) => !l.startsWith("loader="));
      expect(ours).toEqual(fields(ran.output).common.filter((l) => !l.startsWith("loader=")));
      expect(output).toContain("loader=turtles");
    },
    60_000,
  );
});
