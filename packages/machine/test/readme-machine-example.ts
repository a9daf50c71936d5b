import { readFileSync } from "node:fs";
import { createMachine } from "@turtles/machine";

// A multiboot kernel of the guest kit: it programs the PIT and counts ten IRQ0 ticks on its IDT.
const kernel = readFileSync(new URL("./guests/kit/pit.elf", import.meta.url));
let serial = "";
const machine = createMachine({
  kernel,
  kernelName: "pit.elf",
  ramSize: 64 * 0x10_0000,
  isaDebugExit: true,
  serial: (byte) => {
    serial += String.fromCharCode(byte);
  },
});
// Virtual time: 1 ns per instruction, and HLT skips to the next timer deadline, so this is exact.
const result = machine.run({ maxInstructions: 10_000_000 });
console.log(JSON.stringify(serial));
console.log(
  result.end,
  result.exitStatus,
  "IRQ0 taken",
  result.events[0x20],
  "machine ms",
  result.machineNs / 1e6,
);
