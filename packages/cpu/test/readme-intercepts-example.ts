// The README's intercepts example, verbatim between the markers (test/readme.test.ts checks it).
// README-BEGIN
import { Cpu, Gpr, Seg, StopReason, VmExitReason } from "@turtles/cpu";
import { createRamSpace, PortIoSpace } from "@turtles/memory";

const { space, ram } = createRamSpace(1 << 20);
const cpu = new Cpu({ memory: space, io: new PortIoSpace() });
// 16-bit code at 0000:7C00: xor eax, eax / cpuid / hlt
ram.bytes.set([0x66, 0x31, 0xc0, 0x0f, 0xa2, 0xf4], 0x7c00);
cpu.state.segSelector[Seg.CS] = 0;
cpu.state.segBase[2 * Seg.CS] = 0;
cpu.state.rip = 0x7c00;

// A hypervisor's view: take CPUID as a VM exit, let everything else run.
cpu.intercepts = { intercept: (exit) => exit.reason === VmExitReason.Cpuid };

const why = cpu.run(1_000); // StopReason.VmExit
const exited = why === StopReason.VmExit; // true
const at = cpu.state.rip; // 0x7c03: RIP stays at the CPUID
const length = cpu.exit.instructionLength; // 2

// Emulate it (here: vendor string "TurtlesTurtl"), skip it, and go on to the HLT.
cpu.state.set32(Gpr.RBX, 0x74727554);
cpu.state.rip += length;
const after = cpu.run(1_000); // StopReason.Halted

// README-END

export { after, at, exited, length, why };
