// Protection keys through the CPU (SDM vol. 3A, 4.6.2 "Protection Keys"; vol. 2B RDPKRU/WRPKRU;
// 4.7: the PK bit of the #PF error code): user-mode pages carry a key in bits 62:59 of the leaf,
// PKRU holds an access-disable and a write-disable bit per key.
import { beforeEach, describe, expect, it } from "vitest";
import { restore, snapshot } from "../src/index.js";
import { cpuid } from "../src/interp/cpuid.js";
import { L } from "./modes.js";
import { CR4, createPagingMachine, E, P, type PagingMachine, TEST_LA } from "./paging-env.js";

const RAX = 0;
const RCX = 1;
const RDX = 2;
const RBX = 3;
const MOV_CR4_RAX = [0x0f, 0x22, 0xe0];
const MOV_CR0_RAX = [0x0f, 0x22, 0xc0];
const RDPKRU = [0x0f, 0x01, 0xee];
const WRPKRU = [0x0f, 0x01, 0xef];
const READ = [0x8b, 0x03]; // mov eax, [rbx]
const WRITE = [0x89, 0x03]; // mov [rbx], eax
const JMP_RBX = [0xff, 0xe3];
const KEY = 5;
const AD = 1 << (2 * KEY);
const WD = 1 << (2 * KEY + 1);
const PF_P = 1;
const PF_W = 2;
const PF_U = 4;
const PF_PK = 32;

describe("protection keys (CR4.PKE, PKRU)", () => {
  let m: PagingMachine;
  const wrpkru = (v: number): void => {
    expect(m.exec(WRPKRU, { [RAX]: v, [RCX]: 0, [RDX]: 0 })).toBe("ok");
  };
  /** The test page: user, writable, key `key`. */
  const mapKey = (key: number, user = true): void => m.entry(P.TPT, P.PAGE | (user ? 7 : 3), key << 27);

  beforeEach(() => {
    m = createPagingMachine();
    m.load(P.PAGE, [0x0f, 0x0b]); // ud2, for fetches
    mapKey(KEY);
  });

  it("CPUID reports PKU, and OSPKE as CR4.PKE", () => {
    expect(cpuid(m.cpu, 7, 0)[2]! & 0x18).toBe(0x08);
    expect(m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PKE })).toBe("ok");
    expect(cpuid(m.cpu, 7, 0)[2]! & 0x18).toBe(0x18);
  });

  it("RDPKRU/WRPKRU are #UD without CR4.PKE; keys are then ignored", () => {
    expect(m.exec(RDPKRU, { [RCX]: 0 })).toBe("ud");
    expect(m.exec(WRPKRU, { [RAX]: 0, [RCX]: 0, [RDX]: 0 })).toBe("ud");
    m.cpu.state.pkru = AD; // set behind the guest's back: still no effect without PKE
    expect(m.exec(READ, { [RBX]: TEST_LA }, 3)).toBe("ok");
  });

  it("CR4.PKE is reserved in a model without PKU", () => {
    const n = createPagingMachine({ model: { ...m.cpu.model, pku: false } });
    expect(n.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PKE })).toBe("gp");
    expect(cpuid(n.cpu, 7, 0)[2]! & 0x08).toBe(0);
  });

  describe("with CR4.PKE = 1", () => {
    beforeEach(() => {
      expect(m.exec(MOV_CR4_RAX, { [RAX]: CR4.PAE | CR4.PKE })).toBe("ok");
    });

    it("WRPKRU then RDPKRU: EAX = PKRU, EDX = 0, upper halves cleared", () => {
      wrpkru(0x1234_5678);
      expect(m.exec(RDPKRU, { [RAX]: [1, 2], [RCX]: 0, [RDX]: [3, 4] })).toBe("ok");
      const s = m.cpu.state;
      expect([s.lo(RAX), s.hi(RAX), s.lo(RDX), s.hi(RDX)]).toEqual([0x1234_5678, 0, 0, 0]);
      expect(s.pkru).toBe(0x1234_5678);
    });

    it("#GP(0) when ECX != 0 (both) or EDX != 0 (WRPKRU); usable at CPL 3", () => {
      expect(m.exec(RDPKRU, { [RCX]: 1 })).toBe("gp");
      expect(m.exec(WRPKRU, { [RAX]: 0, [RCX]: 1, [RDX]: 0 })).toBe("gp");
      expect(m.exec(WRPKRU, { [RAX]: 0, [RCX]: 0, [RDX]: 1 })).toBe("gp");
      expect(m.exec(WRPKRU, { [RAX]: WD, [RCX]: 0, [RDX]: 0 }, 3)).toBe("ok");
      expect(m.cpu.state.pkru).toBe(WD);
    });

    it("access-disable: user and supervisor data accesses to the user page fault with PK; fetches do not", () => {
      wrpkru(AD);
      expect(m.exec(READ, { [RBX]: TEST_LA }, 3)).toBe("pf");
      expect(m.pfError()).toBe(PF_P | PF_U | PF_PK);
      expect(m.cr2()).toBe(TEST_LA);
      expect(m.exec(WRITE, { [RBX]: TEST_LA }, 3)).toBe("pf");
      expect(m.pfError()).toBe(PF_P | PF_W | PF_U | PF_PK);
      expect(m.exec(READ, { [RBX]: TEST_LA })).toBe("pf"); // supervisor
      expect(m.pfError()).toBe(PF_P | PF_PK);
      expect(m.exec(JMP_RBX, { [RBX]: TEST_LA }, 3)).toBe("ud"); // reached the page's ud2
      expect(m.read32(L.IST1 - 40)).toBe(TEST_LA);
    });

    it("write-disable: user writes fault, reads do not; supervisor writes fault only with CR0.WP", () => {
      wrpkru(WD);
      expect(m.exec(READ, { [RBX]: TEST_LA }, 3)).toBe("ok");
      expect(m.exec(WRITE, { [RBX]: TEST_LA }, 3)).toBe("pf");
      expect(m.pfError()).toBe(PF_P | PF_W | PF_U | PF_PK);
      expect(m.exec(WRITE, { [RBX]: TEST_LA })).toBe("pf");
      expect(m.pfError()).toBe(PF_P | PF_W | PF_PK);
      expect(m.exec(MOV_CR0_RAX, { [RAX]: 0x80000011 })).toBe("ok"); // WP = 0
      expect(m.exec(WRITE, { [RBX]: TEST_LA, [RAX]: 0x77 })).toBe("ok");
      expect(m.read32(P.PAGE)).toBe(0x77);
    });

    it("only the page's own key counts, and supervisor-mode pages ignore PKRU", () => {
      wrpkru(0xffff_ffff & ~(AD | WD)); // every key but ours disabled
      expect(m.exec(WRITE, { [RBX]: TEST_LA }, 3)).toBe("ok");
      wrpkru(AD | WD);
      mapKey(KEY, false);
      m.cpu.invalidateTlb();
      expect(m.exec(WRITE, { [RBX]: TEST_LA })).toBe("ok");
    });

    it("WRPKRU takes effect at once on cached translations (in both directions)", () => {
      expect(m.exec(READ, { [RBX]: TEST_LA }, 3)).toBe("ok"); // cached
      wrpkru(AD);
      expect(m.exec(READ, { [RBX]: TEST_LA }, 3)).toBe("pf");
      wrpkru(0);
      expect(m.exec(READ, { [RBX]: TEST_LA }, 3)).toBe("ok");
    });

    it("the key of a 2-MByte page comes from its PDE", () => {
      m.entry(P.TPD, 0x400000 | E.PS | 7, 9 << 27);
      m.cpu.invalidateTlb();
      wrpkru(1 << (2 * 9));
      expect(m.exec(READ, { [RBX]: TEST_LA + 0x100000 }, 3)).toBe("pf");
      expect(m.pfError()).toBe(PF_P | PF_U | PF_PK);
      wrpkru(AD); // key 5 no longer matters
      expect(m.exec(READ, { [RBX]: TEST_LA + 0x100000 }, 3)).toBe("ok");
    });

    it("a not-present page reports no PK bit, whatever PKRU says", () => {
      wrpkru(AD);
      m.entry(P.TPT, P.PAGE | 6, KEY << 27);
      m.cpu.invalidateTlb();
      expect(m.exec(READ, { [RBX]: TEST_LA }, 3)).toBe("pf");
      expect(m.pfError()).toBe(PF_U);
    });
  });

  it("PKRU is part of the snapshot and survives a round trip", () => {
    m.cpu.state.pkru = 0xdead_beef;
    const snap = JSON.parse(JSON.stringify(snapshot(m.cpu.state)));
    expect(snap.pkru).toBe(0xdead_beef);
    expect(restore(snap).pkru).toBe(0xdead_beef);
    const { pkru: _drop, ...old } = snap;
    expect(restore(old).pkru).toBe(0); // snapshots from before protection keys
    expect(() => restore({ ...snap, pkru: -1 })).toThrow(TypeError);
  });
});
