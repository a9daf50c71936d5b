/** What stopped a walk (or {@link FaultKind.None} when it produced a translation). */
export const FaultKind = {
  /** No fault: the walk produced a translation. */
  None: 0,
  /** A page fault (#PF) of the guest's own paging; see {@link WalkResult.errorCode}. */
  PageFault: 1,
  /** An EPT violation; see {@link WalkResult.qualification} and {@link WalkResult.faultAddress}. */
  EptViolation: 2,
  /** An EPT misconfiguration (a present EPT entry with a reserved setting, SDM 29.3.3.1). */
  EptMisconfig: 3,
  /** A general-protection fault: loading PAE PDPTE registers found a reserved bit set (SDM 4.4.1). */
  GeneralProtection: 4,
} as const;

/** One of the {@link FaultKind} values. */
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/**
 * Permission bits reported by walks in {@link WalkResult.permissions}. A guest walk reports
 * `Read` always, `Write` when R/W is 1 at every level, `Execute` when no level sets XD and `User`
 * when U/S is 1 at every level. An EPT walk reports the logical AND of bits 0 (read), 1 (write),
 * 2 (execute, or supervisor-mode execute under mode-based execute control) and 10 (user-mode
 * execute) over the entries it used.
 */
export const Permission = {
  /** Reads allowed. */
  Read: 1,
  /** Writes allowed. */
  Write: 2,
  /** Instruction fetches allowed (EPT: supervisor-mode fetches when mode-based execute control is on). */
  Execute: 4,
  /** EPT with mode-based execute control: fetches from user-mode linear addresses allowed (bit 10). */
  UserExecute: 8,
  /** Guest paging: the page is a user-mode page (U/S = 1 at every level). */
  User: 16,
} as const;

/** A combination of {@link Permission} bits. */
export type Permission = number;

/**
 * The reusable outcome of a walk. A walker overwrites every field it defines on each call, so one
 * instance can serve millions of walks without allocating.
 */
export class WalkResult {
  /** True when the walk produced a translation. */
  ok = false;
  /** Why the walk stopped, when {@link WalkResult.ok} is false. */
  fault: FaultKind = FaultKind.None;
  /**
   * The final physical address: for a one-dimensional walk the guest-physical address, for a walk
   * through a {@link GuestPhysicalTranslator} the host-physical address.
   */
  address = 0;
  /** The guest-physical address the guest's own paging produced (equal to `address` without a translator). */
  guestPhysical = 0;
  /** Size in bytes of the page that maps the address (for a 2-D walk, the smaller of the two). */
  pageSize = 0;
  /** Success: the level of the leaf entry (1 = PTE). Fault: the level of the entry that faulted. */
  level = 0;
  /** The {@link Permission} bits of the translation (see that type for guest vs EPT meaning). */
  permissions = 0;
  /** Guest 4/5-level paging: the protection key of the page (bits 62:59 of the leaf). */
  protectionKey = 0;
  /** Guest paging: the global flag (G, bit 8) of the leaf; it only matters when CR4.PGE = 1. */
  global = false;
  /** Guest paging: the leaf's PAT index, PAT:PCD:PWT (PAT is bit 7 of a PTE, bit 12 of a large-page leaf). */
  patIndex = 0;
  /** EPT: memory type of the leaf (bits 5:3), or -1 when no EPT leaf was reached. */
  memoryType = -1;
  /** EPT: the ignore-PAT bit (bit 6) of the leaf. */
  ignorePat = false;
  /** {@link FaultKind.PageFault}: the #PF error code (SDM 4.7, see {@link PageFaultError}). */
  errorCode = 0;
  /** {@link FaultKind.EptViolation}: the exit qualification (SDM Table 28-7, see {@link EptQualification}). */
  qualification = 0;
  /** The linear address for #PF (what CR2 receives); the guest-physical address for EPT faults. */
  faultAddress = 0;
  /**
   * For an EPT fault met during a guest walk: the guest paging level whose entry was being
   * accessed (1..5), or 0 when the fault hit the final guest-physical address.
   */
  guestLevel = 0;
  /** EPT violation: bit 63 (suppress #VE) of the EPT entry that caused it. */
  suppressVe = false;
  /** Memory references made by the walk: entry reads and accessed/dirty writes, at every dimension. */
  references = 0;

  /** Clears every field (walkers call this first). */
  reset(): void {
    this.ok = false;
    this.fault = FaultKind.None;
    this.address = 0;
    this.guestPhysical = 0;
    this.pageSize = 0;
    this.level = 0;
    this.permissions = 0;
    this.protectionKey = 0;
    this.global = false;
    this.patIndex = 0;
    this.memoryType = -1;
    this.ignorePat = false;
    this.errorCode = 0;
    this.qualification = 0;
    this.faultAddress = 0;
    this.guestLevel = 0;
    this.suppressVe = false;
    this.references = 0;
  }

  /** Copies every field of `from` into this result. */
  copyFrom(from: WalkResult): void {
    this.ok = from.ok;
    this.fault = from.fault;
    this.address = from.address;
    this.guestPhysical = from.guestPhysical;
    this.pageSize = from.pageSize;
    this.level = from.level;
    this.permissions = from.permissions;
    this.protectionKey = from.protectionKey;
    this.global = from.global;
    this.patIndex = from.patIndex;
    this.memoryType = from.memoryType;
    this.ignorePat = from.ignorePat;
    this.errorCode = from.errorCode;
    this.qualification = from.qualification;
    this.faultAddress = from.faultAddress;
    this.guestLevel = from.guestLevel;
    this.suppressVe = from.suppressVe;
    this.references = from.references;
  }
}

/** Bits of the page-fault error code (SDM 4.7, Figure 4-12). */
export const PageFaultError = {
  /** 0: not-present; 1: protection or reserved-bit violation. */
  Present: 1,
  /** The access was a write. */
  Write: 2,
  /** The access was a user-mode access (CPL 3, not an implicit supervisor access). */
  User: 4,
  /** A reserved bit was set in a paging-structure entry. */
  Reserved: 8,
  /** The access was an instruction fetch (only reported with SMEP, or PAE/4-level paging with NXE). */
  Fetch: 16,
  /** Protection-key violation. */
  ProtectionKey: 32,
} as const;

/** Bits of the exit qualification of an EPT violation (SDM 28.2.1, Table 28-7). */
export const EptQualification = {
  /** Bit 0: the access was a data read (also set with bit 1 for guest table accesses when EPT A/D is on). */
  Read: 1 << 0,
  /** Bit 1: the access was a data write. */
  Write: 1 << 1,
  /** Bit 2: the access was an instruction fetch. */
  Fetch: 1 << 2,
  /** Bit 3: AND of bit 0 (read) over the EPT entries used. */
  Readable: 1 << 3,
  /** Bit 4: AND of bit 1 (write) over the EPT entries used. */
  Writable: 1 << 4,
  /** Bit 5: AND of bit 2 (execute / supervisor-mode execute) over the EPT entries used. */
  Executable: 1 << 5,
  /** Bit 6: with mode-based execute control, AND of bit 10 (user-mode execute); otherwise 0. */
  UserExecutable: 1 << 6,
  /** Bit 7: the guest linear-address field is valid (clear only for PDPTE loads by MOV to CR). */
  LinearValid: 1 << 7,
  /** Bit 8 (with bit 7): 1 = access to the translation of a linear address; 0 = access to a guest paging-structure entry. */
  LinearTranslation: 1 << 8,
  /** Bit 9 (advanced info, with bits 7 and 8): the linear address is a user-mode address. */
  UserLinear: 1 << 9,
  /** Bit 10 (advanced info, with bits 7 and 8): the linear address is writable (R/W = 1 at every level). */
  WritableLinear: 1 << 10,
  /** Bit 11 (advanced info, with bits 7 and 8): the linear address is execute-disable. */
  ExecuteDisableLinear: 1 << 11,
  /** Bit 12: NMI unblocking due to IRET (set by the processor model, never by a walker). */
  NmiUnblocking: 1 << 12,
} as const;
