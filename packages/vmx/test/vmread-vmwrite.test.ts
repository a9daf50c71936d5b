import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_VMX_FEATURES,
  FieldKind,
  FieldWidth,
  fieldKind,
  fieldWidth,
  highAlias,
  VMCS_FIELDS,
  Vmcs,
  VmcsField,
  VmInstructionError,
  VmxCapabilities,
  vmread,
  vmwrite,
} from "../src/index.js";

const caps = new VmxCapabilities(DEFAULT_VMX_FEATURES);
const strict = new VmxCapabilities({
  ...DEFAULT_VMX_FEATURES,
  misc: { ...DEFAULT_VMX_FEATURES.misc, vmwriteAnyField: false },
});
const supported = VMCS_FIELDS.filter((f) => caps.isFieldSupported(f.encoding));
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

function expected(encoding: number, lo: number, hi: number): [number, number] {
  switch (fieldWidth(encoding)) {
    case FieldWidth.Bits16:
      return [lo & 0xffff, 0];
    case FieldWidth.Bits32:
      return [lo, 0];
    default:
      return [lo, hi];
  }
}

describe("VMWRITE then VMREAD", () => {
  it("returns the value truncated to the field's width, for every supported field", () => {
    const out = new Uint32Array(2);
    const vmcs = new Vmcs();
    fc.assert(
      fc.property(fc.constantFrom(...supported), u32, u32, ({ encoding }, lo, hi) => {
        expect(vmwrite(vmcs, caps, encoding, 0, lo, hi)).toBe(VmInstructionError.None);
        expect(vmread(vmcs, caps, encoding, 0, out)).toBe(VmInstructionError.None);
        expect([out[0], out[1]]).toEqual(expected(encoding, lo, hi));
      }),
      { numRuns: 2000 },
    );
    // and exhaustively once per field
    for (const { encoding } of supported) {
      vmwrite(vmcs, caps, encoding, 0, 0xdead_beef, 0x1234_5678);
      vmread(vmcs, caps, encoding, 0, out);
      expect([out[0], out[1]]).toEqual(expected(encoding, 0xdead_beef, 0x1234_5678));
    }
  });

  it("reads and writes the high half of 64-bit fields through the high alias", () => {
    const out = new Uint32Array(2);
    const vmcs = new Vmcs();
    for (const { encoding } of supported.filter((f) => fieldWidth(f.encoding) === FieldWidth.Bits64)) {
      vmwrite(vmcs, caps, encoding, 0, 0x1111_1111, 0x2222_2222);
      expect(vmread(vmcs, caps, highAlias(encoding), 0, out)).toBe(0);
      expect([out[0], out[1]]).toEqual([0x2222_2222, 0]);
      expect(vmwrite(vmcs, caps, highAlias(encoding), 0, 0x3333_3333, 0xffff)).toBe(0);
      vmread(vmcs, caps, encoding, 0, out);
      expect([out[0], out[1]]).toEqual([0x1111_1111, 0x3333_3333]);
    }
  });

  it("fails with error 12 on unsupported components", () => {
    const out = new Uint32Array(2);
    const vmcs = new Vmcs();
    expect(vmread(vmcs, caps, 0x6c40, 0, out)).toBe(VmInstructionError.UnsupportedComponent);
    expect(vmread(vmcs, caps, VmcsField.GUEST_RIP | 1, 0, out)).toBe(VmInstructionError.UnsupportedComponent);
    expect(vmread(vmcs, caps, VmcsField.GUEST_RIP, 1, out)).toBe(VmInstructionError.UnsupportedComponent);
    expect(vmwrite(vmcs, caps, VmcsField.HLATP, 0, 1, 0)).toBe(VmInstructionError.UnsupportedComponent);
    expect(vmwrite(vmcs, caps, 0x1_0000, 0, 1, 0)).toBe(VmInstructionError.UnsupportedComponent);
    // every encoding outside the table is unsupported
    for (let enc = 0; enc < 0x8000; enc += 7) {
      if (caps.isFieldSupported(enc)) continue;
      expect(vmread(vmcs, caps, enc, 0, out)).toBe(VmInstructionError.UnsupportedComponent);
    }
  });

  it("fails with error 13 on read-only fields unless VMWRITE-to-any-field is offered", () => {
    const vmcs = new Vmcs();
    const out = new Uint32Array(2);
    for (const { encoding } of supported.filter((f) => fieldKind(f.encoding) === FieldKind.ExitInfo)) {
      expect(vmwrite(vmcs, strict, encoding, 0, 5, 0)).toBe(VmInstructionError.ReadOnlyComponent);
      expect(vmwrite(vmcs, caps, encoding, 0, 5, 0)).toBe(VmInstructionError.None);
      vmread(vmcs, caps, encoding, 0, out);
      expect(out[0]).toBe(5);
    }
    expect(vmwrite(vmcs, strict, VmcsField.GUEST_RIP, 0, 5, 0)).toBe(VmInstructionError.None);
  });
});
