// A tiny bare-metal machine for the interpreter's tests and benchmark: 128 MiB of RAM, a COM1
// stub that captures what is written to THR (LSR always reads THRE|TEMT), an isa-debug-exit port
// at 0xF4 that stops the run, and an I/O APIC register-select latch at 0xFEC00000.
import { createRamSpace, type PhysicalAddressSpace, PortIoSpace, type Ram } from "@turtles/memory";
import { Cpu, Gpr, Seg } from "../src/index.js";

/** The machine and what it captured. */
export interface BareMetal {
  readonly cpu: Cpu;
  readonly memory: PhysicalAddressSpace;
  readonly ram: Ram;
  readonly io: PortIoSpace;
  /** Bytes written to COM1's THR, as text. */
  serial(): string;
  /** Whether the exit port was written. */
  exited(): boolean;
}

/** RAM size of {@link createBareMetal}. */
export const RAM_SIZE = 128 * 1024 * 1024;

/** Builds the machine; no code is loaded. */
export function createBareMetal(ramSize = RAM_SIZE): BareMetal {
  const { space, ram } = createRamSpace(ramSize);
  const io = new PortIoSpace();
  let text = "";
  let lcr = 0;
  let scratch = 0;
  let exited = false;
  let ioregsel = 0;
  const cpu = new Cpu({ memory: space, io });
  io.register(
    0x3f8,
    8,
    {
      read(offset) {
        if (offset === 5) return 0x60; // LSR: THRE | TEMT
        if (offset === 7) return scratch;
        if (offset === 3) return lcr;
        return 0;
      },
      write(offset, _size, value) {
        if (offset === 0 && (lcr & 0x80) === 0) text += String.fromCharCode(value & 0xff);
        else if (offset === 3) lcr = value & 0xff;
        else if (offset === 7) scratch = value & 0xff;
      },
    },
    "com1",
  );
  io.register(
    0xf4,
    1,
    {
      read: () => 0xff,
      write() {
        exited = true;
        cpu.requestStop();
      },
    },
    "isa-debug-exit",
  );
  space.mapMmio(
    0xfec00000,
    0x1000,
    {
      read: (offset) => (offset === 0 ? ioregsel : 0),
      write(offset, _size, value) {
        if (offset === 0) ioregsel = value & 0xff;
      },
    },
    "ioapic",
  );
  return { cpu, memory: space, ram, io, serial: () => text, exited: () => exited };
}

/** Loads a boot image at 0x7C00 and points the CPU at it in real mode (CS:IP = 0000:7C00, DL = 0x80). */
export function loadBootImage(m: BareMetal, image: Uint8Array): void {
  m.ram.bytes.set(image, 0x7c00);
  const s = m.cpu.state;
  m.cpu.reset();
  s.segSelector[Seg.CS] = 0;
  s.segBase[2 * Seg.CS] = 0;
  s.rip = 0x7c00;
  s.set64(Gpr.RDX, 0x80, 0);
  m.cpu.invalidateAllBlocks();
}
