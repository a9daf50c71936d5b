import { readFileSync } from "node:fs";
import { BootLoadError, loadMultiboot, PcMemoryLayout } from "@turtles/machine";

// 64 MiB below the PCI hole; the e820 map every loader reports comes from this description.
const layout = new PcMemoryLayout({ ramSize: 64 * 0x10_0000, pciHoleStart: 0xc000_0000 });
const { space } = layout.createSpace();
for (const r of layout.e820()) console.log(r.base.toString(16), r.length.toString(16), r.type);

// A multiboot kernel with one module, as `qemu -kernel hello.elf -append verbose -initrd "m.bin x"`.
const kernel = readFileSync(new URL("./guests/multiboot-hello.elf", import.meta.url));
const entry = loadMultiboot(space, layout, kernel, {
  kernelName: "hello.elf",
  cmdline: "verbose",
  modules: [{ data: new Uint8Array(100), cmdline: "m.bin x" }],
});
const { rax, rbx } = entry.registers;
console.log(
  entry.mode,
  "at",
  entry.rip.toString(16),
  "eax",
  rax.toString(16),
  "ebx",
  rbx.toString(16),
  "cs",
  entry.cs.selector,
);

// Bad input is a one-line error for the `turtles` command to print.
try {
  loadMultiboot(space, layout, new Uint8Array(64));
} catch (e) {
  if (e instanceof BootLoadError) console.log(e.message);
}
