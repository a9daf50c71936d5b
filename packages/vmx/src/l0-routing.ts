import { PinCtl } from "./controls.js";
import { InterruptionType, interruptionType, interruptionVector } from "./exit-info.js";
import { EXIT_REASON_LIMIT, ExitReason } from "./exit-reason.js";
import type { NestedVmx } from "./nested-engine.js";
import type { VmExitRecord } from "./vm-exit-record.js";
import { VmcsField as F } from "./vmcs-fields.js";

/** One reason L0 keeps an L2 exit. */
export type L0Rule = (e: NestedVmx, exit: VmExitRecord) => boolean;

/** Why L0 keeps an exit of L2 before L1's controls are even consulted (KVM's l0_wants_exit). */
export const L0_RULES: (L0Rule | undefined)[] = new Array(EXIT_REASON_LIMIT).fill(undefined);
L0_RULES[ExitReason.ExceptionOrNmi] = (_e, x) =>
  interruptionType(x.interruptionInfo) === InterruptionType.Nmi ||
  interruptionVector(x.interruptionInfo) === 18;
L0_RULES[ExitReason.ExternalInterrupt] = () => true;
L0_RULES[ExitReason.EptViolation] = (e, x) => e.resolveEptFault(x);
L0_RULES[ExitReason.EptMisconfig] = (e, x) => e.resolveEptFault(x);
L0_RULES[ExitReason.PreemptionTimer] = (e) =>
  (e.vmcs12.get32(F.PIN_BASED_VM_EXEC_CONTROL) & PinCtl.PreemptionTimer) === 0;
L0_RULES[ExitReason.PmlFull] = () => true;
L0_RULES[ExitReason.Vmfunc] = (e, x) => e.emulateL2Vmfunc(x);
