import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { tableIndex } from "./table-index.js";
import type { GuestPhysicalTranslator } from "./translator.js";
import { EptQualification, FaultKind, PageFaultError, Permission, type WalkResult } from "./walk-result.js";

/** The guest paging mode (SDM 4.1.1, Table 4-1). */
export const PagingMode = {
  /** 32-bit paging: CR4.PAE = 0; 4-KByte and (with CR4.PSE) 4-MByte pages, PSE-36. */
  Bits32: 0,
  /** PAE paging: CR4.PAE = 1, IA32_EFER.LMA = 0; the four PDPTEs come from the PDPTE registers. */
  Pae: 1,
  /** 4-level paging: 48-bit linear addresses. */
  Level4: 2,
  /** 5-level paging (CR4.LA57): 57-bit linear addresses. */
  Level5: 3,
} as const;

/** One of the {@link PagingMode} values. */
export type PagingMode = (typeof PagingMode)[keyof typeof PagingMode];

/**
 * Describes one access for {@link GuestPagingWalker.walk}: OR the bits together. `0` is a
 * supervisor-mode data read.
 */
export const GuestAccess = {
  /** A data read (no bit). */
  Read: 0,
  /** A data write. */
  Write: 1,
  /** An instruction fetch. */
  Fetch: 2,
  /** A user-mode access (CPL = 3). */
  User: 4,
  /** An implicit supervisor-mode access (GDT, IDT, TSS...): supervisor even at CPL 3; SMAP ignores EFLAGS.AC. */
  Implicit: 8,
  /** EFLAGS.AC = 1 (lets explicit supervisor accesses reach user-mode pages under SMAP). */
  Ac: 16,
} as const;

/** A combination of {@link GuestAccess} bits. */
export type GuestAccess = number;

const TWO32 = 2 ** 32;
const MAX_LEVELS = 5;

/**
 * The guest's own paging: 32-bit, PAE (with PDPTE registers), 4-level and 5-level (SDM vol. 3A
 * ch. 4). Set the control-register fields once per context, then call {@link GuestPagingWalker.walk}
 * per translation; a walk allocates nothing.
 *
 * Linear addresses are JS numbers: an unsigned 32-bit value for 32-bit and PAE paging, the
 * canonical address held signed (upper half negative) for 4- and 5-level paging; 5-level addresses
 * of magnitude 2^53 or more go through {@link GuestPagingWalker.walkHalves}.
 * Checking canonicality is the caller's job (a non-canonical address is #GP or #SS before paging).
 *
 * Accessed/dirty flags are set as part of a successful translation only: a walk that ends in a
 * fault writes nothing (the same choice as KVM's software walker; SDM 4.8 does not order them).
 */
export class GuestPagingWalker {
  /** The paging mode. */
  mode: PagingMode = PagingMode.Level4;
  /** CR3 (bits 11:0 — PCID or PWT/PCD — are ignored; PAE uses bits 31:5 at PDPTE load time). */
  cr3 = 0;
  /** CR0.WP: supervisor writes honour R/W. */
  wp = true;
  /** CR4.PSE: 4-MByte pages in 32-bit paging. */
  pse = true;
  /** IA32_EFER.NXE: bit 63 is execute-disable (otherwise reserved) in PAE and 4/5-level paging. */
  nxe = true;
  /** CR4.SMEP. */
  smep = false;
  /** CR4.SMAP. */
  smap = false;
  /** CR4.PKE: protection keys for user-mode pages (4/5-level paging). */
  pke = false;
  /** CR4.PKS: protection keys for supervisor-mode pages (4/5-level paging). */
  pks = false;
  /** The PKRU register. */
  pkru = 0;
  /** The IA32_PKRS MSR. */
  pkrs = 0;
  /** Whether 1-GByte pages are supported (CPUID.80000001H:EDX.Page1GB); otherwise PS in a PDPTE is reserved. */
  pages1G = true;
  /** PAE PDPTE registers: entry i is `pdptes[2i]` (low half) and `pdptes[2i + 1]` (high half); see {@link loadPdptes}. */
  readonly pdptes = new Uint32Array(8);
  /** Guest-physical addresses of the paging-structure entries the last walk read, top level first. */
  readonly entryAddresses = new Float64Array(MAX_LEVELS);
  /** Paging levels of the entries in {@link GuestPagingWalker.entryAddresses}. */
  readonly entryLevels = new Uint8Array(MAX_LEVELS);
  /** How many entries of {@link GuestPagingWalker.entryAddresses} the last walk filled. */
  entryCount = 0;
  /** Low 32 bits of the leaf entry of the last successful walk, as left in memory (A/D included). */
  leafEntryLo = 0;

  /**
   * Enables the paging-structure cache (SDM 4.10.3) for 4- and 5-level walks without a
   * translator: the upper entries (PML5E/PML4E, PDPTE, PDE) of the last successful walk to a
   * 4-KByte page are kept, so a walk in the same 2-MByte region reads only its PTE. Off by
   * default: whoever enables it must call {@link GuestPagingWalker.flushStructureCache} wherever
   * the TLB is invalidated (MOV to CR3, INVLPG, INVPCID, CR0/CR4/EFER changes), since — as on
   * hardware — changes to cached upper entries are not seen until then. A walk that faults
   * empties it.
   */
  structureCache = false;
  // The cache: valid flag, key (linear bits 63:32 and 31:21, CR3, mode), the page table's
  // address, the rights gathered over the upper entries, and those entries (A already set).
  private pscValid = false;
  private pscHi = 0;
  private pscLo21 = 0;
  private pscCr3 = 0;
  private pscMode = 0;
  private pscTable = 0;
  private pscRw = 0;
  private pscUs = 0;
  private pscXd = 0;
  private pscCount = 0;
  private readonly pscAddresses = new Float64Array(MAX_LEVELS);
  private readonly pscLows = new Uint32Array(MAX_LEVELS);
  private readonly pscLevels = new Uint8Array(MAX_LEVELS);
  // Whether entries 0..pscCount-1 of the entry arrays hold the cached path (no copy on a hit).
  private pscPathIntact = false;
  // Set when this walk reached a PTE through entries it read itself: finish() may cache them.
  private pscFill = false;

  /** Empties the paging-structure cache (see {@link GuestPagingWalker.structureCache}). */
  flushStructureCache(): void {
    this.pscValid = false;
  }

  private maxPhys = 52;
  private addrHiMask = 0xfffff;
  private readonly entry = new Uint32Array(2);
  private readonly hostAddresses = new Float64Array(MAX_LEVELS);
  private readonly entryLows = new Uint32Array(MAX_LEVELS);

  /** MAXPHYADDR (32..52): physical-address bits at or above it are reserved in entries. */
  get maxPhysAddr(): number {
    return this.maxPhys;
  }

  set maxPhysAddr(bits: number) {
    if (!Number.isInteger(bits) || bits < 32 || bits > 52) {
      throw new RangeError(`GuestPagingWalker: maxPhysAddr must be 32..52, got ${bits}`);
    }
    this.maxPhys = bits;
    this.pscValid = false;
    this.addrHiMask = 2 ** (bits - 32) - 1;
  }

  /**
   * Translates `gva` for `access` ({@link GuestAccess} bits); `gva` must be a safe integer (see
   * {@link GuestPagingWalker.walkHalves} for the rest of the 5-level space). Reads the tables from `mem`, through
   * `translator` when one is given (2-D walk). Returns `out.ok`; on failure `out.fault` says
   * whether it was a #PF of the guest or an EPT fault reported by the translator.
   * @throws RangeError when `gva` is outside the range the mode accepts (an emulator bug).
   */
  walk(
    mem: PhysicalMemory,
    gva: number,
    access: GuestAccess,
    out: WalkResult,
    translator: GuestPhysicalTranslator | null = null,
  ): boolean {
    if (this.mode <= PagingMode.Pae) {
      if (!(gva >= 0 && gva <= 0xffff_ffff)) throw new RangeError(`linear address out of range: ${gva}`);
    } else if (!Number.isSafeInteger(gva)) {
      throw new RangeError(`linear address is not a safe integer: ${gva}`);
    }
    return this.walkHalves(mem, Math.floor(gva / TWO32) | 0, gva >>> 0, access, out, translator);
  }

  /**
   * {@link GuestPagingWalker.walk} for a linear address given as two 32-bit halves: use it for
   * 5-level addresses whose magnitude reaches 2^53, which a JS number cannot hold exactly. `hi` is
   * bits 63:32 (signed or unsigned), `lo` bits 31:0; `out.faultAddress` is then `hi * 2^32 + lo`,
   * rounded when it is not a safe integer.
   */
  walkHalves(
    mem: PhysicalMemory,
    hi: number,
    lo: number,
    access: GuestAccess,
    out: WalkResult,
    translator: GuestPhysicalTranslator | null = null,
  ): boolean {
    out.reset();
    this.entryCount = 0;
    this.pscFill = false;
    const mode = this.mode;
    lo >>>= 0;
    hi |= 0;
    const gva = hi * TWO32 + lo;
    if (mode === PagingMode.Bits32) {
      this.pscPathIntact = false;
      return this.walk32(mem, lo, access, out, translator);
    }
    const addrHiMask = this.addrHiMask;
    const rsvdHi =
      (mode === PagingMode.Pae ? 0x7fff_ffff & ~addrHiMask : 0x000f_ffff & ~addrHiMask) |
      (this.nxe ? 0 : 0x8000_0000);
    let level: number;
    let tableGpa: number;
    if (mode === PagingMode.Pae) {
      const i = (lo >>> 30) << 1;
      const plo = this.pdptes[i]!;
      if ((plo & 1) === 0) return this.pageFault(out, gva, access, 0, 3, 0);
      tableGpa = (this.pdptes[i + 1]! & addrHiMask) * TWO32 + ((plo & 0xffff_f000) >>> 0);
      level = 2;
    } else {
      level = mode === PagingMode.Level5 ? 5 : 4;
      const cr3 = this.cr3;
      tableGpa = (Math.floor(cr3 / TWO32) & addrHiMask) * TWO32 + ((cr3 & 0xffff_f000) >>> 0);
    }
    const e = this.entry;
    let refs = 0;
    let n = 0;
    let rw = 1;
    let us = 1;
    let xd = 0;
    if (
      translator === null &&
      this.pscValid &&
      this.structureCache &&
      this.pscLo21 === lo >>> 21 &&
      this.pscHi === hi &&
      this.pscCr3 === this.cr3 &&
      this.pscMode === mode
    ) {
      // Paging-structure cache hit (SDM 4.10.3.2): start at the PTE with the cached rights. The
      // upper entries are recorded as if read (unless the last walks left them in place).
      n = this.pscCount;
      if (!this.pscPathIntact) {
        for (let i = 0; i < n; i++) {
          const a = this.pscAddresses[i]!;
          this.entryAddresses[i] = a;
          this.hostAddresses[i] = a;
          this.entryLows[i] = this.pscLows[i]!;
          this.entryLevels[i] = this.pscLevels[i]!;
        }
        this.pscPathIntact = true;
      }
      this.entryCount = n;
      rw = this.pscRw;
      us = this.pscUs;
      xd = this.pscXd;
      tableGpa = this.pscTable;
      level = 1;
    } else {
      if (translator !== null) this.pscValid = false;
      this.pscPathIntact = false; // this walk records its own upper entries
    }
    for (;;) {
      const index = tableIndex(hi, lo, level);
      const entryGpa = tableGpa + index * 8;
      let entryAddr = entryGpa;
      if (translator !== null) {
        entryAddr = translator.translate(
          mem,
          entryGpa,
          EptQualification.Read,
          EptQualification.LinearValid,
          out,
        );
        if (entryAddr < 0) return this.translatorFault(out, level, refs);
      }
      mem.read64(entryAddr, AccessKind.PageWalk, e, 0);
      refs++;
      const elo = e[0]!;
      const ehi = e[1]!;
      this.record(n++, entryGpa, entryAddr, elo, level);
      if ((elo & 1) === 0) return this.pageFault(out, gva, access, 0, level, refs);
      if ((ehi & rsvdHi) !== 0) return this.pageFault(out, gva, access, PageFaultError.Reserved, level, refs);
      rw &= elo >>> 1;
      us &= elo >>> 2;
      xd |= ehi >>> 31;
      let size = 0;
      let baseLo = 0;
      if (level === 1) {
        size = 4096;
        baseLo = (elo & 0xffff_f000) >>> 0;
      } else if ((elo & 0x80) !== 0) {
        if (level === 2) {
          if ((elo & 0x001f_e000) !== 0)
            return this.pageFault(out, gva, access, PageFaultError.Reserved, 2, refs);
          size = 0x20_0000;
          baseLo = (elo & 0xffe0_0000) >>> 0;
        } else if (level === 3 && this.pages1G) {
          if ((elo & 0x3fff_e000) !== 0)
            return this.pageFault(out, gva, access, PageFaultError.Reserved, 3, refs);
          size = 0x4000_0000;
          baseLo = (elo & 0xc000_0000) >>> 0;
        } else {
          // PS is reserved in PML5Es and PML4Es, and in PDPTEs without 1-GByte page support.
          return this.pageFault(out, gva, access, PageFaultError.Reserved, level, refs);
        }
      }
      if (size !== 0) {
        const gpa = (ehi & addrHiMask) * TWO32 + baseLo + (lo & (size - 1));
        const pk = mode === PagingMode.Pae ? 0 : (ehi >>> 27) & 0xf;
        return this.finish(
          mem,
          gva,
          access,
          out,
          translator,
          n,
          rw & 1,
          us & 1,
          xd & 1,
          pk,
          gpa,
          size,
          level,
          refs,
        );
      }
      tableGpa = (ehi & addrHiMask) * TWO32 + ((elo & 0xffff_f000) >>> 0);
      level--;
      if (level === 1 && this.structureCache && translator === null && mode !== PagingMode.Pae) {
        this.pscFill = true;
        this.pscHi = hi;
        this.pscLo21 = lo >>> 21;
        this.pscTable = tableGpa;
        this.pscRw = rw;
        this.pscUs = us;
        this.pscXd = xd;
      }
    }
  }

  /** 32-bit paging (SDM 4.3): two levels of 4-byte entries, 4-MByte pages with PSE-36. */
  private walk32(
    mem: PhysicalMemory,
    gva: number,
    access: GuestAccess,
    out: WalkResult,
    translator: GuestPhysicalTranslator | null,
  ): boolean {
    const lo = gva >>> 0;
    let refs = 0;
    const pdeGpa = ((this.cr3 & 0xffff_f000) >>> 0) + ((lo >>> 22) << 2);
    let addr = pdeGpa;
    if (translator !== null) {
      addr = translator.translate(mem, pdeGpa, EptQualification.Read, EptQualification.LinearValid, out);
      if (addr < 0) return this.translatorFault(out, 2, refs);
    }
    const pde = mem.read32(addr, AccessKind.PageWalk);
    refs++;
    this.record(0, pdeGpa, addr, pde, 2);
    if ((pde & 1) === 0) return this.pageFault(out, gva, access, 0, 2, refs);
    if ((pde & 0x80) !== 0 && this.pse) {
      // 4-MByte page: bits 20:13 are physical-address bits 39:32 (PSE-36); bit 21 and the bits
      // at or above MAXPHYADDR are reserved (SDM 4.3, Table 4-4).
      const m = Math.min(this.maxPhys, 40);
      const rsvd = 0x003f_e000 & ~((1 << (m - 19)) - 1);
      if ((pde & rsvd) !== 0) return this.pageFault(out, gva, access, PageFaultError.Reserved, 2, refs);
      const gpa = ((pde >>> 13) & 0xff) * TWO32 + ((pde & 0xffc0_0000) >>> 0) + (lo & 0x3f_ffff);
      return this.finish(
        mem,
        gva,
        access,
        out,
        translator,
        1,
        (pde >>> 1) & 1,
        (pde >>> 2) & 1,
        0,
        0,
        gpa,
        0x40_0000,
        2,
        refs,
      );
    }
    const pteGpa = ((pde & 0xffff_f000) >>> 0) + ((lo >>> 12) & 0x3ff) * 4;
    addr = pteGpa;
    if (translator !== null) {
      addr = translator.translate(mem, pteGpa, EptQualification.Read, EptQualification.LinearValid, out);
      if (addr < 0) return this.translatorFault(out, 1, refs);
    }
    const pte = mem.read32(addr, AccessKind.PageWalk);
    refs++;
    this.record(1, pteGpa, addr, pte, 1);
    if ((pte & 1) === 0) return this.pageFault(out, gva, access, 0, 1, refs);
    const gpa = ((pte & 0xffff_f000) >>> 0) + (lo & 0xfff);
    return this.finish(
      mem,
      gva,
      access,
      out,
      translator,
      2,
      ((pde & pte) >>> 1) & 1,
      ((pde & pte) >>> 2) & 1,
      0,
      0,
      gpa,
      4096,
      1,
      refs,
    );
  }

  private record(i: number, gpa: number, hpa: number, lo: number, level: number): void {
    this.entryAddresses[i] = gpa;
    this.hostAddresses[i] = hpa;
    this.entryLows[i] = lo;
    this.entryLevels[i] = level;
    this.entryCount = i + 1;
  }

  /** Access-rights check (SDM 4.6), accessed/dirty updates (SDM 4.8) and the final translation. */
  private finish(
    mem: PhysicalMemory,
    gva: number,
    access: GuestAccess,
    out: WalkResult,
    translator: GuestPhysicalTranslator | null,
    n: number,
    rw: number,
    us: number,
    xd: number,
    pk: number,
    gpa: number,
    size: number,
    leafLevel: number,
    refs: number,
  ): boolean {
    const isWrite = (access & GuestAccess.Write) !== 0;
    const isFetch = (access & GuestAccess.Fetch) !== 0;
    const violation = this.rightsViolation(access, rw, us, xd);
    let pkViolation = false;
    if (!isFetch && this.mode >= PagingMode.Level4 && (us !== 0 ? this.pke : this.pks)) {
      const reg = us !== 0 ? this.pkru : this.pkrs;
      const ad = (reg >>> (pk * 2)) & 1;
      const wd = (reg >>> (pk * 2 + 1)) & 1;
      const userAccess = (access & (GuestAccess.User | GuestAccess.Implicit)) === GuestAccess.User;
      pkViolation = ad !== 0 || (isWrite && wd !== 0 && (userAccess || this.wp));
    }
    if (violation || pkViolation) {
      return this.pageFault(
        out,
        gva,
        access,
        PageFaultError.Present | (pkViolation ? PageFaultError.ProtectionKey : 0),
        leafLevel,
        refs,
      );
    }
    // Accessed flags on every entry used, dirty flag on the leaf for a write (SDM 4.8).
    for (let i = 0; i < n; i++) {
      const old = this.entryLows[i]!;
      const want = (old | 0x20 | (isWrite && i === n - 1 ? 0x40 : 0)) >>> 0;
      if (i === n - 1) this.leafEntryLo = want;
      if (want === old) continue;
      let addr = this.hostAddresses[i]!;
      if (translator !== null) {
        addr = translator.translate(
          mem,
          this.entryAddresses[i]!,
          EptQualification.Write,
          EptQualification.LinearValid,
          out,
        );
        if (addr < 0) return this.translatorFault(out, this.entryLevels[i]!, refs);
      }
      mem.write32(addr, want, AccessKind.PageWalk);
      refs++;
    }
    out.guestPhysical = gpa;
    out.pageSize = size;
    out.level = leafLevel;
    out.protectionKey = pk;
    const leafLo = this.entryLows[n - 1]!;
    out.global = (leafLo & 0x100) !== 0;
    out.patIndex = ((leafLo >>> (leafLevel === 1 ? 5 : 10)) & 4) | ((leafLo >>> 3) & 3);
    out.permissions =
      Permission.Read |
      (rw !== 0 ? Permission.Write : 0) |
      (xd === 0 ? Permission.Execute : 0) |
      (us !== 0 ? Permission.User : 0);
    if (translator === null) {
      out.address = gpa;
    } else {
      const eptAccess = isFetch
        ? EptQualification.Fetch
        : isWrite
          ? EptQualification.Write
          : EptQualification.Read;
      const linear =
        EptQualification.LinearValid |
        EptQualification.LinearTranslation |
        (us !== 0 ? EptQualification.UserLinear : 0) |
        (rw !== 0 ? EptQualification.WritableLinear : 0) |
        (xd !== 0 ? EptQualification.ExecuteDisableLinear : 0);
      const hpa = translator.translate(mem, gpa, eptAccess, linear, out);
      if (hpa < 0) return this.translatorFault(out, 0, refs);
      out.address = hpa;
      if (translator.pageSize < size) out.pageSize = translator.pageSize;
      out.memoryType = translator.memoryType;
      out.ignorePat = translator.ignorePat;
    }
    out.references += refs;
    out.ok = true;
    if (this.pscFill) this.fillStructureCache(n - 1);
    return true;
  }

  /** Keeps the `count` upper entries of this successful walk (their A flags now set). */
  private fillStructureCache(count: number): void {
    for (let i = 0; i < count; i++) {
      const low = (this.entryLows[i]! | 0x20) >>> 0; // finish() set the A flags
      this.entryLows[i] = low;
      this.pscAddresses[i] = this.entryAddresses[i]!;
      this.pscLows[i] = low;
      this.pscLevels[i] = this.entryLevels[i]!;
    }
    this.pscPathIntact = true; // the entry arrays now hold the cached path
    this.pscCount = count;
    this.pscCr3 = this.cr3;
    this.pscMode = this.mode;
    this.pscValid = true;
    this.pscFill = false;
  }

  /** True when the access rights of SDM 4.6.1 forbid the access (protection keys apart). */
  private rightsViolation(access: GuestAccess, rw: number, us: number, xd: number): boolean {
    const isWrite = (access & GuestAccess.Write) !== 0;
    const isFetch = (access & GuestAccess.Fetch) !== 0;
    if ((access & (GuestAccess.User | GuestAccess.Implicit)) === GuestAccess.User) {
      if (us === 0) return true;
      if (isFetch) return xd !== 0;
      return isWrite && rw === 0;
    }
    if (isFetch) return (us !== 0 && this.smep) || xd !== 0;
    if (us !== 0 && this.smap && ((access & GuestAccess.Implicit) !== 0 || (access & GuestAccess.Ac) === 0)) {
      return true;
    }
    return isWrite && rw === 0 && this.wp;
  }

  private pageFault(
    out: WalkResult,
    gva: number,
    access: GuestAccess,
    bits: number,
    level: number,
    refs: number,
  ): boolean {
    const isFetch = (access & GuestAccess.Fetch) !== 0;
    this.pscValid = false; // a #PF invalidates the paging-structure caches for the address (SDM 4.10.4.1)
    out.fault = FaultKind.PageFault;
    out.errorCode =
      bits |
      (bits & PageFaultError.Reserved ? PageFaultError.Present : 0) |
      ((access & GuestAccess.Write) !== 0 ? PageFaultError.Write : 0) |
      ((access & (GuestAccess.User | GuestAccess.Implicit)) === GuestAccess.User ? PageFaultError.User : 0) |
      (isFetch && (this.smep || (this.mode !== PagingMode.Bits32 && this.nxe)) ? PageFaultError.Fetch : 0);
    out.faultAddress = gva;
    out.level = level;
    out.references += refs;
    return false;
  }

  private translatorFault(out: WalkResult, guestLevel: number, refs: number): boolean {
    out.guestLevel = guestLevel;
    out.references += refs;
    return false;
  }
}
