/**
 * Why a memory access is made. Every read and write names its kind, so that devices, observers
 * and translating layers (EPT, an IOMMU) can tell a data access from an instruction fetch, a
 * paging-structure access or a device's DMA.
 */
export const AccessKind = {
  /** A data read by the processor. */
  Read: 0,
  /** A data write by the processor. */
  Write: 1,
  /** An instruction fetch. */
  Fetch: 2,
  /** A read or an accessed/dirty-flag update of a paging structure (guest tables, EPT, IOMMU tables). */
  PageWalk: 3,
  /** A device's direct memory access. */
  Dma: 4,
} as const;

/** One of the {@link AccessKind} values. */
export type AccessKind = (typeof AccessKind)[keyof typeof AccessKind];

/** Lower-case names of the {@link AccessKind} values, indexed by kind (for messages and logs). */
export const accessKindNames: readonly string[] = ["read", "write", "fetch", "page-walk", "dma"];

/** Sizes, in bytes, of the scalar accesses of a physical address space. */
export type AccessSize = 1 | 2 | 4 | 8;

/** Sizes, in bytes, of a single MMIO or port I/O access as a device sees it. */
export type DeviceAccessSize = 1 | 2 | 4;

/**
 * Physical addresses are below 2^52 (the architectural MAXPHYADDR limit), so every physical
 * address fits a JavaScript number exactly. Mapping above this limit is rejected; accesses
 * above it read as unmapped.
 */
export const PHYSICAL_ADDRESS_LIMIT = 2 ** 52;

/** All-ones value of an access of `size` bytes (1, 2 or 4): what unclaimed memory and ports read as. */
export function allOnes(size: DeviceAccessSize): number {
  return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
}
