import { createRamSpace } from "@turtles/memory";
import { describe, expect, it } from "vitest";
import {
  BumpAllocator,
  EptBuilder,
  EptTranslatedMemory,
  EptTranslator,
  EptWalker,
  FaultKind,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  loadPdptes,
  PagingMode,
  Permission,
  EptQualification as Q,
  WalkResult,
} from "../src/index.js";

const MiB = 0x10_0000;
const RWX = Permission.Read | Permission.Write | Permission.Execute;
const GUEST_RAM = 0x40_0000; // guest-physical [0, 4 MiB) lives at host [4 MiB, 8 MiB)

function setup(mode: PagingMode = PagingMode.Level4, ad = false) {
  const { space: host } = createRamSpace(16 * MiB);
  const ept = new EptBuilder(host, new BumpAllocator(host, 8 * MiB, 12 * MiB));
  for (let gpa = 0; gpa < 4 * MiB; gpa += 4096) ept.map(gpa, GUEST_RAM + gpa, 4096, RWX);
  const eptWalker = new EptWalker();
  eptWalker.setEptp(ept.eptp(ad));
  const guestMem = new EptTranslatedMemory(host, eptWalker);
  const tables = new GuestPageTableBuilder(guestMem, mode, new BumpAllocator(guestMem, MiB, 4 * MiB));
  const guest = new GuestPagingWalker();
  guest.mode = mode;
  guest.cr3 = tables.root;
  const translator = new EptTranslator(eptWalker);
  return { host, ept, eptWalker, guestMem, tables, guest, translator, out: new WalkResult() };
}

describe("two-dimensional walk", () => {
  it("translates guest-virtual to host-physical with (n+1)(m+1)-1 references", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x3000, 4096);
    expect(s.guest.walk(s.host, 0x7000_0123, GuestAccess.Read, s.out, s.translator)).toBe(true);
    expect(s.out.address).toBe(GUEST_RAM + 0x3123);
    expect(s.out.guestPhysical).toBe(0x3123);
    // Second walk: all guest accessed flags are set, so no A/D writes.
    expect(s.guest.walk(s.host, 0x7000_0123, GuestAccess.Read, s.out, s.translator)).toBe(true);
    expect(s.out.references).toBe(24);
    expect(s.out.pageSize).toBe(4096);
    expect(s.out.memoryType).toBe(6);
  });

  it("reports the smaller page size of the two dimensions", () => {
    const s = setup();
    s.tables.map(0x40_0000, 0x20_0000, 2 * MiB);
    expect(s.guest.walk(s.host, 0x41_0000, GuestAccess.Read, s.out, s.translator)).toBe(true);
    expect(s.out.pageSize).toBe(4096);
    expect(s.out.address).toBe(GUEST_RAM + 0x21_0000);
  });

  it("still reports the guest's own #PF", () => {
    const s = setup();
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Write, s.out, s.translator)).toBe(false);
    expect(s.out.fault).toBe(FaultKind.PageFault);
    expect(s.out.level).toBe(4);
  });

  it("an EPT violation on a guest table read sets bit 7 and clears bit 8", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x3000, 4096);
    const pdeGpa = s.tables.entryAddress(0x7000_0000, 2);
    s.ept.unmap(pdeGpa - (pdeGpa % 4096));
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Fetch, s.out, s.translator)).toBe(false);
    expect(s.out.fault).toBe(FaultKind.EptViolation);
    expect(s.out.qualification).toBe(Q.Read | Q.LinearValid);
    expect(s.out.faultAddress).toBe(pdeGpa);
    expect(s.out.guestLevel).toBe(2);
    expect(s.out.level).toBe(1);
  });

  it("with EPT A/D on, guest table accesses are writes: bits 0 and 1 both set", () => {
    const s = setup(PagingMode.Level4, true);
    s.tables.map(0x7000_0000, 0x3000, 4096);
    const pteGpa = s.tables.entryAddress(0x7000_0000, 1);
    const page = pteGpa - (pteGpa % 4096);
    const eptPte = s.ept.entryAddress(page, 1);
    s.host.write32(eptPte, s.host.read32(eptPte, 0) & ~0x300, 0);
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Read, s.out, s.translator)).toBe(true);
    // The guest table read counted as a write: the EPT dirty flag of its page is set.
    expect(s.host.read32(eptPte, 0) & 0x300).toBe(0x300);
    s.ept.map(page, GUEST_RAM + page, 4096, Permission.Read);
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Read, s.out, s.translator)).toBe(false);
    expect(s.out.qualification).toBe(Q.Read | Q.Write | Q.Readable | Q.LinearValid);
    expect(s.out.guestLevel).toBe(1);
  });

  it("an accessed-flag update to a read-only guest table page is a write violation on a paging structure", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x3000, 4096);
    const pteGpa = s.tables.entryAddress(0x7000_0000, 1);
    const page = pteGpa - (pteGpa % 4096);
    s.ept.map(page, GUEST_RAM + page, 4096, Permission.Read);
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Read, s.out, s.translator)).toBe(false);
    expect(s.out.qualification).toBe(Q.Write | Q.Readable | Q.LinearValid);
    expect(s.out.faultAddress).toBe(pteGpa);
    expect(s.out.guestLevel).toBe(1);
  });

  it("a violation on the final address sets bits 7, 8 and the linear address's rights (9..11)", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x3000, 4096, { executeDisable: true });
    s.tables.map(0x7000_1000, 0x3000, 4096, { user: false, writable: false });
    s.ept.map(0x3000, GUEST_RAM + 0x3000, 4096, Permission.Read);
    expect(s.guest.walk(s.host, 0x7000_0010, GuestAccess.Write | GuestAccess.User, s.out, s.translator)).toBe(
      false,
    );
    expect(s.out.qualification).toBe(
      Q.Write |
        Q.Readable |
        Q.LinearValid |
        Q.LinearTranslation |
        Q.UserLinear |
        Q.WritableLinear |
        Q.ExecuteDisableLinear,
    );
    expect(s.out.faultAddress).toBe(0x3010);
    expect(s.out.guestLevel).toBe(0);
    expect(s.guest.walk(s.host, 0x7000_1000, GuestAccess.Fetch, s.out, s.translator)).toBe(false);
    expect(s.out.qualification).toBe(Q.Fetch | Q.Readable | Q.LinearValid | Q.LinearTranslation);
  });

  it("mode-based execute control uses the U/S of the guest translation", () => {
    const s = setup();
    s.eptWalker.mbec = true;
    s.tables.map(0x7000_0000, 0x3000, 4096);
    s.tables.map(0x7000_1000, 0x3000, 4096, { user: false });
    s.ept.map(0x3000, GUEST_RAM + 0x3000, 4096, Permission.Read | Permission.UserExecute);
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Fetch | GuestAccess.User, s.out, s.translator)).toBe(
      true,
    );
    expect(s.guest.walk(s.host, 0x7000_1000, GuestAccess.Fetch, s.out, s.translator)).toBe(false);
    expect(s.out.qualification & (Q.Executable | Q.UserExecutable)).toBe(Q.UserExecutable);
  });

  it("PDPTE loads go through the EPT with bit 7 clear, and are reads even with EPT A/D", () => {
    const s = setup(PagingMode.Pae, true);
    s.tables.map(0x1000, 0x3000, 4096);
    const pdpt = s.tables.root;
    s.ept.map(pdpt, GUEST_RAM + pdpt, 4096, Permission.Read, { accessed: true });
    expect(loadPdptes(s.host, s.guest, s.out, s.translator)).toBe(true);
    expect(s.out.references).toBe(20);
    s.ept.unmap(pdpt);
    expect(loadPdptes(s.host, s.guest, s.out, s.translator)).toBe(false);
    expect(s.out.fault).toBe(FaultKind.EptViolation);
    expect(s.out.qualification).toBe(Q.Read);
    expect(s.out.faultAddress).toBe(pdpt);
  });

  it("reports an EPT misconfiguration met on the way", () => {
    const s = setup();
    s.tables.map(0x7000_0000, 0x3000, 4096);
    const ea = s.ept.entryAddress(0x3000, 1);
    s.host.write32(ea, (s.host.read32(ea, 0) & ~7) | 2, 0);
    expect(s.guest.walk(s.host, 0x7000_0000, GuestAccess.Read, s.out, s.translator)).toBe(false);
    expect(s.out.fault).toBe(FaultKind.EptMisconfig);
    expect(s.out.faultAddress).toBe(0x3000);
  });
});
