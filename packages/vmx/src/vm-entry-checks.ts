import { type EntryCheck, type EntryCheckContext, EntryStage } from "./entry-check-support.js";
import { CONTROL_CHECKS } from "./entry-checks-controls.js";
import { GUEST_OTHER_CHECKS, GUEST_REGISTER_CHECKS } from "./entry-checks-guest.js";
import { HOST_CHECKS } from "./entry-checks-host.js";
import { SEGMENT_CHECKS } from "./entry-checks-segments.js";
import { VmInstructionError } from "./instruction-error.js";

// The checks VM entry performs, as data (Intel SDM vol. 3, 27.2 "Checks on VMX Controls and
// Host-State Area" and 27.3 "Checking and Loading Guest State"), in the SDM's order.

export {
  ActivityState,
  type EntryCheck,
  type EntryCheckContext,
  EntryFailureQual,
  EntryStage,
  Interruptibility,
  isCanonical,
  isValidEptp,
} from "./entry-check-support.js";

/** Every VM-entry check, in the order VM entry performs them. */
export const ENTRY_CHECKS: readonly EntryCheck[] = [
  ...CONTROL_CHECKS,
  ...HOST_CHECKS,
  ...GUEST_REGISTER_CHECKS,
  ...SEGMENT_CHECKS,
  ...GUEST_OTHER_CHECKS,
];

/** The result of {@link checkVmEntry}: which check failed, and how that is reported. */
export interface EntryCheckResult {
  /** The first failing check, or null when every check passed. */
  failed: EntryCheck | null;
  /** VMfailValid error number (7 or 8) for control and host failures, else 0. */
  error: VmInstructionError;
}

/**
 * Runs every VM-entry check in order and reports the first failure: controls -> VMfailValid(7),
 * host state -> VMfailValid(8), guest state -> exit reason 33 with the check's qualification.
 * `out` is reused (no allocation). With `controlsAndHostUnchanged` (the caller knows the control
 * and host-state fields are those of a VMCS that passed before), only the guest-state checks and
 * the control/host checks marked {@link EntryCheck.alwaysRecheck} run — same result, less work.
 */
export function checkVmEntry(
  ctx: EntryCheckContext,
  out: EntryCheckResult,
  controlsAndHostUnchanged = false,
): EntryCheckResult {
  for (const chk of ENTRY_CHECKS) {
    if (controlsAndHostUnchanged && chk.stage !== EntryStage.Guest && !chk.alwaysRecheck) continue;
    if (!chk.passes(ctx)) {
      out.failed = chk;
      out.error =
        chk.stage === EntryStage.Controls
          ? VmInstructionError.EntryInvalidControls
          : chk.stage === EntryStage.Host
            ? VmInstructionError.EntryInvalidHostState
            : VmInstructionError.None;
      return out;
    }
  }
  out.failed = null;
  out.error = VmInstructionError.None;
  return out;
}
