import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EptTranslator,
  EptWalker,
  FaultKind,
  GuestPagingWalker,
  loadPdptes,
  PagingMode,
  WalkResult,
} from "../src/index.js";

/**
 * Bad guest input is architectural: whatever the tables hold, a walk ends in a translation or in
 * the fault the SDM names, never in an exception. Tables here are random words in a small RAM
 * (entries pointing elsewhere read unmapped memory as all-ones).
 */
describe("walkers never throw on arbitrary tables", () => {
  const words = fc.uint32Array({ minLength: 2048, maxLength: 2048 });
  it("guest walks, 1-D and 2-D, in every mode", () => {
    fc.assert(
      fc.property(
        words,
        fc.constantFrom(PagingMode.Bits32, PagingMode.Pae, PagingMode.Level4, PagingMode.Level5),
        fc.nat({ max: 0xffff_ffff }),
        fc.nat({ max: 31 }),
        fc.record({
          nxe: fc.boolean(),
          smep: fc.boolean(),
          smap: fc.boolean(),
          pke: fc.boolean(),
          pks: fc.boolean(),
        }),
        fc.boolean(),
        (data, mode, gva, access, flags, twoD) => {
          const { space } = createRamSpace(0x2000);
          space.writeBytes(0, new Uint8Array(data.buffer), 0);
          const walker = new GuestPagingWalker();
          Object.assign(walker, flags);
          walker.mode = mode;
          walker.cr3 = 0;
          walker.pkru = data[0]!;
          walker.pkrs = data[1]!;
          const out = new WalkResult();
          const ept = new EptWalker({ executeOnly: (data[2]! & 1) === 0 });
          ept.setEptp(0x1000 + 6 + (3 << 3) + ((data[3]! & 1) << 6));
          ept.mbec = (data[4]! & 1) === 1;
          const translator = twoD ? new EptTranslator(ept) : null;
          if (mode === PagingMode.Pae) {
            loadPdptes(space, walker, out, translator);
            expect([
              FaultKind.None,
              FaultKind.GeneralProtection,
              FaultKind.EptViolation,
              FaultKind.EptMisconfig,
            ]).toContain(out.fault);
          }
          const ok = walker.walk(
            space,
            mode >= PagingMode.Level4 ? gva - 2 ** 31 : gva,
            access,
            out,
            translator,
          );
          expect(out.ok).toBe(ok);
          if (ok) expect(out.fault).toBe(FaultKind.None);
          else {
            const allowed = twoD
              ? [FaultKind.PageFault, FaultKind.EptViolation, FaultKind.EptMisconfig]
              : [FaultKind.PageFault];
            expect(allowed).toContain(out.fault);
          }
          // Only PAE, whose PDPTEs are registers, can fault without reading memory.
          if (mode !== PagingMode.Pae) expect(out.references).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("EPT walks of every access kind", () => {
    fc.assert(
      fc.property(
        words,
        fc.nat({ max: 2 ** 20 - 1 }),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(),
        (data, page, access, linear) => {
          const { space } = createRamSpace(0x2000);
          space.writeBytes(0, new Uint8Array(data.buffer), 0);
          const ept = new EptWalker({ pages1G: (data[0]! & 1) === 0, executeOnly: (data[1]! & 1) === 0 });
          expect(ept.setEptp(6 + (3 << 3) + 0x40)).toBe(true);
          ept.mbec = (data[2]! & 1) === 1;
          const out = new WalkResult();
          const ok = ept.walk(space, page * 4096 * 251, access, out, linear & 0xf80);
          if (!ok) {
            expect([FaultKind.EptViolation, FaultKind.EptMisconfig]).toContain(out.fault);
            if (out.fault === FaultKind.EptViolation) expect(out.qualification & 7).toBe(access);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
