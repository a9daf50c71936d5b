/**
 * Exception and interrupt vectors as data (SDM vol. 3, 6.3.1 Table 6-1 and the per-vector
 * reference of 6.15): mnemonic, kind, whether an error code is pushed, and the class used to
 * decide double faults (6.15, Table 6-4).
 */

/** The architecturally defined exception vectors. */
export const Vector = {
  /** Divide error. */
  DE: 0,
  /** Debug exception. */
  DB: 1,
  /** Non-maskable interrupt. */
  NMI: 2,
  /** Breakpoint (INT3). */
  BP: 3,
  /** Overflow (INTO). */
  OF: 4,
  /** BOUND range exceeded. */
  BR: 5,
  /** Invalid opcode. */
  UD: 6,
  /** Device not available. */
  NM: 7,
  /** Double fault. */
  DF: 8,
  /** Coprocessor segment overrun (reserved since the 486). */
  CSO: 9,
  /** Invalid TSS. */
  TS: 10,
  /** Segment not present. */
  NP: 11,
  /** Stack-segment fault. */
  SS: 12,
  /** General protection. */
  GP: 13,
  /** Page fault. */
  PF: 14,
  /** x87 floating-point error. */
  MF: 16,
  /** Alignment check. */
  AC: 17,
  /** Machine check. */
  MC: 18,
  /** SIMD floating-point exception. */
  XM: 19,
  /** Virtualization exception (EPT violation delivered to the guest). */
  VE: 20,
  /** Control-protection exception (CET). */
  CP: 21,
} as const;

/** One of the {@link Vector} numbers. */
export type Vector = (typeof Vector)[keyof typeof Vector];

/** How an exception is reported (SDM vol. 3, 6.5): where the saved RIP points and whether it can resume. */
export const ExceptionKind = {
  /** Saved RIP is the faulting instruction; restartable. */
  Fault: "fault",
  /** Saved RIP is the next instruction. */
  Trap: "trap",
  /** No reliable saved state. */
  Abort: "abort",
  /** #DB: a fault or a trap depending on the condition. */
  FaultOrTrap: "fault-or-trap",
  /** NMI: an interrupt, not an exception. */
  Interrupt: "interrupt",
  /** Intel reserved vector. */
  Reserved: "reserved",
} as const;

/** One of the {@link ExceptionKind} values. */
export type ExceptionKind = (typeof ExceptionKind)[keyof typeof ExceptionKind];

/** Exception classes for double-fault detection (SDM vol. 3, 6.15, Table 6-4). */
export const ExceptionClass = {
  /** Everything else, including all external and software interrupts. */
  Benign: 0,
  /** #DE, #TS, #NP, #SS, #GP, #CP. */
  Contributory: 1,
  /** #PF and #VE (a virtualization exception counts as a page fault here). */
  PageFault: 2,
} as const;

/** One of the {@link ExceptionClass} values. */
export type ExceptionClass = (typeof ExceptionClass)[keyof typeof ExceptionClass];

/** What the processor knows about one of vectors 0-31. */
export interface VectorInfo {
  /** Vector number. */
  readonly vector: number;
  /** Mnemonic such as `#GP`, or `reserved`. */
  readonly mnemonic: string;
  /** Name in the SDM. */
  readonly name: string;
  /** Fault, trap, abort, ... */
  readonly kind: ExceptionKind;
  /** True when delivery in protected or long mode pushes an error code (SDM vol. 3, 6.13). */
  readonly errorCode: boolean;
  /** Double-fault class. */
  readonly class: ExceptionClass;
}

const { Fault, Trap, Abort, FaultOrTrap, Interrupt, Reserved } = ExceptionKind;
const { Benign, Contributory, PageFault } = ExceptionClass;

function v(
  vector: number,
  mnemonic: string,
  name: string,
  kind: ExceptionKind,
  errorCode: boolean,
  cls: ExceptionClass,
): VectorInfo {
  return { vector, mnemonic, name, kind, errorCode, class: cls };
}

const reserved = (n: number) => v(n, "reserved", "Intel reserved", Reserved, false, Benign);

/** Vectors 0-31, indexed by vector number (SDM vol. 3, Table 6-1; classes from Table 6-4). */
export const VECTORS: readonly VectorInfo[] = [
  v(0, "#DE", "Divide Error", Fault, false, Contributory),
  v(1, "#DB", "Debug Exception", FaultOrTrap, false, Benign),
  v(2, "NMI", "Nonmaskable Interrupt", Interrupt, false, Benign),
  v(3, "#BP", "Breakpoint", Trap, false, Benign),
  v(4, "#OF", "Overflow", Trap, false, Benign),
  v(5, "#BR", "BOUND Range Exceeded", Fault, false, Benign),
  v(6, "#UD", "Invalid Opcode", Fault, false, Benign),
  v(7, "#NM", "Device Not Available", Fault, false, Benign),
  v(8, "#DF", "Double Fault", Abort, true, Benign),
  v(9, "CSO", "Coprocessor Segment Overrun", Fault, false, Benign),
  v(10, "#TS", "Invalid TSS", Fault, true, Contributory),
  v(11, "#NP", "Segment Not Present", Fault, true, Contributory),
  v(12, "#SS", "Stack-Segment Fault", Fault, true, Contributory),
  v(13, "#GP", "General Protection", Fault, true, Contributory),
  v(14, "#PF", "Page Fault", Fault, true, PageFault),
  reserved(15),
  v(16, "#MF", "x87 FPU Floating-Point Error", Fault, false, Benign),
  v(17, "#AC", "Alignment Check", Fault, true, Benign),
  v(18, "#MC", "Machine Check", Abort, false, Benign),
  v(19, "#XM", "SIMD Floating-Point Exception", Fault, false, Benign),
  v(20, "#VE", "Virtualization Exception", Fault, false, PageFault),
  v(21, "#CP", "Control Protection Exception", Fault, true, Contributory),
  ...Array.from({ length: 10 }, (_, i) => reserved(22 + i)),
];

/** Double-fault class of any vector 0-255; vectors 32-255 (interrupts) are benign. */
export function exceptionClass(vector: number): ExceptionClass {
  return vector < 32 ? VECTORS[vector]!.class : Benign;
}
