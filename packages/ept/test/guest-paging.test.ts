import { createRamSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
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

function setup(mode: PagingMode) {
  const { space } = createRamSpace(4 * MiB);
  const alloc = new BumpAllocator(space, MiB, 4 * MiB);
  const tables = new GuestPageTableBuilder(space, mode, alloc);
  const walker = new GuestPagingWalker();
  walker.mode = mode;
  walker.cr3 = tables.root;
  walker.maxPhysAddr = 46;
  const out = new WalkResult();
  return { space, tables, walker, out };
}

describe("4-level paging", () => {
  it("translates 4-KByte, 2-MByte and 1-GByte pages and counts references", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level4);
    tables.map(0x40_1000, 0x1234_5000, 4096);
    tables.map(0x80_0000_0000 - 2 * MiB, 0x20_0000, 2 * MiB, { accessed: true });
    tables.map(-GiB, 0x3_4000_0000, GiB, { accessed: true, dirty: true });
    expect(walker.walk(space, 0x40_1abc, GuestAccess.Read, out)).toBe(true);
    expect(out.address).toBe(0x1234_5abc);
    expect(out.pageSize).toBe(4096);
    expect(out.level).toBe(1);
    // 4 entry reads + 4 accessed-flag writes (nothing was accessed yet).
    expect(out.references).toBe(8);
    walker.walk(space, 0x40_1abc, GuestAccess.Read, out);
    expect(out.references).toBe(4);

    expect(walker.walk(space, 0x80_0000_0000 - 2 * MiB + 0x12345, GuestAccess.Read, out)).toBe(true);
    expect(out.address).toBe(0x20_0000 + 0x12345);
    expect(out.pageSize).toBe(2 * MiB);
    expect(walker.walk(space, -GiB + 0x1234_5678, GuestAccess.Write, out)).toBe(true);
    expect(out.address).toBe(0x3_4000_0000 + 0x1234_5678);
    expect(out.pageSize).toBe(GiB);
    expect(out.level).toBe(3);
  });

  it("reports a not-present entry at each level with P = 0 and the level", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level4);
    tables.map(0x1000, 0x5000, 4096);
    expect(walker.walk(space, 0x8000_0000_0000 - 4096, GuestAccess.Write | GuestAccess.User, out)).toBe(
      false,
    );
    expect(out.fault).toBe(FaultKind.PageFault);
    expect(out.level).toBe(4);
    expect(out.errorCode).toBe(PageFaultError.Write | PageFaultError.User);
    expect(out.faultAddress).toBe(0x8000_0000_0000 - 4096);
    expect(walker.walk(space, GiB, GuestAccess.Read, out)).toBe(false);
    expect(out.level).toBe(3);
    expect(walker.walk(space, 2 * MiB, GuestAccess.Read, out)).toBe(false);
    expect(out.level).toBe(2);
    expect(walker.walk(space, 0x2000, GuestAccess.Fetch, out)).toBe(false);
    expect(out.level).toBe(1);
    expect(out.errorCode).toBe(PageFaultError.Fetch);
  });

  it("reports reserved bits with P = 1 and RSVD = 1 (SDM 4.7)", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level4);
    tables.map(0x1000, 0x5000, 4096);
    tables.map(4 * MiB, 4 * MiB, 2 * MiB);
    const rsvd = PageFaultError.Present | PageFaultError.Reserved;
    // Bit 46 (= MAXPHYADDR) in the PTE.
    const pte = tables.entryAddress(0x1000, 1);
    space.write32(pte + 4, 1 << 14, 0);
    expect(walker.walk(space, 0x1000, GuestAccess.Read, out)).toBe(false);
    expect(out.errorCode).toBe(rsvd);
    expect(out.level).toBe(1);
    walker.maxPhysAddr = 52;
    expect(walker.walk(space, 0x1000, GuestAccess.Read, out)).toBe(true);
    space.write32(pte + 4, 0, 0);
    // XD with EFER.NXE = 0.
    space.write32(pte + 4, 0x8000_0000, 0);
    walker.nxe = false;
    expect(walker.walk(space, 0x1000, GuestAccess.Read, out)).toBe(false);
    expect(out.errorCode).toBe(rsvd);
    walker.nxe = true;
    expect(walker.walk(space, 0x1000, GuestAccess.Read, out)).toBe(true);
    expect(out.permissions & Permission.Execute).toBe(0);
    // PS in a PML4E.
    const pml4e = tables.entryAddress(0x1000, 4);
    const saved = space.read32(pml4e, 0);
    space.write32(pml4e, saved | 0x80, 0);
    expect(walker.walk(space, 0x1000, GuestAccess.Read, out)).toBe(false);
    expect(out.errorCode).toBe(rsvd);
    expect(out.level).toBe(4);
    space.write32(pml4e, saved, 0);
    // Bits 20:13 of a 2-MByte PDE.
    const pde = tables.entryAddress(4 * MiB, 2);
    space.write32(pde, space.read32(pde, 0) | 0x2000, 0);
    expect(walker.walk(space, 4 * MiB, GuestAccess.Read, out)).toBe(false);
    expect(out.errorCode).toBe(rsvd);
    expect(out.level).toBe(2);
  });

  it("treats PS in a PDPTE as reserved without 1-GByte page support", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level4);
    tables.map(GiB, 0, GiB);
    expect(walker.walk(space, GiB, GuestAccess.Read, out)).toBe(true);
    walker.pages1G = false;
    expect(walker.walk(space, GiB, GuestAccess.Read, out)).toBe(false);
    expect(out.errorCode).toBe(PageFaultError.Present | PageFaultError.Reserved);
    expect(out.level).toBe(3);
  });

  it("sets accessed flags on every level and dirty on the leaf, only on success (SDM 4.8)", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level4);
    tables.map(0x1000, 0x5000, 4096, { writable: false });
    const levels = [4, 3, 2, 1].map((l) => tables.entryAddress(0x1000, l));
    expect(walker.walk(space, 0x1000, GuestAccess.Write | GuestAccess.User, out)).toBe(false);
    for (const ea of levels) expect(space.read32(ea, 0) & 0x60).toBe(0);
    expect(walker.walk(space, 0x1000, GuestAccess.Read, out)).toBe(true);
    for (const ea of levels) expect(space.read32(ea, 0) & 0x60).toBe(0x20);
    walker.wp = false;
    expect(walker.walk(space, 0x1000, GuestAccess.Write, out)).toBe(true);
    expect(out.references).toBe(5);
    expect(space.read32(levels[3]!, 0) & 0x60).toBe(0x60);
    expect(space.read32(levels[2]!, 0) & 0x60).toBe(0x20);
  });
});

describe("leaf attributes", () => {
  it("reports G and the PAT index (PAT bit 7 in a PTE, bit 12 in a large leaf)", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level4);
    tables.map(0x1000, 0x5000, 4096);
    tables.map(4 * MiB, 4 * MiB, 2 * MiB);
    const pte = tables.entryAddress(0x1000, 1);
    space.write32(pte, space.read32(pte, 0) | 0x100 | 0x80 | 0x08, 0);
    walker.walk(space, 0x1000, 0, out);
    expect(out.global).toBe(true);
    expect(out.patIndex).toBe(0b101);
    const pde = tables.entryAddress(4 * MiB, 2);
    space.write32(pde, space.read32(pde, 0) | 0x1000 | 0x10, 0);
    walker.walk(space, 4 * MiB, 0, out);
    expect(out.global).toBe(false);
    expect(out.patIndex).toBe(0b110);
  });
});

describe("access rights (SDM 4.6)", () => {
  function rights(attrs: { writable?: boolean; user?: boolean; executeDisable?: boolean }) {
    const s = setup(PagingMode.Level4);
    s.tables.map(0x1000, 0x5000, 4096, attrs);
    return s;
  }
  const U = GuestAccess.User;
  const W = GuestAccess.Write;
  const X = GuestAccess.Fetch;
  const P = PageFaultError.Present;

  it("user accesses need U/S = 1 everywhere, R/W for writes, XD clear for fetches", () => {
    const s = rights({ user: false });
    expect(s.walker.walk(s.space, 0x1000, U, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P | PageFaultError.User);
    expect(s.out.level).toBe(1);
    const r = rights({ writable: false, executeDisable: true });
    expect(r.walker.walk(r.space, 0x1000, U, r.out)).toBe(true);
    expect(r.out.permissions).toBe(Permission.Read | Permission.User);
    expect(r.walker.walk(r.space, 0x1000, U | W, r.out)).toBe(false);
    expect(r.out.errorCode).toBe(P | PageFaultError.User | PageFaultError.Write);
    expect(r.walker.walk(r.space, 0x1000, U | X, r.out)).toBe(false);
    expect(r.out.errorCode).toBe(P | PageFaultError.User | PageFaultError.Fetch);
  });

  it("U/S and R/W are ANDed over the levels", () => {
    const s = rights({});
    const pde = s.tables.entryAddress(0x1000, 2);
    s.space.write32(pde, s.space.read32(pde, 0) & ~4, 0);
    expect(s.walker.walk(s.space, 0x1000, U, s.out)).toBe(false);
    const pdpte = s.tables.entryAddress(0x1000, 3);
    s.space.write32(pde, s.space.read32(pde, 0) | 4, 0);
    s.space.write32(pdpte, s.space.read32(pdpte, 0) & ~2, 0);
    expect(s.walker.walk(s.space, 0x1000, U | W, s.out)).toBe(false);
    expect(s.walker.walk(s.space, 0x1000, U, s.out)).toBe(true);
    expect(s.out.permissions & Permission.Write).toBe(0);
  });

  it("supervisor writes to read-only pages depend on CR0.WP", () => {
    const s = rights({ writable: false, user: false });
    expect(s.walker.walk(s.space, 0x1000, W, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P | PageFaultError.Write);
    s.walker.wp = false;
    expect(s.walker.walk(s.space, 0x1000, W, s.out)).toBe(true);
  });

  it("SMEP forbids supervisor fetches from user pages; I/D is reported", () => {
    const s = rights({});
    expect(s.walker.walk(s.space, 0x1000, X, s.out)).toBe(true);
    s.walker.smep = true;
    expect(s.walker.walk(s.space, 0x1000, X, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P | PageFaultError.Fetch);
  });

  it("SMAP forbids supervisor data accesses to user pages unless AC = 1 and explicit", () => {
    const s = rights({});
    s.walker.smap = true;
    expect(s.walker.walk(s.space, 0x1000, 0, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P);
    expect(s.walker.walk(s.space, 0x1000, GuestAccess.Ac, s.out)).toBe(true);
    expect(s.walker.walk(s.space, 0x1000, GuestAccess.Ac | W, s.out)).toBe(true);
    expect(s.walker.walk(s.space, 0x1000, GuestAccess.Ac | GuestAccess.Implicit, s.out)).toBe(false);
    // An implicit supervisor access at CPL 3 is a supervisor access: U/S of the error code is 0.
    expect(s.walker.walk(s.space, 0x1000, U | GuestAccess.Implicit, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P);
  });

  it("supervisor fetches honour XD; I/D needs NXE or SMEP", () => {
    const s = rights({ user: false, executeDisable: true });
    expect(s.walker.walk(s.space, 0x1000, X, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P | PageFaultError.Fetch);
    expect(s.walker.walk(s.space, 0x2000, X, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(PageFaultError.Fetch);
    s.walker.nxe = false;
    expect(s.walker.walk(s.space, 0x2000, X, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(0);
  });

  it("protection keys: PKRU AD/WD on user pages, PKRS on supervisor pages, data only", () => {
    const s = setup(PagingMode.Level4);
    s.tables.map(0x1000, 0x5000, 4096, { protectionKey: 3 });
    s.tables.map(0x2000, 0x6000, 4096, { protectionKey: 5, user: false });
    s.walker.pke = true;
    s.walker.pkru = 1 << 6; // AD for key 3
    expect(s.walker.walk(s.space, 0x1000, U, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P | PageFaultError.User | PageFaultError.ProtectionKey);
    expect(s.walker.walk(s.space, 0x1000, U | X, s.out)).toBe(true);
    expect(s.out.protectionKey).toBe(3);
    s.walker.pkru = 1 << 7; // WD for key 3
    expect(s.walker.walk(s.space, 0x1000, U, s.out)).toBe(true);
    expect(s.walker.walk(s.space, 0x1000, U | W, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(
      P | PageFaultError.User | PageFaultError.Write | PageFaultError.ProtectionKey,
    );
    // Supervisor write to a WD user page: only with CR0.WP = 1.
    expect(s.walker.walk(s.space, 0x1000, W, s.out)).toBe(false);
    s.walker.wp = false;
    expect(s.walker.walk(s.space, 0x1000, W, s.out)).toBe(true);
    s.walker.wp = true;
    s.walker.pkrs = 1 << 10; // AD for key 5
    expect(s.walker.walk(s.space, 0x2000, 0, s.out)).toBe(true);
    s.walker.pks = true;
    expect(s.walker.walk(s.space, 0x2000, 0, s.out)).toBe(false);
    expect(s.out.errorCode).toBe(P | PageFaultError.ProtectionKey);
  });
});

describe("5-level paging", () => {
  it("reports a not-present PML5E at level 5", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level5);
    tables.map(0x1000, 0x5000, 4096);
    expect(walker.walk(space, 2 ** 48, GuestAccess.User, out)).toBe(false);
    expect(out.level).toBe(5);
    expect(out.errorCode).toBe(PageFaultError.User);
    expect(out.references).toBe(1);
    const pml5e = tables.entryAddress(0x1000, 5);
    space.write32(pml5e, space.read32(pml5e, 0) | 0x80, 0);
    expect(walker.walk(space, 0x1000, 0, out)).toBe(false);
    expect(out.errorCode).toBe(PageFaultError.Present | PageFaultError.Reserved);
    expect(out.level).toBe(5);
  });

  it("uses bits 56:48 and accepts the upper half as negative numbers", () => {
    const { space, tables, walker, out } = setup(PagingMode.Level5);
    const gva = -(2 ** 56) + 0x1234_5000;
    tables.map(gva, 0xabc_d000, 4096);
    tables.map(2 ** 52, 0x7000, 4096);
    expect(walker.walkHalves(space, 0xff00_0000, 0x1234_5010, 0, out)).toBe(true);
    expect(out.address).toBe(0xabc_d010);
    expect(out.references).toBe(10);
    expect(walker.walk(space, 2 ** 52, 0, out)).toBe(true);
    expect(out.address).toBe(0x7000);
    walker.mode = PagingMode.Level4;
    expect(() => walker.walk(space, 2 ** 52, 0, out)).not.toThrow();
    expect(() => walker.walk(space, 2 ** 57 + 1, 0, out)).toThrow(RangeError);
    // The top of the 5-level space is beyond 2^53: it goes in as two halves.
    walker.mode = PagingMode.Level5;
    expect(walker.walkHalves(space, 0xff80_0000, 0x1234, 0, out)).toBe(false);
    tables.map(-(2 ** 55) + 0x1000, 0x9000, 4096);
    expect(walker.walkHalves(space, 0xff80_0000, 0x1234, 0, out)).toBe(true);
    expect(out.address).toBe(0x9234);
    expect(walker.walkHalves(space, -8388608, 0x1fff, 0, out)).toBe(true);
    expect(out.address).toBe(0x9fff);
  });
});

describe("32-bit paging", () => {
  it("translates 4-KByte pages and 4-MByte pages with PSE-36", () => {
    const { space, tables, walker, out } = setup(PagingMode.Bits32);
    tables.map(0x0040_3000, 0x0012_3000, 4096);
    tables.map(0x8040_0000, 0x3_8040_0000, 0x40_0000);
    expect(walker.walk(space, 0x0040_3004, 0, out)).toBe(true);
    expect(out.address).toBe(0x0012_3004);
    expect(out.references).toBe(4);
    expect(walker.walk(space, 0x8041_2345, 0, out)).toBe(true);
    expect(out.address).toBe(0x3_8041_2345);
    expect(out.pageSize).toBe(0x40_0000);
    walker.pse = false;
    expect(walker.walk(space, 0x8041_2345, 0, out)).toBe(true);
    expect(out.pageSize).toBe(4096);
  });

  it("reserves bit 21 and the PSE-36 bits at or above MAXPHYADDR in 4-MByte PDEs", () => {
    const { space, tables, walker, out } = setup(PagingMode.Bits32);
    tables.map(0x8040_0000, 0x3_8040_0000, 0x40_0000);
    walker.maxPhysAddr = 33;
    expect(walker.walk(space, 0x8040_0000, 0, out)).toBe(false);
    expect(out.errorCode).toBe(PageFaultError.Present | PageFaultError.Reserved);
    walker.maxPhysAddr = 34;
    expect(walker.walk(space, 0x8040_0000, 0, out)).toBe(true);
    const pde = tables.entryAddress(0x8040_0000, 2);
    space.write32(pde, space.read32(pde, 0) | (1 << 21), 0);
    walker.maxPhysAddr = 52;
    expect(walker.walk(space, 0x8040_0000, 0, out)).toBe(false);
  });

  it("reports not-present PDEs at level 2 and PTEs at level 1", () => {
    const { space, tables, walker, out } = setup(PagingMode.Bits32);
    tables.map(0x0040_3000, 0x0012_3000, 4096);
    expect(walker.walk(space, 0x0080_0000, GuestAccess.Write, out)).toBe(false);
    expect(out.level).toBe(2);
    expect(out.errorCode).toBe(PageFaultError.Write);
    expect(walker.walk(space, 0x0040_4000, 0, out)).toBe(false);
    expect(out.level).toBe(1);
    expect(out.faultAddress).toBe(0x0040_4000);
  });

  it("has no execute-disable: I/D only with SMEP", () => {
    const { space, walker, out } = setup(PagingMode.Bits32);
    expect(walker.walk(space, 0x1000, GuestAccess.Fetch, out)).toBe(false);
    expect(out.errorCode).toBe(0);
    walker.smep = true;
    walker.walk(space, 0x1000, GuestAccess.Fetch, out);
    expect(out.errorCode).toBe(PageFaultError.Fetch);
  });
});

describe("PAE paging", () => {
  it("walks from the PDPTE registers loaded by loadPdptes", () => {
    const { space, tables, walker, out } = setup(PagingMode.Pae);
    tables.map(0xc000_1000, 0x9_0000_1000, 4096, { executeDisable: true });
    tables.map(0x4020_0000, 0x20_0000, 2 * MiB);
    expect(walker.walk(space, 0xc000_1000, 0, out)).toBe(false);
    expect(out.level).toBe(3); // PDPTE registers still empty
    expect(loadPdptes(space, walker, out)).toBe(true);
    expect(out.references).toBe(4);
    expect(walker.walk(space, 0xc000_1008, 0, out)).toBe(true);
    expect(out.address).toBe(0x9_0000_1008);
    expect(out.references).toBe(4); // PD, PT reads + their accessed flags
    expect(out.permissions & Permission.Execute).toBe(0);
    expect(walker.walk(space, 0x4020_0010, 0, out)).toBe(true);
    expect(out.pageSize).toBe(2 * MiB);
  });

  it("reserves bits 62:MAXPHYADDR in PAE entries and fails PDPTE loads with reserved bits (#GP)", () => {
    const { space, tables, walker, out } = setup(PagingMode.Pae);
    tables.map(0x1000, 0x5000, 4096);
    loadPdptes(space, walker, out);
    const pte = tables.entryAddress(0x1000, 1);
    space.write32(pte + 4, 1 << 30, 0); // bit 62
    expect(walker.walk(space, 0x1000, 0, out)).toBe(false);
    expect(out.errorCode).toBe(PageFaultError.Present | PageFaultError.Reserved);
    const pdpte = tables.root;
    space.write32(pdpte, space.read32(pdpte, 0) | 2, 0);
    expect(loadPdptes(space, walker, out)).toBe(false);
    expect(out.fault).toBe(FaultKind.GeneralProtection);
    // Registers unchanged by the failed load: the PD is still reachable.
    space.write32(pte + 4, 0, 0);
    expect(walker.walk(space, 0x1000, 0, out)).toBe(true);
  });
});
