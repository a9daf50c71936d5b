import type { Mismatch } from "./compare.js";

/**
 * Deliberate or known differences from iced-x86 (npm 1.21), each with its reason. The
 * differential tests do not count these as disagreements; the README lists them.
 */
export const ALLOW_LIST: readonly { reason: string; matches: (m: Mismatch) => boolean }[] = [
  {
    // Bytes 48 B8 01 00 00 00 01 00 00 00 are `mov rax,100000001h` (SDM MOV B8+rd io with REX.W:
    // a 64-bit immediate). iced-x86's npm build prints only the low 32 bits ("mov rax,1").
    reason: "iced-x86 npm prints only the low 32 bits of the 64-bit immediate of MOV r64,imm64",
    matches: (m) => m.kind === "text" && /^(4[89a-f])b[89a-f]/.test(m.hex) && /^mov r\w+,/.test(m.iced),
  },
];

/** True when the mismatch is explained by the allow-list. */
export function allowed(m: Mismatch): boolean {
  return ALLOW_LIST.some((a) => a.matches(m));
}
