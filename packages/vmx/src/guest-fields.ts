import { EntryCtl, ExitCtl, PinCtl, Proc2Ctl } from "./controls.js";
import { FieldKind, fieldKind } from "./field-encoding.js";
import { effectiveProc2 } from "./l1-routing.js";
import { type Vmcs, vmcsSlot } from "./vmcs.js";
import { VmcsField as F, VMCS_FIELDS } from "./vmcs-fields.js";

// When VM entry loads (SDM 27.3.2) and VM exit saves (SDM 28.3) each guest-state field, as data:
// a condition is a control word and a mask (the field moves when any masked bit is 1).

/** Which control word a {@link GuestFieldCondition} tests. */
export const ControlWord = {
  /** Always true. */
  Always: 0,
  /** Never true. */
  Never: 1,
  /** Pin-based controls. */
  Pin: 2,
  /** Secondary processor-based controls (in effect). */
  Proc2: 3,
  /** VM-entry controls. */
  Entry: 4,
  /** VM-exit controls. */
  Exit: 5,
} as const;
/** One of the {@link ControlWord} values. */
export type ControlWord = (typeof ControlWord)[keyof typeof ControlWord];

/** "The field moves when `word` has any bit of `mask` set." */
export interface GuestFieldCondition {
  /** The control word tested. */
  readonly word: ControlWord;
  /** The bits that enable the move. */
  readonly mask: number;
}

/** When a guest-state field is loaded on VM entry and saved on VM exit. */
export interface GuestFieldRule {
  /** The guest-state field. */
  readonly encoding: number;
  /** Its slot in a {@link Vmcs}. */
  readonly slot: number;
  /** Condition for VM entry to load it. */
  readonly load: GuestFieldCondition;
  /** Condition for VM exit to save it. */
  readonly save: GuestFieldCondition;
}

const always: GuestFieldCondition = { word: ControlWord.Always, mask: 0 };
const never: GuestFieldCondition = { word: ControlWord.Never, mask: 0 };
const entry = (mask: number): GuestFieldCondition => ({ word: ControlWord.Entry, mask });
const exit = (mask: number): GuestFieldCondition => ({ word: ControlWord.Exit, mask });
const p2 = (mask: number): GuestFieldCondition => ({ word: ControlWord.Proc2, mask });

const SPECIAL: Partial<Record<number, readonly [GuestFieldCondition, GuestFieldCondition]>> = {
  [F.VMCS_LINK_POINTER]: [never, never],
  [F.GUEST_IA32_DEBUGCTL]: [entry(EntryCtl.LoadDebugControls), exit(ExitCtl.SaveDebugControls)],
  [F.GUEST_DR7]: [entry(EntryCtl.LoadDebugControls), exit(ExitCtl.SaveDebugControls)],
  [F.GUEST_IA32_PAT]: [entry(EntryCtl.LoadPat), exit(ExitCtl.SavePat)],
  [F.GUEST_IA32_EFER]: [entry(EntryCtl.LoadEfer), exit(ExitCtl.SaveEfer)],
  [F.GUEST_IA32_PERF_GLOBAL_CTRL]: [entry(EntryCtl.LoadPerfGlobalCtrl), exit(ExitCtl.SavePerfGlobalCtrl)],
  [F.GUEST_IA32_BNDCFGS]: [entry(EntryCtl.LoadBndcfgs), never],
  [F.GUEST_IA32_RTIT_CTL]: [entry(EntryCtl.LoadRtitCtl), never],
  [F.GUEST_IA32_LBR_CTL]: [entry(EntryCtl.LoadLbrCtl), never],
  [F.GUEST_IA32_PKRS]: [entry(EntryCtl.LoadPkrs), never],
  [F.GUEST_S_CET]: [entry(EntryCtl.LoadCetState), never],
  [F.GUEST_SSP]: [entry(EntryCtl.LoadCetState), never],
  [F.GUEST_INTR_SSP_TABLE_ADDR]: [entry(EntryCtl.LoadCetState), never],
  [F.GUEST_PDPTE0]: [p2(Proc2Ctl.Ept), p2(Proc2Ctl.Ept)],
  [F.GUEST_PDPTE1]: [p2(Proc2Ctl.Ept), p2(Proc2Ctl.Ept)],
  [F.GUEST_PDPTE2]: [p2(Proc2Ctl.Ept), p2(Proc2Ctl.Ept)],
  [F.GUEST_PDPTE3]: [p2(Proc2Ctl.Ept), p2(Proc2Ctl.Ept)],
  [F.GUEST_INTERRUPT_STATUS]: [p2(Proc2Ctl.VirtIntrDelivery), p2(Proc2Ctl.VirtIntrDelivery)],
  [F.GUEST_PML_INDEX]: [never, never],
  [F.GUEST_UINV]: [never, never],
  [F.GUEST_SMBASE]: [never, never],
  [F.VMX_PREEMPTION_TIMER_VALUE]: [
    { word: ControlWord.Pin, mask: PinCtl.PreemptionTimer },
    exit(ExitCtl.SavePreemptionTimer),
  ],
};

/** Every guest-state field with the conditions under which VM entry loads and VM exit saves it. */
export const GUEST_FIELD_RULES: readonly GuestFieldRule[] = VMCS_FIELDS.filter(
  (f) => fieldKind(f.encoding) === FieldKind.Guest,
).map((f) => {
  const special = SPECIAL[f.encoding];
  return {
    encoding: f.encoding,
    slot: vmcsSlot(f.encoding),
    load: special?.[0] ?? always,
    save: special?.[1] ?? always,
  };
});

const words = new Uint32Array(6);

/** Reads the control words of `v` that guest-field conditions test (into a shared scratch array). */
export function controlWords(v: Vmcs): Uint32Array {
  words[ControlWord.Always] = 0xffff_ffff;
  words[ControlWord.Never] = 0;
  words[ControlWord.Pin] = v.get32(F.PIN_BASED_VM_EXEC_CONTROL);
  words[ControlWord.Proc2] = effectiveProc2(v);
  words[ControlWord.Entry] = v.get32(F.VM_ENTRY_CONTROLS);
  words[ControlWord.Exit] = v.get32(F.VM_EXIT_CONTROLS);
  return words;
}

/** True when `c` holds for the control words `w` (from {@link controlWords}). */
export function conditionHolds(c: GuestFieldCondition, w: Uint32Array): boolean {
  return c.word === ControlWord.Always || (w[c.word]! & c.mask) !== 0;
}
