import { EntryCtl, ExitCtl } from "./controls.js";
import {
  CR4_PAE,
  CR4_PCIDE,
  canon,
  check,
  EFER_LMA,
  EFER_LME,
  EFER_VALID,
  type EntryCheck,
  entryc,
  exitc,
  fixedOk,
  H,
  has,
  hi,
  lo,
  patOk,
  perfOk,
  withinWidth,
} from "./entry-check-support.js";
import { VmcsField as F } from "./vmcs-fields.js";

/** Checks on the host-state area and address-space size (SDM 27.2.2-27.2.4): VMfailValid(8). */
export const HOST_CHECKS: readonly EntryCheck[] = [
  // 27.2.2 host control registers and MSRs
  check(
    "host.cr0-fixed",
    "27.2.2",
    H,
    (c) =>
      fixedOk(lo(c, F.HOST_CR0), c.caps.features.cr0Fixed0, c.caps.features.cr0Fixed1) &&
      hi(c, F.HOST_CR0) === 0,
  ),
  check(
    "host.cr4-fixed",
    "27.2.2",
    H,
    (c) =>
      fixedOk(lo(c, F.HOST_CR4), c.caps.features.cr4Fixed0, c.caps.features.cr4Fixed1) &&
      hi(c, F.HOST_CR4) === 0,
  ),
  check("host.cr3-width", "27.2.2", H, (c) => withinWidth(c, hi(c, F.HOST_CR3))),
  check("host.sysenter-esp-canonical", "27.2.2", H, (c) => canon(c, F.HOST_IA32_SYSENTER_ESP)),
  check("host.sysenter-eip-canonical", "27.2.2", H, (c) => canon(c, F.HOST_IA32_SYSENTER_EIP)),
  check(
    "host.perf-global-ctrl",
    "27.2.2",
    H,
    (c) =>
      !has(exitc(c), ExitCtl.LoadPerfGlobalCtrl) ||
      perfOk(c, lo(c, F.HOST_IA32_PERF_GLOBAL_CTRL), hi(c, F.HOST_IA32_PERF_GLOBAL_CTRL)),
  ),
  check(
    "host.pat",
    "27.2.2",
    H,
    (c) => !has(exitc(c), ExitCtl.LoadPat) || patOk(lo(c, F.HOST_IA32_PAT), hi(c, F.HOST_IA32_PAT)),
  ),
  check(
    "host.efer-reserved",
    "27.2.2",
    H,
    (c) =>
      !has(exitc(c), ExitCtl.LoadEfer) ||
      ((lo(c, F.HOST_IA32_EFER) & ~EFER_VALID) === 0 && hi(c, F.HOST_IA32_EFER) === 0),
  ),
  check("host.efer-lma-lme", "27.2.2", H, (c) => {
    if (!has(exitc(c), ExitCtl.LoadEfer)) return true;
    const e = lo(c, F.HOST_IA32_EFER);
    const size = has(exitc(c), ExitCtl.HostAddrSpaceSize);
    return has(e, EFER_LMA) === size && has(e, EFER_LME) === size;
  }),
  // 27.2.3 host segment and descriptor-table registers
  check("host.selectors-rpl-ti", "27.2.3", H, (c) => {
    for (const f of [
      F.HOST_ES_SELECTOR,
      F.HOST_CS_SELECTOR,
      F.HOST_SS_SELECTOR,
      F.HOST_DS_SELECTOR,
      F.HOST_FS_SELECTOR,
      F.HOST_GS_SELECTOR,
      F.HOST_TR_SELECTOR,
    ]) {
      if ((lo(c, f) & 7) !== 0) return false;
    }
    return true;
  }),
  check("host.cs-selector-nonzero", "27.2.3", H, (c) => lo(c, F.HOST_CS_SELECTOR) !== 0),
  check("host.tr-selector-nonzero", "27.2.3", H, (c) => lo(c, F.HOST_TR_SELECTOR) !== 0),
  check(
    "host.ss-selector-nonzero",
    "27.2.3",
    H,
    (c) => has(exitc(c), ExitCtl.HostAddrSpaceSize) || lo(c, F.HOST_SS_SELECTOR) !== 0,
  ),
  check("host.bases-canonical", "27.2.3", H, (c) =>
    [F.HOST_FS_BASE, F.HOST_GS_BASE, F.HOST_GDTR_BASE, F.HOST_IDTR_BASE, F.HOST_TR_BASE].every((f) =>
      canon(c, f),
    ),
  ),
  // 27.2.4 address-space size
  check(
    "host.legacy-mode-no-ia32e",
    "27.2.4",
    H,
    (c) =>
      c.hostLongMode ||
      (!has(entryc(c), EntryCtl.Ia32eModeGuest) && !has(exitc(c), ExitCtl.HostAddrSpaceSize)),
  ),
  check(
    "host.long-mode-host-size",
    "27.2.4",
    H,
    (c) => !c.hostLongMode || has(exitc(c), ExitCtl.HostAddrSpaceSize),
  ),
  check(
    "host.size0-pcide",
    "27.2.4",
    H,
    (c) => has(exitc(c), ExitCtl.HostAddrSpaceSize) || (lo(c, F.HOST_CR4) & CR4_PCIDE) === 0,
  ),
  check(
    "host.size0-rip",
    "27.2.4",
    H,
    (c) => has(exitc(c), ExitCtl.HostAddrSpaceSize) || hi(c, F.HOST_RIP) === 0,
  ),
  check(
    "host.size1-pae",
    "27.2.4",
    H,
    (c) => !has(exitc(c), ExitCtl.HostAddrSpaceSize) || (lo(c, F.HOST_CR4) & CR4_PAE) !== 0,
  ),
  check(
    "host.size1-rip-canonical",
    "27.2.4",
    H,
    (c) => !has(exitc(c), ExitCtl.HostAddrSpaceSize) || canon(c, F.HOST_RIP),
  ),
];
