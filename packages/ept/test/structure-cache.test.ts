import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  PagingMode,
  WalkResult,
} from "../src/index.js";

const MiB = 0x10_0000;
const TABLES = 2 * MiB; // page tables live in the first 2 MiB of RAM

function walkerFor(mode: PagingMode, root: number, cached: boolean): GuestPagingWalker {
  const w = new GuestPagingWalker();
  w.mode = mode;
  w.cr3 = root;
  w.maxPhysAddr = 46;
  w.structureCache = cached;
  return w;
}

/** The fields of a walk result a caller acts on. */
function summary(ok: boolean, r: WalkResult): unknown[] {
  return ok
    ? [ok, r.address, r.pageSize, r.permissions, r.level, r.global, r.patIndex, r.protectionKey]
    : [ok, r.fault, r.errorCode, r.faultAddress, r.level];
}

const accessArb = fc.constantFrom(
  GuestAccess.Read,
  GuestAccess.Write,
  GuestAccess.Fetch,
  GuestAccess.User,
  GuestAccess.User | GuestAccess.Write,
  GuestAccess.User | GuestAccess.Fetch,
  GuestAccess.Implicit | GuestAccess.Write,
);

describe("GuestPagingWalker paging-structure cache", () => {
  for (const mode of [PagingMode.Level4, PagingMode.Level5] as const) {
    it(`gives the walks (results and A/D updates) of the uncached walker, mode ${mode} (property)`, () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(
            fc.record({
              region: fc.nat({ max: 5 }), // 2-MiB regions (some share a PDPT, some not)
              page: fc.nat({ max: 511 }),
              writable: fc.boolean(),
              user: fc.boolean(),
              xd: fc.boolean(),
            }),
            { selector: (m) => m.region * 512 + m.page, minLength: 1, maxLength: 16 },
          ),
          // Rights taken away in upper entries: [entry index in the walk, bit] pairs.
          fc.array(fc.record({ level: fc.nat({ max: 3 }), bit: fc.constantFrom(1, 2, 63), map: fc.nat() }), {
            maxLength: 4,
          }),
          fc.array(
            fc.record({
              map: fc.nat(),
              access: accessArb,
              offset: fc.nat({ max: 4095 }),
              absent: fc.boolean(),
            }),
            {
              minLength: 1,
              maxLength: 40,
            },
          ),
          fc.boolean(),
          (maps, restrictions, accesses, wp) => {
            const a = createRamSpace(64 * MiB);
            const tables = new GuestPageTableBuilder(a.space, mode, new BumpAllocator(a.space, 0, TABLES));
            // Regions spread over PML4 and PDPT slots: 0..2 in one PD, 3..5 in other tables.
            const gvaOf = (m: { region: number; page: number }): number =>
              (m.region < 3 ? m.region * 2 * MiB : (m.region - 2) * 2 ** 39 + m.region * 2 ** 30) +
              m.page * 4096;
            for (const [k, m] of maps.entries())
              tables.map(gvaOf(m), TABLES + k * 4096, 4096, {
                writable: m.writable,
                user: m.user,
                executeDisable: m.xd,
              });
            // Restrict upper entries: find them with an uncached walk, then clear R/W or U/S or set XD.
            const probe = walkerFor(mode, tables.root, false);
            const out = new WalkResult();
            for (const r of restrictions) {
              const m = maps[r.map % maps.length]!;
              probe.walk(a.space, gvaOf(m), GuestAccess.Read, out);
              const i = r.level % Math.max(1, probe.entryCount - 1);
              const at = probe.entryAddresses[i]!;
              if (r.bit === 63) a.space.write32(at + 4, a.space.read32(at + 4, 0) | 0x8000_0000, 0);
              else a.space.write32(at, a.space.read32(at, 0) & ~(1 << r.bit), 0);
            }
            // Two identical memories: one walked with the cache, one without.
            const b = createRamSpace(64 * MiB);
            b.ram.bytes.set(a.ram.bytes.subarray(0, TABLES));
            const cached = walkerFor(mode, tables.root, true);
            const plain = walkerFor(mode, tables.root, false);
            cached.wp = wp;
            plain.wp = wp;
            const outA = new WalkResult();
            const outB = new WalkResult();
            for (const x of accesses) {
              const m = maps[x.map % maps.length]!;
              // Now and then a page that is not mapped, next to mapped ones (same page table).
              const gva = gvaOf(m) + (x.absent ? 4096 * ((m.page + 1) % 512) - m.page * 4096 : 0) + x.offset;
              const okA = cached.walk(a.space, gva, x.access, outA);
              const okB = plain.walk(b.space, gva, x.access, outB);
              expect(summary(okA, outA)).toEqual(summary(okB, outB));
              // The entries of the walk, as if every level had been read.
              expect(cached.entryCount).toBe(plain.entryCount);
              expect([...cached.entryAddresses.subarray(0, cached.entryCount)]).toEqual([
                ...plain.entryAddresses.subarray(0, plain.entryCount),
              ]);
              expect([...cached.entryLevels.subarray(0, cached.entryCount)]).toEqual([
                ...plain.entryLevels.subarray(0, plain.entryCount),
              ]);
            }
            expect(Buffer.compare(a.ram.bytes.subarray(0, TABLES), b.ram.bytes.subarray(0, TABLES))).toBe(0);
          },
        ),
        { numRuns: 80 },
      );
    });
  }

  it("keeps upper entries until flushed, as a paging-structure cache may (SDM 4.10.3)", () => {
    const { space } = createRamSpace(8 * MiB);
    const tables = new GuestPageTableBuilder(space, PagingMode.Level4, new BumpAllocator(space, 0, TABLES));
    tables.map(0x40_0000, 0x20_0000, 4096, { writable: true });
    tables.map(0x40_1000, 0x20_1000, 4096, { writable: true });
    const w = walkerFor(PagingMode.Level4, tables.root, true);
    const out = new WalkResult();
    expect(w.walk(space, 0x40_0000, GuestAccess.Read, out)).toBe(true);
    expect(out.references).toBe(4 + 4); // four reads, four A-flag writes
    const pdeAt = w.entryAddresses[2]!;
    // The PDE becomes not present; the cached copy still serves the neighbouring page.
    space.write32(pdeAt, 0, 0);
    expect(w.walk(space, 0x40_1000, GuestAccess.Read, out)).toBe(true);
    expect(out.references).toBe(1 + 1); // the PTE only (and its A flag)
    expect(out.address).toBe(0x20_1000);
    // After a flush the walk reads the PDE again and faults.
    w.flushStructureCache();
    expect(w.walk(space, 0x40_1000, GuestAccess.Read, out)).toBe(false);
    expect(out.level).toBe(2);
    // Off: every walk reads every level.
    const plain = walkerFor(PagingMode.Level4, tables.root, false);
    space.write32(pdeAt, 0, 0);
    expect(plain.walk(space, 0x40_1000, GuestAccess.Read, out)).toBe(false);
  });

  it("is emptied by a page fault and ignores another CR3", () => {
    const { space } = createRamSpace(8 * MiB);
    const tables = new GuestPageTableBuilder(space, PagingMode.Level4, new BumpAllocator(space, 0, TABLES));
    tables.map(0x40_0000, 0x20_0000, 4096, { writable: false });
    tables.map(0x40_1000, 0x20_1000, 4096, { writable: true });
    const w = walkerFor(PagingMode.Level4, tables.root, true);
    const out = new WalkResult();
    expect(w.walk(space, 0x40_0000, GuestAccess.Read, out)).toBe(true);
    const pdeAt = w.entryAddresses[2]!;
    expect(w.walk(space, 0x40_0000, GuestAccess.Write, out)).toBe(false); // read-only page: #PF
    space.write32(pdeAt, 0, 0);
    expect(w.walk(space, 0x40_1000, GuestAccess.Read, out)).toBe(false); // the #PF dropped the cache
    // A cache filled under one CR3 is not used under another.
    const other = new GuestPageTableBuilder(
      space,
      PagingMode.Level4,
      new BumpAllocator(space, 0x10_0000, TABLES),
    );
    other.map(0x40_1000, 0x30_1000, 4096, {});
    other.map(0x40_2000, 0x30_2000, 4096, {});
    w.cr3 = other.root;
    expect(w.walk(space, 0x40_1000, GuestAccess.Read, out)).toBe(true);
    expect(out.address).toBe(0x30_1000);
    w.cr3 = tables.root;
    expect(w.walk(space, 0x40_1000, GuestAccess.Read, out)).toBe(false);
  });
});
