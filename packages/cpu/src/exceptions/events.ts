/**
 * Event types (the VMCS interruption-information encoding, SDM vol. 3, 25.8.3 / 26.2.1.3), error
 * code presence, and how a second exception during delivery of a first combines (SDM vol. 3,
 * 6.15 "Interrupt 8—Double Fault Exception", Table 6-5).
 */
import { ExceptionClass, exceptionClass, VECTORS, Vector } from "./vectors.js";

/** Kinds of event, numbered as the type field of VM-entry/exit interruption information. */
export const EventType = {
  /** INTR from the interrupt controller. */
  ExternalInterrupt: 0,
  /** NMI. */
  Nmi: 2,
  /** An exception raised by the processor (a fault, trap or abort other than INT3/INTO). */
  HardwareException: 3,
  /** INT n. */
  SoftwareInterrupt: 4,
  /** INT1 (ICEBP). */
  PrivilegedSoftwareException: 5,
  /** INT3 and INTO. */
  SoftwareException: 6,
  /** Other events (MTF pending, ...). */
  Other: 7,
} as const;

/** One of the {@link EventType} values. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/**
 * True when delivering `vector` as an event of `type` pushes an error code: only hardware
 * exceptions with an error-code vector (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP), and only with
 * CR0.PE = 1 — real-mode delivery pushes none, and INT n with those vectors pushes none
 * (SDM vol. 3, 6.13; the VM-entry check of 26.2.1.3 applies the same rule).
 */
export function deliversErrorCode(vector: number, type: EventType, protectedMode: boolean): boolean {
  return protectedMode && type === EventType.HardwareException && vector < 32 && VECTORS[vector]!.errorCode;
}

/** What happens when a second exception arises while delivering a first. */
export const Combination = {
  /** Handled serially: the second exception is delivered normally; a fault that caused the first recurs on return. */
  Serial: 0,
  /** A #DF is delivered instead (error code 0). */
  DoubleFault: 1,
  /** The processor shuts down (a triple fault; a VM exit in VMX non-root operation). */
  TripleFault: 2,
} as const;

/** One of the {@link Combination} values. */
export type Combination = (typeof Combination)[keyof typeof Combination];

const { Serial, DoubleFault } = Combination;

/**
 * SDM vol. 3 Table 6-5, "Conditions for Generating a Double Fault", as data:
 * `DOUBLE_FAULT_TABLE[firstClass][secondClass]`, classes as in {@link ExceptionClass}.
 */
export const DOUBLE_FAULT_TABLE: readonly (readonly Combination[])[] = [
  // second:   Benign  Contributory  PageFault
  /* Benign */ [Serial, Serial, Serial],
  /* Contributory */ [Serial, DoubleFault, Serial],
  /* PageFault */ [Serial, DoubleFault, DoubleFault],
];

/**
 * How exception `second`, raised while delivering event `first`, is handled. A contributory
 * exception or page fault raised while delivering a #DF shuts the processor down (SDM vol. 3,
 * 6.15, Interrupt 8); otherwise {@link DOUBLE_FAULT_TABLE} decides. Vectors 32-255 are
 * interrupts and count as benign.
 */
export function combineExceptions(first: number, second: number): Combination {
  const secondClass = exceptionClass(second);
  if (first === Vector.DF) return secondClass === ExceptionClass.Benign ? Serial : Combination.TripleFault;
  return DOUBLE_FAULT_TABLE[exceptionClass(first)]![secondClass]!;
}
