import { describe, expect, it } from "vitest";
import {
  FieldKind,
  FieldWidth,
  fieldIndex,
  fieldKind,
  fieldWidth,
  makeFieldEncoding,
  VMCS_FIELDS,
  VmcsField,
} from "../src/index.js";

describe("VMCS field table (SDM appendix B)", () => {
  it("has unique, even, well-formed encodings", () => {
    const seen = new Set<number>();
    for (const { name, encoding } of VMCS_FIELDS) {
      expect(seen.has(encoding), name).toBe(false);
      seen.add(encoding);
      expect(encoding & 1, name).toBe(0);
      expect(encoding & 0x1000, `${name}: bit 12 reserved`).toBe(0);
      expect(encoding >>> 15, name).toBe(0);
      expect(makeFieldEncoding(fieldWidth(encoding), fieldKind(encoding), fieldIndex(encoding))).toBe(
        encoding,
      );
    }
    expect(VMCS_FIELDS.length).toBeGreaterThan(170);
  });

  it("names agree with the kind encoded in bits 11:10", () => {
    for (const { name, encoding } of VMCS_FIELDS) {
      const kind = fieldKind(encoding);
      if (name.startsWith("HOST_")) expect(kind, name).toBe(FieldKind.Host);
      else if (name === "GUEST_PHYSICAL_ADDRESS" || name === "GUEST_LINEAR_ADDRESS")
        expect(kind, name).toBe(FieldKind.ExitInfo);
      else if (name.startsWith("GUEST_")) expect(kind, name).toBe(FieldKind.Guest);
    }
  });

  it("decomposes a few encodings exactly as the SDM tables list them", () => {
    expect(VmcsField.GUEST_RIP).toBe(0x681e);
    expect(fieldWidth(VmcsField.GUEST_RIP)).toBe(FieldWidth.Natural);
    expect(fieldKind(VmcsField.GUEST_RIP)).toBe(FieldKind.Guest);
    expect(fieldIndex(VmcsField.GUEST_RIP)).toBe(15);
    expect(fieldWidth(VmcsField.EPT_POINTER)).toBe(FieldWidth.Bits64);
    expect(fieldIndex(VmcsField.EPT_POINTER)).toBe(13);
    expect(fieldKind(VmcsField.VM_EXIT_REASON)).toBe(FieldKind.ExitInfo);
    expect(fieldWidth(VmcsField.VM_EXIT_REASON)).toBe(FieldWidth.Bits32);
    expect(fieldWidth(VmcsField.GUEST_CS_SELECTOR)).toBe(FieldWidth.Bits16);
    expect(makeFieldEncoding(FieldWidth.Bits64, FieldKind.Control, 2, true)).toBe(0x2005);
  });

  it("counts the fields of each width and kind", () => {
    const counts = new Map<string, number>();
    for (const { encoding } of VMCS_FIELDS) {
      const key = `${fieldWidth(encoding)}/${fieldKind(encoding)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // 16-bit guest 11, host 7; 32-bit read-only 8; natural host 15; 64-bit read-only 1
    expect(counts.get(`${FieldWidth.Bits16}/${FieldKind.Guest}`)).toBe(11);
    expect(counts.get(`${FieldWidth.Bits16}/${FieldKind.Host}`)).toBe(7);
    expect(counts.get(`${FieldWidth.Bits32}/${FieldKind.ExitInfo}`)).toBe(8);
    expect(counts.get(`${FieldWidth.Natural}/${FieldKind.Host}`)).toBe(15);
    expect(counts.get(`${FieldWidth.Bits64}/${FieldKind.ExitInfo}`)).toBe(1);
    expect(counts.get(`${FieldWidth.Natural}/${FieldKind.ExitInfo}`)).toBe(6);
  });
});
