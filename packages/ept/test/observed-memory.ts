import type { AccessKind, PhysicalMemory } from "@turtles/memory";

/** Forwards to `inner` and reports every write's range: how a hypervisor's write tracking sees guest writes. */
export class ObservedMemory implements PhysicalMemory {
  constructor(
    private readonly inner: PhysicalMemory,
    private readonly onWrite: (addr: number, length: number) => void,
  ) {}
  read8(addr: number, kind: AccessKind): number {
    return this.inner.read8(addr, kind);
  }
  read16(addr: number, kind: AccessKind): number {
    return this.inner.read16(addr, kind);
  }
  read32(addr: number, kind: AccessKind): number {
    return this.inner.read32(addr, kind);
  }
  read64(addr: number, kind: AccessKind, out: Uint32Array, index: number): void {
    this.inner.read64(addr, kind, out, index);
  }
  write8(addr: number, value: number, kind: AccessKind): void {
    this.inner.write8(addr, value, kind);
    this.onWrite(addr, 1);
  }
  write16(addr: number, value: number, kind: AccessKind): void {
    this.inner.write16(addr, value, kind);
    this.onWrite(addr, 2);
  }
  write32(addr: number, value: number, kind: AccessKind): void {
    this.inner.write32(addr, value, kind);
    this.onWrite(addr, 4);
  }
  write64(addr: number, lo: number, hi: number, kind: AccessKind): void {
    this.inner.write64(addr, lo, hi, kind);
    this.onWrite(addr, 8);
  }
  readBytes(addr: number, dest: Uint8Array, kind: AccessKind): void {
    this.inner.readBytes(addr, dest, kind);
  }
  writeBytes(addr: number, src: Uint8Array, kind: AccessKind): void {
    this.inner.writeBytes(addr, src, kind);
    this.onWrite(addr, src.length);
  }
}
