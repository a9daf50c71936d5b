/**
 * CPUID (SDM vol. 2A, CPUID): identity from the {@link CpuModel} and feature bits for exactly what
 * the interpreter implements — no x87, SSE or AVX; no VMX; no APIC in the processor model.
 */
import type { Cpu } from "./cpu.js";

const result = new Uint32Array(4);

/** Leaf 1 EDX: VME, DE, PSE, TSC, MSR, PAE, CX8, SEP, PGE, CMOV, PAT, CLFSH. */
const LEAF1_EDX =
  (1 << 1) |
  (1 << 2) |
  (1 << 3) |
  (1 << 4) |
  (1 << 5) |
  (1 << 6) |
  (1 << 8) |
  (1 << 11) |
  (1 << 13) |
  (1 << 15) |
  (1 << 16) |
  (1 << 19);
/** Leaf 1 ECX: CX16, MOVBE, POPCNT. */
const LEAF1_ECX = (1 << 13) | (1 << 22) | (1 << 23);
/** Leaf 7 EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, ADX, SMAP. */
const LEAF7_EBX = (1 << 0) | (1 << 3) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 19) | (1 << 20);
/** 0x80000001 EDX: SYSCALL, NX, Page1GB (model), RDTSCP, LM. */
const EXT1_EDX = (1 << 11) | (1 << 20) | (1 << 27) | (1 << 29);
/** 0x80000001 ECX: LAHF/SAHF in 64-bit mode, LZCNT (ABM). */
const EXT1_ECX = (1 << 0) | (1 << 5);

function str4(text: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (text.charCodeAt(at + k) & 0xff) << (8 * k);
  return v >>> 0;
}

/** Runs CPUID for `leaf`/`subleaf`: returns EAX, EBX, ECX, EDX in a reused array. */
export function cpuid(c: Cpu, leaf: number, subleaf: number): Uint32Array {
  const m = c.model;
  const r = result;
  r.fill(0);
  const vendor = m.vendor.padEnd(12, " ");
  switch (leaf >>> 0) {
    case 0:
      r[0] = 7;
      r[1] = str4(vendor, 0);
      r[3] = str4(vendor, 4);
      r[2] = str4(vendor, 8);
      break;
    case 1:
      r[0] = m.signature;
      r[1] = 0x00000800; // CLFLUSH line size 8 x 8 bytes
      r[2] = LEAF1_ECX;
      r[3] = LEAF1_EDX;
      break;
    case 7:
      if (subleaf === 0) r[1] = LEAF7_EBX;
      break;
    case 0x80000000:
      r[0] = 0x80000008;
      break;
    case 0x80000001:
      r[2] = EXT1_ECX;
      r[3] = m.pages1G ? EXT1_EDX | (1 << 26) : EXT1_EDX;
      break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const brand = m.brand.padEnd(48, "\0");
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) r[k] = str4(brand, base + 4 * k);
      break;
    }
    case 0x80000008:
      r[0] = m.maxPhysAddr | (m.linearAddressBits << 8);
      break;
    default:
      break;
  }
  return r;
}
