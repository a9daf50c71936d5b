import { describe, expect, it } from "vitest";
import {
  EptAccess,
  EptWalker,
  FaultKind,
  InveptType,
  Permission,
  EptQualification as Q,
  ShadowResult,
  WalkResult,
} from "../src/index.js";
import { GiB, L1_TABLES_HPA, MiB, nestedSetup, RW, RWX } from "./nested-setup.js";

describe("shadow EPT02", () => {
  it("fills lazily with the intersection of permissions and the smaller page size", () => {
    const s = nestedSetup();
    s.ept01.map(GiB, 0x2_0000_0000, GiB, Permission.Read | Permission.Execute);
    s.ept12.map(0x20_0000, GiB + 0x40_0000, 2 * MiB, RW);
    const out = new WalkResult();
    expect(s.shadow.stats().leaves).toBe(0);
    // The hardware walks EPT02 first: nothing there yet.
    const hw = new EptWalker();
    expect(hw.setEptp(s.shadow.eptp02)).toBe(true);
    expect(hw.walk(s.host, 0x20_1234, EptAccess.Read, out)).toBe(false);
    expect(out.fault).toBe(FaultKind.EptViolation);
    expect(s.shadow.fill(s.l1Memory, s.host, 0x20_1234, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    expect(hw.walk(s.host, 0x20_1234, EptAccess.Read, out)).toBe(true);
    expect(out.address).toBe(0x2_0040_1234);
    expect(out.pageSize).toBe(2 * MiB);
    expect(out.permissions).toBe(Permission.Read);
    expect(out.references).toBe(3);
    // Writes: allowed by EPT12 but not EPT01 — L0's own fault, not L1's.
    expect(s.shadow.translate(s.l1Memory, s.host, 0x20_1234, EptAccess.Write, 0, out)).toBe(
      ShadowResult.L0Fault,
    );
    expect(out.fault).toBe(FaultKind.EptViolation);
    expect(out.faultAddress).toBe(GiB + 0x40_1234);
    const st = s.shadow.stats();
    expect(st.leaves).toBe(1);
    expect(st.tablePages).toBe(3);
    expect(st.trackedPages).toBeGreaterThanOrEqual(1);
  });

  it("uses the smaller page when EPT01 maps smaller pages than EPT12", () => {
    const s = nestedSetup();
    s.ept01.map(GiB + 0x5000, 0x9000, 4096, RWX);
    s.ept12.map(0, GiB, GiB, RWX);
    const out = new WalkResult();
    expect(s.shadow.translate(s.l1Memory, s.host, 0x5008, EptAccess.Fetch, 0, out)).toBe(ShadowResult.Ok);
    expect(out.pageSize).toBe(4096);
    expect(out.address).toBe(0x9008);
    expect(out.level).toBe(1);
  });

  it("reports an EPT12 miss as an EPT violation for L1 with EPT12's qualification", () => {
    const s = nestedSetup();
    s.ept12.map(0x1000, 0x3000, 4096, Permission.Read);
    const out = new WalkResult();
    const linear = Q.LinearValid | Q.LinearTranslation | Q.WritableLinear;
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1008, EptAccess.Write, linear, out)).toBe(
      ShadowResult.L1Fault,
    );
    expect(out.fault).toBe(FaultKind.EptViolation);
    expect(out.qualification).toBe(Q.Write | Q.Readable | linear);
    expect(out.faultAddress).toBe(0x1008);
    expect(s.shadow.translate(s.l1Memory, s.host, 0x2000, EptAccess.Read, 0, out)).toBe(ShadowResult.L1Fault);
    expect(out.qualification).toBe(Q.Read);
    // A misconfigured EPT12 entry is L1's misconfiguration.
    const ea = s.ept12.entryAddress(0x1000, 1);
    s.l1Memory.write32(ea, (s.l1Memory.read32(ea, 0) & ~7) | 2, 0);
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out)).toBe(ShadowResult.L1Fault);
    expect(out.fault).toBe(FaultKind.EptMisconfig);
    expect(s.shadow.stats().leaves).toBe(0);
  });

  it("write tracking drops exactly the leaves derived from the written EPT12 entry", () => {
    const s = nestedSetup();
    s.ept12.map(0x1000, 0x10_1000, 4096, RWX);
    s.ept12.map(0x2000, 0x10_2000, 4096, RWX);
    s.ept12.map(0x40_0000, 0x10_3000, 4096, RWX);
    const out = new WalkResult();
    for (const a of [0x1000, 0x2000, 0x40_0000]) {
      expect(s.shadow.translate(s.l1Memory, s.host, a, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    }
    expect(s.shadow.stats().leaves).toBe(3);
    const pte = s.ept12.entryAddress(0x2000, 1);
    expect(s.shadow.isTracked(pte)).toBe(true);
    expect(s.shadow.isTracked(3 * MiB)).toBe(false);
    // L1 remaps 0x2000 (the builder writes through the observed memory).
    s.ept12.map(0x2000, 0x10_5000, 4096, RWX);
    expect(s.shadow.stats().leaves).toBe(2);
    expect(s.shadow.translate(s.l1Memory, s.host, 0x2000, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    expect(out.address).toBe(L1_TABLES_HPA + 0x10_5000);
    // A write to the PML4E drops everything below it.
    const pml4e = s.ept12.entryAddress(0x1000, 4);
    expect(s.shadow.notifyL1Write(pml4e, 8)).toBe(3);
    expect(s.shadow.stats().leaves).toBe(0);
    expect(s.shadow.stats().trackedPages).toBe(0);
  });

  it("calls back when pages start and stop being tracked", () => {
    const tracked = new Set<number>();
    const s = nestedSetup({ onTrackPage: (p) => tracked.add(p), onUntrackPage: (p) => tracked.delete(p) });
    s.ept12.map(0x1000, 0x10_1000, 4096, RWX);
    const out = new WalkResult();
    s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out);
    expect([...tracked].sort()).toEqual(s.shadow.trackedPages().sort());
    expect(tracked.size).toBe(4);
    s.shadow.invept(InveptType.Global);
    expect(tracked.size).toBe(0);
  });

  it("INVEPT single-context drops EPT02 only for its own EPTP; global always", () => {
    const s = nestedSetup();
    s.ept12.map(0x1000, 0x10_1000, 4096, RWX);
    const out = new WalkResult();
    s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out);
    expect(s.shadow.invept(InveptType.SingleContext, s.ept12.root + 0x1000)).toBe(false);
    expect(s.shadow.stats().leaves).toBe(1);
    expect(s.shadow.invept(InveptType.SingleContext, s.ept12.eptp())).toBe(true);
    expect(s.shadow.stats().leaves).toBe(0);
    expect(s.shadow.stats().tablePages).toBe(1);
    s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out);
    expect(s.shadow.invept(InveptType.Global)).toBe(true);
    expect(s.shadow.stats().leaves).toBe(0);
  });

  it("stays under its page cap by evicting old tables, and still translates", () => {
    const s = nestedSetup({ maxTablePages: 8 });
    const out = new WalkResult();
    for (let i = 0; i < 16; i++) {
      s.ept12.map(i * GiB, 0x1000_0000 + i * 4096, 4096, RWX);
      s.ept01.map(0x1000_0000 + i * 4096, 0x7000_0000 + i * 4096, 4096, RWX);
    }
    for (let i = 0; i < 16; i++) {
      expect(s.shadow.translate(s.l1Memory, s.host, i * GiB + 8, EptAccess.Read, 0, out)).toBe(
        ShadowResult.Ok,
      );
      expect(out.address).toBe(0x7000_0000 + i * 4096 + 8);
      expect(s.shadow.stats().tablePages).toBeLessThanOrEqual(8);
    }
    expect(s.shadow.stats().evictions).toBeGreaterThan(0);
    expect(s.pool.used).toBeLessThanOrEqual(8);
  });

  it("with EPT12 A/D on, maps read-only until the first write sets EPT12's dirty flag", () => {
    const s = nestedSetup({}, true);
    s.ept12.map(0x1000, 0x10_1000, 4096, RWX);
    const out = new WalkResult();
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    expect(out.permissions).toBe(Permission.Read | Permission.Execute);
    const pte = s.ept12.entryAddress(0x1000, 1);
    expect(s.l1Memory.read32(pte, 0) & 0x300).toBe(0x100);
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Write, 0, out)).toBe(ShadowResult.Ok);
    expect(out.permissions).toBe(RWX);
    expect(s.l1Memory.read32(pte, 0) & 0x300).toBe(0x300);
  });

  it("builds a 5-level EPT02 when asked", () => {
    const s = nestedSetup({ levels: 5 });
    s.ept12.map(0x1000, 0x10_1000, 4096, RWX);
    const out = new WalkResult();
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1008, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    expect(s.shadow.ept02.levels).toBe(5);
    expect(out.references).toBe(5);
    expect(out.address).toBe(L1_TABLES_HPA + 0x10_1008);
    expect(s.shadow.stats().tablePages).toBe(5);
  });

  it("evicts the tables least recently filled through, keeping the hot ones", () => {
    const s = nestedSetup({ maxTablePages: 8 });
    const out = new WalkResult();
    const a = 0;
    const b = 512 * GiB; // another PML4 slot
    const c = 1024 * GiB;
    for (const base of [a, b, c]) {
      s.ept12.map(base, 0x1000_0000, 4096, RWX);
      s.ept12.map(base + 0x1000, 0x1000_1000, 4096, RWX);
    }
    s.ept01.map(0x1000_0000, 0x7000_0000, 2 * MiB, RWX);
    s.shadow.translate(s.l1Memory, s.host, a, EptAccess.Read, 0, out);
    s.shadow.translate(s.l1Memory, s.host, b, EptAccess.Read, 0, out);
    s.shadow.translate(s.l1Memory, s.host, a + 0x1000, EptAccess.Read, 0, out); // A is hot again
    s.shadow.translate(s.l1Memory, s.host, c, EptAccess.Read, 0, out); // needs room: B goes
    expect(s.shadow.stats().evictions).toBe(1);
    const fills = s.shadow.stats().fills;
    expect(s.shadow.translate(s.l1Memory, s.host, a, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    expect(s.shadow.stats().fills).toBe(fills);
    expect(s.shadow.translate(s.l1Memory, s.host, b, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    expect(s.shadow.stats().fills).toBe(fills + 1);
  });
});
