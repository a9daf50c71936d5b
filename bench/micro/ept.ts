// @turtles/ept: translations per second and memory references per translation for one random
// workload (an L2 guest's 4-level page tables mapping random 4-KByte pages), walked as:
//   1-D   the guest's tables alone (as if it ran on bare metal),
//   2-D   through one EPT (L2 run by L1 on hardware with EPT12),
//   3-D   through EPT12 and then EPT01, both walked separately (EPT12's own reads go through EPT01),
//   M-D   through the shadow EPT02 that L0 composed from EPT12 x EPT01 (multi-dimensional paging),
//   SoS   on a shadow page table guest-virtual to host (the shadow-on-shadow baseline),
//   SoE   on L1's shadow table walked through EPT01 (the shadow-on-EPT baseline).
// Run: cd /work/main && node --conditions=@turtles/source --import tsx bench/micro/ept.ts
import {
  BumpAllocator,
  ChainedTranslator,
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
  ShadowEpt,
  ShadowPageTable,
  ShadowResult,
  WalkResult,
} from "@turtles/ept";
import { createRamSpace } from "@turtles/memory";
import { measure } from "./_harness.js";

const MiB = 0x10_0000;
const RWX = Permission.Read | Permission.Write | Permission.Execute;
const PAGES = 2048; // guest pages in the workload
const ROUNDS = 40; // passes over the workload per timed run

// Deterministic pseudo-random numbers (xorshift32).
let seed = 0x2545f491;
const rand = (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const shuffle = (a: number[]) => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
};

// Host RAM 128 MiB. L1-physical [0, 64 MiB) is host [0, 64 MiB) through EPT01 (2-MByte pages).
// EPT12 (tables at L1-physical [48, 56) MiB) scatters L2-physical [0, 32 MiB) over L1 [0, 48) MiB
// in 4-KByte pages. L2's page tables sit at L2-physical [0, 8 MiB); its data at [8, 32) MiB.
const { space: host, ram } = createRamSpace(128 * MiB);
const ept01 = new EptBuilder(host, new BumpAllocator(host, 64 * MiB, 68 * MiB));
for (let a = 0; a < 64 * MiB; a += 2 * MiB) ept01.map(a, a, 2 * MiB, RWX);
const ept01Walker = new EptWalker();
ept01Walker.setEptp(ept01.eptp());
const l1Memory = new EptTranslatedMemory(host, new EptWalker());
l1Memory.ept.setEptp(ept01.eptp());

const ept12 = new EptBuilder(l1Memory, new BumpAllocator(l1Memory, 48 * MiB, 56 * MiB));
const l1Pages = shuffle(Array.from({ length: (48 * MiB) / 4096 }, (_, i) => i * 4096));
for (let l2pa = 0, i = 0; l2pa < 32 * MiB; l2pa += 4096, i++) ept12.map(l2pa, l1Pages[i]!, 4096, RWX);
const ept12Walker = new EptWalker();
ept12Walker.setEptp(ept12.eptp());
const l2Memory = new EptTranslatedMemory(l1Memory, ept12Walker);

// The same guest tables twice: in L2 memory (nested runs) and in a flat RAM (the 1-D run).
const { space: flat } = createRamSpace(32 * MiB);
const nestedTables = new GuestPageTableBuilder(
  l2Memory,
  PagingMode.Level4,
  new BumpAllocator(l2Memory, 0, 8 * MiB),
);
const flatTables = new GuestPageTableBuilder(flat, PagingMode.Level4, new BumpAllocator(flat, 0, 8 * MiB));
const gvaSet = new Set<number>();
while (gvaSet.size < PAGES) gvaSet.add(rand(1 << 18) * 4096); // 1 GiB of address space
const gvas = shuffle([...gvaSet]);
const dataPages = shuffle(Array.from({ length: (24 * MiB) / 4096 }, (_, i) => 8 * MiB + i * 4096));
gvas.forEach((gva, i) => {
  const attrs = { accessed: true, dirty: true };
  nestedTables.map(gva, dataPages[i]!, 4096, attrs);
  flatTables.map(gva, dataPages[i]!, 4096, attrs);
});
const probes = Float64Array.from(gvas, (g) => g + 0x123);
const guest = new GuestPagingWalker();
guest.cr3 = nestedTables.root;
const out = new WalkResult();

// Warm walks (set every accessed flag) before timing, so each row measures steady-state walks.
function run(name: string, walk: (gva: number) => boolean, extraRefs: () => number = () => 0) {
  let refs = 0;
  for (const gva of probes) {
    if (!walk(gva)) throw new Error(`${name}: walk failed at ${gva}`);
  }
  const before = extraRefs();
  for (const gva of probes) {
    walk(gva);
    refs += out.references;
  }
  refs += extraRefs() - before;
  const row = measure(name, PAGES * ROUNDS, () => {
    for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < PAGES; i++) walk(probes[i]!);
  });
  return { ...row, refsPerWalk: refs / PAGES };
}

const rows = [];
rows.push(run("1-D  guest tables", (gva) => guest.walk(flat, gva, GuestAccess.Read, out)));

const t12 = new EptTranslator(ept12Walker);
rows.push(run("2-D  guest x EPT12", (gva) => guest.walk(host, gva, GuestAccess.Read, out, t12)));

const shadow = new ShadowEpt({
  pool: new HostPagePool(ram, 0, 96 * MiB, 8192),
  ept12: ept12Walker,
  ept01: ept01Walker,
});
const t02 = new EptTranslator(shadow.ept02);
// Hardware walks EPT02; on an EPT02 violation L0 fills it from EPT12 x EPT01 and the walk retries.
const fillResult = new WalkResult();
const walkOnEpt02 = (gva: number) => {
  for (let attempt = 0; attempt < 8; attempt++) {
    if (guest.walk(host, gva, GuestAccess.Read, out, t02)) return true;
    const r = shadow.fill(l1Memory, host, out.faultAddress, out.qualification & 7, 0, fillResult);
    if (r !== ShadowResult.Ok) return false;
  }
  return false;
};
rows.push(run("M-D  guest x EPT02 (shadow)", walkOnEpt02));
const fillRow = measure(
  "EPT02 fill",
  shadow.stats().leaves,
  () => {
    shadow.reset();
    for (const gva of probes) walkOnEpt02(gva);
  },
  3,
  1,
);

const t12OnL1 = new EptTranslator(ept12Walker, l1Memory);
const chained = new ChainedTranslator(t12OnL1, new EptTranslator(ept01Walker));
rows.push(
  run(
    "3-D  guest x EPT12 x EPT01",
    (gva) => guest.walk(host, gva, GuestAccess.Read, out, chained),
    () => l1Memory.references,
  ),
);

// Shadow paging: one table maps L2-virtual straight to host, built from L2's tables (read through
// L2 memory) and the L2-physical -> host map (here EPT02): what L0 runs L2 on in shadow-on-shadow.
const sptOfL2 = new ShadowPageTable({
  pool: new HostPagePool(ram, 0, 68 * MiB, 3072),
  guest,
  physical: shadow.ept02,
});
const hw = sptOfL2.hardware;
hw.cr3 = sptOfL2.root;
for (const gva of probes) {
  if (sptOfL2.translate(l2Memory, host, gva, GuestAccess.Read, out) !== ShadowResult.Ok)
    throw new Error("SPT fill");
}
rows.push(run("SoS  shadow-on-shadow (SPT02)", (gva) => hw.walk(host, gva, GuestAccess.Read, out)));

// Shadow-on-EPT: L1 runs L2 on its own shadow table SPT12 (L2-virtual to L1-physical, kept in L1
// pages at L1-physical [56, 64) MiB = host [56, 64) MiB), which the hardware walks through EPT01.
const spt12 = new ShadowPageTable({
  pool: new HostPagePool(ram, 0, 56 * MiB, 2048),
  guest,
  physical: ept12Walker,
});
for (const gva of probes) {
  if (spt12.translate(l2Memory, host, gva, GuestAccess.Read, out) !== ShadowResult.Ok)
    throw new Error("SPT12 fill");
}
const cpu = new GuestPagingWalker();
cpu.cr3 = spt12.root;
const t01 = new EptTranslator(ept01Walker);
rows.push(
  run("SoE  shadow-on-EPT (SPT12 x EPT01)", (gva) => cpu.walk(host, gva, GuestAccess.Read, out, t01)),
);

const width = 34;
console.log(
  `workload: ${PAGES} random 4-KByte pages in 1 GiB, 4-level guest, 4-level EPTs (EPT12 4K, EPT01 2M)`,
);
console.log(
  `${"translation".padEnd(width)}  ${"Mwalks/s".padStart(9)}  ${"ns/walk".padStart(8)}  ${"refs/walk".padStart(9)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(width)}  ${(r.ops / r.seconds / 1e6).toFixed(2).padStart(9)}  ${((r.seconds * 1e9) / r.ops).toFixed(1).padStart(8)}  ${r.refsPerWalk.toFixed(1).padStart(9)}`,
  );
}
const st = shadow.stats();
console.log(
  `EPT02: ${st.leaves} leaves, ${st.tablePages} table pages (${st.bytes / 1024} KiB), ${st.trackedPages} EPT12 pages tracked; ` +
    `fill ${(fillRow.ops / fillRow.seconds / 1e3).toFixed(0)} k fills/s`,
);
