// The debug architecture, from the SDM (vol. 3, "Debug, Branch Profile, TSC, and Intel RDT
// Features", 17.2 Debug Registers and 17.3 Debug Exceptions; vol. 2 MOV DR, INT n/INT1, POPF,
// IRET): single-step, instruction/data/I-O breakpoints, RF, general detect, DR4/DR5 aliasing,
// the MOV SS shadow, and the second tier (compiled blocks) not hiding breakpoints.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Gpr, restore, Seg, StopReason, snapshot } from "../src/index.js";
import { DEBUG_SNIPPETS } from "./debug-snippets.js";
import { createMachine, L, SEL, type TestMachine } from "./modes.js";
import { bytesOf, type Snippet } from "./snippet.js";

const P = DEBUG_SNIPPETS;
const TF = 0x100;
const RF = 0x10000;
const BS = 0x4000;
const BD = 0x2000;
const DR6_INIT = 0xffff0ff0;
/** Where the #DB handler logs DR6, the pushed RIP and the pushed RFLAGS of each #DB (by count in R15). */
const LOG_DR6 = 0x300000;
const LOG_RIP = 0x300400;
const LOG_FLAGS = 0x300800;
const VAR = 0x301000;

/** A long-mode machine running `code`, with the logging #DB handler and #UD/#GP/INT 0x40 handlers. */
function machine(code: Snippet): TestMachine {
  const m = createMachine("long");
  for (const s of [P.dbHandler, P.udHandler, P.gpHandler, P.iretHandler, code]) m.load(s.org, bytesOf(s));
  m.gate(1, P.dbHandler.org);
  m.gate(6, P.udHandler.org);
  m.gate(13, P.gpHandler.org);
  m.gate(0x40, P.iretHandler.org);
  return m;
}

const count = (m: TestMachine): number => m.cpu.state.lo(Gpr.R15);
const logged = (m: TestMachine, base: number): number[] =>
  Array.from({ length: count(m) }, (_, k) => Number(m.read64(base + 8 * k)));

/** DR7 with breakpoint `n` locally enabled, R/W `rw` and LEN code `len`. */
const dr7 = (n: number, rw: number, len: number): number =>
  (0x400 | (1 << (2 * n)) | (rw << (16 + 4 * n)) | (len << (18 + 4 * n))) >>> 0;

function setDr(m: TestMachine, n: number, value: number): void {
  m.cpu.state.dr[2 * n] = value >>> 0;
  m.cpu.state.dr[2 * n + 1] = 0;
}

describe("debug snippets", () => {
  const hasNasm = (() => {
    try {
      execFileSync("nasm", ["-v"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasNasm)("are what nasm assembles from their source", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpu-debug-"));
    for (const [name, s] of Object.entries(DEBUG_SNIPPETS)) {
      const src = join(dir, `${name}.asm`);
      const bin = join(dir, `${name}.bin`);
      writeFileSync(src, `bits ${s.bits}\norg ${s.org}\n${s.src}`);
      execFileSync("nasm", ["-f", "bin", "-o", bin, src]);
      expect(readFileSync(bin).toString("hex"), name).toBe(s.hex);
    }
  });
});

describe("single-step (17.3.1.4)", () => {
  it("traps after every instruction with DR6.BS, the saved RIP pointing at the next one", () => {
    const m = machine(P.stepThree);
    m.cpu.state.flags.bits |= TF;
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    const l = P.stepThree.labels;
    // nop, nop, inc, pushfq, and, popfq (TF set when it started): six traps; none after the last nop.
    expect(logged(m, LOG_RIP)).toEqual([l.a1, l.a2, l.a3, l.a4, l.a5, l.a6]);
    expect(logged(m, LOG_DR6)).toEqual(Array(6).fill((DR6_INIT | BS) >>> 0));
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(1);
    expect(m.cpu.state.rip).toBe(l.a7 + 1);
  });

  it("does not trap after the POPF that sets TF, but after the instruction that follows it", () => {
    const m = machine(P.popfSetsTf);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    const l = P.popfSetsTf.labels;
    expect(logged(m, LOG_RIP)).toEqual([l.a1, l.a2, l.a3, l.a4]);
  });

  it("steps the two halves of a DEC/JNZ pair separately, also in a hot (compiled) loop", () => {
    const m = machine(P.hotLoop);
    m.cpu.compile = true;
    // Run the loop hot first (compiled, DEC/JNZ fused), then single-step some of it.
    expect(m.cpu.run(400)).toBe(StopReason.Budget);
    m.cpu.state.flags.bits |= TF;
    expect(m.cpu.run(300)).toBe(StopReason.Budget);
    const top = P.hotLoop.labels.top;
    // The loop's instructions end at top+3, top+6, brk (DEC) and then JNZ goes back to top.
    const cycle = [top + 3, top + 6, P.hotLoop.labels.brk, top];
    const rips = logged(m, LOG_RIP);
    expect(rips.length).toBeGreaterThan(16);
    for (let k = 0; k + 1 < rips.length; k++) {
      const at = cycle.indexOf(rips[k]!);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(rips[k + 1]).toBe(cycle[(at + 1) % 4]);
    }
  });

  it("INT n clears TF: the software interrupt and its handler are not stepped (17.3.1.4)", () => {
    const m = machine(P.intClearsTf);
    m.cpu.state.flags.bits |= TF;
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    const l = P.intClearsTf.labels;
    expect(m.cpu.state.lo(Gpr.R14)).toBe(1); // the INT 0x40 handler ran once
    // No trap after INT (nor in its handler, nor after its IRETQ); then nop, pushfq, and, popfq.
    expect(logged(m, LOG_RIP)).toEqual([l.n2, l.n3, l.n4, l.n5]);
  });

  it("a MOV SS delays the single-step trap to after the next instruction (one #DB, SDM MOV)", () => {
    const m = machine(P.movSsStep);
    m.cpu.state.flags.bits |= TF;
    m.cpu.state.gpr[0] = SEL.DATA64;
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    const l = P.movSsStep.labels;
    expect(logged(m, LOG_RIP)).toEqual([l.n2, l.n3, l.n4, l.n5, l.n6]);
    expect(logged(m, LOG_DR6)[0]).toBe((DR6_INIT | BS) >>> 0);
  });

  it("an STI shadow does not delay the single-step trap (only MOV SS/POP SS do)", () => {
    const m = machine(P.stiStep);
    m.cpu.state.flags.bits = (m.cpu.state.flags.bits | TF) & ~0x200;
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    const l = P.stiStep.labels;
    expect(logged(m, LOG_RIP)).toEqual([l.n1, l.n2, l.n3, l.n4, l.n5]);
  });

  it("SYSCALL: the trap follows TF as FMASK leaves it (none when FMASK clears TF)", () => {
    for (const fmask of [0, TF]) {
      const m = machine(P.syscallTf);
      m.cpu.msrs.star[1] = SEL.CODE64;
      m.cpu.msrs.lstar[0] = P.syscallTf.labels.kernel;
      m.cpu.msrs.fmask[0] = fmask;
      m.cpu.state.flags.bits |= TF;
      expect(m.cpu.run(200)).toBe(StopReason.Halted);
      const l = P.syscallTf.labels;
      expect(logged(m, LOG_RIP)).toEqual(fmask === 0 ? [l.kernel, l.s1, l.s2, l.s3, l.s4] : []);
    }
  });

  it("a trap held over the MOV SS shadow survives a snapshot round trip", () => {
    const m = machine(P.movSsStep);
    m.cpu.state.flags.bits |= TF;
    m.cpu.state.gpr[0] = SEL.DATA64;
    expect(m.cpu.run(1)).toBe(StopReason.Budget);
    expect(m.cpu.state.pendingDebug).toBe(BS);
    const snap = JSON.parse(JSON.stringify(snapshot(m.cpu.state)));
    const n = machine(P.movSsStep);
    restore(snap, n.cpu.state);
    expect(n.cpu.run(200)).toBe(StopReason.Halted);
    const l = P.movSsStep.labels;
    expect(logged(n, LOG_RIP)).toEqual([l.n2, l.n3, l.n4, l.n5, l.n6]);
  });
});

describe("instruction breakpoints (17.3.1.1)", () => {
  it("fault before the instruction with DR6.Bn; RF from IRETQ lets it run once, then it hits again", () => {
    const m = machine(P.execLoop);
    setDr(m, 1, P.execLoop.labels.brk);
    m.cpu.state.dr[14] = dr7(1, 0, 0);
    const edx = m.cpu.state.lo(Gpr.RDX); // the reset signature
    expect(m.cpu.run(500)).toBe(StopReason.Halted);
    // Three loop iterations: three #DB faults, each reported at the breakpoint with B1, RF = 0 in the frame.
    expect(logged(m, LOG_RIP)).toEqual(Array(3).fill(P.execLoop.labels.brk));
    expect(logged(m, LOG_DR6)).toEqual(Array(3).fill((DR6_INIT | 2) >>> 0));
    for (const f of logged(m, LOG_FLAGS)) expect(f & RF).toBe(0);
    expect(m.cpu.state.lo(Gpr.RDX) - edx).toBe(6); // the instruction ran once per iteration
    expect(m.cpu.state.flags.bits & RF).toBe(0);
  });

  it("are not skipped by compiled blocks (the second tier), even on the JNZ of a fused pair", () => {
    const m = machine(P.hotLoop);
    m.cpu.compile = true;
    expect(m.cpu.run(600)).toBe(StopReason.Budget);
    const left = m.cpu.state.lo(Gpr.RCX);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(900); // the loop ran well past the compile threshold
    const atJnz = m.cpu.state.rip === P.hotLoop.labels.brk;
    setDr(m, 0, P.hotLoop.labels.brk);
    m.cpu.state.dr[14] = dr7(0, 0, 0);
    expect(m.cpu.run(1_000_000)).toBe(StopReason.Halted);
    // One #DB per JNZ still to run.
    expect(count(m)).toBe(atJnz ? left + 1 : left);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(2000);
  });

  it("MOV DR7 arms a breakpoint on the very next instruction of the same block; G bits count", () => {
    const m = machine(P.armInline);
    setDr(m, 0, P.armInline.labels.brk);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.armInline.labels.brk]);
    const g = machine(P.execLoop);
    setDr(g, 3, P.execLoop.labels.brk);
    g.cpu.state.dr[14] = (0x400 | (2 << 6)) >>> 0; // G3 only, R/W3 = LEN3 = 00
    expect(g.cpu.run(500)).toBe(StopReason.Halted);
    expect(logged(g, LOG_DR6)).toEqual(Array(3).fill((DR6_INIT | 8) >>> 0));
  });

  it("a long REP STOSB with a breakpoint on it reports it once, not again as it resumes", () => {
    const m = machine(P.repLong);
    setDr(m, 0, P.repLong.labels.rep_);
    m.cpu.state.dr[14] = dr7(0, 0, 0);
    expect(m.cpu.run(50_000)).toBe(StopReason.Halted); // each iteration counts as an instruction
    expect(logged(m, LOG_RIP)).toEqual([P.repLong.labels.rep_]);
    expect(m.cpu.state.lo(Gpr.RDI)).toBe(0x400000 + 10000);
  });

  it("a breakpoint on the #DB handler itself (IST stack) is an endless #DB: run still returns", () => {
    const m = machine(P.stepThree);
    m.gate(1, P.dbHandler.org, { ist: 1 });
    setDr(m, 0, P.dbHandler.org);
    m.cpu.state.dr[14] = dr7(0, 0, 0);
    m.cpu.state.flags.bits |= TF;
    expect(m.cpu.run(1000)).toBe(StopReason.Budget);
    expect(m.cpu.instructions).toBe(1); // the first NOP; then #DB after #DB at the handler
    expect(m.cpu.eventCounts[1]).toBeGreaterThan(900);
  });

  it("disarming DR7 leaves debug mode (nothing per instruction)", () => {
    const m = machine(P.hotLoop);
    setDr(m, 0, P.hotLoop.labels.brk);
    m.cpu.state.dr[14] = dr7(0, 0, 0);
    m.cpu.run(50);
    expect(m.cpu.debugActive).toBe(true);
    m.cpu.state.dr[14] = 0x400;
    m.cpu.run(50);
    expect(m.cpu.debugActive).toBe(false);
  });
});

describe("data breakpoints (17.3.1.2)", () => {
  it("a write breakpoint traps after the write with its Bn, and ignores reads", () => {
    const m = machine(P.dataWrite);
    setDr(m, 2, VAR);
    m.cpu.state.dr[14] = dr7(2, 1, 3);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.dataWrite.labels.after]);
    expect(logged(m, LOG_DR6)).toEqual([(DR6_INIT | 4) >>> 0]);
    expect(m.read32(VAR)).toBe(5);
  });

  it("a read/write breakpoint (R/W = 11) also traps on reads", () => {
    const m = machine(P.dataWrite);
    setDr(m, 0, VAR);
    m.cpu.state.dr[14] = dr7(0, 3, 3);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(count(m)).toBe(4);
  });

  it("LEN = 4 ignores the low two address bits and catches any overlapping access", () => {
    const m = machine(P.lenFour);
    setDr(m, 0, VAR + 2); // covers VAR..VAR+3
    m.cpu.state.dr[14] = dr7(0, 1, 3);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    const l = P.lenFour.labels;
    expect(logged(m, LOG_RIP)).toEqual([l.hit1, l.hit2, l.hit3]);
  });

  it("LEN = 8 (encoding 10) covers an aligned quadword", () => {
    const m = machine(P.lenEight);
    setDr(m, 1, VAR + 5);
    m.cpu.state.dr[14] = dr7(1, 1, 2);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.lenEight.labels.hit]);
    expect(logged(m, LOG_DR6)).toEqual([(DR6_INIT | 2) >>> 0]);
  });

  it("a REP MOVSD stops after the iteration that wrote the watched dword and resumes", () => {
    const m = machine(P.repMovs);
    for (let k = 0; k < 8; k++) m.write32(0x302000 + 4 * k, 0x11 * (k + 1));
    setDr(m, 0, VAR + 8);
    m.cpu.state.dr[14] = dr7(0, 1, 3);
    expect(m.cpu.run(500)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.repMovs.labels.done - 2]); // at the REP MOVSD, 5 left
    for (let k = 0; k < 8; k++) expect(m.read32(VAR + 4 * k)).toBe(0x11 * (k + 1));
  });

  it("event delivery's own accesses hit data breakpoints: #DB before the handler's first instruction", () => {
    // The 64-bit frame of an event taken at CPL 0 with RSP = L.STACK: its RIP slot is L.STACK - 40.
    for (const [code, handler] of [
      [P.faultFrame, P.udHandler.org],
      [P.intFrame, P.iretHandler.org],
    ] as const) {
      const m = machine(code);
      setDr(m, 0, L.STACK - 40);
      m.cpu.state.dr[14] = dr7(0, 1, 2);
      expect(m.cpu.run(200)).toBe(StopReason.Halted);
      expect(logged(m, LOG_RIP)).toEqual([handler]);
      expect(logged(m, LOG_DR6)).toEqual([(DR6_INIT | 1) >>> 0]);
    }
  });

  it("and so does an external interrupt's frame", () => {
    let pending = true;
    const m = createMachine("long", {
      hasInterrupt: () => pending,
      acknowledge: () => {
        pending = false;
        return 0x40;
      },
    });
    for (const s of [P.dbHandler, P.iretHandler, P.irqWait]) m.load(s.org, bytesOf(s));
    m.gate(1, P.dbHandler.org);
    m.gate(0x40, P.iretHandler.org);
    setDr(m, 0, L.STACK - 40);
    m.cpu.state.dr[14] = dr7(0, 1, 2);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.iretHandler.org]);
    expect(m.cpu.state.lo(Gpr.R14)).toBe(1);
  });

  it("so does the read of the IDT gate (R/W = 11)", () => {
    const m = machine(P.faultFrame);
    setDr(m, 2, L.IDT + 6 * 16 + 4);
    m.cpu.state.dr[14] = dr7(2, 3, 3);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.udHandler.org]);
    expect(logged(m, LOG_DR6)).toEqual([(DR6_INIT | 4) >>> 0]);
  });

  it("a MOV SS data breakpoint is reported after the next instruction, in one #DB", () => {
    const m = machine(P.movSsData);
    m.write32(VAR, SEL.DATA64);
    setDr(m, 3, VAR);
    m.cpu.state.dr[14] = dr7(3, 3, 1);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.movSsData.labels.n2]);
    expect(logged(m, LOG_DR6)).toEqual([(DR6_INIT | 8) >>> 0]);
  });
});

describe("I/O breakpoints (R/W = 10, CR4.DE)", () => {
  it("trap after OUT to the port with CR4.DE = 1, and not at all with CR4.DE = 0", () => {
    for (const de of [true, false]) {
      const m = machine(P.ioOut);
      if (de) m.cpu.state.cr[8] = m.cpu.state.cr[8]! | 8;
      setDr(m, 0, 0x80);
      m.cpu.state.dr[14] = dr7(0, 2, 0);
      expect(m.cpu.run(200)).toBe(StopReason.Halted);
      expect(logged(m, LOG_RIP)).toEqual(de ? [P.ioOut.labels.after] : []);
    }
  });
});

describe("I/O breakpoints on string instructions", () => {
  it("REP OUTSB reports the breakpoint after each resumed first iteration (17.3.1.2)", () => {
    const m = machine(P.repOuts);
    m.cpu.state.cr[8] = m.cpu.state.cr[8]! | 8;
    setDr(m, 0, 0x80);
    m.cpu.state.dr[14] = dr7(0, 2, 0);
    expect(m.cpu.run(300)).toBe(StopReason.Halted);
    const l = P.repOuts.labels;
    expect(logged(m, LOG_RIP)).toEqual([l.rep_, l.rep_, l.rep_, l.done]);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(0);
  });
});

describe("MOV DR (SDM vol. 2B) and DR6/DR7 formats", () => {
  it("DR7.GD makes a MOV DR a #DB fault with DR6.BD; GD is cleared on entry, the MOV then runs", () => {
    const m = machine(P.generalDetect);
    setDr(m, 0, 0x12345678);
    expect(m.cpu.run(200)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.generalDetect.labels.gd]);
    expect(logged(m, LOG_DR6)).toEqual([(DR6_INIT | BD) >>> 0]);
    expect(m.cpu.state.dr[14]! & 0x2000).toBe(0);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0x12345678);
  });

  it("DR4/DR5 alias DR6/DR7 with CR4.DE = 0, and are #UD with CR4.DE = 1", () => {
    const m = machine(P.drAlias);
    m.cpu.state.dr[12] = 0xffff4ff1;
    m.cpu.state.dr[14] = 0x401;
    setDr(m, 0, 0x1000);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RAX)).toBe(0xffff4ff1);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(0x401);
    const n = machine(P.drAlias);
    n.cpu.state.cr[8] = n.cpu.state.cr[8]! | 8;
    expect(n.cpu.run(100)).toBe(StopReason.Halted);
    expect(n.cpu.state.lo(13)).toBe(L.CODE); // #UD at the first MOV
  });

  it("MOV DR at CPL 3 is #GP(0)", () => {
    const m = machine(P.drUser);
    const s = m.cpu.state;
    s.segSelector[Seg.CS] = SEL.CODE64_U;
    s.segAccess[Seg.CS] = 0xa0fb;
    s.segSelector[Seg.SS] = SEL.DATA_U;
    s.segAccess[Seg.SS] = 0xc0f3;
    s.gpr[22] = 0xdead; // R11: overwritten with the error code
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(s.lo(11)).toBe(0);
    expect(s.lo(13)).toBe(L.CODE);
  });

  it("reserved DR6/DR7 bits read as fixed; a 1 in DR7 bits 63:32 is #GP(0)", () => {
    const m = machine(P.drReserved);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RBX)).toBe(DR6_INIT);
    expect(m.cpu.state.lo(Gpr.RCX)).toBe(0x400);
    expect(m.cpu.state.lo(13)).toBe(P.drReserved.labels.wide);
    expect(m.cpu.state.lo(11)).toBe(0);
  });
});

describe("CPUID", () => {
  it("leaf 1 EDX advertises DE (bit 2): I/O breakpoints and CR4.DE", () => {
    const m = createMachine("long");
    m.load(L.CODE, [0xb8, 1, 0, 0, 0, 0x0f, 0xa2, 0xf4]); // mov eax, 1; cpuid; hlt
    expect(m.cpu.run(10)).toBe(StopReason.Halted);
    expect(m.cpu.state.gpr[2 * Gpr.RDX]! & 4).toBe(4);
  });
});

describe("other modes", () => {
  it("real mode: POPF sets TF, each later instruction traps through IVT entry 1, IRET resumes", () => {
    const m = createMachine("real");
    m.load(P.realStep.org, bytesOf(P.realStep));
    expect(m.cpu.run(300)).toBe(StopReason.Halted);
    const l = P.realStep.labels;
    const n = m.cpu.state.lo(Gpr.RSI) & 0xffff;
    const rips = Array.from({ length: n }, (_, k) => m.read32(0x502 + 2 * k) & 0xffff);
    expect(rips).toEqual([l.n2, l.n3, l.n4, l.n5, l.n6, l.n7]);
  });

  it("32-bit protected mode: POP SS holds the single-step trap over the next instruction", () => {
    const m = createMachine("protected");
    m.load(P.popSs32.org, bytesOf(P.popSs32));
    m.load(P.prot32Handler.org, bytesOf(P.prot32Handler));
    m.gate(1, P.prot32Handler.org);
    m.cpu.state.flags.bits |= TF;
    expect(m.cpu.run(300)).toBe(StopReason.Halted);
    // push ss, then one #DB for pop ss + nop, then pushfd, and, popfd: five, not six.
    expect(m.cpu.state.lo(Gpr.RSI)).toBe(5);
  });

  it("32-bit protected mode: an instruction breakpoint with a 32-bit gate and IRETD restoring RF", () => {
    const m = createMachine("protected");
    m.load(P.prot32Loop.org, bytesOf(P.prot32Loop));
    m.load(P.prot32Handler.org, bytesOf(P.prot32Handler));
    m.gate(1, P.prot32Handler.org);
    setDr(m, 0, P.prot32Loop.labels.top);
    m.cpu.state.dr[14] = dr7(0, 0, 0);
    const edx = m.cpu.state.lo(Gpr.RDX);
    expect(m.cpu.run(300)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(Gpr.RSI)).toBe(2);
    expect(m.cpu.state.lo(Gpr.RDX) - edx).toBe(2);
    expect(m.cpu.state.dr[12]).toBe((DR6_INIT | 1) >>> 0);
  });
});

describe("RF and the pushed EFLAGS", () => {
  it("RF alone (no breakpoint armed) is cleared without entering the one-instruction mode", () => {
    const m = machine(P.stepThree);
    m.cpu.state.flags.bits |= RF;
    expect(m.cpu.run(1)).toBe(StopReason.Budget);
    expect(m.cpu.state.flags.bits & RF).toBe(0);
    expect(m.cpu.debugActive).toBe(false);
    expect(m.cpu.debugStepping).toBe(false);
  });

  it("a fault other than #DB pushes RF = 1 (17.3.1.1)", () => {
    const m = machine(P.faultRf);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(m.cpu.state.lo(13)).toBe(L.CODE);
    expect(m.cpu.state.lo(12) & RF).toBe(RF);
  });

  it("INT1 (ICEBP) delivers #DB as a trap without setting DR6 bits", () => {
    const m = machine(P.icebp);
    expect(m.cpu.run(100)).toBe(StopReason.Halted);
    expect(logged(m, LOG_RIP)).toEqual([P.icebp.labels.after]);
    expect(logged(m, LOG_DR6)).toEqual([DR6_INIT]);
  });
});
