import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  EptAccess,
  EptBuilder,
  EptWalker,
  FaultKind,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  loadPdptes,
  PageFaultError,
  PagingMode,
  Permission,
  WalkResult,
} from "../src/index.js";

const MiB = 0x10_0000;
const GiB = 0x4000_0000;
const M = 46;

/** Per mode: size of the region each mapping owns, the slot range, and the page sizes allowed. */
const modes = [
  { mode: PagingMode.Bits32, region: 4 * MiB, slots: [0, 1023], sizes: [4096, 4 * MiB], paLimit: 2 ** 32 },
  { mode: PagingMode.Pae, region: 2 * MiB, slots: [0, 2047], sizes: [4096, 2 * MiB], paLimit: 2 ** M },
  {
    mode: PagingMode.Level4,
    region: GiB,
    slots: [-(2 ** 17), 2 ** 17 - 1],
    sizes: [4096, 2 * MiB, GiB],
    paLimit: 2 ** M,
  },
  {
    mode: PagingMode.Level5,
    region: GiB,
    slots: [-(2 ** 23) + 1, 2 ** 23 - 1],
    sizes: [4096, 2 * MiB, GiB],
    paLimit: 2 ** M,
  },
] as const;

const mappingArb = (cfg: (typeof modes)[number]) =>
  fc.record({
    slot: fc.integer({ min: cfg.slots[0], max: cfg.slots[1] }),
    sizeIndex: fc.nat({ max: cfg.sizes.length - 1 }),
    sub: fc.nat({ max: 2 ** 20 }),
    paPage: fc.nat({ max: 2 ** 30 }),
    writable: fc.boolean(),
    user: fc.boolean(),
    xd: fc.boolean(),
    offset: fc.nat({ max: GiB - 1 }),
  });

describe("guest walks return exactly what was mapped (property)", () => {
  for (const cfg of modes) {
    it(`mode ${cfg.mode}`, () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(mappingArb(cfg), { selector: (m) => m.slot, minLength: 1, maxLength: 12 }),
          fc.integer({ min: cfg.slots[0], max: cfg.slots[1] }),
          (maps, probeSlot) => {
            const { space } = createRamSpace(2 * MiB);
            const tables = new GuestPageTableBuilder(space, cfg.mode, new BumpAllocator(space, 0, 2 * MiB));
            const walker = new GuestPagingWalker();
            walker.mode = cfg.mode;
            walker.cr3 = tables.root;
            walker.maxPhysAddr = M;
            const out = new WalkResult();
            const placed = maps.map((m) => {
              const size = cfg.sizes[m.sizeIndex]!;
              const gva = m.slot * cfg.region + (m.sub % (cfg.region / size)) * size;
              const pa = (m.paPage % (cfg.paLimit / size)) * size;
              const xd = m.xd && cfg.mode !== PagingMode.Bits32;
              tables.map(gva, pa, size, { writable: m.writable, user: m.user, executeDisable: xd });
              return { gva, pa, size, xd, m };
            });
            if (cfg.mode === PagingMode.Pae) expect(loadPdptes(space, walker, out)).toBe(true);
            for (const p of placed) {
              const off = p.m.offset % p.size;
              expect(walker.walk(space, p.gva + off, GuestAccess.Read, out)).toBe(true);
              expect(out.address).toBe(p.pa + off);
              expect(out.pageSize).toBe(p.size);
              expect(out.permissions).toBe(
                Permission.Read |
                  (p.m.writable ? Permission.Write : 0) |
                  (p.xd ? 0 : Permission.Execute) |
                  (p.m.user ? Permission.User : 0),
              );
              const userWrite = walker.walk(space, p.gva + off, GuestAccess.Write | GuestAccess.User, out);
              expect(userWrite).toBe(p.m.user && p.m.writable);
              if (!userWrite) {
                expect(out.errorCode).toBe(
                  PageFaultError.Present | PageFaultError.Write | PageFaultError.User,
                );
                expect(out.faultAddress).toBe(p.gva + off);
              }
            }
            if (!maps.some((m) => m.slot === probeSlot)) {
              expect(walker.walk(space, probeSlot * cfg.region, GuestAccess.Read, out)).toBe(false);
              expect(out.fault).toBe(FaultKind.PageFault);
              expect(out.errorCode & PageFaultError.Present).toBe(0);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});

const eptPerms = [
  Permission.Read,
  Permission.Read | Permission.Write,
  Permission.Read | Permission.Execute,
  Permission.Read | Permission.Write | Permission.Execute,
  Permission.Execute,
];

describe("EPT walks return exactly what was mapped (property)", () => {
  for (const levels of [4, 5] as const) {
    it(`${levels}-level`, () => {
      const slots = 2 ** (levels === 4 ? 48 : 52) / GiB;
      fc.assert(
        fc.property(
          fc.uniqueArray(
            fc.record({
              slot: fc.nat({ max: Math.min(slots, 2 ** M / GiB) - 1 }),
              sizeIndex: fc.nat({ max: 2 }),
              sub: fc.nat({ max: 2 ** 18 }),
              paPage: fc.nat({ max: 2 ** 30 }),
              perms: fc.constantFrom(...eptPerms),
              memoryType: fc.constantFrom(0, 1, 4, 5, 6),
              offset: fc.nat({ max: GiB - 1 }),
              access: fc.constantFrom(EptAccess.Read, EptAccess.Write, EptAccess.Fetch),
            }),
            { selector: (m) => m.slot, minLength: 1, maxLength: 12 },
          ),
          (maps) => {
            const { space } = createRamSpace(2 * MiB);
            const ept = new EptBuilder(space, new BumpAllocator(space, 0, 2 * MiB), levels);
            const walker = new EptWalker({ maxPhysAddr: M });
            walker.setEptp(ept.eptp());
            const out = new WalkResult();
            for (const m of maps) {
              const size = [4096, 2 * MiB, GiB][m.sizeIndex]!;
              const gpa = m.slot * GiB + (m.sub % (GiB / size)) * size;
              const pa = (m.paPage % (2 ** M / size)) * size;
              ept.map(gpa, pa, size, m.perms, { memoryType: m.memoryType });
              const off = m.offset % size;
              const allowed = (m.perms & m.access) !== 0;
              expect(walker.walk(space, gpa + off, m.access, out)).toBe(allowed);
              if (allowed) {
                expect(out.address).toBe(pa + off);
                expect(out.pageSize).toBe(size);
                expect(out.permissions).toBe(m.perms);
                expect(out.memoryType).toBe(m.memoryType);
              } else {
                expect(out.fault).toBe(FaultKind.EptViolation);
                expect(out.qualification).toBe(m.access | (m.perms << 3));
              }
            }
            // Every mapping still translates after all were built (no entry overwrote another).
            for (const m of maps) {
              const size = [4096, 2 * MiB, GiB][m.sizeIndex]!;
              const gpa = m.slot * GiB + (m.sub % (GiB / size)) * size;
              expect(walker.walk(space, gpa, 0, out)).toBe(true);
              expect(out.address).toBe((m.paPage % (2 ** M / size)) * size);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
