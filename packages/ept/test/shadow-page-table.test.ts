import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  EptBuilder,
  EptTranslatedMemory,
  EptWalker,
  FaultKind,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  HostPagePool,
  PageFaultError,
  PagingMode,
  Permission,
  ShadowPageTable,
  ShadowResult,
  WalkResult,
} from "../src/index.js";
import { ObservedMemory } from "./observed-memory.js";

const MiB = 0x10_0000;
const GiB = 0x4000_0000;
const RWX = Permission.Read | Permission.Write | Permission.Execute;
const GUEST_HPA = 8 * MiB;

/**
 * Host RAM 32 MiB: guest-physical [0, 8 MiB) at host [8, 16) MiB through the host map (an EPT
 * whose tables sit at [16, 20) MiB), shadow pool at [24, 32) MiB. Guest tables at gpa [4, 8) MiB.
 */
function setup(mode: PagingMode = PagingMode.Level4, cap?: number) {
  const { space: host, ram } = createRamSpace(32 * MiB);
  const map = new EptBuilder(host, new BumpAllocator(host, 16 * MiB, 20 * MiB));
  for (let gpa = 0; gpa < 8 * MiB; gpa += 2 * MiB) map.map(gpa, GUEST_HPA + gpa, 2 * MiB, RWX);
  const physical = new EptWalker();
  physical.setEptp(map.eptp());
  const memWalker = new EptWalker();
  memWalker.setEptp(map.eptp());
  const raw = new EptTranslatedMemory(host, memWalker);
  let spt: ShadowPageTable | undefined;
  const control = { tracking: true };
  const gmem = new ObservedMemory(raw, (a, l) => {
    if (control.tracking) spt?.notifyGuestWrite(a, l);
  });
  const tables = new GuestPageTableBuilder(gmem, mode, new BumpAllocator(gmem, 4 * MiB, 8 * MiB));
  const guest = new GuestPagingWalker();
  guest.mode = mode;
  guest.cr3 = tables.root;
  const pool = new HostPagePool(ram, 0, 24 * MiB, 2048);
  spt = new ShadowPageTable({ pool, guest, physical, ...(cap === undefined ? {} : { maxTablePages: cap }) });
  return { host, map, physical, raw, gmem, tables, guest, spt, pool, control, out: new WalkResult() };
}

describe("shadow page tables", () => {
  it("maps guest-virtual to host-physical, one 4-KByte leaf per fault", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x1000, 4096, { user: true, writable: false });
    expect(s.spt.stats().leaves).toBe(0);
    expect(s.spt.translate(s.raw, s.host, 0x7000_0010, GuestAccess.User, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.address).toBe(GUEST_HPA + 0x1010);
    expect(s.out.references).toBe(4);
    expect(s.out.permissions).toBe(Permission.Read | Permission.Execute | Permission.User);
    // The guest's accessed flags were set by the fill, as the hardware would.
    expect(s.raw.read32(s.tables.entryAddress(0x7000_0000, 1), 0) & 0x60).toBe(0x20);
    // The hardware can walk the shadow by itself.
    const hw = new GuestPagingWalker();
    hw.cr3 = s.spt.root;
    expect(hw.walk(s.host, 0x7000_0ff0, GuestAccess.User, s.out)).toBe(true);
    expect(s.out.address).toBe(GUEST_HPA + 0x1ff0);
    expect(s.spt.stats().leaves).toBe(1);
  });

  it("reflects the guest's own #PF", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x1000, 4096, { user: false });
    expect(s.spt.translate(s.raw, s.host, 0x7000_0000, GuestAccess.User | GuestAccess.Write, s.out)).toBe(
      ShadowResult.L1Fault,
    );
    expect(s.out.fault).toBe(FaultKind.PageFault);
    expect(s.out.errorCode).toBe(PageFaultError.Present | PageFaultError.Write | PageFaultError.User);
    expect(s.spt.translate(s.raw, s.host, 0x7100_0000, 0, s.out)).toBe(ShadowResult.L1Fault);
    expect(s.out.errorCode).toBe(0);
  });

  it("keeps clean pages read-only so the first write sets the guest's dirty flag", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x1000, 4096);
    const pte = s.tables.entryAddress(0x7000_0000, 1);
    expect(s.spt.translate(s.raw, s.host, 0x7000_0000, 0, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.permissions & Permission.Write).toBe(0);
    expect(s.raw.read32(pte, 0) & 0x40).toBe(0);
    expect(s.spt.translate(s.raw, s.host, 0x7000_0000, GuestAccess.Write, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.permissions & Permission.Write).toBe(Permission.Write);
    expect(s.raw.read32(pte, 0) & 0x40).toBe(0x40);
  });

  it("a host map that refuses the access is the hypervisor's fault", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x10_0000_0000, 4096, { dirty: true });
    s.map.map(0x10_0000_0000, 0x3000_0000, 4096, Permission.Read);
    expect(s.spt.translate(s.raw, s.host, 0x7000_0000, 0, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.permissions & (Permission.Write | Permission.Execute)).toBe(0);
    expect(s.spt.translate(s.raw, s.host, 0x7000_0000, GuestAccess.Write, s.out)).toBe(ShadowResult.L0Fault);
    expect(s.out.fault).toBe(FaultKind.EptViolation);
  });

  it("splits guest large pages; INVLPG of any address in one drops all its pieces", () => {
    const s = setup();
    s.tables.map(0x4000_0000, 0x20_0000, 2 * MiB);
    s.tables.map(0x4020_0000, 0x40_0000, 4096);
    for (const off of [0, 0x1000, 0x1f_f000]) {
      expect(s.spt.translate(s.raw, s.host, 0x4000_0000 + off, 0, s.out)).toBe(ShadowResult.Ok);
      expect(s.out.pageSize).toBe(4096);
    }
    s.spt.translate(s.raw, s.host, 0x4020_0000, 0, s.out);
    expect(s.spt.stats().leaves).toBe(4);
    expect(s.spt.invlpg(0x4000_5000)).toBe(3);
    expect(s.spt.stats().leaves).toBe(1);
    expect(s.spt.invlpg(0x4020_0000)).toBe(1);
  });

  it("drops what depends on a written guest entry, and everything on a CR3 write", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x1000, 4096);
    s.tables.map(0x7000_1000, 0x2000, 4096);
    s.tables.map(0x8000_0000, 0x3000, 4096);
    for (const a of [0x7000_0000, 0x7000_1000, 0x8000_0000]) s.spt.translate(s.raw, s.host, a, 0, s.out);
    expect(s.spt.stats().leaves).toBe(3);
    expect(s.spt.isTracked(s.tables.entryAddress(0x7000_1000, 1))).toBe(true);
    s.tables.map(0x7000_1000, 0x5000, 4096);
    expect(s.spt.stats().leaves).toBe(2);
    expect(s.spt.translate(s.raw, s.host, 0x7000_1000, 0, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.address).toBe(GUEST_HPA + 0x5000);
    s.spt.writeCr3();
    expect(s.spt.stats().leaves).toBe(0);
    expect(s.spt.stats().tablePages).toBe(1);
  });

  it("shadows 32-bit and PAE guests too (into a 4-level shadow)", () => {
    const s = setup(PagingMode.Bits32);
    s.tables.map(0x8040_0000, 0x40_0000, 0x40_0000);
    expect(s.spt.translate(s.raw, s.host, 0x8041_2345, 0, s.out)).toBe(ShadowResult.Ok);
    expect(s.out.address).toBe(GUEST_HPA + 0x41_2345);
  });

  it("property: the shadow agrees with guest walk then host map, under edits with write tracking and INVLPG", () => {
    const op = fc.record({
      slot: fc.nat({ max: 3 }),
      large: fc.boolean(),
      sub: fc.nat({ max: 7 }),
      target: fc.nat({ max: 1023 }),
      writable: fc.boolean(),
      user: fc.boolean(),
      xd: fc.boolean(),
      unmap: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 10 }),
        fc.array(op, { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom(2048, 8),
        (before, edits, invlpgOnly, cap) => {
          const s = setup(PagingMode.Level4, cap);
          const addrOf = (o: (typeof before)[number]) =>
            o.slot * GiB + (o.large ? (o.sub % 2) * 2 * MiB : o.sub * 4096);
          const apply = (o: (typeof before)[number]) => {
            const gva = addrOf(o);
            if (o.unmap) s.tables.unmap(gva);
            else {
              const size = o.large ? 2 * MiB : 4096;
              const pa = o.large ? (o.target % 2) * 2 * MiB : o.target * 4096;
              s.tables.map(gva, pa, size, { writable: o.writable, user: o.user, executeDisable: o.xd });
            }
          };
          const g = new WalkResult();
          const h = new WalkResult();
          const check = (list: typeof before) => {
            for (const o of list) {
              for (const access of [0, GuestAccess.Write, GuestAccess.Fetch | GuestAccess.User]) {
                const gva = addrOf(o) + (o.large ? 0x1234 : 0x34);
                const result = s.spt.translate(s.raw, s.host, gva, access, s.out);
                s.control.tracking = false;
                const ok = s.guest.walk(s.raw, gva, access, g);
                s.control.tracking = !invlpgOnly;
                if (!ok) {
                  expect(result).toBe(ShadowResult.L1Fault);
                  expect(s.out.errorCode).toBe(g.errorCode);
                  continue;
                }
                expect(s.physical.walk(s.host, g.address, 1, h)).toBe(true);
                expect(result).toBe(ShadowResult.Ok);
                expect(s.out.address).toBe(h.address);
                expect(s.spt.stats().tablePages).toBeLessThanOrEqual(cap);
              }
            }
          };
          for (const o of before) apply(o);
          s.control.tracking = !invlpgOnly;
          check(before);
          for (const o of edits) apply(o);
          // Without write tracking, the guest must INVLPG every page whose translation it changed
          // (SDM 4.10.4.1): each edited page, and every cached page under an edited large-page slot.
          if (invlpgOnly) {
            for (const o of edits) {
              s.spt.invlpg(addrOf(o));
              for (const p of [...before, ...edits]) {
                const a = addrOf(p) + (p.large ? 0x1234 : 0x34);
                if (Math.floor(a / (2 * MiB)) === Math.floor(addrOf(o) / (2 * MiB))) s.spt.invlpg(a);
              }
            }
          }
          check([...before, ...edits]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
