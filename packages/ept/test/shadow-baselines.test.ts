import { PhysicalAddressSpace, Ram } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  EptBuilder,
  EptTranslatedMemory,
  EptTranslator,
  EptWalker,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  HostPagePool,
  PagingMode,
  Permission,
  ShadowPageTable,
  ShadowResult,
  WalkResult,
} from "../src/index.js";

const MiB = 0x10_0000;
const RWX = Permission.Read | Permission.Write | Permission.Execute;
const L1_HPA = 16 * MiB;

/**
 * The paper's two baselines for an L2 without EPT. Host: 16 MiB of L0 RAM at 0 (EPT01 and SPT02
 * pages) and L1's 16 MiB at host 16 MiB; EPT01 maps L1-physical [0, 16 MiB) there. L1 gives L2
 * the L2-physical range [0, 4 MiB) at L1-physical [8, 12) MiB (L1's own map, an EPT-format table
 * in L1 memory), and keeps its shadow page table SPT12 in L1 pages at [12, 16) MiB.
 */
function setup() {
  const hostRam = new Ram(16 * MiB);
  const l1Ram = new Ram(16 * MiB);
  const host = new PhysicalAddressSpace();
  host.mapRam(0, hostRam);
  host.mapRam(L1_HPA, l1Ram);
  const ept01 = new EptBuilder(host, new BumpAllocator(host, 0, MiB));
  for (let a = 0; a < 16 * MiB; a += 2 * MiB) ept01.map(a, L1_HPA + a, 2 * MiB, RWX);
  const ept01Walker = new EptWalker();
  ept01Walker.setEptp(ept01.eptp());

  // L1's world: its physical memory, its map of L2, L2's memory and L2's own page tables.
  const l1View = new PhysicalAddressSpace();
  l1View.mapRam(0, l1Ram);
  const p2m = new EptBuilder(l1View, new BumpAllocator(l1View, 0, MiB));
  for (let a = 0; a < 4 * MiB; a += 4096) p2m.map(a, 8 * MiB + a, 4096, RWX);
  const p2mWalker = new EptWalker();
  p2mWalker.setEptp(p2m.eptp());
  const l2Memory = new EptTranslatedMemory(l1View, p2mWalker);
  const l2Tables = new GuestPageTableBuilder(
    l2Memory,
    PagingMode.Level4,
    new BumpAllocator(l2Memory, 0, MiB),
  );
  const l2 = new GuestPagingWalker();
  l2.cr3 = l2Tables.root;
  const spt12 = new ShadowPageTable({
    pool: new HostPagePool(l1Ram, 0, 12 * MiB, 1024),
    guest: l2,
    physical: p2mWalker,
  });
  return { host, hostRam, ept01Walker, l1View, l2Memory, l2Tables, l2, spt12 };
}

describe("shadow paging baselines", () => {
  it("shadow-on-EPT: L1's SPT12 is walked by the hardware through EPT01 (2-D)", () => {
    const s = setup();
    s.l2Tables.map(0x7000_0000, 2 * MiB + 0x3000, 4096, { dirty: true });
    const out = new WalkResult();
    // L1 fills SPT12 on L2's #PF, in its own memory.
    expect(s.spt12.fill(s.l2Memory, s.l1View, 0x7000_0000, GuestAccess.Write, out)).toBe(ShadowResult.Ok);
    expect(out.address).toBe(10 * MiB + 0x3000); // L1-physical
    // The hardware runs L2 on SPT12 under EPT01.
    const cpu = new GuestPagingWalker();
    cpu.cr3 = s.spt12.root;
    expect(cpu.walk(s.host, 0x7000_0abc, GuestAccess.Write, out, new EptTranslator(s.ept01Walker))).toBe(
      true,
    );
    expect(out.address).toBe(L1_HPA + 10 * MiB + 0x3abc);
    expect(out.references).toBe(19); // 4 SPT12 reads, each through a 3-level EPT01 walk, plus the final one
  });

  it("shadow-on-shadow: L0 shadows SPT12 into SPT02 and the hardware walks it alone (1-D)", () => {
    const s = setup();
    s.l2Tables.map(0x7000_0000, 2 * MiB + 0x3000, 4096, { dirty: true });
    const out = new WalkResult();
    expect(s.spt12.fill(s.l2Memory, s.l1View, 0x7000_0000, GuestAccess.Write, out)).toBe(ShadowResult.Ok);
    // L0's view of SPT12: a guest page table in L1 memory, over L0's map of L1 (EPT01).
    const spt12AsGuest = new GuestPagingWalker();
    spt12AsGuest.cr3 = s.spt12.root;
    const spt02 = new ShadowPageTable({
      pool: new HostPagePool(s.hostRam, 0, 8 * MiB, 1024),
      guest: spt12AsGuest,
      physical: s.ept01Walker,
    });
    const l1Memory = new EptTranslatedMemory(s.host, s.ept01Walker);
    expect(spt02.translate(l1Memory, s.host, 0x7000_0abc, GuestAccess.Write, out)).toBe(ShadowResult.Ok);
    expect(out.address).toBe(L1_HPA + 10 * MiB + 0x3abc);
    expect(out.references).toBe(4);
    // A page L1 has not shadowed yet is a #PF for L1 to handle (it then fills SPT12).
    expect(spt02.translate(l1Memory, s.host, 0x7000_1000, GuestAccess.Read, out)).toBe(ShadowResult.L1Fault);
  });
});
