// The README's interpreter example, verbatim between the markers (test/readme.test.ts checks both).
// README-BEGIN
import { Cpu, Gpr, Seg, StopReason } from "@turtles/cpu";
import { createRamSpace, PortIoSpace } from "@turtles/memory";

const { space, ram } = createRamSpace(1 << 20);
const cpu = new Cpu({ memory: space, io: new PortIoSpace() });

// 16-bit code at 0000:7C00 (nasm): mov ax, 6 / mov bx, 7 / imul ax, bx / hlt
ram.bytes.set([0xb8, 0x06, 0x00, 0xbb, 0x07, 0x00, 0x0f, 0xaf, 0xc3, 0xf4], 0x7c00);
cpu.state.segSelector[Seg.CS] = 0;
cpu.state.segBase[2 * Seg.CS] = 0; // real mode: base = selector × 16
cpu.state.rip = 0x7c00;

const why = cpu.run(1_000); // StopReason.Halted: HLT, and no interrupt can come
const halted = why === StopReason.Halted; // true
const ax = cpu.state.get16(Gpr.RAX); // 42
const retired = cpu.instructions; // 4

// README-END

export { ax, halted, retired, why };
