/**
 * `@turtles/memory`: the seams through which x86 emulator code reaches memory and devices —
 * physical address spaces (RAM, ROM, MMIO, unmapped), port I/O and DMA.
 *
 * @packageDocumentation
 */
export {
  AccessKind,
  type AccessSize,
  accessKindNames,
  allOnes,
  type DeviceAccessSize,
  PHYSICAL_ADDRESS_LIMIT,
} from "./access.js";
export { type DmaSpace, DmaStatus, IdentityDma } from "./dma.js";
export {
  createRamSpace,
  type MapRamOptions,
  PhysicalAddressSpace,
  type RegionInfo,
  type RegionKind,
  type UnresolvedAccessCounts,
} from "./physical-address-space.js";
export type { AccessObserver, MmioHandler, PhysicalMemory, WriteListener } from "./physical-memory.js";
export {
  PORT_COUNT,
  type PortIoHandler,
  type PortIoObserver,
  PortIoSpace,
  type PortRangeInfo,
} from "./port-io-space.js";
export { Ram } from "./ram.js";
