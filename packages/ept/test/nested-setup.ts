import { createRamSpace } from "@turtles/memory";
import {
  BumpAllocator,
  EptBuilder,
  EptTranslatedMemory,
  EptWalker,
  HostPagePool,
  Permission,
  ShadowEpt,
  type ShadowEptOptions,
} from "../src/index.js";
import { ObservedMemory } from "./observed-memory.js";

export const MiB = 0x10_0000;
export const GiB = 0x4000_0000;
export const RW = Permission.Read | Permission.Write;
export const RWX = RW | Permission.Execute;
/** L1-physical [0, 4 MiB) holds L1's own tables; it lives at host [8 MiB, 12 MiB). */
export const L1_TABLES_HPA = 8 * MiB;

/**
 * A host with 32 MiB of RAM: EPT01 tables at [24, 28) MiB, the EPT02 pool at [28, 32) MiB, and
 * L1's table area (EPT12 and L2's page tables) at L1-physical [0, 4 MiB).
 */
export function nestedSetup(options: Partial<ShadowEptOptions> = {}, ept12Ad = false) {
  const { space: host, ram } = createRamSpace(32 * MiB);
  const ept01 = new EptBuilder(host, new BumpAllocator(host, 24 * MiB, 28 * MiB));
  for (let l1pa = 0; l1pa < 4 * MiB; l1pa += 2 * MiB) ept01.map(l1pa, L1_TABLES_HPA + l1pa, 2 * MiB, RWX);
  const ept01Walker = new EptWalker();
  ept01Walker.setEptp(ept01.eptp());
  const l1Memory = new EptTranslatedMemory(host, new EptWalker());
  l1Memory.ept.setEptp(ept01.eptp());
  let shadow: ShadowEpt | undefined;
  /** Set `tracking` to false to make L1's writes invisible to the shadow (then only INVEPT helps). */
  const control = { tracking: true };
  const l1Writes = new ObservedMemory(l1Memory, (addr, length) => {
    if (control.tracking) shadow?.notifyL1Write(addr, length);
  });
  const ept12 = new EptBuilder(l1Writes, new BumpAllocator(l1Writes, 0, 4 * MiB));
  const ept12Walker = new EptWalker();
  ept12Walker.setEptp(ept12.eptp(ept12Ad));
  const pool = new HostPagePool(ram, 0, 28 * MiB, 1024);
  shadow = new ShadowEpt({ pool, ept12: ept12Walker, ept01: ept01Walker, ...options });
  return { control, host, ram, ept01, ept01Walker, l1Memory, l1Writes, ept12, ept12Walker, pool, shadow };
}
