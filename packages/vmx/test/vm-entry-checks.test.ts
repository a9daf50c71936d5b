import { describe, expect, it } from "vitest";
import {
  checkVmEntry,
  DEFAULT_VMX_FEATURES,
  ENTRY_CHECKS,
  type EntryCheckContext,
  type EntryCheckResult,
  EntryCtl,
  EntryStage,
  ExitCtl,
  VmcsField as F,
  fillLongModeVmcs,
  PinCtl,
  Proc2Ctl,
  ProcCtl,
  Vmcs,
  VmxCapabilities,
} from "../src/index.js";
import { caps, FakeCpu } from "./fake-processor.js";

interface Ctx {
  vmcs: Vmcs;
  caps: VmxCapabilities;
  mem: FakeCpu["memory"];
  hostLongMode: boolean;
}

function base(): Ctx {
  const vmcs = new Vmcs();
  fillLongModeVmcs(vmcs, caps, {
    hostRip: 0x10_0000,
    hostRsp: 0x20_0000,
    hostCr3: 0x1000,
    guestRip: 0x40_0000,
    guestRsp: 0x50_0000,
    guestCr3: 0x2000,
  });
  return { vmcs, caps, mem: new FakeCpu().memory, hostLongMode: true };
}

const on = (c: Ctx, f: number, mask: number) => c.vmcs.set(f, c.vmcs.get32(f) | mask, c.vmcs.getHi(f));
const off = (c: Ctx, f: number, mask: number) => c.vmcs.set(f, c.vmcs.get32(f) & ~mask, c.vmcs.getHi(f));
const set = (c: Ctx, f: number, lo: number, hi = 0) => c.vmcs.set(f, lo, hi);
const sec = (c: Ctx, proc2: number) => {
  on(c, F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.SecondaryControls);
  set(c, F.SECONDARY_VM_EXEC_CONTROL, proc2);
};
const tpr = (c: Ctx) => {
  on(c, F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.TprShadow);
  set(c, F.VIRTUAL_APIC_PAGE_ADDR, 0x3000);
};
const VALID_EPTP = 0x7000 | 6 | (3 << 3);
const unrestricted = (c: Ctx) => {
  sec(c, Proc2Ctl.UnrestrictedGuest | Proc2Ctl.Ept);
  set(c, F.EPT_POINTER, VALID_EPTP);
};
const hostLegacy = (c: Ctx) => {
  c.hostLongMode = false;
  off(c, F.VM_EXIT_CONTROLS, ExitCtl.HostAddrSpaceSize);
  off(c, F.VM_ENTRY_CONTROLS, EntryCtl.Ia32eModeGuest);
};
const inject = (c: Ctx, type: number, vector: number, errorCode = false) =>
  set(c, F.VM_ENTRY_INTR_INFO, (0x8000_0000 | (type << 8) | vector | (errorCode ? 0x800 : 0)) >>> 0);
const SEGS = ["es", "cs", "ss", "ds", "fs", "gs"] as const;
const segAr = (_c: Ctx, s: number) => F.GUEST_ES_AR_BYTES + 2 * s;
/** A 32-bit protected-mode guest in virtual-8086 mode with valid V86 segments. */
const v86 = (c: Ctx) => {
  off(c, F.VM_ENTRY_CONTROLS, EntryCtl.Ia32eModeGuest);
  set(c, F.GUEST_RFLAGS, 0x2_0002);
  for (let s = 0; s < 6; s++) {
    set(c, F.GUEST_ES_SELECTOR + 2 * s, 0x1000 + s);
    set(c, F.GUEST_ES_BASE + 2 * s, (0x1000 + s) * 16);
    set(c, F.GUEST_ES_LIMIT + 2 * s, 0xffff);
    set(c, segAr(c, s), 0xf3);
  }
};
const ldtrUsable = (c: Ctx) => {
  set(c, F.GUEST_LDTR_AR_BYTES, 0x82);
  set(c, F.GUEST_LDTR_LIMIT, 0);
};
const NONCANON = 0x1_0000;

/** One way to break each check — and only that check. */
const BREAKERS: Record<string, (c: Ctx) => void> = {
  "ctl.pin.reserved": (c) => off(c, F.PIN_BASED_VM_EXEC_CONTROL, 2),
  "ctl.proc.reserved": (c) => on(c, F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.TertiaryControls),
  "ctl.proc2.reserved": (c) => sec(c, Proc2Ctl.EnclsExiting),
  "ctl.cr3-target-count": (c) => set(c, F.CR3_TARGET_COUNT, 5),
  "ctl.io-bitmaps": (c) => {
    on(c, F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.UseIoBitmaps);
    set(c, F.IO_BITMAP_A, 0x1001);
    set(c, F.IO_BITMAP_B, 0x2000);
  },
  "ctl.msr-bitmap": (c) => {
    on(c, F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.UseMsrBitmaps);
    set(c, F.MSR_BITMAP, 0x1000, 1 << 20);
  },
  "ctl.virtual-apic-address": (c) => {
    tpr(c);
    set(c, F.VIRTUAL_APIC_PAGE_ADDR, 0x3004);
  },
  "ctl.tpr-threshold-high": (c) => {
    tpr(c);
    set(c, F.TPR_THRESHOLD, 0x10);
  },
  "ctl.tpr-threshold-vtpr": (c) => {
    tpr(c);
    c.mem.write8(0x3080, 0x40, 1);
    set(c, F.TPR_THRESHOLD, 5);
  },
  "ctl.no-tpr-shadow-apic-virt": (c) => sec(c, Proc2Ctl.VirtX2apic),
  "ctl.virtual-nmis-need-nmi-exiting": (c) => on(c, F.PIN_BASED_VM_EXEC_CONTROL, PinCtl.VirtualNmis),
  "ctl.nmi-window-needs-virtual-nmis": (c) => on(c, F.CPU_BASED_VM_EXEC_CONTROL, ProcCtl.NmiWindowExiting),
  "ctl.apic-access-address": (c) => {
    sec(c, Proc2Ctl.VirtApicAccesses);
    set(c, F.APIC_ACCESS_ADDR, 0x5008);
  },
  "ctl.x2apic-excludes-apic-access": (c) => {
    tpr(c);
    sec(c, Proc2Ctl.VirtX2apic | Proc2Ctl.VirtApicAccesses);
    set(c, F.APIC_ACCESS_ADDR, 0x5000);
  },
  "ctl.vid-needs-ext-int-exiting": (c) => {
    tpr(c);
    sec(c, Proc2Ctl.VirtIntrDelivery);
  },
  "ctl.posted-interrupts": (c) => {
    tpr(c);
    sec(c, Proc2Ctl.VirtIntrDelivery);
    on(c, F.PIN_BASED_VM_EXEC_CONTROL, PinCtl.PostedInterrupts | PinCtl.ExtIntExiting);
    on(c, F.VM_EXIT_CONTROLS, ExitCtl.AckIntrOnExit);
    set(c, F.POSTED_INTR_NOTIFICATION_VECTOR, 0x1f2);
    set(c, F.POSTED_INTR_DESC_ADDR, 0x6000);
  },
  "ctl.vpid-nonzero": (c) => sec(c, Proc2Ctl.Vpid),
  "ctl.eptp": (c) => {
    sec(c, Proc2Ctl.Ept);
    set(c, F.EPT_POINTER, 0x7000 | 2 | (3 << 3));
  },
  "ctl.pml": (c) => {
    sec(c, Proc2Ctl.Pml);
    set(c, F.PML_ADDRESS, 0x8000);
  },
  "ctl.unrestricted-needs-ept": (c) => sec(c, Proc2Ctl.UnrestrictedGuest),
  "ctl.vmfunc-reserved": (c) => {
    sec(c, Proc2Ctl.Vmfunc);
    set(c, F.VM_FUNCTION_CONTROLS, 2);
  },
  "ctl.vmfunc-eptp-switching": (c) => {
    sec(c, Proc2Ctl.Vmfunc);
    set(c, F.VM_FUNCTION_CONTROLS, 1);
  },
  "ctl.vmcs-shadowing-bitmaps": (c) => {
    sec(c, Proc2Ctl.VmcsShadowing);
    set(c, F.VMREAD_BITMAP, 0x9001);
    set(c, F.VMWRITE_BITMAP, 0xa000);
  },
  "ctl.exit.reserved": (c) => on(c, F.VM_EXIT_CONTROLS, ExitCtl.SecondaryControls),
  "ctl.exit.save-preemption-timer": (c) => on(c, F.VM_EXIT_CONTROLS, ExitCtl.SavePreemptionTimer),
  "ctl.exit.msr-store-area": (c) => {
    set(c, F.VM_EXIT_MSR_STORE_COUNT, 1);
    set(c, F.EXIT_MSR_STORE_ADDR, 0x1008);
  },
  "ctl.exit.msr-load-area": (c) => {
    set(c, F.VM_EXIT_MSR_LOAD_COUNT, 2);
    set(c, F.EXIT_MSR_LOAD_ADDR, 0xffff_fff0, (1 << 14) - 1); // runs past 2^46
  },
  "ctl.entry.reserved": (c) => on(c, F.VM_ENTRY_CONTROLS, EntryCtl.LoadBndcfgs),
  "ctl.entry.intr-type": (c) => inject(c, 1, 0x20),
  "ctl.entry.intr-vector": (c) => inject(c, 2, 3),
  "ctl.entry.intr-error-code": (c) => inject(c, 3, 13, false),
  "ctl.entry.intr-reserved": (c) =>
    set(c, F.VM_ENTRY_INTR_INFO, (0x8000_0000 | (3 << 8) | 6 | (1 << 20)) >>> 0),
  "ctl.entry.error-code-reserved": (c) => {
    inject(c, 3, 13, true);
    set(c, F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0x1_0000);
  },
  "ctl.entry.instruction-length": (c) => {
    inject(c, 4, 0x80);
    set(c, F.VM_ENTRY_INSTRUCTION_LEN, 16);
  },
  "ctl.entry.msr-load-area": (c) => {
    set(c, F.VM_ENTRY_MSR_LOAD_COUNT, 1);
    set(c, F.ENTRY_MSR_LOAD_ADDR, 0x1004);
  },
  "ctl.entry.smm": (c) => {
    c.caps = new VmxCapabilities({
      ...DEFAULT_VMX_FEATURES,
      entry: {
        ...DEFAULT_VMX_FEATURES.entry,
        allowed1: DEFAULT_VMX_FEATURES.entry.allowed1 | EntryCtl.EntryToSmm,
      },
    });
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.EntryToSmm);
  },
  "host.cr0-fixed": (c) => off(c, F.HOST_CR0, 0x20),
  "host.cr4-fixed": (c) => off(c, F.HOST_CR4, 0x2000),
  "host.cr3-width": (c) => set(c, F.HOST_CR3, 0x1000, 1 << 20),
  "host.sysenter-esp-canonical": (c) => set(c, F.HOST_IA32_SYSENTER_ESP, 0, NONCANON),
  "host.sysenter-eip-canonical": (c) => set(c, F.HOST_IA32_SYSENTER_EIP, 0, NONCANON),
  "host.perf-global-ctrl": (c) => {
    on(c, F.VM_EXIT_CONTROLS, ExitCtl.LoadPerfGlobalCtrl);
    set(c, F.HOST_IA32_PERF_GLOBAL_CTRL, 0x10, 0x7);
  },
  "guest.perf-global-ctrl": (c) => {
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.LoadPerfGlobalCtrl);
    set(c, F.GUEST_IA32_PERF_GLOBAL_CTRL, 0xf, 0x8);
  },
  "host.pat": (c) => {
    on(c, F.VM_EXIT_CONTROLS, ExitCtl.LoadPat);
    set(c, F.HOST_IA32_PAT, 0x0606_0602, 0x0606_0606);
  },
  "host.efer-reserved": (c) => {
    on(c, F.VM_EXIT_CONTROLS, ExitCtl.LoadEfer);
    set(c, F.HOST_IA32_EFER, 0x502);
  },
  "host.efer-lma-lme": (c) => {
    on(c, F.VM_EXIT_CONTROLS, ExitCtl.LoadEfer);
    set(c, F.HOST_IA32_EFER, 0x100);
  },
  "host.selectors-rpl-ti": (c) => set(c, F.HOST_DS_SELECTOR, 0x13),
  "host.cs-selector-nonzero": (c) => set(c, F.HOST_CS_SELECTOR, 0),
  "host.tr-selector-nonzero": (c) => set(c, F.HOST_TR_SELECTOR, 0),
  "host.ss-selector-nonzero": (c) => {
    hostLegacy(c);
    set(c, F.HOST_SS_SELECTOR, 0);
  },
  "host.bases-canonical": (c) => set(c, F.HOST_GS_BASE, 0, NONCANON),
  "host.legacy-mode-no-ia32e": (c) => {
    c.hostLongMode = false;
  },
  "host.long-mode-host-size": (c) => off(c, F.VM_EXIT_CONTROLS, ExitCtl.HostAddrSpaceSize),
  "host.size0-pcide": (c) => {
    hostLegacy(c);
    on(c, F.HOST_CR4, 1 << 17);
  },
  "host.size0-rip": (c) => {
    hostLegacy(c);
    set(c, F.HOST_RIP, 0, 1);
  },
  "host.size1-pae": (c) => off(c, F.HOST_CR4, 0x20),
  "host.size1-rip-canonical": (c) => set(c, F.HOST_RIP, 0, NONCANON),
  "guest.cr0-fixed": (c) => off(c, F.GUEST_CR0, 0x20),
  "guest.cr0-pg-needs-pe": (c) => {
    unrestricted(c);
    off(c, F.GUEST_CR0, 1);
  },
  "guest.cr4-fixed": (c) => off(c, F.GUEST_CR4, 0x2000),
  "guest.debugctl-reserved": (c) => {
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.LoadDebugControls);
    set(c, F.GUEST_IA32_DEBUGCTL, 4);
  },
  "guest.ia32e-needs-pg-pae": (c) => off(c, F.GUEST_CR4, 0x20),
  "guest.no-ia32e-no-pcide": (c) => {
    off(c, F.VM_ENTRY_CONTROLS, EntryCtl.Ia32eModeGuest);
    on(c, F.GUEST_CR4, 1 << 17);
  },
  "guest.cr3-width": (c) => set(c, F.GUEST_CR3, 0x2000, 1 << 20),
  "guest.dr7-high": (c) => {
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.LoadDebugControls);
    set(c, F.GUEST_DR7, 0x400, 1);
  },
  "guest.sysenter-esp-canonical": (c) => set(c, F.GUEST_SYSENTER_ESP, 0, NONCANON),
  "guest.sysenter-eip-canonical": (c) => set(c, F.GUEST_SYSENTER_EIP, 0, NONCANON),
  "guest.pat": (c) => {
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.LoadPat);
    set(c, F.GUEST_IA32_PAT, 0x0000_0300);
  },
  "guest.efer-reserved": (c) => {
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.LoadEfer);
    set(c, F.GUEST_IA32_EFER, 0x504);
  },
  "guest.efer-lma": (c) => {
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.LoadEfer);
    set(c, F.GUEST_IA32_EFER, 0x100);
  },
  "guest.tr.selector-ti": (c) => set(c, F.GUEST_TR_SELECTOR, 0x1c),
  "guest.ldtr.selector-ti": (c) => {
    ldtrUsable(c);
    set(c, F.GUEST_LDTR_SELECTOR, 0x24);
  },
  "guest.ss.rpl-equals-cs-rpl": (c) => {
    set(c, F.GUEST_SS_SELECTOR, 0x13);
    set(c, segAr(c, 2), 0xc0f3);
    set(c, segAr(c, 1), 0xa09f);
  },
  "guest.tr.base-canonical": (c) => set(c, F.GUEST_TR_BASE, 0, NONCANON),
  "guest.fs.base-canonical": (c) => set(c, F.GUEST_FS_BASE, 0, NONCANON),
  "guest.gs.base-canonical": (c) => set(c, F.GUEST_GS_BASE, 0, NONCANON),
  "guest.ldtr.base-canonical": (c) => {
    ldtrUsable(c);
    set(c, F.GUEST_LDTR_BASE, 0, NONCANON);
  },
  "guest.cs.base-high-zero": (c) => set(c, F.GUEST_CS_BASE, 0, 1),
  "guest.ss.base-high-zero": (c) => set(c, F.GUEST_SS_BASE, 0, 1),
  "guest.ds.base-high-zero": (c) => set(c, F.GUEST_DS_BASE, 0, 1),
  "guest.es.base-high-zero": (c) => set(c, F.GUEST_ES_BASE, 0, 1),
  "guest.cs.type": (c) => set(c, segAr(c, 1), 0xa098),
  "guest.ss.type": (c) => set(c, segAr(c, 2), 0xc091),
  "guest.cs.dpl": (c) => set(c, segAr(c, 1), 0xa0bb),
  "guest.ss.dpl-equals-rpl": (c) => {
    set(c, segAr(c, 2), 0xc0f3);
    set(c, segAr(c, 1), 0xa09f);
  },
  "guest.ss.dpl-zero-in-real-or-type3-cs": (c) => {
    unrestricted(c);
    set(c, segAr(c, 1), 0xa093);
    set(c, segAr(c, 2), 0xc0f3);
  },
  "guest.cs.db-with-l": (c) => set(c, segAr(c, 1), 0xe09b),
  "guest.tr.type": (c) => set(c, F.GUEST_TR_AR_BYTES, 0x83),
  "guest.tr.s-bit": (c) => set(c, F.GUEST_TR_AR_BYTES, 0x9b),
  "guest.tr.present": (c) => set(c, F.GUEST_TR_AR_BYTES, 0x0b),
  "guest.tr.ar-reserved": (c) => set(c, F.GUEST_TR_AR_BYTES, 0x18b),
  "guest.tr.granularity": (c) => set(c, F.GUEST_TR_AR_BYTES, 0x808b),
  "guest.tr.usable": (c) => set(c, F.GUEST_TR_AR_BYTES, 0x1008b),
  "guest.ldtr.type": (c) => set(c, F.GUEST_LDTR_AR_BYTES, 0x83),
  "guest.ldtr.s-bit": (c) => set(c, F.GUEST_LDTR_AR_BYTES, 0x92),
  "guest.ldtr.present": (c) => set(c, F.GUEST_LDTR_AR_BYTES, 0x02),
  "guest.ldtr.ar-reserved": (c) => set(c, F.GUEST_LDTR_AR_BYTES, 0x182),
  "guest.ldtr.granularity": (c) => {
    ldtrUsable(c);
    set(c, F.GUEST_LDTR_AR_BYTES, 0x8082);
  },
  "guest.gdtr-base-canonical": (c) => set(c, F.GUEST_GDTR_BASE, 0, NONCANON),
  "guest.idtr-base-canonical": (c) => set(c, F.GUEST_IDTR_BASE, 0, NONCANON),
  "guest.gdtr-limit": (c) => set(c, F.GUEST_GDTR_LIMIT, 0x1_0000),
  "guest.idtr-limit": (c) => set(c, F.GUEST_IDTR_LIMIT, 0x1_0000),
  "guest.rip": (c) => set(c, F.GUEST_RIP, 0, NONCANON),
  "guest.rflags-reserved": (c) => set(c, F.GUEST_RFLAGS, 0),
  "guest.rflags-vm": (c) => {
    v86(c);
    on(c, F.VM_ENTRY_CONTROLS, EntryCtl.Ia32eModeGuest);
  },
  "guest.rflags-if-for-ext-int": (c) => inject(c, 0, 0x30),
  "guest.activity-state": (c) => set(c, F.GUEST_ACTIVITY_STATE, 2),
  "guest.activity-hlt-needs-ss-dpl0": (c) => {
    set(c, F.GUEST_CS_SELECTOR, 0x0b);
    set(c, segAr(c, 1), 0xa09f);
    set(c, F.GUEST_SS_SELECTOR, 0x13);
    set(c, segAr(c, 2), 0xc0f3);
    set(c, F.GUEST_ACTIVITY_STATE, 1);
  },
  "guest.activity-with-sti-movss": (c) => {
    set(c, F.GUEST_RFLAGS, 0x202);
    set(c, F.GUEST_INTERRUPTIBILITY_INFO, 1);
    set(c, F.GUEST_ACTIVITY_STATE, 1);
  },
  "guest.activity-blocks-injection": (c) => {
    set(c, F.GUEST_ACTIVITY_STATE, 1);
    inject(c, 4, 0x80);
    set(c, F.VM_ENTRY_INSTRUCTION_LEN, 2);
  },
  "guest.interruptibility-reserved": (c) => set(c, F.GUEST_INTERRUPTIBILITY_INFO, 0x10),
  "guest.interruptibility-sti-and-movss": (c) => {
    set(c, F.GUEST_RFLAGS, 0x202);
    set(c, F.GUEST_INTERRUPTIBILITY_INFO, 3);
  },
  "guest.interruptibility-sti-needs-if": (c) => set(c, F.GUEST_INTERRUPTIBILITY_INFO, 1),
  "guest.interruptibility-ext-int": (c) => {
    set(c, F.GUEST_RFLAGS, 0x202);
    inject(c, 0, 0x30);
    set(c, F.GUEST_INTERRUPTIBILITY_INFO, 2);
  },
  "guest.interruptibility-nmi-movss": (c) => {
    inject(c, 2, 2);
    set(c, F.GUEST_INTERRUPTIBILITY_INFO, 2);
  },
  "guest.interruptibility-smi": (c) => set(c, F.GUEST_INTERRUPTIBILITY_INFO, 4),
  "guest.interruptibility-virtual-nmi": (c) => {
    on(c, F.PIN_BASED_VM_EXEC_CONTROL, PinCtl.NmiExiting | PinCtl.VirtualNmis);
    inject(c, 2, 2);
    set(c, F.GUEST_INTERRUPTIBILITY_INFO, 8);
  },
  "guest.pending-debug-reserved": (c) => set(c, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x10),
  "guest.pending-debug-bs": (c) => {
    set(c, F.GUEST_RFLAGS, 0x202);
    set(c, F.GUEST_INTERRUPTIBILITY_INFO, 1);
    set(c, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x4000);
  },
  "guest.vmcs-link-pointer": (c) => set(c, F.VMCS_LINK_POINTER, 0x9000),
  "guest.pdptes": (c) => {
    off(c, F.VM_ENTRY_CONTROLS, EntryCtl.Ia32eModeGuest);
    set(c, F.GUEST_CR3, 0xa000);
    c.mem.write32(0xa000, 0x3, 1);
  },
};
// segment checks generated per register
for (let s = 0; s < 6; s++) {
  const n = SEGS[s]!;
  const ar = (c: Ctx) => c.vmcs.get32(segAr(c, s));
  BREAKERS[`guest.${n}.v86-base`] = (c) => {
    v86(c);
    set(c, F.GUEST_ES_BASE + 2 * s, (0x1000 + s) * 16 + 1);
  };
  BREAKERS[`guest.${n}.v86-limit`] = (c) => {
    v86(c);
    set(c, F.GUEST_ES_LIMIT + 2 * s, 0xfffe);
  };
  BREAKERS[`guest.${n}.v86-ar`] = (c) => {
    v86(c);
    set(c, segAr(c, s), 0xf2);
  };
  BREAKERS[`guest.${n}.s-bit`] = (c) => set(c, segAr(c, s), ar(c) & ~0x10);
  BREAKERS[`guest.${n}.present`] = (c) => set(c, segAr(c, s), ar(c) & ~0x80);
  BREAKERS[`guest.${n}.ar-reserved`] = (c) => set(c, segAr(c, s), ar(c) | 0x100);
  BREAKERS[`guest.${n}.granularity`] = (c) => set(c, segAr(c, s), ar(c) & ~0x8000);
  if (n !== "cs" && n !== "ss") {
    BREAKERS[`guest.${n}.type`] = (c) => set(c, segAr(c, s), 0xc092);
    BREAKERS[`guest.${n}.dpl`] = (c) => set(c, F.GUEST_ES_SELECTOR + 2 * s, 0x13);
  }
}

function failing(c: Ctx): string[] {
  const ctx: EntryCheckContext = c;
  return ENTRY_CHECKS.filter((chk) => !chk.passes(ctx)).map((chk) => chk.id);
}

describe("VM-entry checks (SDM 27.2, 27.3)", () => {
  it("the template VMCS and the virtual-8086 variant pass every check", () => {
    expect(failing(base())).toEqual([]);
    const c = base();
    v86(c);
    expect(failing(c)).toEqual([]);
  });

  it("every check has a breaker, and ids are unique", () => {
    const ids = ENTRY_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => BREAKERS[id] === undefined)).toEqual([]);
    expect(ids.length).toBeGreaterThan(150);
  });

  for (const chk of ENTRY_CHECKS) {
    it(`${chk.id} (SDM ${chk.sdm}) fails alone, reported as the SDM says`, () => {
      const c = base();
      BREAKERS[chk.id]!(c);
      expect(failing(c)).toEqual([chk.id]);
      const r: EntryCheckResult = { failed: null, error: 0 };
      checkVmEntry(c, r);
      expect(r.failed?.id).toBe(chk.id);
      const expected = chk.stage === EntryStage.Controls ? 7 : chk.stage === EntryStage.Host ? 8 : 0;
      expect(r.error).toBe(expected);
      if (chk.id === "guest.vmcs-link-pointer") expect(r.failed?.qualification).toBe(4);
      else if (chk.id === "guest.pdptes") expect(r.failed?.qualification).toBe(2);
      else expect(r.failed?.qualification).toBe(0);
    });
  }
});

describe("canonical addresses follow the linear-address width", () => {
  it("a 48-bit non-canonical base is canonical with 57-bit linear addresses", () => {
    const c = base();
    set(c, F.GUEST_FS_BASE, 0, 0x1_0000); // bit 48 set
    expect(failing(c)).toEqual(["guest.fs.base-canonical"]);
    c.caps = new VmxCapabilities({ ...DEFAULT_VMX_FEATURES, linearAddressBits: 57 });
    expect(failing(c)).toEqual([]);
    set(c, F.GUEST_FS_BASE, 0, 0x0100_0000); // bit 56 set, 63:57 clear
    expect(failing(c)).toEqual(["guest.fs.base-canonical"]);
  });
});
