// Boots a bench workload disk image on Turtles' own CPU, the way the peers boot it: the image's
// boot sector and payload are loaded at 0x7C00 and started in real mode (no BIOS: the boot sector
// finds the payload already in place), with the machine package's 16550A UART on COM1, its
// isa-debug-exit device on 0xF4 and its I/O APIC at 0xFEC00000. What the guest writes to COM1 goes
// to stdout; the process exits with isa-debug-exit's status ((value << 1) | 1), as QEMU does.
//
//   node --conditions=@turtles/source --import tsx bench/turtles-run.ts <disk image> [--stats]
import { readFileSync } from "node:fs";
import { Cpu, Gpr, Seg, StopReason } from "@turtles/cpu";
import {
  IOAPIC_MMIO,
  IoApic,
  ISA_DEBUG_EXIT_PORTS,
  IsaDebugExit,
  ManualClock,
  Uart16550,
} from "@turtles/machine";
import { PhysicalAddressSpace, PortIoSpace, Ram } from "@turtles/memory";

const RAM_BYTES = 128 * 1024 * 1024;
const LOAD_AT = 0x7c00;
const MAX_IMAGE = 512 * 63; // boot sector + one track of payload
const SLICE = 50_000_000; // instructions per run() call

function fail(message: string): never {
  console.error(`turtles-run: ${message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const stats = args.includes("--stats");
const file = args.find((a) => !a.startsWith("--"));
if (file === undefined) fail("usage: turtles-run.ts <disk image> [--stats]");
let image: Uint8Array;
try {
  image = readFileSync(file).subarray(0, MAX_IMAGE);
} catch (e) {
  fail(`cannot read ${file}: ${(e as Error).message}`);
}

const memory = new PhysicalAddressSpace();
const ram = new Ram(RAM_BYTES);
memory.mapRam(0, ram, { name: "ram" });
const io = new PortIoSpace();
const clock = new ManualClock();
const out: number[] = [];
const uart = new Uart16550({ clock, sink: (byte) => out.push(byte) });
io.register(0x3f8, 8, uart.ports, "com1");
let exitStatus: number | undefined;
const cpu = new Cpu({ memory, io });
io.register(
  ISA_DEBUG_EXIT_PORTS.base,
  ISA_DEBUG_EXIT_PORTS.size,
  new IsaDebugExit((status) => {
    exitStatus = status;
    cpu.requestStop();
  }),
  "isa-debug-exit",
);
memory.mapMmio(IOAPIC_MMIO.base, IOAPIC_MMIO.size, new IoApic({ deliver: () => {} }), "ioapic");

ram.bytes.set(image, LOAD_AT);
cpu.reset();
const s = cpu.state;
s.segSelector[Seg.CS] = 0;
s.segBase[2 * Seg.CS] = 0;
s.rip = LOAD_AT;
s.set64(Gpr.RDX, 0x80, 0);
cpu.invalidateAllBlocks();

const t0 = process.hrtime.bigint();
let reason: StopReason = StopReason.Budget;
while (exitStatus === undefined) {
  reason = cpu.run(SLICE);
  if (reason !== StopReason.Budget && reason !== StopReason.Stopped) break;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(Buffer.from(out));
if (stats) {
  const n = cpu.instructions;
  console.error(
    `turtles-run: ${n} instructions in ${seconds.toFixed(3)} s = ${(n / seconds / 1e6).toFixed(1)} MIPS`,
  );
}
if (exitStatus === undefined) {
  const name = Object.entries(StopReason).find(([, v]) => v === reason)?.[0] ?? String(reason);
  console.error(
    `turtles-run: the guest stopped without isa-debug-exit (${name}) at RIP 0x${s.rip.toString(16)}`,
  );
  process.exit(3);
}
process.exit(exitStatus & 0xff);
