import { EntryCtl, ExitCtl, PinCtl, Proc2Ctl } from "./controls.js";
import { FieldKind, fieldKind } from "./field-encoding.js";
import { effectiveProc2 } from "./l1-routing.js";
import type { Vmcs } from "./vmcs.js";
import { VmcsField as F, VMCS_FIELDS } from "./vmcs-fields.js";

/** When a guest-state field is loaded on VM entry and saved on VM exit (SDM 27.3.2, 28.3). */
export interface GuestFieldRule {
  /** The guest-state field. */
  readonly encoding: number;
  /** True when VM entry loads it under the controls of `v`. */
  readonly load: (v: Vmcs) => boolean;
  /** True when VM exit saves it under the controls of `v`. */
  readonly save: (v: Vmcs) => boolean;
}

const yes = () => true;
const no = () => false;
const entry = (mask: number) => (v: Vmcs) => (v.get32(F.VM_ENTRY_CONTROLS) & mask) !== 0;
const exit = (mask: number) => (v: Vmcs) => (v.get32(F.VM_EXIT_CONTROLS) & mask) !== 0;
const p2 = (mask: number) => (v: Vmcs) => (effectiveProc2(v) & mask) !== 0;

const SPECIAL: Partial<Record<number, Omit<GuestFieldRule, "encoding">>> = {
  [F.VMCS_LINK_POINTER]: { load: no, save: no },
  [F.GUEST_IA32_DEBUGCTL]: { load: entry(EntryCtl.LoadDebugControls), save: exit(ExitCtl.SaveDebugControls) },
  [F.GUEST_DR7]: { load: entry(EntryCtl.LoadDebugControls), save: exit(ExitCtl.SaveDebugControls) },
  [F.GUEST_IA32_PAT]: { load: entry(EntryCtl.LoadPat), save: exit(ExitCtl.SavePat) },
  [F.GUEST_IA32_EFER]: { load: entry(EntryCtl.LoadEfer), save: exit(ExitCtl.SaveEfer) },
  [F.GUEST_IA32_PERF_GLOBAL_CTRL]: {
    load: entry(EntryCtl.LoadPerfGlobalCtrl),
    save: exit(ExitCtl.SavePerfGlobalCtrl),
  },
  [F.GUEST_IA32_BNDCFGS]: { load: entry(EntryCtl.LoadBndcfgs), save: no },
  [F.GUEST_IA32_RTIT_CTL]: { load: entry(EntryCtl.LoadRtitCtl), save: no },
  [F.GUEST_IA32_LBR_CTL]: { load: entry(EntryCtl.LoadLbrCtl), save: no },
  [F.GUEST_IA32_PKRS]: { load: entry(EntryCtl.LoadPkrs), save: no },
  [F.GUEST_S_CET]: { load: entry(EntryCtl.LoadCetState), save: no },
  [F.GUEST_SSP]: { load: entry(EntryCtl.LoadCetState), save: no },
  [F.GUEST_INTR_SSP_TABLE_ADDR]: { load: entry(EntryCtl.LoadCetState), save: no },
  [F.GUEST_PDPTE0]: { load: p2(Proc2Ctl.Ept), save: p2(Proc2Ctl.Ept) },
  [F.GUEST_PDPTE1]: { load: p2(Proc2Ctl.Ept), save: p2(Proc2Ctl.Ept) },
  [F.GUEST_PDPTE2]: { load: p2(Proc2Ctl.Ept), save: p2(Proc2Ctl.Ept) },
  [F.GUEST_PDPTE3]: { load: p2(Proc2Ctl.Ept), save: p2(Proc2Ctl.Ept) },
  [F.GUEST_INTERRUPT_STATUS]: { load: p2(Proc2Ctl.VirtIntrDelivery), save: p2(Proc2Ctl.VirtIntrDelivery) },
  [F.GUEST_PML_INDEX]: { load: no, save: no },
  [F.GUEST_UINV]: { load: no, save: no },
  [F.GUEST_SMBASE]: { load: no, save: no },
  [F.VMX_PREEMPTION_TIMER_VALUE]: {
    load: (v) => (v.get32(F.PIN_BASED_VM_EXEC_CONTROL) & PinCtl.PreemptionTimer) !== 0,
    save: exit(ExitCtl.SavePreemptionTimer),
  },
};

/** Every guest-state field with the rule that says when VM entry loads and VM exit saves it. */
export const GUEST_FIELD_RULES: readonly GuestFieldRule[] = VMCS_FIELDS.filter(
  (f) => fieldKind(f.encoding) === FieldKind.Guest,
).map((f) => ({
  encoding: f.encoding,
  load: SPECIAL[f.encoding]?.load ?? yes,
  save: SPECIAL[f.encoding]?.save ?? yes,
}));
