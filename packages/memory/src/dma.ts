import { AccessKind } from "./access.js";
import type { PhysicalAddressSpace } from "./physical-address-space.js";

/** The outcome of a DMA transfer. */
export const DmaStatus = {
  /** Every byte reached memory (or a device window). */
  Ok: 0,
  /** Some byte had no target (a master abort): reads of it gave 0xFF, writes of it were dropped. */
  Unmapped: 1,
  /** A translating space (an IOMMU) refused the access; nothing after the faulting byte was transferred. */
  Fault: 2,
} as const;

/** One of the {@link DmaStatus} values. */
export type DmaStatus = (typeof DmaStatus)[keyof typeof DmaStatus];

/**
 * How a device reaches memory. The machine gives each device (each PCI requester) its own
 * `DmaSpace`: the identity one over the physical address space now, one behind an IOMMU's
 * translation for that requester later. Addresses are bus addresses (IOVAs); the device never
 * learns what they translate to.
 */
export interface DmaSpace {
  /** Reads `dest.byteLength` bytes at bus address `addr` into `dest`. */
  read(addr: number, dest: Uint8Array): DmaStatus;
  /** Writes `src` at bus address `addr`. */
  write(addr: number, src: Uint8Array): DmaStatus;
}

/**
 * DMA without translation: bus addresses are physical addresses of `space`. Every access is made
 * with {@link AccessKind.Dma}; bytes with no target report {@link DmaStatus.Unmapped} (reads of
 * them give 0xFF, as a master abort does).
 */
export class IdentityDma implements DmaSpace {
  /** @param space the physical address space the device's bus addresses name. */
  constructor(private readonly space: PhysicalAddressSpace) {}

  /** @inheritDoc DmaSpace.read */
  read(addr: number, dest: Uint8Array): DmaStatus {
    if (dest.byteLength === 0) return DmaStatus.Ok;
    this.space.readBytes(addr, dest, AccessKind.Dma);
    return this.space.isMapped(addr, dest.byteLength) ? DmaStatus.Ok : DmaStatus.Unmapped;
  }

  /** @inheritDoc DmaSpace.write */
  write(addr: number, src: Uint8Array): DmaStatus {
    if (src.byteLength === 0) return DmaStatus.Ok;
    this.space.writeBytes(addr, src, AccessKind.Dma);
    return this.space.isMapped(addr, src.byteLength) ? DmaStatus.Ok : DmaStatus.Unmapped;
  }
}
