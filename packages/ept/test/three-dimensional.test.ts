import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  ChainedTranslator,
  EptTranslatedMemory,
  EptTranslator,
  FaultKind,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  PagingMode,
  Permission,
  EptQualification as Q,
  ShadowResult,
  WalkResult,
} from "../src/index.js";
import { GiB, MiB, nestedSetup, RWX } from "./nested-setup.js";

/**
 * An L2 guest: its page tables at L2-physical [0, 1 MiB), mapped by EPT12 to L1-physical
 * [2, 3) MiB (which EPT01 maps to the host). Its data pages are whatever the test maps.
 */
function l2Setup() {
  const s = nestedSetup();
  for (let a = 0; a < MiB; a += 4096) s.ept12.map(a, 2 * MiB + a, 4096, RWX);
  const l2Memory = new EptTranslatedMemory(s.l1Memory, s.ept12Walker);
  const tables = new GuestPageTableBuilder(l2Memory, PagingMode.Level4, new BumpAllocator(l2Memory, 0, MiB));
  const guest = new GuestPagingWalker();
  guest.cr3 = tables.root;
  const threeD = new ChainedTranslator(
    new EptTranslator(s.ept12Walker, s.l1Memory),
    new EptTranslator(s.ept01Walker),
  );
  const ept02 = new EptTranslator(s.shadow.ept02);
  const fillOut = new WalkResult();
  /** The multi-dimensional run: the CPU walks through EPT02, L0 fills it on each EPT02 violation. */
  const walkOnEpt02 = (gva: number, access: number, out: WalkResult): ShadowResult => {
    for (let attempt = 0; attempt < 12; attempt++) {
      if (guest.walk(s.host, gva, access, out, ept02)) return ShadowResult.Ok;
      if (out.fault !== FaultKind.EptViolation) return ShadowResult.L0Fault; // a #PF of L2's own
      const r = s.shadow.fill(
        s.l1Memory,
        s.host,
        out.faultAddress,
        out.qualification & 7,
        out.qualification & 0xf80,
        fillOut,
      );
      if (r !== ShadowResult.Ok) {
        out.copyFrom(fillOut);
        return r;
      }
    }
    throw new Error("no progress");
  };
  return { ...s, l2Memory, tables, guest, threeD, walkOnEpt02 };
}

describe("three-dimensional walk and its multi-dimensional replacement", () => {
  it("translates L2-virtual to host through EPT12 and EPT01, walked separately", () => {
    const s = l2Setup();
    s.tables.map(0x7000_0000, GiB + 0x5000, 4096);
    s.ept12.map(GiB + 0x5000, 2 * GiB + 0x9000, 4096, RWX);
    s.ept01.map(2 * GiB, 0x1_0000_0000, 2 * MiB, RWX);
    const out = new WalkResult();
    expect(s.guest.walk(s.host, 0x7000_0010, GuestAccess.Read, out, s.threeD)).toBe(true);
    expect(out.address).toBe(0x1_0000_9010);
    expect(out.guestPhysical).toBe(GiB + 0x5010);
    expect(out.pageSize).toBe(4096);
    const m = new WalkResult();
    expect(s.walkOnEpt02(0x7000_0010, GuestAccess.Read, m)).toBe(ShadowResult.Ok);
    expect(m.address).toBe(out.address);
    expect(m.references).toBe(24);
  });

  it("an EPT12 miss on an L2 table access is L1's violation with bit 7 set and bit 8 clear, both ways", () => {
    const s = l2Setup();
    s.tables.map(0x7000_0000, GiB + 0x5000, 4096);
    const pteL2pa = s.tables.entryAddress(0x7000_0000, 1);
    s.ept12.unmap(pteL2pa - (pteL2pa % 4096));
    const out = new WalkResult();
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Write, out, s.threeD)).toBe(false);
    expect(s.threeD.faultedStage).toBe(1);
    expect(out.qualification).toBe(Q.Read | Q.LinearValid);
    expect(out.faultAddress).toBe(pteL2pa);
    expect(out.guestLevel).toBe(1);
    const m = new WalkResult();
    expect(s.walkOnEpt02(0x7000_0000, GuestAccess.Write, m)).toBe(ShadowResult.L1Fault);
    expect(m.qualification).toBe(out.qualification);
    expect(m.faultAddress).toBe(out.faultAddress);
  });

  it("an EPT01 miss is L0's own, both ways", () => {
    const s = l2Setup();
    s.tables.map(0x7000_0000, GiB + 0x5000, 4096);
    s.ept12.map(GiB + 0x5000, 3 * GiB, 4096, RWX);
    const out = new WalkResult();
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Fetch, out, s.threeD)).toBe(false);
    expect(s.threeD.faultedStage).toBe(2);
    expect(out.faultAddress).toBe(3 * GiB);
    const m = new WalkResult();
    expect(s.walkOnEpt02(0x7000_0000, GuestAccess.Fetch, m)).toBe(ShadowResult.L0Fault);
    expect(m.faultAddress).toBe(3 * GiB);
    expect(m.qualification).toBe(out.qualification);
  });

  it("property: the 3-D walk and the walk on EPT02 agree on every address", () => {
    const pageArb = fc.record({
      gvaPage: fc.nat({ max: 4095 }),
      l2Page: fc.nat({ max: 63 }),
      l1Page: fc.option(fc.nat({ max: 1023 }), { nil: null }),
      perms12: fc.constantFrom(Permission.Read, Permission.Read | Permission.Write, RWX, Permission.Execute),
      writable: fc.boolean(),
      user: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(pageArb, { selector: (p) => p.gvaPage, minLength: 1, maxLength: 12 }),
        fc.constantFrom(Permission.Read, Permission.Read | Permission.Write, RWX),
        fc.constantFrom(GuestAccess.Read, GuestAccess.Write, GuestAccess.Fetch | GuestAccess.User),
        (pages, perms01, access) => {
          const s = l2Setup();
          s.ept01.map(2 * GiB, 0x1_0000_0000, 2 * MiB, perms01);
          for (const p of pages) {
            s.tables.map(0x4000_0000 + p.gvaPage * 4096, GiB + p.l2Page * 4096, 4096, {
              writable: p.writable,
              user: p.user,
            });
            if (p.l1Page !== null)
              s.ept12.map(GiB + p.l2Page * 4096, 2 * GiB + p.l1Page * 4096, 4096, p.perms12);
          }
          const a = new WalkResult();
          const b = new WalkResult();
          for (const p of pages) {
            const gva = 0x4000_0000 + p.gvaPage * 4096 + 0x18;
            const ok = s.guest.walk(s.host, gva, access, a, s.threeD);
            const result = s.walkOnEpt02(gva, access, b);
            expect(result === ShadowResult.Ok).toBe(ok);
            if (ok) {
              expect(b.address).toBe(a.address);
              expect(b.guestPhysical).toBe(a.guestPhysical);
            } else {
              expect(b.fault).toBe(a.fault);
              expect(b.errorCode).toBe(a.errorCode);
              expect(b.qualification).toBe(a.qualification);
              expect(b.faultAddress).toBe(a.faultAddress);
              if (a.fault !== FaultKind.PageFault) {
                expect(result).toBe(
                  s.threeD.faultedStage === 1 ? ShadowResult.L1Fault : ShadowResult.L0Fault,
                );
              }
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
