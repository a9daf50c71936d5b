// createMachine and PcMachine.run, used as a library.
import { readFileSync } from "node:fs";
import { AccessKind } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import { ITERATIONS_OFFSET, parseReport, workloads } from "../../../bench/workloads/manifest.js";
import { parseArgs, parseMemorySize } from "../src/cli/args.js";
import {
  codeBytesAtRip,
  createMachine,
  describeMode,
  EXIT_STATUS,
  exitStatusOf,
  type MachineOptions,
  PC_PLATFORM,
  RunEnd,
} from "../src/index.js";
import { buildElf } from "./elf-builder.js";

const kit = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./guests/kit/${name}.elf`, import.meta.url)));

function boot(options: MachineOptions, maxInstructions = 50_000_000) {
  let serial = "";
  const machine = createMachine({
    isaDebugExit: true,
    serial: (b) => {
      serial += String.fromCharCode(b);
    },
    ...options,
  });
  const result = machine.run({ maxInstructions });
  return { machine, result, serial };
}

describe("createMachine", () => {
  it("lays out RAM, ACPI, the APICs, HPET and ECAM where a PC has them", () => {
    const m = createMachine({ ramSize: 64 * 0x10_0000 });
    const sig = new Uint8Array(8);
    m.memory.readBytes(m.acpi.rsdp, sig, AccessKind.Read);
    expect(new TextDecoder().decode(sig)).toBe("RSD PTR ");
    expect(m.acpi.rsdp).toBe(0xf0000); // the F segment, where SeaBIOS puts it
    expect(Object.keys(m.acpi.tables)).toEqual(expect.arrayContaining(["FACP", "APIC", "HPET", "MCFG"]));
    expect(m.memory.regionAt(0xfee0_0000)?.name).toBe("lapic");
    expect(m.memory.regionAt(0xfec0_0000)?.name).toBe("ioapic");
    expect(m.memory.regionAt(0xfed0_0000)?.name).toBe("hpet");
    expect(m.memory.regionAt(PC_PLATFORM.ecamBase)?.name).toBe("ecam");
    expect(m.layout.ramSize).toBe(64 * 0x10_0000);
    expect(m.bootFormat).toBe("none");
    // Mechanism #1 reaches the host bridge (class 06/00/00).
    m.io.write(0xcf8, 4, 0x8000_0008);
    expect(m.io.read(0xcfc, 4) >>> 8).toBe(0x060000);
  });

  it("boots a multiboot kernel: PASS, status 1, deterministic to the instruction", () => {
    const a = boot({ kernel: kit("pit"), kernelName: "pit.elf" });
    const b = boot({ kernel: kit("pit"), kernelName: "pit.elf" });
    expect(a.serial).toBe("PIT: 10 ticks on IRQ0\nPASS\n");
    expect(a.result.end).toBe(RunEnd.DebugExit);
    expect(a.result.exitStatus).toBe(1);
    expect(exitStatusOf(a.result)).toBe(1);
    expect(a.result.events[0x20]).toBe(10);
    expect(a.result.stopReasons.Halted).toBeGreaterThan(0);
    expect(b.result.instructions).toBe(a.result.instructions);
    expect(b.result.machineNs).toBe(a.result.machineNs);
    expect(a.machine.bootFormat).toBe("multiboot");
  });

  it("nsPerInstruction scales virtual time; host time also runs the guest", () => {
    const slow = boot({ kernel: kit("hello"), nsPerInstruction: 10 });
    const fast = boot({ kernel: kit("hello") });
    expect(slow.result.machineNs).toBe(10 * fast.result.machineNs);
    const host = boot({ kernel: kit("pit"), time: "host" });
    expect(host.serial).toContain("PASS");
  });

  it("a reset request reboots (RAM kept), or with noReboot ends the run as a shutdown", () => {
    // mov al,[0x600]; cmp al,0x5a; je done; mov byte [0x600],0x5a; mov al,6; mov dx,0xcf9; out dx,al; hlt
    // done: mov al,7; out 0xf4,al; hlt
    const code = [
      0xa0, 0x00, 0x06, 0x3c, 0x5a, 0x74, 0x0c, 0xc6, 0x06, 0x00, 0x06, 0x5a, 0xb0, 0x06, 0xba, 0xf9, 0x0c,
      0xee, 0xf4, 0xb0, 0x07, 0xe6, 0xf4, 0xf4,
    ];
    const rebooted = boot({ bootImage: Uint8Array.from(code) });
    expect(rebooted.result.resets).toBe(1);
    expect(rebooted.result.exitStatus).toBe((7 << 1) | 1);
    const shut = boot({ bootImage: Uint8Array.from(code), noReboot: true });
    expect(shut.result.end).toBe(RunEnd.Shutdown);
    expect(shut.result.message).toContain("hard reset");
    expect(exitStatusOf(shut.result)).toBe(EXIT_STATUS.shutdown);
  });

  it("a guest idling in HLT between timer interrupts runs on however long that takes in machine time", () => {
    // Real mode: IVT[8] = handler (inc word [0x600]; EOI; iret), the 8259A at vector 8 with only
    // IRQ0, the PIT at 65536 (54.9 ms); sti; hlt until 1200 ticks (65.9 s), then exit 0x2a.
    const code = [
      0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0xc7, 0x06, 0x20, 0x00, 0x3f, 0x7c, 0xc7, 0x06, 0x22, 0x00, 0x00, 0x00,
      0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x08, 0xe6, 0x21, 0xb0, 0x04, 0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21, 0xb0,
      0xfe, 0xe6, 0x21, 0xb0, 0x34, 0xe6, 0x43, 0x30, 0xc0, 0xe6, 0x40, 0xe6, 0x40, 0xfb, 0xf4, 0x81, 0x3e,
      0x00, 0x06, 0xb0, 0x04, 0x72, 0xf7, 0xb0, 0x2a, 0xe6, 0xf4, 0xfa, 0xf4, 0xff, 0x06, 0x00, 0x06, 0x50,
      0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf,
    ];
    const r = boot({ bootImage: Uint8Array.from(code) });
    expect(r.result.end).toBe(RunEnd.DebugExit);
    expect(r.result.exitStatus).toBe((0x2a << 1) | 1);
    expect(r.result.events[8]).toBe(1200);
    expect(r.result.machineNs).toBeGreaterThan(65e9);
  });

  it("a triple fault reboots, and ends the run with a report under noReboot", () => {
    // lidt [0x7c10] (limit 0), int3
    const code = [0x0f, 0x01, 0x1e, 0x10, 0x7c, 0xcc, ...new Array(16).fill(0)];
    const r = boot({ bootImage: Uint8Array.from(code), noReboot: true });
    expect(r.result.end).toBe(RunEnd.TripleFault);
    expect(r.result.report).toMatch(/RIP=/);
    const again = boot({ bootImage: Uint8Array.from(code) }, 1000);
    expect(again.result.end).toBe(RunEnd.Budget);
    expect(again.result.resets).toBeGreaterThan(10);
  });

  it("enters a plain ELF64 kernel in 64-bit mode and an ELF32 one in protected mode", () => {
    const exit5 = Uint8Array.from([0xb0, 0x05, 0xe6, 0xf4, 0xf4]); // mov al, 5; out 0xf4, al; hlt
    const k64 = boot({ kernel: buildElf(64, 62, 0x20_0000, [{ paddr: 0x20_0000, data: exit5 }]) });
    expect(k64.machine.bootFormat).toBe("elf");
    expect(k64.result.exitStatus).toBe(11);
    expect(describeMode(k64.machine.cpu)).toBe("64-bit mode, 64-bit code, paging");
    const k32 = boot({ kernel: buildElf(32, 3, 0x20_0000, [{ paddr: 0x20_0000, data: exit5 }]) });
    expect(k32.result.exitStatus).toBe(11);
    expect(describeMode(k32.machine.cpu)).toBe("protected mode, 32-bit code");
    expect(() => createMachine({ kernel: new Uint8Array(0) })).toThrow(/kernel: image is empty/);
  });

  it("RDMSR/WRMSR of IA32_APIC_BASE reach the local APIC (the CPU's MSR device)", () => {
    // mov ecx, 0x1b; rdmsr; mov ebx, eax; and eax, ~0x800 (disable the APIC); wrmsr; rdmsr;
    // mov edi, eax; mov al, 5; out 0xf4, al; hlt
    const code = Uint8Array.from([
      0xb9, 0x1b, 0, 0, 0, 0x0f, 0x32, 0x89, 0xc3, 0x25, 0xff, 0xf7, 0xff, 0xff, 0x0f, 0x30, 0x0f, 0x32, 0x89,
      0xc7, 0xb0, 0x05, 0xe6, 0xf4, 0xf4,
    ]);
    const k = boot({ kernel: buildElf(32, 3, 0x20_0000, [{ paddr: 0x20_0000, data: code }]) });
    expect(k.result.exitStatus).toBe(11);
    const st = k.machine.cpu.state;
    expect(st.get32(3)).toBe(0xfee0_0900); // base, enabled, bootstrap processor
    expect(st.get32(7)).toBe(0xfee0_0100); // disabled through the APIC itself
    expect(k.machine.lapic.readMsr(0x1b)).toBe(0);
    expect(k.machine.lapic.msrLo).toBe(0xfee0_0100);
  });

  it("MOV CR8 reads and writes the local APIC's TPR (bits 7:4)", () => {
    // mov rcx, cr8; mov eax, 5; mov cr8, rax; mov rbx, cr8; mov al, 5; out 0xf4, al; hlt
    const code = Uint8Array.from([
      0x44, 0x0f, 0x20, 0xc1, 0xb8, 0x05, 0, 0, 0, 0x44, 0x0f, 0x22, 0xc0, 0x44, 0x0f, 0x20, 0xc3, 0xb0, 0x05,
      0xe6, 0xf4, 0xf4,
    ]);
    const machine = createMachine({
      isaDebugExit: true,
      kernel: buildElf(64, 62, 0x20_0000, [{ paddr: 0x20_0000, data: code }]),
    });
    machine.lapic.taskPriority = 0x93;
    expect(machine.run({ maxInstructions: 1000 }).exitStatus).toBe(11);
    const st = machine.cpu.state;
    expect(st.get32(1)).toBe(9); // TPR 0x93 read as CR8 = 9
    expect(machine.lapic.taskPriority).toBe(0x50); // CR8 = 5 wrote TPR[7:4], cleared TPR[3:0]
    expect(st.get32(3)).toBe(5);
  });

  it("the local APIC's NMI (a self-IPI) reaches the processor's NMI input", () => {
    const machine = createMachine({ isaDebugExit: true });
    expect(machine.cpu.nmiPending).toBe(false);
    // ICR: NMI delivery mode, assert, destination shorthand "self".
    machine.platform.space.write32(0xfee0_0300, 0x0004_4400, AccessKind.Write);
    expect(machine.cpu.nmiPending).toBe(true);
  });

  it("offers QEMU's fw_cfg items: etc/e820 matches the layout, the kernel and its size", () => {
    const kernel = kit("hello");
    const m = createMachine({ kernel, ramSize: 64 * 0x10_0000 });
    const file = m.fwCfg.directory().find((f) => f.name === "etc/e820");
    expect(file?.size).toBe(20 * m.layout.e820().length);
    const read = (key: number, n: number) => {
      m.io.write(0x510, 2, key);
      return Array.from({ length: n }, () => m.io.read(0x511, 1));
    };
    const first = read(file?.select ?? 0, 20);
    expect(first.slice(16, 17)).toEqual([1]); // the first range is RAM
    const size = read(0x08, 4);
    expect(size[0]! | (size[1]! << 8) | (size[2]! << 16)).toBe(kernel.byteLength);
    expect(read(0x14, 4)).toEqual([0, 0, 0, 0]); // no command line for a multiboot kernel, as QEMU
  });

  it("is a PcPlatform: the 0xE9 console and pc-testdev together, pci-testdev at 00:03.0, test devices only when asked", () => {
    let debug = "";
    const m = createMachine({
      debugConsole: (b) => (debug += String.fromCharCode(b)),
      pcTestdev: true,
      pciTestdev: true,
    });
    expect(m.memory).toBe(m.platform.space);
    m.io.write(0xe9, 1, 0x41);
    expect(debug).toBe("A");
    m.io.write(0xe8, 1, 0x5a);
    expect(m.io.read(0xe8, 1)).toBe(0x5a);
    m.io.write(0xcf8, 4, 0x8000_1800);
    expect(m.io.read(0xcfc, 4)).toBe(0x0005_1b36);
    const plain = createMachine();
    expect(plain.io.windowAt(0xe9)).toBeUndefined();
    expect(plain.io.windowAt(0xf4)).toBeUndefined();
    expect(plain.pcTestdev).toBeUndefined();
    expect(plain.pciTestdev).toBeUndefined();
  });

  it("traces port I/O, interrupt lines and delivered events", () => {
    const lines: string[] = [];
    const m = createMachine({
      kernel: kit("pit"),
      isaDebugExit: true,
      trace: ["io", "irq", "exceptions"],
      traceSink: (l) => lines.push(l),
    });
    expect(m.run({ maxInstructions: 1_000_000 }).exitStatus).toBe(1);
    expect(lines).toContain("io: out 0x43/1 = 0x34 (pit)");
    expect(lines).toContain("irq: IRQ0 raised");
    expect(lines.some((l) => /^irq: INTA vector 0x20 at RIP/.test(l))).toBe(true);
    expect(lines.some((l) => /^exception: vector 32 delivered; handler at RIP 0x/.test(l))).toBe(true);
  });

  it("reports the code bytes at RIP through the processor's translation when paging is on", () => {
    // intloop64 ends in 32-bit compatibility code with 4-level paging on (CR0.PG and PE set).
    const image = new Uint8Array(
      readFileSync(new URL("../../../bench/workloads/images/intloop64.img", import.meta.url)),
    );
    new DataView(image.buffer).setUint32(ITERATIONS_OFFSET, 1, true);
    const { machine } = boot({ bootImage: image });
    const cpu = machine.cpu;
    expect(cpu.state.cr[0]! >>> 31).toBe(1);
    const translated: number[] = [];
    const xlate = cpu.xlateFetch.bind(cpu);
    cpu.xlateFetch = (lin: number) => {
      translated.push(lin);
      return xlate(lin);
    };
    expect(codeBytesAtRip(cpu)?.length).toBeGreaterThan(0);
    expect(translated.length).toBe(1);
  });

  it("runs every bench workload from its boot image (--boot-image) and prints its checksum", () => {
    const dir = new URL("../../../bench/workloads/images/", import.meta.url);
    for (const w of workloads) {
      const image = new Uint8Array(readFileSync(new URL(`${w.name}.img`, dir)));
      new DataView(image.buffer).setUint32(ITERATIONS_OFFSET, 200, true);
      const r = boot({ bootImage: image });
      expect(r.result.end, w.name).toBe(RunEnd.DebugExit);
      const report = parseReport(r.serial);
      expect(report?.checksum, w.name).toBe(w.checksum(200));
    }
  }, 60_000); // seven boots: seconds on a loaded 2-core machine
});

describe("command-line parsing", () => {
  it("reads QEMU memory sizes", () => {
    expect(parseMemorySize("128")).toBe(128 * 2 ** 20);
    expect(parseMemorySize("1G")).toBe(2 ** 30);
    expect(parseMemorySize("512M")).toBe(512 * 2 ** 20);
    expect(parseMemorySize("size=64M")).toBe(64 * 2 ** 20);
    expect(() => parseMemorySize("1")).toThrow(/at least 2 MiB/);
    expect(() => parseMemorySize("1536K")).toThrow(/whole number of MiB/);
  });

  it("takes QEMU's flags and ours, and refuses what it does not know", () => {
    const a = parseArgs([
      "-kernel",
      "k.elf",
      "-append",
      "x y",
      "--device",
      "isa-debug-exit,iobase=0x501,iosize=2",
      "-smp",
      "1",
      "-nographic",
      "-serial",
      "file:/tmp/out",
      "--trace",
      "io,irq",
      "--max-instructions",
      "1000",
    ]);
    expect(a).toMatchObject({
      kernel: "k.elf",
      append: "x y",
      isaDebugExit: { iobase: 0x501, iosize: 2 },
      serial: { kind: "file", path: "/tmp/out" },
      trace: ["io", "irq"],
      maxInstructions: 1000,
    });
    expect(() => parseArgs(["-kernel", "k", "-smp", "2"])).toThrow(/only one processor/);
    expect(() => parseArgs(["-kernel", "k", "-serial", "pty"])).toThrow(/unsupported target/);
    expect(() => parseArgs(["-kernel", "k", "--trace", "mmu"])).toThrow(/unknown kind/);
    expect(() => parseArgs(["-kernel", "k", "--timeout", "-1"])).toThrow(/not a positive number/);
    expect(() => parseArgs(["-kernel"])).toThrow(/needs a value/);
    expect(() => parseArgs(["k.elf"])).toThrow(/unexpected argument/);
  });
});
