import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { tableIndex } from "./table-index.js";
import { EptQualification, FaultKind, type WalkResult } from "./walk-result.js";

/** What the EPT implementation supports (IA32_VMX_EPT_VPID_CAP and CPUID facts). */
export interface EptCapabilities {
  /** Execute-only translations (bits 2:0 = 100b); otherwise such entries are misconfigured. */
  readonly executeOnly: boolean;
  /** 2-MByte pages (bit 7 of an EPT PDE); otherwise that bit is reserved. */
  readonly pages2M: boolean;
  /** 1-GByte pages (bit 7 of an EPT PDPTE); otherwise that bit is reserved. */
  readonly pages1G: boolean;
  /** 5-level EPT (page-walk length 5). */
  readonly fiveLevel: boolean;
  /** Accessed and dirty flags for EPT (EPTP bit 6 may be set). */
  readonly accessedDirty: boolean;
  /** Advanced VM-exit information for EPT violations (qualification bits 9..11). */
  readonly advancedExitInfo: boolean;
  /** MAXPHYADDR (32..52): address bits at or above it are reserved in EPT entries and the EPTP. */
  readonly maxPhysAddr: number;
}

/** The capabilities of a modern implementation: everything on, MAXPHYADDR 46. */
export const defaultEptCapabilities: EptCapabilities = {
  executeOnly: true,
  pages2M: true,
  pages1G: true,
  fiveLevel: true,
  accessedDirty: true,
  advancedExitInfo: true,
  maxPhysAddr: 46,
};

/** EPT memory types (SDM 29.3.7); 2, 3 and 7 are reserved and misconfigure a leaf. */
export const EptMemoryType = {
  /** Uncacheable. */
  Uncacheable: 0,
  /** Write combining. */
  WriteCombining: 1,
  /** Write-through. */
  WriteThrough: 4,
  /** Write-protected. */
  WriteProtected: 5,
  /** Write-back. */
  WriteBack: 6,
} as const;

/**
 * Bits of an access for {@link EptWalker.walk}: the same values as exit-qualification bits 0..2.
 * Combine Read and Write for a guest paging-structure access when EPT A/D flags are on.
 */
export const EptAccess = {
  /** A data read (including reads of guest paging structures). */
  Read: 1,
  /** A data write (including guest accessed/dirty updates). */
  Write: 2,
  /** An instruction fetch. */
  Fetch: 4,
} as const;

/** A combination of {@link EptAccess} bits. */
export type EptAccess = number;

const TWO32 = 2 ** 32;

/**
 * An EPT walker (SDM vol. 3C ch. 29, "VMX support for address translation"): 4- and 5-level,
 * 2-MByte and 1-GByte pages, read/write/execute, execute-only, mode-based execute control,
 * accessed/dirty flags, memory types, misconfigurations and violations with their full exit
 * qualification. Load an EPTP with {@link EptWalker.setEptp}, then walk; a walk allocates nothing.
 *
 * Accessed/dirty flags are written only when the translation succeeds.
 */
export class EptWalker {
  /** The implementation's capabilities. */
  readonly caps: EptCapabilities;
  /** The "mode-based execute control for EPT" VM-execution control: bit 10 gates user-mode fetches. */
  mbec = false;
  /** Physical address of the top-level table (EPTP bits N-1:12). */
  root = 0;
  /** Page-walk length: 4 or 5. */
  levels = 4;
  /** EPTP bit 6: accessed and dirty flags enabled. */
  adEnabled = false;
  /** EPTP bits 2:0: the memory type used to access the EPT paging structures. */
  structureMemoryType = 6;
  /** Physical addresses of the entries the last walk read, top level first. */
  readonly entryAddresses = new Float64Array(5);
  /** How many entries of {@link EptWalker.entryAddresses} the last walk filled. */
  entryCount = 0;
  /** Low half of the last entry the last walk read (the leaf, on success). */
  lastEntryLo = 0;
  /** High half of the last entry the last walk read. */
  lastEntryHi = 0;

  private readonly addrHiMask: number;
  private readonly rsvdHi: number;
  private readonly entry = new Uint32Array(2);
  private readonly entryLows = new Uint32Array(5);

  /** @param caps capabilities; missing ones take {@link defaultEptCapabilities}. */
  constructor(caps: Partial<EptCapabilities> = {}) {
    this.caps = { ...defaultEptCapabilities, ...caps };
    const m = this.caps.maxPhysAddr;
    if (!Number.isInteger(m) || m < 32 || m > 52)
      throw new RangeError(`EptWalker: maxPhysAddr must be 32..52, got ${m}`);
    this.addrHiMask = 2 ** (m - 32) - 1;
    this.rsvdHi = 0x000f_ffff & ~this.addrHiMask;
  }

  /**
   * Loads an EPT pointer (SDM 25.6.11): memory type 0 or 6, page-walk length 4 (or 5 when
   * supported), A/D bit only when supported, bits 11:7 and those at or above MAXPHYADDR clear.
   * @returns false (nothing loaded) when the EPTP is invalid — the VM-entry check failure of SDM 27.2.1.1.
   */
  setEptp(eptp: number): boolean {
    if (!Number.isInteger(eptp) || eptp < 0 || eptp >= 2 ** this.caps.maxPhysAddr) return false;
    const lo = eptp >>> 0;
    const type = lo & 7;
    const walkLength = ((lo >>> 3) & 7) + 1;
    const ad = (lo & 0x40) !== 0;
    if (type !== 0 && type !== 6) return false;
    if (walkLength !== 4 && !(walkLength === 5 && this.caps.fiveLevel)) return false;
    if (ad && !this.caps.accessedDirty) return false;
    if ((lo & 0xf80) !== 0) return false;
    this.structureMemoryType = type;
    this.levels = walkLength;
    this.adEnabled = ad;
    this.root = eptp - (lo & 0xfff);
    return true;
  }

  /**
   * Translates guest-physical `gpa` for `access` ({@link EptAccess} bits). `linear` holds the
   * exit-qualification bits 7..11 to report (see {@link EptQualification}); bit 9 also tells
   * mode-based execute control whether a fetch is from a user-mode linear address.
   * @returns `out.ok`. Faults: {@link FaultKind.EptMisconfig} or {@link FaultKind.EptViolation}
   * with `out.qualification`, `out.faultAddress` (= gpa), `out.level` and `out.suppressVe`.
   * @throws RangeError when `gpa` is not an integer in [0, 2^52) (an emulator bug).
   */
  walk(mem: PhysicalMemory, gpa: number, access: EptAccess, out: WalkResult, linear = 0): boolean {
    out.reset();
    if (!(gpa >= 0 && gpa < 2 ** 52 && Number.isInteger(gpa)))
      throw new RangeError(`gpa out of range: ${gpa}`);
    const lo = gpa >>> 0;
    const hi = (gpa / TWO32) >>> 0;
    const mbec = this.mbec;
    const caps = this.caps;
    const addrHiMask = this.addrHiMask;
    const e = this.entry;
    let level = this.levels;
    let table = this.root;
    let perms = mbec ? 15 : 7;
    let refs = 0;
    let n = 0;
    let size = 0;
    let baseLo = 0;
    let elo = 0;
    let ehi = 0;
    for (;;) {
      const index = tableIndex(hi, lo, level);
      const addr = table + index * 8;
      mem.read64(addr, AccessKind.PageWalk, e, 0);
      refs++;
      elo = e[0]!;
      ehi = e[1]!;
      this.entryAddresses[n] = addr;
      this.entryLows[n] = elo;
      n++;
      const xu = mbec ? (elo >>> 7) & 8 : 0;
      perms &= (elo & 7) | (mbec ? xu : 8);
      if ((elo & 7) === 0 && xu === 0) {
        return this.violation(out, gpa, access, linear, 0, level, ehi, refs, n, elo);
      }
      // Misconfigurations (SDM 29.3.3.1).
      if (
        (elo & 3) === 2 ||
        (!caps.executeOnly && (elo & 1) === 0) ||
        (ehi & this.rsvdHi) !== 0 ||
        (level >= 4 && (elo & 0xf8) !== 0)
      ) {
        return this.misconfig(out, gpa, level, refs, n, elo, ehi);
      }
      if (level === 1) {
        size = 4096;
        baseLo = (elo & 0xffff_f000) >>> 0;
      } else if ((elo & 0x80) !== 0 && level <= 3) {
        if (
          level === 3 ? !caps.pages1G || (elo & 0x3fff_f000) !== 0 : !caps.pages2M || (elo & 0x1f_f000) !== 0
        ) {
          return this.misconfig(out, gpa, level, refs, n, elo, ehi);
        }
        size = level === 3 ? 0x4000_0000 : 0x20_0000;
        baseLo = (elo & (level === 3 ? 0xc000_0000 : 0xffe0_0000)) >>> 0;
      } else if ((elo & 0x78) !== 0) {
        return this.misconfig(out, gpa, level, refs, n, elo, ehi);
      }
      if (size !== 0) {
        const type = (elo >>> 3) & 7;
        if (type === 2 || type === 3 || type === 7) return this.misconfig(out, gpa, level, refs, n, elo, ehi);
        break;
      }
      table = (ehi & addrHiMask) * TWO32 + ((elo & 0xffff_f000) >>> 0);
      level--;
    }
    // Access rights (SDM 29.3.3.2): the AND over every entry used.
    const denied =
      ((access & EptAccess.Read) !== 0 && (perms & 1) === 0) ||
      ((access & EptAccess.Write) !== 0 && (perms & 2) === 0) ||
      ((access & EptAccess.Fetch) !== 0 &&
        (perms & (mbec && (linear & EptQualification.UserLinear) !== 0 ? 8 : 4)) === 0);
    if (denied) return this.violation(out, gpa, access, linear, perms, level, ehi, refs, n, elo);
    if (this.adEnabled) {
      // Accessed flag (bit 8) on every entry used; dirty flag (bit 9) on the leaf for a write (SDM 29.3.5).
      for (let i = 0; i < n; i++) {
        const old = this.entryLows[i]!;
        const want = (old | 0x100 | (i === n - 1 && (access & EptAccess.Write) !== 0 ? 0x200 : 0)) >>> 0;
        if (want !== old) {
          mem.write32(this.entryAddresses[i]!, want, AccessKind.PageWalk);
          refs++;
          if (i === n - 1) elo = want;
        }
      }
    }
    this.entryCount = n;
    this.lastEntryLo = elo;
    this.lastEntryHi = ehi;
    out.ok = true;
    out.address = (ehi & addrHiMask) * TWO32 + baseLo + (lo & (size - 1));
    out.guestPhysical = gpa;
    out.pageSize = size;
    out.level = level;
    out.permissions = perms;
    out.memoryType = (elo >>> 3) & 7;
    out.ignorePat = (elo & 0x40) !== 0;
    out.references = refs;
    return true;
  }

  private violation(
    out: WalkResult,
    gpa: number,
    access: number,
    linear: number,
    perms: number,
    level: number,
    ehi: number,
    refs: number,
    n: number,
    elo: number,
  ): boolean {
    let lin = 0;
    if ((linear & EptQualification.LinearValid) !== 0) {
      lin = linear & (EptQualification.LinearValid | EptQualification.LinearTranslation);
      if (this.caps.advancedExitInfo && (linear & EptQualification.LinearTranslation) !== 0) {
        lin |=
          linear &
          (EptQualification.UserLinear |
            EptQualification.WritableLinear |
            EptQualification.ExecuteDisableLinear);
      }
    }
    out.fault = FaultKind.EptViolation;
    out.qualification = (access & 7) | ((perms & 7) << 3) | (this.mbec ? (perms & 8) << 3 : 0) | lin;
    out.faultAddress = gpa;
    out.level = level;
    out.suppressVe = ehi >>> 31 === 1;
    out.references = refs;
    this.entryCount = n;
    this.lastEntryLo = elo;
    this.lastEntryHi = ehi;
    return false;
  }

  private misconfig(
    out: WalkResult,
    gpa: number,
    level: number,
    refs: number,
    n: number,
    elo: number,
    ehi: number,
  ): boolean {
    out.fault = FaultKind.EptMisconfig;
    out.faultAddress = gpa;
    out.level = level;
    out.references = refs;
    this.entryCount = n;
    this.lastEntryLo = elo;
    this.lastEntryHi = ehi;
    return false;
  }
}
