// The examples of README.md, kept true: when this file changes, update the README (and back).
import { readFileSync } from "node:fs";
import { createRamSpace } from "@turtles/memory";
import { expect, it } from "vitest";
import {
  BumpAllocator,
  EptAccess,
  EptBuilder,
  EptQualification,
  EptTranslatedMemory,
  EptTranslator,
  EptWalker,
  FaultKind,
  GuestAccess,
  GuestPageTableBuilder,
  GuestPagingWalker,
  HostPagePool,
  InveptType,
  PagingMode,
  Permission,
  ShadowEpt,
  ShadowResult,
  WalkResult,
} from "../src/index.js";

it("README: a guest walker and a 2-D walk from an emulator's point of view", () => {
  // Any PhysicalMemory works: here 16 MiB of RAM at physical address 0.
  const { space: memory } = createRamSpace(16 << 20);

  // Build guest page tables (an OS or a loader would; tests use the builder).
  const tables = new GuestPageTableBuilder(
    memory,
    PagingMode.Level4,
    new BumpAllocator(memory, 0x10_0000, 0x20_0000),
  );
  tables.map(0x7fff_f000, 0x30_0000, 4096, { user: true, writable: false });

  // The emulator's MMU: copy CR0.WP, CR3, CR4 and EFER.NXE in, then walk on each TLB miss.
  const walker = new GuestPagingWalker();
  walker.mode = PagingMode.Level4;
  walker.cr3 = tables.root;
  const result = new WalkResult(); // reused: a walk allocates nothing

  walker.walk(memory, 0x7fff_f123, GuestAccess.User, result);
  expect(result.ok).toBe(true);
  expect(result.address).toBe(0x30_0123);
  expect(result.references).toBe(8); // 4 entry reads + 4 accessed-flag writes

  walker.walk(memory, 0x7fff_f123, GuestAccess.User | GuestAccess.Write, result);
  expect(result.fault).toBe(FaultKind.PageFault);
  expect(result.errorCode).toBe(0b111); // P | W/R | U/S: deliver #PF with CR2 = result.faultAddress

  // The same walker in two dimensions: every table access and the final address go through an EPT.
  const ept = new EptBuilder(memory, new BumpAllocator(memory, 0x20_0000, 0x30_0000));
  ept.map(0, 0x80_0000, 0x20_0000, Permission.Read | Permission.Write | Permission.Execute); // tables
  ept.map(0x20_0000, 0xa0_0000, 0x20_0000, Permission.Read); // data: read-only
  const eptWalker = new EptWalker();
  eptWalker.setEptp(ept.eptp());
  // The guest's tables now live at guest-physical 0.. = host 0x80_0000..: copy them there.
  memory.writeBytes(0x80_0000, memory.ramView(0, 0x20_0000)!.slice(), 0);

  walker.walk(memory, 0x7fff_f123, GuestAccess.User, result, new EptTranslator(eptWalker));
  expect(result.address).toBe(0xb0_0123); // host-physical
  expect(result.guestPhysical).toBe(0x30_0123);

  walker.walk(memory, 0x7fff_f123, GuestAccess.Fetch, result, new EptTranslator(eptWalker));
  expect(result.fault).toBe(FaultKind.EptViolation); // a VM exit with this qualification:
  expect(result.qualification).toBe(
    EptQualification.Fetch |
      EptQualification.Readable |
      EptQualification.LinearValid |
      EptQualification.LinearTranslation |
      EptQualification.UserLinear,
  );
});

it("README: a shadow EPT02 from L0's point of view", () => {
  const { space: host, ram } = createRamSpace(32 << 20);
  // L0's EPT01 maps L1-physical [0, 16 MiB) to host [16 MiB, 32 MiB).
  const ept01 = new EptBuilder(host, new BumpAllocator(host, 0, 0x10_0000));
  const rwx = Permission.Read | Permission.Write | Permission.Execute;
  for (let a = 0; a < 16 << 20; a += 0x20_0000) ept01.map(a, (16 << 20) + a, 0x20_0000, rwx);
  const ept01Walker = new EptWalker();
  ept01Walker.setEptp(ept01.eptp());
  const l1Memory = new EptTranslatedMemory(host, ept01Walker); // L1-physical, as L0 sees it

  // L1 builds EPT12 in its own memory and loads EPTP12 into VMCS12.
  const ept12 = new EptBuilder(l1Memory, new BumpAllocator(l1Memory, 0, 0x10_0000));
  ept12.map(0x4000_0000, 0x40_0000, 0x1000, Permission.Read | Permission.Write);
  const ept12Walker = new EptWalker();
  ept12Walker.setEptp(ept12.eptp());

  // L0 keeps EPT02 in pages of its own (host [8 MiB, 12 MiB)); VMCS02 gets shadow.eptp02.
  const pool = new HostPagePool(ram, 0, 8 << 20, 1024);
  const shadow = new ShadowEpt({ pool, ept12: ept12Walker, ept01: ept01Walker, maxTablePages: 256 });
  const cpuEpt = new EptWalker(); // what the hardware walks for L2
  cpuEpt.setEptp(shadow.eptp02);

  // L2 reads 0x4000_0010: EPT02 is empty, so the CPU exits to L0 with an EPT violation...
  const exit = new WalkResult();
  expect(cpuEpt.walk(host, 0x4000_0010, EptAccess.Read, exit)).toBe(false);
  // ... and L0 fills EPT02 from EPT12 x EPT01, then resumes L2.
  const fill = new WalkResult();
  expect(shadow.fill(l1Memory, host, exit.faultAddress, exit.qualification & 7, 0, fill)).toBe(
    ShadowResult.Ok,
  );
  expect(cpuEpt.walk(host, 0x4000_0010, EptAccess.Read, exit)).toBe(true);
  expect(exit.address).toBe((16 << 20) + 0x40_0010);

  // A fetch: EPT12 forbids it, so the exit is reflected to L1 with EPT12's qualification.
  cpuEpt.walk(host, 0x4000_0010, EptAccess.Fetch, exit);
  expect(shadow.fill(l1Memory, host, exit.faultAddress, exit.qualification & 7, 0, fill)).toBe(
    ShadowResult.L1Fault,
  );
  expect(fill.qualification).toBe(
    EptQualification.Fetch | EptQualification.Readable | EptQualification.Writable,
  );

  // L1 edits EPT12: L0 write-protects tracked pages and reports the writes; INVEPT drops the rest.
  expect(shadow.isTracked(ept12.entryAddress(0x4000_0000, 1))).toBe(true);
  expect(shadow.notifyL1Write(ept12.entryAddress(0x4000_0000, 1), 8)).toBe(1);
  shadow.invept(InveptType.SingleContext, ept12.eptp());
  expect(shadow.stats().leaves).toBe(0);
});

it("README shows exactly the examples above", () => {
  // Compared modulo formatting: the formatter lays out README code blocks at another indent.
  const squash = (text: string) => text.replace(/\s+/g, "").replace(/,(?=[)\]}])/g, "");
  const readme = squash(readFileSync(new URL("../README.md", import.meta.url), "utf8"));
  const self = readFileSync(new URL("./readme.test.ts", import.meta.url), "utf8");
  const bodies = [...self.matchAll(/it\("README: [^"]*", \(\) => \{\n([\s\S]*?)\n\}\);/g)].map((m) => m[1]!);
  expect(bodies).toHaveLength(2);
  for (const body of bodies) expect(readme).toContain(squash(body));
});
