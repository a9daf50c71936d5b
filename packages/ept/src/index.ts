/**
 * `@turtles/ept`: x86 address translation as a library — guest paging (32-bit, PAE, 4-level,
 * 5-level), EPT, the two-dimensional walk, and the multi-dimensional paging of nested
 * virtualization (shadow EPT02 from EPT12 x EPT01, shadow page tables). Independent of any CPU:
 * every walker takes the memory to walk as an argument and reports faults the way silicon does.
 *
 * @packageDocumentation
 */

export { EptTranslatedMemory } from "./ept-translated-memory.js";
export { ChainedTranslator, EptTranslator } from "./ept-translator.js";
export {
  defaultEptCapabilities,
  EptAccess,
  type EptCapabilities,
  EptMemoryType,
  EptWalker,
} from "./ept-walker.js";
export { GuestAccess, GuestPagingWalker, PagingMode } from "./guest-paging.js";
export { HostPagePool } from "./page-pool.js";
export { loadPdptes } from "./pdpte.js";
export {
  InveptType,
  ShadowEpt,
  type ShadowEptOptions,
  ShadowResult,
} from "./shadow-ept.js";
export { ShadowEptCache, type ShadowEptCacheOptions } from "./shadow-ept-cache.js";
export { ShadowPageTable, type ShadowPageTableOptions } from "./shadow-page-table.js";
export { ShadowPageTableCache, type ShadowPageTableCacheOptions } from "./shadow-page-table-cache.js";
export type { ShadowStats } from "./shadow-tables.js";
export {
  BumpAllocator,
  EptBuilder,
  type EptMapOptions,
  type GuestMapAttributes,
  GuestPageTableBuilder,
  type PageAllocator,
} from "./table-builder.js";
export type { GuestPhysicalTranslator } from "./translator.js";
export { EptQualification, FaultKind, PageFaultError, Permission, WalkResult } from "./walk-result.js";
