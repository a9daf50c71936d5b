import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import type { MsrAccess } from "./state-access.js";

// MSR-load and MSR-store areas: arrays of 16-byte entries — bits 31:0 MSR index, bits 63:32
// reserved (0), bits 127:64 data (SDM 25.7.2, 25.8.2; loading 27.4 and 28.6, storing 28.4).

const IA32_SMM_MONITOR_CTL = 0x9b;
const IA32_SMBASE = 0x9e;
const IA32_FS_BASE = 0xc000_0100;
const IA32_GS_BASE = 0xc000_0101;
const scratch = new Uint32Array(2);

/** True when an MSR index may never appear in an MSR-load area (SDM 27.4). */
export function msrLoadForbidden(index: number, forEntry: boolean): boolean {
  if (index >>> 8 === 0x8) return true; // x2APIC MSRs
  if (index === IA32_SMM_MONITOR_CTL || index === IA32_SMBASE) return true;
  return forEntry && (index === IA32_FS_BASE || index === IA32_GS_BASE);
}

/**
 * Loads `count` entries from the MSR-load area at `addr` into `msrs`, in order.
 * @returns 0 on success, else the 1-based number of the failing entry (the exit qualification of
 *   a VM-entry failure due to MSR loading).
 */
export function loadMsrArea(
  mem: PhysicalMemory,
  addr: number,
  count: number,
  msrs: MsrAccess,
  forEntry: boolean,
): number {
  for (let i = 0; i < count; i++) {
    const e = addr + i * 16;
    const index = mem.read32(e, AccessKind.Read);
    const reserved = mem.read32(e + 4, AccessKind.Read);
    mem.read64(e + 8, AccessKind.Read, scratch, 0);
    if (reserved !== 0 || msrLoadForbidden(index, forEntry)) return i + 1;
    if (!msrs.writeMsr(index, scratch[0]!, scratch[1]!)) return i + 1;
  }
  return 0;
}

/**
 * Stores the MSRs named by `count` entries of the MSR-store area at `addr` into their data
 * fields. @returns 0 on success, else the 1-based number of the failing entry.
 */
export function storeMsrArea(mem: PhysicalMemory, addr: number, count: number, msrs: MsrAccess): number {
  for (let i = 0; i < count; i++) {
    const e = addr + i * 16;
    const index = mem.read32(e, AccessKind.Read);
    if (mem.read32(e + 4, AccessKind.Read) !== 0 || index >>> 8 === 0x8 || index === IA32_SMBASE)
      return i + 1;
    if (!msrs.readMsr(index, scratch)) return i + 1;
    mem.write64(e + 8, scratch[0]!, scratch[1]!, AccessKind.Write);
  }
  return 0;
}
