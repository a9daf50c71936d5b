import {
  ISA_DEBUG_EXIT_PORTS,
  IsaDebugExit,
  ManualClock,
  PIC_PORTS,
  PicPair,
  UART_PORTS,
  Uart16550,
} from "@turtles/machine";
import { PortIoSpace } from "@turtles/memory";

// The machine will drive time from executed instructions; a ManualClock moves only when told.
const clock = new ManualClock();
const io = new PortIoSpace();

const pic = new PicPair({ set: (level) => console.log("INTR", level) });
io.register(PIC_PORTS.master, 2, pic.masterPorts, "pic-master");
io.register(PIC_PORTS.slave, 2, pic.slavePorts, "pic-slave");

let output = "";
const com1 = new Uart16550({
  clock,
  irq: pic.irqLine(4),
  sink: (byte) => {
    output += String.fromCharCode(byte);
  },
});
io.register(UART_PORTS.com1, 8, com1.ports, "com1");

let exitStatus: number | undefined;
const exit = new IsaDebugExit((status) => {
  exitStatus = status;
});
io.register(ISA_DEBUG_EXIT_PORTS.base, ISA_DEBUG_EXIT_PORTS.size, exit, "isa-debug-exit");

// What a guest does, as port writes: program the PICs (vectors 0x20 and 0x28)...
function initPic(base: number, vectorBase: number, cascade: number): void {
  io.write(base, 1, 0x11); // ICW1: edge-triggered, cascaded, ICW4 follows
  io.write(base + 1, 1, vectorBase); // ICW2
  io.write(base + 1, 1, cascade); // ICW3
  io.write(base + 1, 1, 0x01); // ICW4: 8086 mode
}
initPic(0x20, 0x20, 0x04);
initPic(0xa0, 0x28, 0x02);
// ...set COM1 to 115200 8N1 and print...
io.write(0x3fb, 1, 0x80); // DLAB
io.write(0x3f8, 1, 0x01); // divisor 1
io.write(0x3f9, 1, 0x00);
io.write(0x3fb, 1, 0x03); // 8N1
for (const c of "hello\n") io.write(0x3f8, 1, c.charCodeAt(0));

// ...enable the receive interrupt; the host types "y"; the CPU would take vector 0x24.
io.write(0x3f9, 1, 0x01);
com1.receive([0x79]);
console.log("vector", pic.acknowledge().toString(16), "byte", io.read(0x3f8, 1));
io.write(0x20, 1, 0x20); // EOI

// ...and report success through isa-debug-exit: status (0x10 << 1) | 1.
io.write(0xf4, 1, 0x10);
console.log(JSON.stringify(output), "exit", exitStatus);
