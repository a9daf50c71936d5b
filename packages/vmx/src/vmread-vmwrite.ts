import type { VmxCapabilities } from "./capabilities.js";
import { FieldKind, FieldWidth, fieldKind, fieldWidth } from "./field-encoding.js";
import { VmInstructionError } from "./instruction-error.js";
import { type Vmcs, vmcsSlot } from "./vmcs.js";

/**
 * VMREAD of one component (SDM vol. 3, "VMREAD" in chapter 32): the value, zero-extended, goes to
 * `out[0]` (low half) and `out[1]` (high half). A high-alias encoding reads the upper 32 bits of
 * its 64-bit field. `encodingHi` is bits 63:32 of the register that holds the encoding (0 outside
 * 64-bit mode); any bit set there names an unsupported component.
 *
 * @returns {@link VmInstructionError.None}, or {@link VmInstructionError.UnsupportedComponent}.
 */
export function vmread(
  vmcs: Vmcs,
  caps: VmxCapabilities,
  encoding: number,
  encodingHi: number,
  out: Uint32Array,
): VmInstructionError {
  if (encodingHi !== 0 || !caps.isFieldSupported(encoding)) return VmInstructionError.UnsupportedComponent;
  const slot = vmcsSlot(encoding);
  if ((encoding & 1) === 1) {
    out[0] = vmcs.data[slot * 2 + 1]!;
    out[1] = 0;
  } else {
    out[0] = vmcs.data[slot * 2]!;
    out[1] = vmcs.data[slot * 2 + 1]!;
  }
  return VmInstructionError.None;
}

/**
 * VMWRITE of one component (SDM vol. 3, "VMWRITE" in chapter 32): stores `hi:lo` truncated to the
 * field's width; a high-alias encoding writes only the upper 32 bits (from `lo`). A VM-exit
 * information field is writable only when IA32_VMX_MISC bit 29 ("VMWRITE to any field") is
 * offered.
 *
 * @returns {@link VmInstructionError.None}, {@link VmInstructionError.UnsupportedComponent} or
 *   {@link VmInstructionError.ReadOnlyComponent}.
 */
export function vmwrite(
  vmcs: Vmcs,
  caps: VmxCapabilities,
  encoding: number,
  encodingHi: number,
  lo: number,
  hi: number,
): VmInstructionError {
  if (encodingHi !== 0 || !caps.isFieldSupported(encoding)) return VmInstructionError.UnsupportedComponent;
  if (fieldKind(encoding) === FieldKind.ExitInfo && !caps.features.misc.vmwriteAnyField) {
    return VmInstructionError.ReadOnlyComponent;
  }
  const slot = vmcsSlot(encoding);
  if ((encoding & 1) === 1) {
    vmcs.data[slot * 2 + 1] = lo >>> 0;
    return VmInstructionError.None;
  }
  const w = fieldWidth(encoding);
  vmcs.data[slot * 2] = (w === FieldWidth.Bits16 ? lo & 0xffff : lo) >>> 0;
  vmcs.data[slot * 2 + 1] = w === FieldWidth.Bits64 || w === FieldWidth.Natural ? hi >>> 0 : 0;
  return VmInstructionError.None;
}
