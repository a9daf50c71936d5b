import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import type { VmxCapabilities } from "./capabilities.js";
import { FieldKind, FieldWidth, fieldKind, fieldWidth } from "./field-encoding.js";
import { type Vmcs, vmcsSlot } from "./vmcs.js";
import { VmcsField as F, VMCS_FIELDS } from "./vmcs-fields.js";
import { storeVmcs12, vmcs12FieldOffset } from "./vmcs12-layout.js";
import type { VmxState } from "./vmx-state.js";

// VMCS shadowing offered to L1 (SDM 25.10): L0 points VMCS01's VMCS-link pointer at a shadow
// VMCS it owns and clears the VMREAD/VMWRITE-bitmap bits of the fields L1 may access without a
// VM exit. The shadow VMCS mirrors those fields of the cached VMCS12; L0 copies them into the
// shadow before resuming L1 and back when L1 exits on a VMX instruction that needs VMCS12.

/**
 * Fields L1 reads without a VM exit: every guest-state field, every VM-exit information field
 * and the controls a hypervisor reads on its exit path. Frequently read, rarely written (Intel
 * reports ~90% of fields are never read by a hypervisor; the ones that are, are these).
 */
export const SHADOW_READ_FIELDS: readonly number[] = VMCS_FIELDS.filter((f) => {
  const k = fieldKind(f.encoding);
  return k === FieldKind.Guest || k === FieldKind.ExitInfo;
})
  .map((f) => f.encoding)
  .concat([
    F.PIN_BASED_VM_EXEC_CONTROL,
    F.CPU_BASED_VM_EXEC_CONTROL,
    F.SECONDARY_VM_EXEC_CONTROL,
    F.VM_ENTRY_CONTROLS,
    F.VM_EXIT_CONTROLS,
    F.EXCEPTION_BITMAP,
    F.CR0_GUEST_HOST_MASK,
    F.CR4_GUEST_HOST_MASK,
    F.CR0_READ_SHADOW,
    F.CR4_READ_SHADOW,
    F.VM_ENTRY_INTR_INFO,
    F.VM_ENTRY_EXCEPTION_ERROR_CODE,
    F.VM_ENTRY_INSTRUCTION_LEN,
    F.TPR_THRESHOLD,
    F.TSC_OFFSET,
  ]);

/**
 * Fields L1 writes without a VM exit: the guest state a hypervisor updates on every exit (RIP,
 * RSP, RFLAGS, interruptibility, control registers, segments) and event injection. Controls stay
 * out: L0 re-merges VMCS02 only when a control changes, so it must see those writes.
 */
export const SHADOW_WRITE_FIELDS: readonly number[] = VMCS_FIELDS.filter(
  (f) => fieldKind(f.encoding) === FieldKind.Guest && f.encoding !== F.VMCS_LINK_POINTER,
)
  .map((f) => f.encoding)
  .concat([
    F.VM_ENTRY_INTR_INFO,
    F.VM_ENTRY_EXCEPTION_ERROR_CODE,
    F.VM_ENTRY_INSTRUCTION_LEN,
    F.CR0_READ_SHADOW,
    F.CR4_READ_SHADOW,
  ]);

/** Host pages L0 gives the shadowing machinery. */
export interface ShadowVmcsPages {
  /** The shadow VMCS region (4 KiB). */
  readonly shadowVmcs: number;
  /** The VMREAD bitmap (4 KiB). */
  readonly vmreadBitmap: number;
  /** The VMWRITE bitmap (4 KiB). */
  readonly vmwriteBitmap: number;
}

/**
 * Writes the VMREAD and VMWRITE bitmaps: 1 (exit) everywhere except the shadowed fields, and
 * initialises the shadow VMCS header (our revision id, shadow indicator set).
 */
export function initShadowVmcs(
  mem: PhysicalMemory,
  pages: ShadowVmcsPages,
  caps: VmxCapabilities,
  scratch: Vmcs,
): void {
  for (const [bitmap, fields] of [
    [pages.vmreadBitmap, SHADOW_READ_FIELDS],
    [pages.vmwriteBitmap, SHADOW_WRITE_FIELDS],
  ] as const) {
    for (let i = 0; i < 4096; i += 4) mem.write32(bitmap + i, 0xffff_ffff, AccessKind.Write);
    for (const enc of fields) {
      for (const e of [enc, enc | 1]) {
        if (!caps.isFieldSupported(e)) continue;
        const at = bitmap + (e >>> 3);
        mem.write8(at, mem.read8(at, AccessKind.Read) & ~(1 << (e & 7)), AccessKind.Write);
      }
    }
  }
  scratch.clearFields();
  scratch.revisionId = caps.revisionId;
  scratch.shadow = true;
  storeVmcs12(mem, pages.shadowVmcs, scratch);
}

const tmp = new Uint32Array(2);
const READ_SLOTS = Int32Array.from(SHADOW_READ_FIELDS, (e) => vmcsSlot(e));
const READ_OFFSETS = Int32Array.from(SHADOW_READ_FIELDS, (e) => vmcs12FieldOffset(e));
const WRITE_SLOTS = Int32Array.from(SHADOW_WRITE_FIELDS, (e) => vmcsSlot(e));
const WRITE_OFFSETS = Int32Array.from(SHADOW_WRITE_FIELDS, (e) => vmcs12FieldOffset(e));
const WRITE_LO_MASK = Uint32Array.from(SHADOW_WRITE_FIELDS, (e) =>
  fieldWidth(e) === FieldWidth.Bits16 ? 0xffff : 0xffff_ffff,
);
const WRITE_HAS_HI = Uint8Array.from(SHADOW_WRITE_FIELDS, (e) =>
  fieldWidth(e) === FieldWidth.Bits64 || fieldWidth(e) === FieldWidth.Natural ? 1 : 0,
);

/**
 * Copies the shadowed fields of the cached VMCS12 into the shadow VMCS (before L1 runs). With a
 * `mirror` (what the shadow VMCS holds, indexed like `Vmcs.data`), only the fields that differ
 * from it are written, and the mirror is updated.
 */
export function syncToShadow(
  mem: PhysicalMemory,
  shadowVmcs: number,
  vmcs12: Vmcs,
  mirror?: Uint32Array,
): void {
  const d = vmcs12.data;
  for (let i = 0; i < READ_SLOTS.length; i++) {
    const s = READ_SLOTS[i]! * 2;
    const lo = d[s]!;
    const hi = d[s + 1]!;
    if (mirror !== undefined) {
      if (mirror[s] === lo && mirror[s + 1] === hi) continue;
      mirror[s] = lo;
      mirror[s + 1] = hi;
    }
    mem.write64(shadowVmcs + READ_OFFSETS[i]!, lo, hi, AccessKind.Write);
  }
}

/**
 * Copies back only the fields named in `log` (the first `count` encodings of a
 * {@link VmxState.shadowWriteLog}), as {@link syncFromShadow} would.
 */
export function syncLoggedFromShadow(
  mem: PhysicalMemory,
  shadowVmcs: number,
  vmcs12: Vmcs,
  log: Int32Array,
  count: number,
  mirror: Uint32Array,
): void {
  const d = vmcs12.data;
  for (let i = 0; i < count; i++) {
    const enc = log[i]!;
    const slot = vmcsSlot(enc);
    mem.read64(shadowVmcs + vmcs12FieldOffset(enc), AccessKind.Read, tmp, 0);
    vmcs12.set(enc, tmp[0]!, tmp[1]!);
    mirror[slot * 2] = d[slot * 2]!;
    mirror[slot * 2 + 1] = d[slot * 2 + 1]!;
  }
}

/**
 * Copies the fields L1 may have written without an exit back into the cached VMCS12 (and into
 * `mirror`, when given: the shadow VMCS now holds exactly those values).
 */
export function syncFromShadow(
  mem: PhysicalMemory,
  shadowVmcs: number,
  vmcs12: Vmcs,
  mirror?: Uint32Array,
): void {
  const d = vmcs12.data;
  for (let i = 0; i < WRITE_SLOTS.length; i++) {
    mem.read64(shadowVmcs + WRITE_OFFSETS[i]!, AccessKind.Read, tmp, 0);
    const s = WRITE_SLOTS[i]! * 2;
    const lo = (tmp[0]! & WRITE_LO_MASK[i]!) >>> 0;
    const hi = WRITE_HAS_HI[i] === 1 ? tmp[1]! : 0;
    d[s] = lo;
    d[s + 1] = hi;
    if (mirror !== undefined) {
      mirror[s] = tmp[0]!;
      mirror[s + 1] = tmp[1]!;
    }
  }
}
