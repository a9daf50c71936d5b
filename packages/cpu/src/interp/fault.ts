/**
 * The one object thrown inside the interpreter when an instruction faults. The vector and error
 * code are left on the `Cpu` before the throw; `Cpu.run` catches it and delivers the exception.
 * It is never thrown out of `run` (guest behaviour does not throw).
 */
export const FAULT: { readonly guestFault: true } = Object.freeze({ guestFault: true });

/** Marks "no error code" for exception delivery. */
export const NO_ERROR = -1;

/** Vectors used by the interpreter (SDM vol. 3, Table 6-1). */
export const V = {
  DE: 0,
  DB: 1,
  NMI: 2,
  BP: 3,
  OF: 4,
  BR: 5,
  UD: 6,
  NM: 7,
  DF: 8,
  TS: 10,
  NP: 11,
  SS: 12,
  GP: 13,
  PF: 14,
  MF: 16,
  AC: 17,
} as const;
