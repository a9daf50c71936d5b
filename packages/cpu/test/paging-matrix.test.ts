// The paging permission matrix, run through the CPU (not the walker alone): for 4-level paging,
// every combination of P/RW/US/XD on the leaf PTE and on the PDE above it, for data reads, data
// writes and instruction fetches at CPL 0 and 3, under CR0.WP, CR4.SMEP, CR4.SMAP with EFLAGS.AC
// and IA32_EFER.NXE. The expected outcome (fault or not, #PF error code, CR2, accessed/dirty
// flags) comes from the small reference model below, written from SDM vol. 3A 4.5 (the walk and
// reserved bits), 4.6.1 (access rights), 4.7 (error code) and 4.8 (A/D flags).
import { beforeAll, describe, expect, it } from "vitest";
import { StopReason } from "../src/index.js";
import { L } from "./modes.js";
import {
  CR4,
  createLegacyPagingMachine,
  createPagingMachine,
  E,
  LP,
  P,
  type PagingMachine,
  TEST_LA,
  XD_HI,
} from "./paging-env.js";

type Kind = "read" | "write" | "fetch";

interface Entry {
  p: boolean;
  rw: boolean;
  us: boolean;
  xd: boolean;
}

interface Case {
  leaf: Entry;
  upper: Entry;
  kind: Kind;
  cpl: 0 | 3;
  wp: boolean;
  smep: boolean;
  smap: boolean;
  ac: boolean;
  nxe: boolean;
}

interface Outcome {
  fault: boolean;
  /** #PF error code (fault only). */
  error: number;
  /** A set in the PDE and PTE afterwards. */
  accessed: boolean;
  /** D set in the PTE afterwards. */
  dirty: boolean;
}

const entryOf = (n: number): Entry => ({
  p: (n & 1) !== 0,
  rw: (n & 2) !== 0,
  us: (n & 4) !== 0,
  xd: (n & 8) !== 0,
});

/** The reference model (SDM 4.5-4.8), independent of the walker. */
function reference(c: Case, mode: "long" | "pae" | "bits32" = "long"): Outcome {
  const write = c.kind === "write";
  const fetch = c.kind === "fetch";
  const user = c.cpl === 3;
  // Error code bits (4.7): W/R = write, U/S = CPL 3, I/D = fetch when SMEP or (PAE and NXE);
  // 32-bit paging has no XD bit at all (its entries are 4 bytes).
  const nxe = mode !== "bits32" && c.nxe;
  const base = (write ? 2 : 0) | (user ? 4 : 0) | (fetch && (nxe || c.smep) ? 16 : 0);
  const fault = (error: number): Outcome => ({ fault: true, error, accessed: false, dirty: false });
  // The walk, top down: a not-present entry stops it (P = 0); in a present entry, XD is a reserved
  // bit when NXE = 0 (4.5.4, Table 4-14 to 4-20 "Ignored/Reserved"): P | RSVD.
  for (const e of [c.upper, c.leaf]) {
    if (!e.p) return fault(base);
    if (e.xd && !nxe) return fault(base | 1 | 8);
  }
  const rw = c.upper.rw && c.leaf.rw;
  const us = c.upper.us && c.leaf.us;
  const xd = nxe && (c.upper.xd || c.leaf.xd);
  let allowed: boolean;
  if (user) {
    // User-mode accesses (4.6.1): only user-mode pages; writes need R/W; fetches need XD = 0.
    allowed = us && (fetch ? !xd : write ? rw : true);
  } else if (fetch) {
    // Supervisor fetches: XD = 0, and not from a user-mode page under SMEP.
    allowed = !xd && !(us && c.smep);
  } else {
    // Supervisor data: SMAP forbids user-mode pages unless EFLAGS.AC = 1 (explicit accesses);
    // writes to read-only pages fault only with CR0.WP = 1.
    allowed = !(us && c.smap && !c.ac) && !(write && !rw && c.wp);
  }
  if (!allowed) return fault(base | 1);
  return { fault: false, error: 0, accessed: true, dirty: write };
}

/** The three test programs (the same bytes at ring 0 and ring 3). */
const PROGRAM: Record<Kind, { offset: number; bytes: number[] }> = {
  read: { offset: 0x00, bytes: [0x8b, 0x03, 0x0f, 0x0b] }, // mov eax, [rbx]; ud2
  write: { offset: 0x10, bytes: [0x89, 0x03, 0x0f, 0x0b] }, // mov [rbx], eax; ud2
  fetch: { offset: 0x20, bytes: [0xff, 0xe3] }, // jmp rbx (the test page holds ud2)
};
const PAGE_BYTES = [0x0f, 0x0b, 0x90, 0x90]; // ud2; nop; nop = dword 0x90900b0f
const MARK = 0x12345678;

function bitsOf(e: Entry): { lo: number; hi: number } {
  return {
    lo: (e.p ? E.P : 0) | (e.rw ? E.RW : 0) | (e.us ? E.US : 0),
    hi: e.xd ? XD_HI : 0,
  };
}

/** Where the two entries under test live, for 4-KByte, 2-MByte and 1-GByte pages. */
interface Layout {
  name: string;
  /** The upper entry's address and the table it points to (null: the shared PML4E, left as is). */
  upper: { addr: number; next: number } | null;
  /** The leaf's address and the frame it maps (with PS for a large page). */
  leaf: { addr: number; frame: number };
  /** The linear address accessed: it lands on P.PAGE in every layout. */
  la: number;
}

const LAYOUTS: Record<"4k" | "2m" | "1g", Layout> = {
  // PDPTE[1] -> TPD; PDE (upper) -> TPT; PTE (leaf) -> P.PAGE.
  "4k": {
    name: "4K",
    upper: { addr: P.TPD, next: P.TPT },
    leaf: { addr: P.TPT, frame: P.PAGE },
    la: TEST_LA,
  },
  // PDPTE[1] (upper) -> TPD; PDE (leaf, PS) -> 4 MiB frame + 1 MiB = P.PAGE.
  "2m": {
    name: "2M",
    upper: { addr: L.PDPT + 8, next: P.TPD },
    leaf: { addr: P.TPD, frame: 0x400000 | E.PS },
    la: TEST_LA + 0x100000,
  },
  // PML4E (shared, U/S = R/W = 1); PDPTE[1] (leaf, PS) -> 0 + 5 MiB = P.PAGE.
  "1g": { name: "1G", upper: null, leaf: { addr: L.PDPT + 8, frame: E.PS }, la: TEST_LA + 0x500000 },
};

const PERMISSIVE: Entry = { p: true, rw: true, us: true, xd: false };

/** Runs one case on `m`: returns what happened, in the reference model's terms, plus CR2. */
function runCase(
  m: PagingMachine,
  c: Case,
  layout: Layout = LAYOUTS["4k"],
): Outcome & { cr2: number; detail: string } {
  const s = m.cpu.state;
  const up = bitsOf(c.upper);
  const lf = bitsOf(c.leaf);
  m.entry(L.PDPT + 8, P.TPD | 7);
  m.entry(P.TPD, P.TPT | 7);
  if (layout.upper !== null) m.entry(layout.upper.addr, layout.upper.next | up.lo, up.hi);
  m.entry(layout.leaf.addr, layout.leaf.frame | lf.lo, lf.hi);
  m.load(P.PAGE, PAGE_BYTES);
  s.cr[0] = 0x80000011 | (c.wp ? 0x10000 : 0);
  s.cr[8] = CR4.PAE | (c.smep ? CR4.SMEP : 0) | (c.smap ? CR4.SMAP : 0);
  s.efer[0] = 0x501 | (c.nxe ? 0x800 : 0);
  s.flags.write(0x2 | (c.ac ? 0x40000 : 0));
  s.set64(3, layout.la, 0); // RBX
  s.set64(0, MARK, 0); // RAX
  const prog = PROGRAM[c.kind];
  m.enter((c.cpl === 3 ? P.USER_CODE : L.CODE) + prog.offset, c.cpl);
  m.cpu.invalidateTlb();
  m.runToHalt();
  const upperLo = layout.upper === null ? E.A : m.entryLo(layout.upper.addr);
  const leafLo = m.entryLo(layout.leaf.addr);
  const accessed = (upperLo & E.A) !== 0 && (leafLo & E.A) !== 0;
  const dirty = (leafLo & E.D) !== 0;
  if (m.faulted()) return { fault: true, error: m.pfError(), accessed, dirty, cr2: m.cr2(), detail: "" };
  // No fault: the access completed and the ud2 after it (or at the fetched page) raised #UD.
  let detail = "";
  if (s.rip !== P.UD_HANDLER + 1) detail = `stopped at ${s.rip.toString(16)}`;
  else if (c.kind === "read" && s.lo(0) !== 0x90900b0f) detail = `read ${s.lo(0).toString(16)}`;
  else if (c.kind === "write" && m.read32(P.PAGE) !== MARK) detail = "write lost";
  else if (c.kind === "fetch" && m.read32(L.IST1 - 40) !== layout.la) detail = "fetch did not reach the page";
  else if ((m.entryLo(L.PDPT + 8) & E.A) === 0) detail = "PDPTE not accessed";
  return { fault: false, error: 0, accessed, dirty, cr2: Number.NaN, detail };
}

function describeCase(c: Case): string {
  const e = (x: Entry): string =>
    `${x.p ? "P" : "-"}${x.rw ? "W" : "-"}${x.us ? "U" : "-"}${x.xd ? "X" : "-"}`;
  return `${c.kind} cpl${c.cpl} pde=${e(c.upper)} pte=${e(c.leaf)} wp=${+c.wp} smep=${+c.smep} smap=${+c.smap} ac=${+c.ac} nxe=${+c.nxe}`;
}

/** Every case of one access kind at one CPL; returns the mismatches (at most 10 described). */
function sweep(
  m: PagingMachine,
  kind: Kind,
  cpl: 0 | 3,
  layout: Layout = LAYOUTS["4k"],
): { count: number; bad: string[] } {
  const bad: string[] = [];
  let count = 0;
  for (let flags = 0; flags < 32; flags++) {
    const [wp, smep, smap, ac, nxe] = [1, 2, 4, 8, 16].map((b) => (flags & b) !== 0) as [
      boolean,
      boolean,
      boolean,
      boolean,
      boolean,
    ];
    for (let upper = layout.upper === null ? 7 : 0; upper < (layout.upper === null ? 8 : 16); upper++) {
      for (let leaf = 0; leaf < 16; leaf++) {
        const up = layout.upper === null ? PERMISSIVE : entryOf(upper);
        const c: Case = { leaf: entryOf(leaf), upper: up, kind, cpl, wp, smep, smap, ac, nxe };
        const want = reference(c);
        const got = runCase(m, c, layout);
        count++;
        const same =
          got.detail === "" &&
          got.fault === want.fault &&
          (!want.fault || (got.error === want.error && got.cr2 === layout.la)) &&
          got.accessed === want.accessed &&
          got.dirty === want.dirty;
        if (!same && bad.length < 10) {
          bad.push(
            `${layout.name} ${describeCase(c)}: want ${JSON.stringify(want)} got ${JSON.stringify({ ...got, cr2: got.cr2.toString(16) })}`,
          );
        }
      }
    }
  }
  return { count, bad };
}

describe("4-level paging permission matrix through the CPU (SDM 4.5-4.8)", () => {
  let m: PagingMachine;
  beforeAll(() => {
    m = createPagingMachine();
    for (const prog of Object.values(PROGRAM)) {
      m.load(L.CODE + prog.offset, prog.bytes);
      m.load(P.USER_CODE + prog.offset, prog.bytes);
    }
  });

  for (const kind of ["read", "write", "fetch"] as const) {
    for (const cpl of [0, 3] as const) {
      it(`${kind} at CPL ${cpl}: 8192 combinations of PTE/PDE bits, WP, SMEP, SMAP, AC, NXE`, () => {
        const { count, bad } = sweep(m, kind, cpl);
        expect(count).toBe(8192);
        expect(bad).toEqual([]);
      });
    }
  }

  for (const size of ["2m", "1g"] as const) {
    const layout = LAYOUTS[size];
    const n = layout.upper === null ? 512 : 8192;
    it(`${layout.name} pages: every access kind and CPL over ${n} combinations each, A/D on the large leaf`, () => {
      for (const kind of ["read", "write", "fetch"] as const) {
        for (const cpl of [0, 3] as const) {
          const { count, bad } = sweep(m, kind, cpl, layout);
          expect(count).toBe(n);
          expect(bad).toEqual([]);
        }
      }
    });
  }

  it("the reference model is not trivial: it predicts both faults and successes with each error bit", () => {
    const seen = new Set<number>();
    let ok = 0;
    for (const kind of ["read", "write", "fetch"] as const) {
      for (let n = 0; n < 256; n++) {
        const c: Case = {
          leaf: entryOf(n & 15),
          upper: entryOf(n >> 4),
          kind,
          cpl: (n & 1) === 0 ? 0 : 3,
          wp: true,
          smep: true,
          smap: false,
          ac: false,
          nxe: (n & 32) !== 0,
        };
        const r = reference(c);
        if (r.fault) seen.add(r.error);
        else ok++;
      }
    }
    expect(ok).toBeGreaterThan(0);
    for (const bit of [1, 2, 4, 8, 16]) expect([...seen].some((e) => (e & bit) !== 0)).toBe(true);
  });
});

describe("reserved bits (RSVD, error-code bit 3; SDM 4.5.4 and Tables 4-15 to 4-20)", () => {
  let m: PagingMachine;
  beforeAll(() => {
    m = createPagingMachine();
    for (const prog of Object.values(PROGRAM)) {
      m.load(L.CODE + prog.offset, prog.bytes);
      m.load(P.USER_CODE + prog.offset, prog.bytes);
    }
  });

  /** Sets up the 4K hierarchy, lets `patch` break it, runs `kind` at `cpl` on `la`. */
  function attempt(
    kind: Kind,
    cpl: 0 | 3,
    la: number,
    patch: () => void,
  ): { fault: boolean; error: number; cr2: number } {
    const s = m.cpu.state;
    m.entry(L.PML4 + 8, 0);
    m.entry(L.PDPT + 8, P.TPD | 7);
    m.entry(P.TPD, P.TPT | 7);
    m.entry(P.TPT, P.PAGE | 7);
    m.load(P.PAGE, PAGE_BYTES);
    s.cr[0] = 0x80010011;
    s.cr[8] = CR4.PAE;
    s.efer[0] = 0xd01;
    s.flags.write(2);
    patch();
    s.set64(3, la >>> 0, Math.floor(la / 2 ** 32));
    m.enter((cpl === 3 ? P.USER_CODE : L.CODE) + PROGRAM[kind].offset, cpl);
    m.cpu.invalidateTlb();
    m.runToHalt();
    return { fault: m.faulted(), error: m.faulted() ? m.pfError() : -1, cr2: m.cr2() };
  }

  const cases: [string, number, () => void][] = [
    ["bit 51 of a PTE (above MAXPHYADDR 46)", TEST_LA, () => m.entry(P.TPT, P.PAGE | 7, 0x80000)],
    ["bit 46 of a PDE", TEST_LA, () => m.entry(P.TPD, P.TPT | 7, 0x4000)],
    ["bit 50 of a PDPTE", TEST_LA, () => m.entry(L.PDPT + 8, P.TPD | 7, 0x40000)],
    [
      "bit 13 of a 2-MByte PDE (bits 20:13 reserved)",
      TEST_LA,
      () => m.entry(P.TPD, 0x400000 | 0x2000 | E.PS | 7),
    ],
    [
      "bit 29 of a 1-GByte PDPTE (bits 29:13 reserved)",
      TEST_LA,
      () => m.entry(L.PDPT + 8, 0x20000000 | E.PS | 7),
    ],
    [
      "PS in a PML4E",
      0x80_0000_0000,
      () => {
        m.entry(L.PML4 + 8, L.PDPT | E.PS | 7);
      },
    ],
  ];
  for (const [what, la, patch] of cases) {
    it(`${what}: #PF with P|RSVD (+W/U/I), CR2 = the address`, () => {
      for (const kind of ["read", "write", "fetch"] as const) {
        for (const cpl of [0, 3] as const) {
          const r = attempt(kind, cpl, la, patch);
          const want = 1 | 8 | (kind === "write" ? 2 : 0) | (cpl === 3 ? 4 : 0) | (kind === "fetch" ? 16 : 0);
          expect({ kind, cpl, ...r }).toEqual({ kind, cpl, fault: true, error: want, cr2: la });
        }
      }
    });
  }

  it("a reserved bit in a not-present entry is ignored: the fault is not-present (RSVD clear)", () => {
    const r = attempt("read", 0, TEST_LA, () => m.entry(P.TPT, P.PAGE | 6, 0x80000));
    expect(r).toEqual({ fault: true, error: 0, cr2: TEST_LA });
  });

  it("XD with EFER.NXE = 0 is reserved; with NXE = 1 it is not (a read succeeds)", () => {
    const ok = attempt("read", 0, TEST_LA, () => m.entry(P.TPT, P.PAGE | 7, XD_HI));
    expect(ok.fault).toBe(false);
    const r = attempt("read", 0, TEST_LA, () => {
      m.entry(P.TPT, P.PAGE | 7, XD_HI);
      m.cpu.state.efer[0] = 0x501;
    });
    expect(r).toEqual({ fault: true, error: 9, cr2: TEST_LA });
  });
});

describe("EFLAGS.AC under SMAP: cached supervisor translations of user pages follow AC", () => {
  const STAC = [0x0f, 0x01, 0xcb];
  const CLAC = [0x0f, 0x01, 0xca];
  const READ = [0x8b, 0x03];
  const MOV_CR4_RAX = [0x0f, 0x22, 0xe0];

  it("STAC allows, CLAC forbids again at once (the translation cached under AC = 1 is dropped)", () => {
    const m = createPagingMachine();
    expect(m.exec(MOV_CR4_RAX, { 0: CR4.PAE | CR4.SMAP })).toBe("ok");
    expect(m.exec(READ, { 3: TEST_LA })).toBe("pf");
    expect(m.pfError()).toBe(1);
    expect(m.exec([...STAC, ...READ, ...CLAC, ...READ], { 3: TEST_LA })).toBe("pf");
    expect(m.cpu.state.rip).toBe(P.PF_HANDLER + 1);
    expect(m.exec([...STAC, ...READ], { 3: TEST_LA })).toBe("ok");
    // exec() clears AC in the state directly (behind the CPU's back): the next run sees it too.
    expect(m.exec(READ, { 3: TEST_LA })).toBe("pf");
  });

  it("AC does not matter without SMAP", () => {
    const m = createPagingMachine();
    expect(m.exec([...STAC, ...READ, ...CLAC, ...READ], { 3: TEST_LA })).toBe("ok");
  });
});

describe("32-bit and PAE paging permission matrix through the CPU (SDM 4.3, 4.4, 4.6, 4.7)", () => {
  for (const mode of ["bits32", "pae"] as const) {
    it(`${mode === "pae" ? "PAE" : "32-bit"} paging: PTE/PDE bits x access x CPL x WP/SMEP/SMAP/AC/NXE`, () => {
      const m = createLegacyPagingMachine(mode);
      for (const prog of Object.values(PROGRAM)) {
        m.load(L.CODE + prog.offset, prog.bytes);
        m.load(P.USER_CODE + prog.offset, prog.bytes);
      }
      const wide = mode === "pae";
      const put = (addr: number, e: Entry, frame: number): void => {
        const b = bitsOf(e);
        m.write32(addr, frame | b.lo);
        if (wide) m.write32(addr + 4, b.hi);
      };
      const bad: string[] = [];
      let count = 0;
      const s = m.cpu.state;
      for (const kind of ["read", "write", "fetch"] as const) {
        for (const cpl of [0, 3] as const) {
          for (let flags = 0; flags < 32; flags++) {
            const [wp, smep, smap, ac, nxe] = [1, 2, 4, 8, 16].map((b) => (flags & b) !== 0) as [
              boolean,
              boolean,
              boolean,
              boolean,
              boolean,
            ];
            const entries = wide ? 16 : 8; // 32-bit entries have no XD
            for (let upper = 0; upper < entries; upper++) {
              for (let leaf = 0; leaf < entries; leaf++) {
                const c: Case = {
                  leaf: entryOf(leaf),
                  upper: entryOf(upper),
                  kind,
                  cpl,
                  wp,
                  smep,
                  smap,
                  ac,
                  nxe,
                };
                const want = reference(c, mode);
                put(m.upperAddr, c.upper, P.TPT);
                put(P.TPT, c.leaf, P.PAGE);
                m.load(P.PAGE, PAGE_BYTES);
                s.cr[0] = 0x80000011 | (wp ? 0x10000 : 0);
                s.cr[8] = (wide ? CR4.PAE : CR4.PSE) | (smep ? CR4.SMEP : 0) | (smap ? CR4.SMAP : 0);
                s.efer[0] = nxe ? 0x800 : 0;
                s.flags.write(0x2 | (ac ? 0x40000 : 0));
                s.set64(3, TEST_LA, 0);
                s.set64(0, MARK, 0);
                m.enter((cpl === 3 ? P.USER_CODE : L.CODE) + PROGRAM[kind].offset, cpl);
                m.cpu.invalidateTlb();
                const why = m.cpu.run(50);
                const esp = s.gpr[8]!;
                const faulted = s.rip === P.PF_HANDLER + 1;
                const upperLo = m.read32(m.upperAddr);
                const leafLo = m.read32(P.TPT);
                const got = {
                  fault: faulted,
                  error: faulted ? m.read32(esp) : 0,
                  accessed: (upperLo & E.A) !== 0 && (leafLo & E.A) !== 0,
                  dirty: (leafLo & E.D) !== 0,
                };
                let ok = why === 1 && got.fault === want.fault && got.accessed === want.accessed;
                ok &&= got.dirty === want.dirty;
                if (want.fault) ok &&= got.error === want.error && s.cr[4] === TEST_LA;
                else {
                  ok &&= s.rip === P.UD_HANDLER + 1;
                  if (kind === "read") ok &&= s.lo(0) === 0x90900b0f;
                  if (kind === "write") ok &&= m.read32(P.PAGE) === MARK;
                  if (kind === "fetch") ok &&= m.read32(esp) === TEST_LA;
                }
                count++;
                if (!ok && bad.length < 10) {
                  bad.push(
                    `${mode} ${describeCase(c)}: want ${JSON.stringify(want)} got ${JSON.stringify(got)} stop ${why} rip ${s.rip.toString(16)}`,
                  );
                }
              }
            }
          }
        }
      }
      expect(count).toBe(wide ? 49152 : 12288);
      expect(bad).toEqual([]);
    });
  }
});

describe("PAE PDPTE registers (SDM 4.4.1)", () => {
  it("MOV to CR4 changing PGE reloads them: a reserved bit in a PDPTE is #GP and CR4 stays", () => {
    const m = createLegacyPagingMachine("pae");
    m.load(L.CODE, [0x0f, 0x22, 0xe0, 0xf4]); // mov cr4, eax; hlt
    m.enter(L.CODE, 0);
    m.cpu.state.set64(0, CR4.PAE | CR4.SMAP, 0);
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(L.CODE + 4);
    m.write32(LP.PDPT + 16, 0x20000 | 1 | 2); // PDPTE[2]: present with bit 1 (reserved)
    m.enter(L.CODE, 0);
    m.cpu.state.set64(0, CR4.PAE, 0); // SMAP changes: no reload
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(L.CODE + 4);
    m.enter(L.CODE, 0);
    m.cpu.state.set64(0, CR4.PAE | CR4.PGE, 0);
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.rip).toBe(P.GP_HANDLER + 1);
    expect(m.cpu.state.cr[8]).toBe(CR4.PAE);
  });
});
