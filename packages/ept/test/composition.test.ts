import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EptAccess,
  EptQualification,
  InveptType,
  Permission,
  ShadowResult,
  WalkResult,
} from "../src/index.js";
import { GiB, MiB, nestedSetup } from "./nested-setup.js";

const sizes = [4096, 2 * MiB, GiB];
const perms = [
  Permission.Read,
  Permission.Read | Permission.Write,
  Permission.Read | Permission.Execute,
  Permission.Read | Permission.Write | Permission.Execute,
  Permission.Execute,
];

const ept01Map = fc.record({
  slot: fc.integer({ min: 1, max: 7 }),
  size: fc.constantFrom(...sizes),
  sub: fc.nat({ max: 2 ** 18 }),
  hostPage: fc.nat({ max: 2 ** 30 }),
  perms: fc.constantFrom(...perms, perms[3]!, perms[3]!),
});

const ept12Op = fc.record({
  kind: fc.constantFrom("map", "map", "map", "unmap"),
  slot: fc.nat({ max: 7 }),
  size: fc.constantFrom(...sizes),
  sub: fc.nat({ max: 2 ** 18 }),
  targetSlot: fc.nat({ max: 7 }),
  targetSub: fc.nat({ max: 2 ** 18 }),
  perms: fc.constantFrom(...perms, perms[3]!, perms[3]!),
});

type Op = typeof ept12Op extends fc.Arbitrary<infer T> ? T : never;

const probe = fc.record({
  slot: fc.nat({ max: 7 }),
  offset: fc.nat({ max: GiB - 1 }),
  access: fc.constantFrom(EptAccess.Read, EptAccess.Write, EptAccess.Fetch),
});

const align = (slot: number, sub: number, size: number) => slot * GiB + (sub % (GiB / size)) * size;

describe("composition law: walk(EPT02, x) = walk(EPT01, walk(EPT12, x))", () => {
  for (const invalidation of ["write tracking", "INVEPT single-context", "INVEPT global"] as const) {
    it(`holds after random EPT12 edits followed by ${invalidation}`, () => {
      fc.assert(
        fc.property(
          fc.array(ept01Map, { maxLength: 10 }),
          fc.array(ept12Op, { minLength: 1, maxLength: 12 }),
          fc.array(ept12Op, { maxLength: 8 }),
          fc.array(probe, { maxLength: 10 }),
          fc.constantFrom(1024, 8),
          fc.boolean(),
          (maps01, before, edits, probes, cap, ad) => {
            // With EPT12 A/D flags on, EPT02 leaves stay read-only until EPT12's dirty flag is set.
            const s = nestedSetup({ maxTablePages: cap }, ad);
            for (const m of maps01) {
              const l1pa = align(m.slot, m.sub, m.size);
              const hpa = (m.hostPage % (2 ** 46 / m.size)) * m.size;
              s.ept01.map(l1pa, hpa, m.size, m.perms);
            }
            const apply = (op: Op) => {
              const l2pa = align(op.slot, op.sub, op.size);
              if (op.kind === "unmap") s.ept12.unmap(l2pa);
              else s.ept12.map(l2pa, align(op.targetSlot, op.targetSub, op.size), op.size, op.perms);
            };
            const addresses = [...before, ...edits].flatMap((op) => {
              const base = align(op.slot, op.sub, op.size);
              return [
                { x: base, access: EptAccess.Read },
                { x: base + ((op.sub * 4097) % op.size), access: EptAccess.Write },
                { x: base + op.size - 1, access: EptAccess.Fetch },
              ];
            });
            for (const p of probes) addresses.push({ x: p.slot * GiB + p.offset, access: p.access });

            const r12 = new WalkResult();
            const r01 = new WalkResult();
            const out = new WalkResult();
            const check = () => {
              for (const { x, access } of addresses) {
                const result = s.shadow.translate(s.l1Memory, s.host, x, access, 0, out);
                s.ept12Walker.walk(s.l1Memory, x, access, r12);
                if (!r12.ok) {
                  expect(result).toBe(ShadowResult.L1Fault);
                  expect(out.fault).toBe(r12.fault);
                  expect(out.qualification).toBe(r12.qualification);
                  expect(out.level).toBe(r12.level);
                  continue;
                }
                s.ept01Walker.walk(s.host, r12.address, access, r01);
                if (!r01.ok) {
                  expect(result).toBe(ShadowResult.L0Fault);
                  expect(out.fault).toBe(r01.fault);
                  expect(out.qualification).toBe(r01.qualification);
                  continue;
                }
                expect(result).toBe(ShadowResult.Ok);
                expect(out.address).toBe(r01.address);
                const composed = r12.permissions & r01.permissions;
                if (!ad) expect(out.permissions).toBe(composed);
                else {
                  // EPT02 may stay read-only after another fill set EPT12's dirty flag (a write
                  // refills it), but is never writable while that flag is clear.
                  expect(out.permissions & ~Permission.Write).toBe(composed & ~Permission.Write);
                  if ((out.permissions & Permission.Write) !== 0) {
                    expect(s.ept12Walker.lastEntryLo & 0x200).toBe(0x200);
                  }
                }
                expect(out.pageSize).toBe(Math.min(r12.pageSize, r01.pageSize));
                expect(s.shadow.stats().tablePages).toBeLessThanOrEqual(cap);
              }
            };
            for (const op of before) apply(op);
            check();
            s.control.tracking = invalidation === "write tracking";
            for (const op of edits) apply(op);
            if (invalidation === "INVEPT single-context") {
              expect(s.shadow.invept(InveptType.SingleContext, s.ept12.eptp())).toBe(true);
            } else if (invalidation === "INVEPT global") {
              s.shadow.invept(InveptType.Global);
            }
            check();
          },
        ),
        { numRuns: 120 },
      );
    });
  }

  it("holds with mode-based execute control on either side (user-mode fetches use bit 10)", () => {
    const mbecPerms = [Permission.Read | Permission.UserExecute, Permission.UserExecute, ...perms];
    fc.assert(
      fc.property(
        fc.array(ept01Map, { maxLength: 6 }),
        fc.array(
          fc.record({
            slot: fc.nat({ max: 7 }),
            size: fc.constantFrom(...sizes),
            sub: fc.nat({ max: 2 ** 18 }),
            targetSlot: fc.integer({ min: 1, max: 7 }),
            targetSub: fc.nat({ max: 2 ** 18 }),
            perms: fc.constantFrom(...mbecPerms),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.boolean(),
        fc.boolean(),
        (maps01, maps12, mbec12, mbec01) => {
          const s = nestedSetup();
          s.ept12Walker.mbec = mbec12;
          s.ept01Walker.mbec = mbec01;
          for (const m of maps01) {
            const hpa = (m.hostPage % (2 ** 46 / m.size)) * m.size;
            s.ept01.map(
              align(m.slot, m.sub, m.size),
              hpa,
              m.size,
              m.perms ^ (m.hostPage & 1 ? Permission.UserExecute : 0),
            );
          }
          for (const m of maps12) {
            s.ept12.map(
              align(m.slot, m.sub, m.size),
              align(m.targetSlot, m.targetSub, m.size),
              m.size,
              m.perms,
            );
          }
          const r12 = new WalkResult();
          const r01 = new WalkResult();
          const out = new WalkResult();
          for (const m of maps12) {
            const x = align(m.slot, m.sub, m.size) + 0x10;
            for (const user of [0, EptQualification.UserLinear]) {
              const linear = EptQualification.LinearValid | EptQualification.LinearTranslation | user;
              for (const access of [EptAccess.Read, EptAccess.Fetch]) {
                const result = s.shadow.translate(s.l1Memory, s.host, x, access, linear, out);
                if (!s.ept12Walker.walk(s.l1Memory, x, access, r12, linear)) {
                  expect(result).toBe(ShadowResult.L1Fault);
                  expect(out.qualification).toBe(r12.qualification);
                  continue;
                }
                if (!s.ept01Walker.walk(s.host, r12.address, access, r01, linear)) {
                  expect(result).toBe(ShadowResult.L0Fault);
                  continue;
                }
                expect(result).toBe(ShadowResult.Ok);
                expect(out.address).toBe(r01.address);
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("fails without the invalidation the SDM requires (the test can see stale entries)", () => {
    const s = nestedSetup();
    s.ept01.map(GiB, 0x5000_0000, 2 * MiB, Permission.Read);
    s.ept12.map(0x1000, GiB, 4096, Permission.Read);
    const out = new WalkResult();
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    s.control.tracking = false;
    s.ept12.unmap(0x1000);
    // Stale: EPT02 still maps what EPT12 no longer does, until INVEPT.
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out)).toBe(ShadowResult.Ok);
    s.shadow.invept(InveptType.SingleContext, s.ept12.eptp());
    expect(s.shadow.translate(s.l1Memory, s.host, 0x1000, EptAccess.Read, 0, out)).toBe(ShadowResult.L1Fault);
  });
});
