// A long-mode test machine with its own page tables for the paging tests: supervisor-only identity
// mappings for the system structures and ring-0 code, one user 2-MiB page for ring-3 code, and a
// test hierarchy at linear 1 GiB (PDPTE[1] -> TPD -> TPT -> the test page) whose entries the tests
// rewrite. #PF and #UD go through IST1 to handlers that halt, so every case ends in HLT.
import { type CpuModel, Seg, StopReason } from "../src/index.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";

/** Physical layout of the paging tests (besides modes.ts's L). */
export const P = {
  /** Test page directory (under PDPTE[1]) and page table (under its PDE[0]). */
  TPD: 0x13000,
  TPT: 0x14000,
  /** Physical page the test PTE maps. */
  PAGE: 0x500000,
  /** Ring-3 code and data: the 2-MiB page at 6 MiB is the only user page of the identity map. */
  USER_CODE: 0x600000,
  /** The #PF and #UD handlers (HLT). */
  PF_HANDLER: L.HANDLER,
  UD_HANDLER: L.HANDLER + 0x10,
  GP_HANDLER: L.HANDLER + 0x20,
  SS_HANDLER: L.HANDLER + 0x30,
  /** Where {@link PagingMachine.exec} puts its snippets (each at a fresh address). */
  SNIPPETS: L.CODE + 0x1000,
} as const;

/** How a snippet run by {@link PagingMachine.exec} ended. */
export type ExecResult = "ok" | "pf" | "ud" | "gp" | "ss";

/** The linear address of the test page (PML4 0, PDPT 1, PD 0, PT 0). */
export const TEST_LA = 0x4000_0000;

/** Entry bits. */
export const E = { P: 1, RW: 2, US: 4, PWT: 8, PCD: 0x10, A: 0x20, D: 0x40, PS: 0x80, G: 0x100 } as const;
/** Bit 63 (XD) in the high half. */
export const XD_HI = 0x8000_0000;

/** The CR4 bits the tests use. */
export const CR4 = {
  PSE: 1 << 4,
  PAE: 1 << 5,
  PGE: 1 << 7,
  LA57: 1 << 12,
  PCIDE: 1 << 17,
  SMEP: 1 << 20,
  SMAP: 1 << 21,
  PKE: 1 << 22,
} as const;

/** The machine of the paging tests. */
export interface PagingMachine extends TestMachine {
  /** Writes a 64-bit entry from halves. */
  entry(addr: number, lo: number, hi?: number): void;
  /** Low half of a 64-bit entry. */
  entryLo(addr: number): number;
  /** Puts the CPU at `rip` in ring `cpl` (0 or 3), not halted. */
  enter(rip: number, cpl: 0 | 3): void;
  /** Runs until HLT; fails the test on anything else. */
  runToHalt(budget?: number): void;
  /** Whether the last run ended in the #PF handler. */
  faulted(): boolean;
  /** The #PF error code pushed on the IST stack. */
  pfError(): number;
  /** CR2 as a number (signed for upper-half addresses). */
  cr2(): number;
  /**
   * Runs `bytes` (followed by HLT) at ring 0, or at ring 3 (followed by UD2, so "ud" is the normal
   * end there), after loading `regs` (register number -> value, 64-bit as a number); returns how
   * it ended. Control registers are changed only by the guest code, so the TLB stays as it is.
   */
  exec(bytes: number[], regs?: Record<number, number | readonly [number, number]>, cpl?: 0 | 3): ExecResult;
}

/** Builds the machine: system maps, user page at 6 MiB, test hierarchy with a present PTE. */
export function createPagingMachine(options: { model?: CpuModel } = {}): PagingMachine {
  const base = createMachine("long", undefined, options.model);
  const view = new DataView(base.ram.buffer);
  const m = base as PagingMachine;
  m.entry = (addr, lo, hi = 0) => {
    view.setUint32(addr, lo >>> 0, true);
    view.setUint32(addr + 4, hi >>> 0, true);
  };
  m.entryLo = (addr) => view.getUint32(addr, true);
  // Identity map of 1 GiB with supervisor 2-MiB pages; PD[3] (6-8 MiB) is a user page.
  for (let k = 0; k < 512; k++) m.entry(L.PD + 8 * k, k * 0x200000 + (k === 3 ? 0x87 : 0x83));
  m.entry(L.PDPT + 8, P.TPD | 7);
  m.entry(P.TPD, P.TPT | 7);
  m.entry(P.TPT, P.PAGE | 7);
  m.gate(14, P.PF_HANDLER, { ist: 1 });
  m.gate(6, P.UD_HANDLER, { ist: 1 });
  m.gate(13, P.GP_HANDLER, { ist: 1 });
  m.gate(12, P.SS_HANDLER, { ist: 1 });
  for (const h of [P.PF_HANDLER, P.UD_HANDLER, P.GP_HANDLER, P.SS_HANDLER]) m.load(h, [0xf4]);
  let next: number = P.SNIPPETS;
  let nextUser = P.USER_CODE + 0x1000;
  m.enter = (rip, cpl) => {
    const s = m.cpu.state;
    s.rip = rip;
    m.cpu.halted = false;
    const set = (seg: number, sel: number, ar: number): void => {
      s.segSelector[seg] = sel;
      s.segAccess[seg] = ar;
    };
    if (cpl === 3) {
      set(Seg.CS, SEL.CODE64_U, 0xa0fb);
      set(Seg.SS, SEL.DATA_U, 0xc0f3);
    } else {
      set(Seg.CS, SEL.CODE64, 0xa09b);
      set(Seg.SS, SEL.DATA64, 0xc093);
    }
  };
  m.runToHalt = (budget = 50) => {
    const why = m.cpu.run(budget);
    if (why !== StopReason.Halted)
      throw new Error(`expected HLT, got stop ${why} at ${m.cpu.state.rip.toString(16)}`);
  };
  m.faulted = () => m.cpu.state.rip === P.PF_HANDLER + 1;
  m.pfError = () => view.getUint32(L.IST1 - 48, true);
  m.exec = (bytes, regs = {}, cpl = 0) => {
    const at = cpl === 3 ? nextUser : next;
    m.load(at, [...bytes, ...(cpl === 3 ? [0x0f, 0x0b] : [0xf4])]);
    if (cpl === 3) nextUser += (bytes.length + 0x12) & ~0xf;
    else next += (bytes.length + 0x11) & ~0xf;
    const s = m.cpu.state;
    for (const [r, v] of Object.entries(regs)) {
      if (typeof v === "number") s.set64(Number(r), v >>> 0, Math.floor(v / 2 ** 32) >>> 0);
      else s.set64(Number(r), v[0] >>> 0, v[1] >>> 0);
    }
    s.flags.write(2);
    m.enter(at, cpl);
    m.runToHalt(200);
    const rip = s.rip;
    if (cpl === 0 && rip === at + bytes.length + 1) return "ok";
    if (rip === P.PF_HANDLER + 1) return "pf";
    if (rip === P.UD_HANDLER + 1)
      return cpl === 3 && m.read32(L.IST1 - 40) === at + bytes.length ? "ok" : "ud";
    if (rip === P.GP_HANDLER + 1) return "gp";
    if (rip === P.SS_HANDLER + 1) return "ss";
    throw new Error(`snippet ended at ${rip.toString(16)}`);
  };
  m.cr2 = () => (m.cpu.state.cr[5]! | 0) * 2 ** 32 + m.cpu.state.cr[4]!;
  return m;
}

/** Tables of the legacy-mode (32-bit and PAE) paging machine. */
export const LP = {
  /** 32-bit paging: the page directory (4-byte entries). */
  PD32: 0x18000,
  /** PAE: the PDPT (4 entries) and the page directory of the first GiB. */
  PDPT: 0x16000,
  PD0: 0x17000,
} as const;

/**
 * A 32-bit protected-mode machine with 32-bit paging (`bits32`: 4-MByte supervisor pages, the one
 * at 4 MiB user) or PAE paging (`pae`: 2-MByte supervisor pages, the one at 6 MiB user), and the
 * test hierarchy at linear 1 GiB: upper = PDE at P.TPD (PAE) or PD32[256] (32-bit), leaf = PTE at
 * P.TPT. Handlers as in {@link createPagingMachine}, through 32-bit interrupt gates.
 */
export function createLegacyPagingMachine(mode: "bits32" | "pae"): TestMachine & {
  /** The upper entry's address (a PDE). */
  readonly upperAddr: number;
  /** Puts the CPU at `rip` in ring `cpl`. */
  enter(rip: number, cpl: 0 | 3): void;
} {
  const m = createMachine("protected");
  const view = new DataView(m.ram.buffer);
  const s = m.cpu.state;
  for (const [v, h] of [
    [14, P.PF_HANDLER],
    [6, P.UD_HANDLER],
    [13, P.GP_HANDLER],
  ] as const) {
    m.gate(v, h);
    m.load(h, [0xf4]);
  }
  let upperAddr: number;
  if (mode === "bits32") {
    for (let k = 0; k < 4; k++) view.setUint32(LP.PD32 + 4 * k, k * 0x400000 + (k === 1 ? 0x87 : 0x83), true);
    upperAddr = LP.PD32 + 4 * 256;
    s.cr[6] = LP.PD32;
    s.cr[8] = CR4.PSE;
  } else {
    for (let k = 0; k < 512; k++) {
      view.setUint32(LP.PD0 + 8 * k, k * 0x200000 + (k === 3 ? 0x87 : 0x83), true);
      view.setUint32(LP.PD0 + 8 * k + 4, 0, true);
    }
    view.setUint32(LP.PDPT, LP.PD0 | 1, true);
    view.setUint32(LP.PDPT + 8, P.TPD | 1, true);
    upperAddr = P.TPD;
    s.cr[6] = LP.PDPT;
    s.cr[8] = CR4.PAE;
  }
  s.cr[0] = 0x80010011;
  return Object.assign(m, {
    upperAddr,
    enter(rip: number, cpl: 0 | 3): void {
      s.rip = rip;
      m.cpu.halted = false;
      s.segSelector[Seg.CS] = cpl === 3 ? SEL.CODE32_U : SEL.CODE32;
      s.segAccess[Seg.CS] = cpl === 3 ? 0xc0fb : 0xc09b;
      s.segSelector[Seg.SS] = cpl === 3 ? SEL.DATA_U : SEL.DATA;
      s.segAccess[Seg.SS] = cpl === 3 ? 0xc0f3 : 0xc093;
      s.gpr[8] = cpl === 3 ? P.USER_CODE + 0x1f0000 : L.STACK;
    },
  });
}
