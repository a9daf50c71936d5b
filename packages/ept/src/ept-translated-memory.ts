import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { EptAccess, type EptWalker } from "./ept-walker.js";
import { WalkResult } from "./walk-result.js";

/**
 * A guest's physical memory seen from the host: every access is translated by an EPT and then
 * made on the host memory. L0 uses it to read tables that live in L1's memory (EPT12, L1's page
 * tables). An access whose translation faults reads as all-ones and writes nothing, and is counted
 * in {@link EptTranslatedMemory.faults}. Scalar accesses must not cross a 4-KByte boundary.
 */
export class EptTranslatedMemory implements PhysicalMemory {
  /** Memory references the EPT walks made (entry reads and A/D writes). */
  references = 0;
  /** Accesses dropped because their translation faulted. */
  faults = 0;
  private readonly result = new WalkResult();

  /**
   * @param host the memory the EPT's tables and its translations live in.
   * @param ept the EPT walker (EPTP loaded) from guest-physical to host addresses.
   */
  constructor(
    readonly host: PhysicalMemory,
    readonly ept: EptWalker,
  ) {}

  private map(addr: number, kind: AccessKind): number {
    const access =
      kind === AccessKind.Write
        ? EptAccess.Write
        : kind === AccessKind.Fetch
          ? EptAccess.Fetch
          : EptAccess.Read;
    const ok = this.ept.walk(this.host, addr, access, this.result);
    this.references += this.result.references;
    if (!ok) {
      this.faults++;
      return -1;
    }
    return this.result.address;
  }

  private mapWrite(addr: number): number {
    const ok = this.ept.walk(this.host, addr, EptAccess.Write, this.result);
    this.references += this.result.references;
    if (!ok) {
      this.faults++;
      return -1;
    }
    return this.result.address;
  }

  /** Reads one byte through the EPT. */
  read8(addr: number, kind: AccessKind): number {
    const a = this.map(addr, kind);
    return a < 0 ? 0xff : this.host.read8(a, kind);
  }

  /** Reads a 16-bit value through the EPT. */
  read16(addr: number, kind: AccessKind): number {
    const a = this.map(addr, kind);
    return a < 0 ? 0xffff : this.host.read16(a, kind);
  }

  /** Reads a 32-bit value through the EPT. */
  read32(addr: number, kind: AccessKind): number {
    const a = this.map(addr, kind);
    return a < 0 ? 0xffff_ffff : this.host.read32(a, kind);
  }

  /** Reads a 64-bit value (lo, hi into `out`) through the EPT. */
  read64(addr: number, kind: AccessKind, out: Uint32Array, index: number): void {
    const a = this.map(addr, kind);
    if (a < 0) {
      out[index] = 0xffff_ffff;
      out[index + 1] = 0xffff_ffff;
      return;
    }
    this.host.read64(a, kind, out, index);
  }

  /** Writes one byte through the EPT. */
  write8(addr: number, value: number, kind: AccessKind): void {
    const a = this.mapWrite(addr);
    if (a >= 0) this.host.write8(a, value, kind);
  }

  /** Writes a 16-bit value through the EPT. */
  write16(addr: number, value: number, kind: AccessKind): void {
    const a = this.mapWrite(addr);
    if (a >= 0) this.host.write16(a, value, kind);
  }

  /** Writes a 32-bit value through the EPT. */
  write32(addr: number, value: number, kind: AccessKind): void {
    const a = this.mapWrite(addr);
    if (a >= 0) this.host.write32(a, value, kind);
  }

  /** Writes the 64-bit value `hi:lo` through the EPT. */
  write64(addr: number, lo: number, hi: number, kind: AccessKind): void {
    const a = this.mapWrite(addr);
    if (a >= 0) this.host.write64(a, lo, hi, kind);
  }

  /** Reads bytes through the EPT, page by page. */
  readBytes(addr: number, dest: Uint8Array, kind: AccessKind): void {
    let done = 0;
    while (done < dest.length) {
      const at = addr + done;
      const chunk = Math.min(dest.length - done, 4096 - (at % 4096));
      const part = dest.subarray(done, done + chunk);
      const a = this.map(at, kind);
      if (a < 0) part.fill(0xff);
      else this.host.readBytes(a, part, kind);
      done += chunk;
    }
  }

  /** Writes bytes through the EPT, page by page. */
  writeBytes(addr: number, src: Uint8Array, kind: AccessKind): void {
    let done = 0;
    while (done < src.length) {
      const at = addr + done;
      const chunk = Math.min(src.length - done, 4096 - (at % 4096));
      const a = this.mapWrite(at);
      if (a >= 0) this.host.writeBytes(a, src.subarray(done, done + chunk), kind);
      done += chunk;
    }
  }
}
