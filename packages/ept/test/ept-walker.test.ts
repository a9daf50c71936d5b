import { createRamSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  EptAccess,
  EptBuilder,
  type EptCapabilities,
  EptWalker,
  FaultKind,
  Permission,
  EptQualification as Q,
  WalkResult,
} from "../src/index.js";

const MiB = 0x10_0000;
const GiB = 0x4000_0000;
const RWX = Permission.Read | Permission.Write | Permission.Execute;

function setup(levels: 4 | 5 = 4, caps: Partial<EptCapabilities> = {}, ad = false) {
  const { space } = createRamSpace(4 * MiB);
  const ept = new EptBuilder(space, new BumpAllocator(space, MiB, 4 * MiB), levels);
  const walker = new EptWalker(caps);
  expect(walker.setEptp(ept.eptp(ad))).toBe(true);
  return { space, ept, walker, out: new WalkResult() };
}

describe("EPT translation", () => {
  it("maps 4-KByte, 2-MByte and 1-GByte pages with their memory type and permissions", () => {
    const { space, ept, walker, out } = setup();
    ept.map(0x1000, 0x7_0000_0000, 4096, Permission.Read, { memoryType: 0, ignorePat: true });
    ept.map(0x20_0000, 0x40_0000, 2 * MiB, RWX);
    ept.map(3 * GiB, 5 * GiB, GiB, Permission.Read | Permission.Execute, { memoryType: 4 });
    expect(walker.walk(space, 0x1abc, EptAccess.Read, out)).toBe(true);
    expect(out.address).toBe(0x7_0000_0abc);
    expect(out.permissions).toBe(Permission.Read);
    expect(out.memoryType).toBe(0);
    expect(out.ignorePat).toBe(true);
    expect(out.references).toBe(4);
    expect(out.level).toBe(1);
    expect(walker.walk(space, 0x21_2345, EptAccess.Write, out)).toBe(true);
    expect(out.address).toBe(0x41_2345);
    expect(out.pageSize).toBe(2 * MiB);
    expect(out.references).toBe(3);
    expect(walker.walk(space, 3 * GiB + 0x1234_5678, EptAccess.Fetch, out)).toBe(true);
    expect(out.address).toBe(5 * GiB + 0x1234_5678);
    expect(out.memoryType).toBe(4);
    expect(out.references).toBe(2);
  });

  it("walks 5 levels with page-walk length 5", () => {
    const { space, ept, walker, out } = setup(5);
    ept.map(2 ** 50 + 0x3000, 0x9000, 4096, RWX);
    expect(walker.levels).toBe(5);
    expect(walker.walk(space, 2 ** 50 + 0x3008, EptAccess.Read, out)).toBe(true);
    expect(out.address).toBe(0x9008);
    expect(out.references).toBe(5);
    expect(walker.walk(space, 2 ** 49, EptAccess.Read, out)).toBe(false);
    expect(out.level).toBe(5);
    expect(out.qualification).toBe(Q.Read);
    // A PML5E with bit 7 set is misconfigured.
    const pml5e = ept.entryAddress(2 ** 50, 5);
    space.write32(pml5e, space.read32(pml5e, 0) | 0x80, 0);
    expect(walker.walk(space, 2 ** 50 + 0x3000, EptAccess.Read, out)).toBe(false);
    expect(out.fault).toBe(FaultKind.EptMisconfig);
    expect(out.level).toBe(5);
  });

  it("rejects invalid EPTPs (SDM 27.2.1.1)", () => {
    const w = new EptWalker({ fiveLevel: false, accessedDirty: false });
    expect(w.setEptp(0x1000 | 6 | (3 << 3))).toBe(true);
    expect(w.setEptp(0x1000 | 0 | (3 << 3))).toBe(true);
    expect(w.setEptp(0x1000 | 1 | (3 << 3))).toBe(false);
    expect(w.setEptp(0x1000 | 6 | (4 << 3))).toBe(false);
    expect(w.setEptp(0x1000 | 6 | (2 << 3))).toBe(false);
    expect(w.setEptp(0x1000 | 6 | (3 << 3) | 0x40)).toBe(false);
    expect(w.setEptp(0x1000 | 6 | (3 << 3) | 0x100)).toBe(false);
    expect(w.setEptp(2 ** 46 + 6 + (3 << 3))).toBe(false);
    expect(w.root).toBe(0x1000);
  });
});

describe("EPT violations (SDM 29.3.3.2, Table 28-7)", () => {
  it("not present at each level: only the access bits, permissions all 0", () => {
    const { space, ept, walker, out } = setup();
    ept.map(0x1000, 0x5000, 4096, RWX);
    const cases: [number, number][] = [
      [2 ** 45, 4],
      [GiB, 3],
      [2 * MiB, 2],
      [0x2000, 1],
    ];
    for (const [gpa, level] of cases) {
      expect(walker.walk(space, gpa, EptAccess.Write, out)).toBe(false);
      expect(out.fault).toBe(FaultKind.EptViolation);
      expect(out.qualification).toBe(Q.Write);
      expect(out.level).toBe(level);
      expect(out.faultAddress).toBe(gpa);
      expect(out.references).toBe(5 - level);
    }
    expect(walker.walk(space, 0x2000, EptAccess.Fetch, out, Q.LinearValid | Q.LinearTranslation)).toBe(false);
    expect(out.qualification).toBe(Q.Fetch | Q.LinearValid | Q.LinearTranslation);
  });

  it("reports the access and the AND of the entries' permissions", () => {
    const { space, ept, walker, out } = setup();
    ept.map(0x1000, 0x5000, 4096, Permission.Read);
    ept.map(0x2000, 0x6000, 4096, Permission.Execute);
    ept.map(0x3000, 0x7000, 4096, Permission.Read | Permission.Write);
    expect(walker.walk(space, 0x1000, EptAccess.Write, out)).toBe(false);
    expect(out.qualification).toBe(Q.Write | Q.Readable);
    expect(out.level).toBe(1);
    expect(walker.walk(space, 0x1000, EptAccess.Fetch, out)).toBe(false);
    expect(out.qualification).toBe(Q.Fetch | Q.Readable);
    expect(walker.walk(space, 0x2000, EptAccess.Read, out)).toBe(false);
    expect(out.qualification).toBe(Q.Read | Q.Executable);
    expect(walker.walk(space, 0x2000, EptAccess.Fetch, out)).toBe(true);
    expect(walker.walk(space, 0x3000, EptAccess.Fetch, out)).toBe(false);
    expect(out.qualification).toBe(Q.Fetch | Q.Readable | Q.Writable);
    // Clear W in the PDE: the AND drops it even though the PTE allows it.
    const pde = ept.entryAddress(0x3000, 2);
    space.write32(pde, space.read32(pde, 0) & ~2, 0);
    expect(walker.walk(space, 0x3000, EptAccess.Read | EptAccess.Write, out)).toBe(false);
    expect(out.qualification).toBe(Q.Read | Q.Write | Q.Readable);
  });

  it("reports bits 7..11 of the linear address; 9..11 only with bit 8 and advanced information", () => {
    const { space, ept, walker, out } = setup();
    ept.map(0x1000, 0x5000, 4096, Permission.Read);
    const lin =
      Q.LinearValid | Q.LinearTranslation | Q.UserLinear | Q.WritableLinear | Q.ExecuteDisableLinear;
    walker.walk(space, 0x1000, EptAccess.Write, out, lin);
    expect(out.qualification).toBe(Q.Write | Q.Readable | lin);
    walker.walk(space, 0x1000, EptAccess.Write, out, Q.LinearValid | Q.UserLinear);
    expect(out.qualification).toBe(Q.Write | Q.Readable | Q.LinearValid);
    walker.walk(space, 0x1000, EptAccess.Write, out, Q.LinearTranslation);
    expect(out.qualification).toBe(Q.Write | Q.Readable);
    const basic = setup(4, { advancedExitInfo: false });
    basic.ept.map(0x1000, 0x5000, 4096, Permission.Read);
    basic.walker.walk(basic.space, 0x1000, EptAccess.Write, basic.out, lin);
    expect(basic.out.qualification).toBe(Q.Write | Q.Readable | Q.LinearValid | Q.LinearTranslation);
  });

  it("mode-based execute control: bit 10 gates user-mode fetches and is reported in bit 6", () => {
    const { space, ept, walker, out } = setup();
    ept.map(0x1000, 0x5000, 4096, Permission.Read | Permission.UserExecute);
    ept.map(0x2000, 0x6000, 4096, Permission.UserExecute);
    const user = Q.LinearValid | Q.LinearTranslation | Q.UserLinear;
    const sup = Q.LinearValid | Q.LinearTranslation;
    // Without MBEC, bit 10 is ignored: fetches need bit 2, and an entry with only bit 10 is not present.
    expect(walker.walk(space, 0x1000, EptAccess.Fetch, out, user)).toBe(false);
    expect(out.qualification).toBe(Q.Fetch | Q.Readable | user);
    expect(walker.walk(space, 0x2000, EptAccess.Fetch, out, user)).toBe(false);
    expect(out.qualification).toBe(Q.Fetch | user);
    walker.mbec = true;
    expect(walker.walk(space, 0x1000, EptAccess.Fetch, out, user)).toBe(true);
    expect(out.permissions).toBe(Permission.Read | Permission.UserExecute);
    expect(walker.walk(space, 0x1000, EptAccess.Fetch, out, sup)).toBe(false);
    expect(out.qualification).toBe(Q.Fetch | Q.Readable | Q.UserExecutable | sup);
    expect(walker.walk(space, 0x2000, EptAccess.Fetch, out, user)).toBe(true);
  });

  it("reports suppress-#VE (bit 63) of the entry that caused the violation", () => {
    const { space, ept, walker, out } = setup();
    ept.map(0x1000, 0x5000, 4096, Permission.Read, { suppressVe: true });
    ept.map(0x2000, 0x5000, 4096, Permission.Read);
    walker.walk(space, 0x1000, EptAccess.Write, out);
    expect(out.suppressVe).toBe(true);
    walker.walk(space, 0x2000, EptAccess.Write, out);
    expect(out.suppressVe).toBe(false);
    const pte = ept.entryAddress(0x3000, 1);
    space.write32(pte + 4, 0x8000_0000, 0);
    walker.walk(space, 0x3000, EptAccess.Read, out);
    expect(out.fault).toBe(FaultKind.EptViolation);
    expect(out.suppressVe).toBe(true);
  });
});

describe("EPT misconfigurations (SDM 29.3.3.1)", () => {
  function expectMisconfig(
    edit: (s: ReturnType<typeof setup>) => void,
    level: number,
    caps: Partial<EptCapabilities> = {},
  ) {
    const s = setup(4, caps);
    s.ept.map(0x1000, 0x5000, 4096, RWX);
    s.ept.map(0x40_0000, 0x40_0000, 2 * MiB, RWX);
    s.ept.map(GiB, GiB, GiB, RWX);
    edit(s);
    expect(s.walker.walk(s.space, s.out.faultAddress, EptAccess.Read, s.out)).toBe(false);
    expect(s.out.fault).toBe(FaultKind.EptMisconfig);
    expect(s.out.level).toBe(level);
  }
  const setLo = (s: ReturnType<typeof setup>, gpa: number, level: number, f: (lo: number) => number) => {
    const ea = s.ept.entryAddress(gpa, level);
    s.space.write32(ea, f(s.space.read32(ea, 0)) >>> 0, 0);
    s.out.faultAddress = gpa;
  };

  it("write-only and write/execute entries", () => {
    expectMisconfig((s) => setLo(s, 0x1000, 1, (lo) => (lo & ~7) | 2), 1);
    expectMisconfig((s) => setLo(s, 0x1000, 3, (lo) => (lo & ~7) | 6), 3);
  });

  it("execute-only entries without execute-only support", () => {
    expectMisconfig((s) => setLo(s, 0x1000, 1, (lo) => (lo & ~7) | 4), 1, { executeOnly: false });
  });

  it("reserved bits: 51:MAXPHYADDR, bit 7 of a PML4E, bits 6:3 of non-leaf entries, large-page address bits", () => {
    expectMisconfig((s) => {
      const ea = s.ept.entryAddress(0x1000, 2);
      s.space.write32(ea + 4, 1 << 19, 0);
      s.out.faultAddress = 0x1000;
    }, 2);
    expectMisconfig((s) => setLo(s, 0x1000, 4, (lo) => lo | 0x80), 4);
    expectMisconfig((s) => setLo(s, 0x1000, 3, (lo) => lo | 0x08), 3);
    expectMisconfig((s) => setLo(s, 0x40_0000, 2, (lo) => lo | 0x1000), 2);
    expectMisconfig((s) => setLo(s, GiB, 3, (lo) => lo | 0x20_0000), 3);
  });

  it("large pages without support", () => {
    expectMisconfig((s) => setLo(s, GiB, 3, (lo) => lo), 3, { pages1G: false });
    expectMisconfig((s) => setLo(s, 0x40_0000, 2, (lo) => lo), 2, { pages2M: false });
  });

  it("reserved memory types 2, 3 and 7 in a leaf", () => {
    for (const type of [2, 3, 7]) {
      expectMisconfig((s) => setLo(s, 0x1000, 1, (lo) => (lo & ~0x38) | (type << 3)), 1);
    }
  });

  it("a not-present entry is never misconfigured", () => {
    const s = setup();
    s.ept.map(0x2000, 0x5000, 4096, RWX);
    const ea = s.ept.entryAddress(0x1000, 1);
    s.space.write64(ea, 0xffff_fff8, 0xffff_ffff, 0);
    expect(s.walker.walk(s.space, 0x1000, EptAccess.Read, s.out)).toBe(false);
    expect(s.out.fault).toBe(FaultKind.EptViolation);
  });
});

describe("EPT accessed and dirty flags (SDM 29.3.5)", () => {
  it("sets bit 8 on every entry used and bit 9 on the leaf of a write, when EPTP bit 6 is set", () => {
    const s = setup(4, {}, true);
    s.ept.map(0x1000, 0x5000, 4096, RWX);
    const eas = [4, 3, 2, 1].map((l) => s.ept.entryAddress(0x1000, l));
    expect(s.walker.walk(s.space, 0x1000, EptAccess.Read, s.out)).toBe(true);
    expect(s.out.references).toBe(8);
    for (const ea of eas) expect(s.space.read32(ea, 0) & 0x300).toBe(0x100);
    expect(s.walker.walk(s.space, 0x1000, EptAccess.Write, s.out)).toBe(true);
    expect(s.out.references).toBe(5);
    expect(s.space.read32(eas[3]!, 0) & 0x300).toBe(0x300);
    const off = setup(4, {}, false);
    off.ept.map(0x1000, 0x5000, 4096, RWX);
    off.walker.walk(off.space, 0x1000, EptAccess.Write, off.out);
    expect(off.space.read32(off.ept.entryAddress(0x1000, 1), 0) & 0x300).toBe(0);
  });

  it("writes nothing when the walk faults", () => {
    const s = setup(4, {}, true);
    s.ept.map(0x1000, 0x5000, 4096, Permission.Read);
    expect(s.walker.walk(s.space, 0x1000, EptAccess.Write, s.out)).toBe(false);
    expect(s.space.read32(s.ept.entryAddress(0x1000, 4), 0) & 0x100).toBe(0);
  });
});
