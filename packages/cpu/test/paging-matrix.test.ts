// The paging permission matrix, run through the CPU (not the walker alone): for 4-level paging,
// every combination of P/RW/US/XD on the leaf PTE and on the PDE above it, for data reads, data
// writes and instruction fetches at CPL 0 and 3, under CR0.WP, CR4.SMEP, CR4.SMAP with EFLAGS.AC
// and IA32_EFER.NXE. The expected outcome (fault or not, #PF error code, CR2, accessed/dirty
// flags) comes from the small reference model below, written from SDM vol. 3A 4.5 (the walk and
// reserved bits), 4.6.1 (access rights), 4.7 (error code) and 4.8 (A/D flags).
import { beforeAll, describe, expect, it } from "vitest";
import { L } from "./modes.js";
import { CR4, createPagingMachine, E, P, type PagingMachine, TEST_LA, XD_HI } from "./paging-env.js";

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
function reference(c: Case): Outcome {
  const write = c.kind === "write";
  const fetch = c.kind === "fetch";
  const user = c.cpl === 3;
  // Error code bits (4.7): W/R = write, U/S = CPL 3, I/D = fetch when SMEP or (PAE and NXE).
  const base = (write ? 2 : 0) | (user ? 4 : 0) | (fetch && (c.nxe || c.smep) ? 16 : 0);
  const fault = (error: number): Outcome => ({ fault: true, error, accessed: false, dirty: false });
  // The walk, top down: a not-present entry stops it (P = 0); in a present entry, XD is a reserved
  // bit when NXE = 0 (4.5.4, Table 4-14 to 4-20 "Ignored/Reserved"): P | RSVD.
  for (const e of [c.upper, c.leaf]) {
    if (!e.p) return fault(base);
    if (e.xd && !c.nxe) return fault(base | 1 | 8);
  }
  const rw = c.upper.rw && c.leaf.rw;
  const us = c.upper.us && c.leaf.us;
  const xd = c.nxe && (c.upper.xd || c.leaf.xd);
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

/** Runs one case on `m`: returns what happened, in the reference model's terms, plus CR2. */
function runCase(m: PagingMachine, c: Case): Outcome & { cr2: number; detail: string } {
  const s = m.cpu.state;
  const up = bitsOf(c.upper);
  const lf = bitsOf(c.leaf);
  m.entry(L.PDPT + 8, P.TPD | 7);
  m.entry(P.TPD, P.TPT | up.lo, up.hi);
  m.entry(P.TPT, P.PAGE | lf.lo, lf.hi);
  m.load(P.PAGE, PAGE_BYTES);
  s.cr[0] = 0x80000011 | (c.wp ? 0x10000 : 0);
  s.cr[8] = CR4.PAE | (c.smep ? CR4.SMEP : 0) | (c.smap ? CR4.SMAP : 0);
  s.efer[0] = 0x501 | (c.nxe ? 0x800 : 0);
  s.flags.write(0x2 | (c.ac ? 0x40000 : 0));
  s.set64(3, TEST_LA, 0); // RBX
  s.set64(0, MARK, 0); // RAX
  const prog = PROGRAM[c.kind];
  m.enter((c.cpl === 3 ? P.USER_CODE : L.CODE) + prog.offset, c.cpl);
  m.cpu.invalidateTlb();
  m.runToHalt();
  const pde = m.entryLo(P.TPD);
  const pte = m.entryLo(P.TPT);
  const accessed = (pde & E.A) !== 0 && (pte & E.A) !== 0;
  const dirty = (pte & E.D) !== 0;
  if (m.faulted()) return { fault: true, error: m.pfError(), accessed, dirty, cr2: m.cr2(), detail: "" };
  // No fault: the access completed and the ud2 after it (or at the fetched page) raised #UD.
  let detail = "";
  if (s.rip !== P.UD_HANDLER + 1) detail = `stopped at ${s.rip.toString(16)}`;
  else if (c.kind === "read" && s.lo(0) !== 0x90900b0f) detail = `read ${s.lo(0).toString(16)}`;
  else if (c.kind === "write" && m.read32(P.PAGE) !== MARK) detail = "write lost";
  else if (c.kind === "fetch" && m.read32(L.IST1 - 40) !== TEST_LA) detail = "fetch did not reach the page";
  else if ((m.entryLo(L.PDPT + 8) & E.A) === 0) detail = "PDPTE not accessed";
  return { fault: false, error: 0, accessed, dirty, cr2: Number.NaN, detail };
}

function describeCase(c: Case): string {
  const e = (x: Entry): string =>
    `${x.p ? "P" : "-"}${x.rw ? "W" : "-"}${x.us ? "U" : "-"}${x.xd ? "X" : "-"}`;
  return `${c.kind} cpl${c.cpl} pde=${e(c.upper)} pte=${e(c.leaf)} wp=${+c.wp} smep=${+c.smep} smap=${+c.smap} ac=${+c.ac} nxe=${+c.nxe}`;
}

/** Every case of one access kind at one CPL; returns the mismatches (at most 10 described). */
function sweep(m: PagingMachine, kind: Kind, cpl: 0 | 3): { count: number; bad: string[] } {
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
    for (let upper = 0; upper < 16; upper++) {
      for (let leaf = 0; leaf < 16; leaf++) {
        const c: Case = { leaf: entryOf(leaf), upper: entryOf(upper), kind, cpl, wp, smep, smap, ac, nxe };
        const want = reference(c);
        const got = runCase(m, c);
        count++;
        const same =
          got.detail === "" &&
          got.fault === want.fault &&
          (!want.fault || (got.error === want.error && got.cr2 === TEST_LA)) &&
          got.accessed === want.accessed &&
          got.dirty === want.dirty;
        if (!same && bad.length < 10) {
          bad.push(
            `${describeCase(c)}: want ${JSON.stringify(want)} got ${JSON.stringify({ ...got, cr2: got.cr2.toString(16) })}`,
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
