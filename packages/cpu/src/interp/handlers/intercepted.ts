/**
 * Instructions whose only behaviour on this processor, apart from #UD, is to be intercepted: the
 * VMX instructions (SDM vol. 2C, chapter 30: outside VMX operation they raise #UD; in VMX
 * non-root operation they cause VM exits), GETSEC (SDM vol. 2D, chapter 7), and PAUSE (a hint).
 */
import type { Cpu } from "../cpu.js";
import { NO_ERROR, V } from "../fault.js";
import type { Insn } from "../insn.js";
import { interceptInstruction } from "../intercepts.js";

/** CR4.SMXE. */
const CR4_SMXE = 0x4000;

/** PAUSE: a spin-loop hint; with intercepts, a PAUSE exit (reason 40). */
export function pause(c: Cpu, i: Insn): void {
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
}

/**
 * A VMX instruction (aux 1: one whose #UD conditions include CR0.PE = 0, RFLAGS.VM = 1 and
 * compatibility mode: all but VMCALL and VMFUNC). Those #UD checks come first, then the
 * intercept (the VM exit of VMX non-root operation, before the CPL check); without one the
 * processor is outside VMX operation: #UD. CR4.VMXE is not checked: in VMX non-root operation
 * the fixed-1 bits of CR4 keep it set, so that check cannot fail there.
 */
export function vmxInstruction(c: Cpu, i: Insn): void {
  if (
    i.aux === 1 &&
    (!c.pe || (c.s.flags.bits & 0x20000) !== 0 || ((c.s.efer[0]! & 0x400) !== 0 && !c.mode64))
  )
    c.fault(V.UD, NO_ERROR);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  c.fault(V.UD, NO_ERROR);
}

/**
 * GETSEC: #UD while CR4.SMXE = 0 (before any VM exit). This processor has no SMX, so CR4.SMXE
 * cannot be set and the intercept below is reached only if a future model allows it.
 */
export function getsec(c: Cpu, i: Insn): void {
  if ((c.s.cr[8]! & CR4_SMXE) === 0) c.fault(V.UD, NO_ERROR);
  if (c.intercepts !== null && interceptInstruction(c, i)) return;
  c.fault(V.UD, NO_ERROR);
}
