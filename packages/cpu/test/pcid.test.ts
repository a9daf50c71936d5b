// PCIDs and TLB invalidation through the CPU (SDM vol. 3A, 4.10.1 "Process-Context Identifiers",
// 4.10.4.1 "Operations that Invalidate TLBs"; vol. 2A INVPCID; vol. 2B MOV CR). The TLB is
// observed by changing a PTE without invalidating: a read that still sees the old page proves the
// translation was cached (for that PCID), a read that sees the new one proves it was dropped.
import { beforeEach, describe, expect, it } from "vitest";
import { cpuid } from "../src/interp/cpuid.js";
import { L } from "./modes.js";
import { CR4, createPagingMachine, E, P, type PagingMachine, TEST_LA } from "./paging-env.js";

const RAX = 0;
const RCX = 1;
const RDX = 2;
const RBX = 3;
const MOV_CR3_RAX = [0x0f, 0x22, 0xd8];
const MOV_CR4_RAX = [0x0f, 0x22, 0xe0];
const MOV_EAX_RBX = [0x8b, 0x03];
const INVLPG_RBX = [0x0f, 0x01, 0x3b];
const INVPCID_RCX_RDX = [0x66, 0x0f, 0x38, 0x82, 0x0a];
const PAGE_B = 0x510000;
const A = 0xaaaa_0001;
const B = 0xbbbb_0002;
const DESC = 0x520000; // INVPCID descriptors

describe("PCID: CR4.PCIDE, MOV to CR3 and the tagged TLB", () => {
  let m: PagingMachine;
  const read = (): number => {
    expect(m.exec(MOV_EAX_RBX, { [RBX]: TEST_LA })).toBe("ok");
    return m.cpu.state.lo(RAX);
  };
  const cr3 = (pcid: number, noFlush = false): void => {
    expect(m.exec(MOV_CR3_RAX, { [RAX]: [L.PML4 | pcid, noFlush ? 0x8000_0000 : 0] })).toBe("ok");
  };
  /** Points the test PTE at page B behind the TLB's back. */
  const remap = (global = false): void => m.entry(P.TPT, PAGE_B | 7 | (global ? E.G : 0));
  const invpcid = (type: number, pcid: number, la = 0, descHi = 0): string => {
    m.entry(DESC, pcid, descHi);
    m.entry(DESC + 8, la >>> 0, Math.floor(la / 2 ** 32));
    return m.exec(INVPCID_RCX_RDX, { [RCX]: type, [RDX]: DESC });
  };

  beforeEach(() => {
    m = createPagingMachine();
    m.write32(P.PAGE, A);
    m.write32(PAGE_B, B);
  });

  it("CR4.PCIDE can be set in IA-32e mode with CR3[11:0] = 0 (and is then reported by CPUID)", () => {
    expect(cpuid(m.cpu, 1, 0)[2]! & (1 << 17)).not.toBe(0);
    expect(cpuid(m.cpu, 7, 0)[1]! & (1 << 10)).not.toBe(0); // INVPCID
    expect(m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PCIDE })).toBe("ok");
    expect(m.cpu.state.cr[8]! & CR4.PCIDE).toBe(CR4.PCIDE);
  });

  it("setting CR4.PCIDE with CR3[11:0] != 0 is #GP(0)", () => {
    expect(m.exec(MOV_CR3_RAX, { [RAX]: L.PML4 | 0x8 })).toBe("ok"); // PWT
    expect(m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PCIDE })).toBe("gp");
    expect(m.pfError()).toBe(0); // the #GP error code sits where #PF's would
  });

  it("CR4.PCIDE is reserved (#GP) in a model without PCIDs", () => {
    const n = createPagingMachine({ model: { ...m.cpu.model, pcid: false } });
    expect(n.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PCIDE })).toBe("gp");
    expect(cpuid(n.cpu, 1, 0)[2]! & (1 << 17)).toBe(0);
    expect(n.exec(INVPCID_RCX_RDX, { [RCX]: 2, [RDX]: DESC })).toBe("ud");
  });

  it("without PCIDE, MOV to CR3 with bit 63 set is #GP (a reserved bit)", () => {
    expect(m.exec(MOV_CR3_RAX, { [RAX]: [L.PML4, 0x8000_0000] })).toBe("gp");
  });

  it("translations are kept per PCID: switching back with bit 63 set finds the old one", () => {
    m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PCIDE });
    cr3(1);
    expect(read()).toBe(A); // cached for PCID 1
    remap();
    cr3(2); // a fresh PCID walks the tables
    expect(read()).toBe(B);
    cr3(1, true); // bit 63: PCID 1's translations are kept
    expect(read()).toBe(A);
    expect(m.cpu.state.cr[7]! & 0x8000_0000).toBe(0); // bit 63 is not written to CR3
    expect(m.cpu.state.cr[6]! & 0xfff).toBe(1);
    cr3(1); // bit 63 clear: PCID 1's non-global translations are dropped
    expect(read()).toBe(B);
  });

  it("global pages survive MOV to CR3 (any PCID); INVLPG drops them in every PCID", () => {
    m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PCIDE | CR4.PGE });
    m.entry(P.TPT, P.PAGE | 7 | E.G);
    cr3(1);
    expect(read()).toBe(A);
    remap(true);
    cr3(1);
    expect(read()).toBe(A); // global: kept
    cr3(2);
    cr3(1, true);
    expect(read()).toBe(A);
    cr3(2, true);
    expect(m.exec(INVLPG_RBX, { [RBX]: TEST_LA })).toBe("ok"); // in PCID 2
    cr3(1, true);
    expect(read()).toBe(B); // PCID 1's global entry went too
  });

  it("INVLPG drops only the current PCID's non-global translation", () => {
    m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PCIDE });
    cr3(1);
    expect(read()).toBe(A);
    remap();
    cr3(2, true);
    m.exec(INVLPG_RBX, { [RBX]: TEST_LA });
    expect(read()).toBe(B);
    cr3(1, true);
    expect(read()).toBe(A); // PCID 1 untouched
  });

  it("INVLPG of one 4-KByte piece of a 2-MByte page drops every cached piece of it", () => {
    m.entry(P.TPD, 0x400000 | E.PS | 7);
    const la1 = TEST_LA + 0x100000; // -> P.PAGE
    const la2 = TEST_LA + 0x110000; // -> PAGE_B
    expect(m.exec(MOV_EAX_RBX, { [RBX]: la2 })).toBe("ok");
    expect(m.cpu.state.lo(RAX)).toBe(B);
    m.entry(P.TPD, 0x600000 | E.PS | 7); // remap the large page
    m.write32(0x710000, 0xcccc_0003);
    expect(m.exec(MOV_EAX_RBX, { [RBX]: la2 })).toBe("ok");
    expect(m.cpu.state.lo(RAX)).toBe(B); // still cached
    m.exec(INVLPG_RBX, { [RBX]: la1 });
    expect(m.exec(MOV_EAX_RBX, { [RBX]: la2 })).toBe("ok");
    expect(m.cpu.state.lo(RAX)).toBe(0xcccc_0003);
  });

  it("changing CR4.PGE drops global translations", () => {
    m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PGE });
    m.entry(P.TPT, P.PAGE | 7 | E.G);
    expect(read()).toBe(A);
    remap(true);
    cr3(0);
    expect(read()).toBe(A);
    m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE });
    expect(read()).toBe(B);
  });

  it("a CR4 write that changes no paging bit keeps the TLB (FSGSBASE)", () => {
    expect(read()).toBe(A);
    remap();
    expect(m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | (1 << 16) })).toBe("ok");
    expect(read()).toBe(A);
    expect(m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | (1 << 16) | CR4.SMEP })).toBe("ok");
    expect(read()).toBe(B);
  });

  describe("INVPCID", () => {
    beforeEach(() => {
      m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PCIDE | CR4.PGE });
    });

    it("type 0 drops one address of one PCID (not other PCIDs, not global translations)", () => {
      cr3(1);
      expect(read()).toBe(A);
      remap();
      cr3(2, true);
      expect(invpcid(0, 3, TEST_LA)).toBe("ok"); // another PCID: no effect on 1
      cr3(1, true);
      expect(read()).toBe(A);
      cr3(2, true);
      expect(invpcid(0, 1, TEST_LA)).toBe("ok");
      cr3(1, true);
      expect(read()).toBe(B);
      // A global translation survives type 0.
      m.entry(P.TPT, P.PAGE | 7 | E.G);
      expect(invpcid(0, 1, TEST_LA)).toBe("ok");
      expect(read()).toBe(A);
      remap(true);
      expect(invpcid(0, 1, TEST_LA)).toBe("ok");
      expect(read()).toBe(A);
    });

    it("type 1 drops one PCID's non-global translations", () => {
      cr3(1);
      expect(read()).toBe(A);
      remap();
      cr3(2, true);
      expect(invpcid(1, 1)).toBe("ok");
      cr3(1, true);
      expect(read()).toBe(B);
    });

    it("type 2 drops everything, global translations included; type 3 keeps them", () => {
      m.entry(P.TPT, P.PAGE | 7 | E.G);
      cr3(1);
      expect(read()).toBe(A);
      remap(true);
      expect(invpcid(3, 0)).toBe("ok");
      expect(read()).toBe(A);
      expect(invpcid(2, 0)).toBe("ok");
      expect(read()).toBe(B);
    });

    it("#GP(0): type > 3, reserved descriptor bits, a non-canonical type-0 address, CPL 3", () => {
      expect(invpcid(4, 0)).toBe("gp");
      expect(m.exec(INVPCID_RCX_RDX, { [RCX]: [1, 1], [RDX]: DESC })).toBe("gp"); // type = 2^32 + 1
      expect(invpcid(1, 0x1000)).toBe("gp"); // bit 12 of the descriptor
      expect(invpcid(1, 0, 0, 1)).toBe("gp"); // bit 32
      expect(invpcid(0, 1, 0x8000_0000_0000)).toBe("gp");
      expect(invpcid(0, 1, -0x8000_0000_0000)).toBe("ok");
      m.entry(DESC, 0, 0);
      m.entry(DESC + 8, 0, 0);
      expect(m.exec(INVPCID_RCX_RDX, { [RCX]: 2, [RDX]: DESC }, 3)).toBe("gp");
    });

    it("with CR4.PCIDE = 0, types 0 and 1 need PCID 0", () => {
      m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE });
      expect(invpcid(1, 1)).toBe("gp");
      expect(invpcid(0, 1, TEST_LA)).toBe("gp");
      expect(invpcid(1, 0)).toBe("ok");
      expect(invpcid(2, 5)).toBe("ok"); // types 2 and 3 ignore the PCID
    });
  });
});

describe("decoded blocks follow remapped pages", () => {
  it("an instruction crossing into a page that was remapped (and invalidated) is decoded again", () => {
    const m = createPagingMachine();
    const tail = (page: number, imm: number): void => {
      m.load(page, [(imm >>> 8) & 0xff, (imm >>> 16) & 0xff, imm >>> 24, 0xf4]); // imm bytes 1-3, hlt
    };
    m.load(P.PAGE + 0xffe, [0xb8, 0x34]); // mov eax, imm32: the opcode and one byte on page 1
    m.entry(P.TPT + 8, PAGE_B | 3);
    tail(PAGE_B, 0xbbbb_1234);
    tail(0x520000, 0xcccc_1234);
    m.enter(TEST_LA + 0xffe, 0);
    m.runToHalt();
    expect(m.cpu.state.lo(RAX)).toBe(0xbbbb_1234);
    m.entry(P.TPT + 8, 0x520000 | 3); // the second page moves
    m.cpu.invalidateTlb();
    m.enter(TEST_LA + 0xffe, 0);
    m.runToHalt();
    expect(m.cpu.state.lo(RAX)).toBe(0xcccc_1234);
    m.entry(P.TPT + 8, 0); // and goes away: #PF on the fetch of its bytes
    m.cpu.invalidateTlb();
    m.enter(TEST_LA + 0xffe, 0);
    m.runToHalt();
    expect(m.faulted()).toBe(true);
    expect(m.cr2()).toBe(TEST_LA + 0x1000);
  });
});
