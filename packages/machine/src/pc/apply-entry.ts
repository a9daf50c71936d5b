import { type Cpu, Gpr, Seg } from "@turtles/cpu";
import type { BootEntryState, SegmentSetup } from "../boot/entry.js";

const SEGMENTS: readonly [number, keyof BootEntryState][] = [
  [Seg.ES, "es"],
  [Seg.CS, "cs"],
  [Seg.SS, "ss"],
  [Seg.DS, "ds"],
  [Seg.FS, "fs"],
  [Seg.GS, "gs"],
];

const REGISTERS: readonly [number, keyof BootEntryState["registers"]][] = [
  [Gpr.RAX, "rax"],
  [Gpr.RBX, "rbx"],
  [Gpr.RCX, "rcx"],
  [Gpr.RDX, "rdx"],
  [Gpr.RSI, "rsi"],
  [Gpr.RDI, "rdi"],
  [Gpr.RBP, "rbp"],
  [Gpr.RSP, "rsp"],
];

const TWO_32 = 0x1_0000_0000;

/**
 * Puts a processor in the state a boot loader describes: resets it, then sets the general
 * registers, RIP, RFLAGS, the six segment registers with their hidden parts, GDTR/IDTR, CR0, CR3,
 * CR4 and EFER, and drops decoded code (the loader just wrote memory).
 */
export function applyEntryState(cpu: Cpu, entry: BootEntryState): void {
  cpu.reset();
  const s = cpu.state;
  for (const [reg, name] of REGISTERS) {
    const v = entry.registers[name];
    s.set64(reg, v >>> 0, Math.floor(v / TWO_32) >>> 0);
  }
  s.rip = entry.rip;
  s.flags.write(entry.rflags);
  for (const [seg, name] of SEGMENTS) {
    const setup = entry[name] as SegmentSetup;
    s.segSelector[seg] = setup.selector;
    s.segBase[2 * seg] = setup.base >>> 0;
    s.segBase[2 * seg + 1] = Math.floor(setup.base / TWO_32) >>> 0;
    s.segLimit[seg] = setup.limit >>> 0;
    s.segAccess[seg] = setup.access;
  }
  s.gdtr.baseLo = entry.gdt.base >>> 0;
  s.gdtr.baseHi = Math.floor(entry.gdt.base / TWO_32) >>> 0;
  s.gdtr.limit = entry.gdt.limit;
  s.idtr.baseLo = entry.idt.base >>> 0;
  s.idtr.baseHi = Math.floor(entry.idt.base / TWO_32) >>> 0;
  s.idtr.limit = entry.idt.limit;
  // Control registers are lo/hi pairs: CRn at index 2n.
  s.cr[0] = entry.cr0 >>> 0;
  s.cr[6] = entry.cr3 >>> 0;
  s.cr[7] = Math.floor(entry.cr3 / TWO_32) >>> 0;
  s.cr[8] = entry.cr4 >>> 0;
  s.efer[0] = entry.efer >>> 0;
  s.efer[1] = 0;
  cpu.invalidateAllBlocks();
  cpu.syncFromState();
}
