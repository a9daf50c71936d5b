import { readFileSync, writeFileSync } from "node:fs";
import { createRamSpace } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LaunchState,
  loadVmcs12,
  renderVmcs12Layout,
  storeVmcs12,
  VMCS_FIELDS,
  VMCS12_SIZE,
  Vmcs,
  VmcsField,
  vmcs12FieldOffset,
} from "../src/index.js";

const layoutFile = new URL("../VMCS12-LAYOUT.md", import.meta.url);

describe("VMCS12 layout", () => {
  it("is frozen: the committed VMCS12-LAYOUT.md matches the code", () => {
    const text = renderVmcs12Layout();
    if (process.env.UPDATE_VMCS12_LAYOUT === "1") writeFileSync(layoutFile, text);
    // the formatter may align the Markdown tables: compare modulo padding
    const norm = (t: string) => t.replace(/ +/g, " ").replace(/-{3,}/g, "---");
    expect(norm(readFileSync(layoutFile, "utf8"))).toBe(norm(text));
  });

  it("keeps published offsets", () => {
    expect(vmcs12FieldOffset(VmcsField.VIRTUAL_PROCESSOR_ID)).toBe(0x40);
    expect(vmcs12FieldOffset(VmcsField.GUEST_ES_SELECTOR)).toBe(0x68);
    expect(vmcs12FieldOffset(VmcsField.EPT_POINTER | 1)).toBe(vmcs12FieldOffset(VmcsField.EPT_POINTER) + 4);
    expect(vmcs12FieldOffset(0x7fff)).toBe(-1);
  });

  it("fits every field in a 4 KiB region without overlap", () => {
    const offsets = VMCS_FIELDS.map((f) => vmcs12FieldOffset(f.encoding));
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(Math.max(...offsets) + 8).toBeLessThanOrEqual(VMCS12_SIZE);
  });

  it("round-trips through memory (store = VMCLEAR, load = VMPTRLD)", () => {
    const { space } = createRamSpace(0x10000);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), {
          minLength: VMCS_FIELDS.length * 2,
          maxLength: VMCS_FIELDS.length * 2,
        }),
        fc.integer({ min: 0, max: 0x7fff_ffff }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.boolean(),
        fc.integer({ min: 0, max: 14 }),
        (words, rev, shadow, abort, launched, page) => {
          const a = new Vmcs();
          for (const [i, f] of VMCS_FIELDS.entries()) a.set(f.encoding, words[2 * i]!, words[2 * i + 1]!);
          a.revisionId = rev;
          a.shadow = shadow;
          a.abortIndicator = abort;
          a.launchState = launched ? LaunchState.Launched : LaunchState.Clear;
          const addr = page * 0x1000;
          storeVmcs12(space, addr, a);
          const b = new Vmcs();
          loadVmcs12(space, addr, b);
          expect(b.data).toEqual(a.data);
          expect([b.revisionId, b.shadow, b.abortIndicator, b.launchState]).toEqual([
            rev,
            shadow,
            abort,
            a.launchState,
          ]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("places the architectural words at offsets 0 and 4", () => {
    const { space } = createRamSpace(0x2000);
    const v = new Vmcs();
    v.revisionId = 0x1234;
    v.shadow = true;
    v.abortIndicator = 7;
    v.set(VmcsField.GUEST_RIP, 0xaabbccdd, 0x11);
    storeVmcs12(space, 0x1000, v);
    expect(space.read32(0x1000, 0)).toBe(0x8000_1234);
    expect(space.read32(0x1004, 0)).toBe(7);
    expect(space.read32(0x1000 + vmcs12FieldOffset(VmcsField.GUEST_RIP), 0)).toBe(0xaabbccdd);
    expect(space.read32(0x1000 + vmcs12FieldOffset(VmcsField.GUEST_RIP) + 4, 0)).toBe(0x11);
  });
});
