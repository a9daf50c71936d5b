/**
 * Exit qualification, instruction information, guest-linear address and register values of an
 * intercepted instruction, as SDM vol. 3, 28.2.1 (tables 28-1 "Exit Qualification for ..." to
 * 28-7) and 28.2.5 (tables 28-8 to 28-15 "Format of the VM-Exit Instruction-Information Field")
 * define them: one builder per basic exit reason, in a table indexed by the reason.
 */
import { OPCODE_COUNT, OPCODE_NAMES } from "@turtles/x86-decoder";
import { Seg } from "../state/registers.js";
import type { Cpu } from "./cpu.js";
import { VmExitReason as R } from "./exit-reason.js";
import { NO_ERROR, V } from "./fault.js";
import type { Insn } from "./insn.js";
import type { CpuExit } from "./intercepts.js";

/** Fills the reason-specific fields of `e` for the instruction `i`. */
type Builder = (c: Cpu, i: Insn, e: CpuExit) => void;

/** Which form an opcode is, where one exit reason covers several instructions. */
const Form = {
  None: 0,
  MovToCr: 1,
  MovFromCr: 2,
  Clts: 3,
  Lmsw: 4,
  In: 5,
  Out: 6,
  Ins: 7,
  Outs: 8,
  // Descriptor-table instructions: 16 + the identity of tables 28-10 and 28-11.
  Sgdt: 16,
  Sidt: 17,
  Lgdt: 18,
  Lidt: 19,
  Sldt: 16,
  Str: 17,
  Lldt: 18,
  Ltr: 19,
  Vmread: 20,
  Vmwrite: 21,
} as const;

const FORM_BY_MNEMONIC: Readonly<Record<string, number>> = {
  clts: Form.Clts,
  lmsw: Form.Lmsw,
  in: Form.In,
  out: Form.Out,
  insb: Form.Ins,
  insw: Form.Ins,
  insd: Form.Ins,
  outsb: Form.Outs,
  outsw: Form.Outs,
  outsd: Form.Outs,
  sgdt: Form.Sgdt,
  sidt: Form.Sidt,
  lgdt: Form.Lgdt,
  lidt: Form.Lidt,
  sldt: Form.Sldt,
  str: Form.Str,
  lldt: Form.Lldt,
  ltr: Form.Ltr,
  vmread: Form.Vmread,
  vmwrite: Form.Vmwrite,
};

const FORM_BY_OPCODE: Uint8Array = (() => {
  const t = new Uint8Array(OPCODE_COUNT);
  for (let op = 1; op < OPCODE_COUNT; op++) {
    const name = OPCODE_NAMES[op] ?? "";
    if (name === "Mov_Cd_Rcr") t[op] = Form.MovToCr;
    else if (name === "Mov_Rcr_Cd") t[op] = Form.MovFromCr;
    else t[op] = FORM_BY_MNEMONIC[(name.split("_")[0] ?? "").toLowerCase()] ?? Form.None;
  }
  return t;
})();

/** Address-size code of instruction information (bits 9:7): 0 = 16, 1 = 32, 2 = 64. */
function aszCode(asz: number): number {
  return asz === 64 ? 2 : asz === 32 ? 1 : 0;
}

/** Operand-size code of RDRAND/RDSEED information (bits 12:11): 0 = 16, 1 = 32, 2 = 64. */
function sizeCode(size: number): number {
  return size === 64 ? 2 : size === 32 ? 1 : 0;
}

/**
 * The memory-operand part of instruction information (tables 28-10 to 28-15): scaling (1:0),
 * address size (9:7), segment (17:15), index (21:18, 22 = invalid), base (26:23, 27 = invalid).
 * A RIP-relative operand is reported as an absolute displacement with no base and no index.
 */
function memoryInfo(i: Insn): number {
  const scaling = i.scale === 8 ? 3 : i.scale === 4 ? 2 : i.scale === 2 ? 1 : 0;
  return (
    ((i.index >= 0 ? scaling | (i.index << 18) : 1 << 22) |
      (aszCode(i.asz) << 7) |
      (i.seg << 15) |
      (i.base >= 0 ? i.base << 23 : 1 << 27)) >>>
    0
  );
}

/** Exit qualification = the displacement of the memory operand (SDM vol. 3, 28.2.1). */
function displacement(i: Insn, e: CpuExit): void {
  e.qualLo = i.dispLo >>> 0;
  e.qualHi = i.dispHi >>> 0;
}

/** Sets the guest-linear address of offset `off` in segment `seg` (no checks: it is a report). */
function setLinear(c: Cpu, e: CpuExit, seg: number, off: number): void {
  const la = c.mode64 ? off + c.segBaseN[seg]! : (c.segBaseN[seg]! + off) >>> 0;
  e.linearLo = la >>> 0;
  e.linearHi = Math.floor(la / 4294967296) >>> 0;
}

/** The offset in register `r` at address size `asz`. */
function index(c: Cpu, r: number, asz: number): number {
  const g = c.s.gpr;
  if (asz === 64) return (g[2 * r + 1]! | 0) * 4294967296 + g[2 * r]!;
  return asz === 32 ? g[2 * r]! : g[2 * r]! & 0xffff;
}

/** CR0, CR2, CR3, CR4, CR8 as a bit set. */
const VALID_CRS = 0x11d;

/** Table 28-3: CR number (3:0), access type (5:4), LMSW operand type (6), GPR (11:8), LMSW data (31:16). */
function crAccess(c: Cpu, i: Insn, e: CpuExit): void {
  const g = c.s.gpr;
  const cr0 = c.s.cr[0]!;
  const form = FORM_BY_OPCODE[i.opcode];
  // #UD for CR1, CR5-CR7, CR9-CR15 comes before the exit (SDM vol. 3, 26.1.1).
  if ((form === Form.MovToCr || form === Form.MovFromCr) && ((VALID_CRS >>> i.aux) & 1) === 0)
    c.fault(V.UD, NO_ERROR);
  switch (form) {
    case Form.MovToCr:
      e.qualLo = (i.aux & 0xf) | ((i.s & 0xf) << 8);
      e.crValueLo = g[2 * i.s]!;
      e.crValueHi = c.mode64 ? g[2 * i.s + 1]! : 0;
      break;
    case Form.MovFromCr:
      e.qualLo = (i.aux & 0xf) | (1 << 4) | ((i.d & 0xf) << 8);
      break;
    case Form.Clts:
      e.qualLo = 2 << 4;
      e.crValueLo = (cr0 & ~8) >>> 0;
      break;
    default: {
      // LMSW: the source operand is read (its faults come first) and reported in bits 31:16.
      let v: number;
      if (i.mem) {
        const off = c.ea(i);
        v = c.rd16(c.lin(i.seg, off, 2, false));
        setLinear(c, e, i.seg, off);
      } else {
        v = g[2 * i.d]! & 0xffff;
      }
      e.qualLo = ((3 << 4) | (i.mem ? 0x40 : 0) | (v << 16)) >>> 0;
      e.crValueLo = ((cr0 & ~0xe) | (v & 0xf) | (cr0 & 1)) >>> 0;
    }
  }
}

/** Table 28-4: DR number (2:0), direction (4: 1 = MOV from DR), GPR (11:8). */
function movDr(c: Cpu, i: Insn, e: CpuExit): void {
  // #UD for DR4/DR5 with CR4.DE set and for DR8-DR15 comes before the exit (SDM vol. 3, 26.1.1).
  if (i.aux > 7 || ((i.aux === 4 || i.aux === 5) && (c.s.cr[8]! & 0x8) !== 0)) c.fault(V.UD, NO_ERROR);
  const toDr = i.imm2 === 1;
  e.qualLo = (i.aux & 7) | (toDr ? 0 : 0x10) | (((toDr ? i.s : i.d) & 0xf) << 8);
}

/**
 * Table 28-5: size - 1 (2:0), direction (3: 1 = IN), string (4), REP (5), immediate port (6),
 * port (31:16); INS/OUTS also give the linear address of the memory operand and the address
 * size and segment in instruction information (table 28-8).
 */
function io(c: Cpu, i: Insn, e: CpuExit): void {
  const g = c.s.gpr;
  const form = FORM_BY_OPCODE[i.opcode];
  const bytes = i.size >>> 3;
  if (form === Form.In || form === Form.Out) {
    const immediate = i.imm2 !== 1;
    const port = immediate ? i.immLo & 0xff : g[4]! & 0xffff;
    e.qualLo = ((bytes - 1) | (form === Form.In ? 8 : 0) | (immediate ? 0x40 : 0) | (port << 16)) >>> 0;
    return;
  }
  const isIn = form === Form.Ins;
  const rep = i.aux >>> 8 !== 0;
  e.qualLo = ((bytes - 1) | (isIn ? 8 : 0) | 0x10 | (rep ? 0x20 : 0) | ((g[4]! & 0xffff) << 16)) >>> 0;
  const seg = isIn ? Seg.ES : i.seg;
  e.instructionInfo = (aszCode(i.asz) << 7) | (seg << 15);
  setLinear(c, e, seg, index(c, isIn ? 7 : 6, i.asz));
}

/** INVLPG: the linear address of the operand (table 28-1). */
function invlpg(c: Cpu, i: Insn, e: CpuExit): void {
  setLinear(c, e, i.seg, c.ea(i));
  e.qualLo = e.linearLo;
  e.qualHi = e.linearHi;
  e.linearLo = 0;
  e.linearHi = 0;
}

/** Table 28-10: LGDT/LIDT/SGDT/SIDT: memory operand, operand size (11), identity (29:28). */
function gdtrIdtr(c: Cpu, i: Insn, e: CpuExit): void {
  displacement(i, e);
  const identity = (FORM_BY_OPCODE[i.opcode]! - 16) & 3;
  e.instructionInfo = (memoryInfo(i) | (!c.mode64 && i.size !== 16 ? 1 << 11 : 0) | (identity << 28)) >>> 0;
}

/** Table 28-11: LLDT/LTR/SLDT/STR: a register (6:3, bit 10 set) or a memory operand, identity (29:28). */
function ldtrTr(_c: Cpu, i: Insn, e: CpuExit): void {
  const identity = (FORM_BY_OPCODE[i.opcode]! - 16) & 3;
  let info: number;
  if (i.mem) {
    displacement(i, e);
    info = memoryInfo(i);
  } else {
    info = ((i.d & 0xf) << 3) | (1 << 10);
  }
  e.instructionInfo = (info | (aszCode(i.asz) << 7) | (identity << 28)) >>> 0;
}

/** Table 28-13: VMCLEAR/VMPTRLD/VMPTRST/VMXON: a memory operand. */
function vmxMemory(_c: Cpu, i: Insn, e: CpuExit): void {
  displacement(i, e);
  e.instructionInfo = memoryInfo(i);
}

/** Table 28-14: VMREAD/VMWRITE: reg1 or memory (the value), reg2 (31:28, the field encoding). */
function vmreadWrite(c: Cpu, i: Insn, e: CpuExit): void {
  const read = FORM_BY_OPCODE[i.opcode] === Form.Vmread;
  const reg2 = read ? i.s : i.d;
  const reg1 = read ? i.d : i.s;
  let info: number;
  if (i.mem) {
    displacement(i, e);
    info = memoryInfo(i);
  } else {
    info = ((reg1 & 0xf) << 3) | (1 << 10);
  }
  e.instructionInfo = (info | ((reg2 & 0xf) << 28)) >>> 0;
  e.vmcsEncoding = c.s.gpr[2 * reg2]!;
}

/** Table 28-15: INVEPT/INVVPID/INVPCID: memory descriptor and reg2 (31:28, the type). */
function invalidation(_c: Cpu, i: Insn, e: CpuExit): void {
  displacement(i, e);
  e.instructionInfo = (memoryInfo(i) | ((i.d & 0xf) << 28)) >>> 0;
}

/** Table 28-12: RDRAND/RDSEED: destination register (6:3), operand size (12:11). */
function randomInfo(_c: Cpu, i: Insn, e: CpuExit): void {
  e.instructionInfo = ((i.d & 0xf) << 3) | (sizeCode(i.size) << 11);
}

/** RDMSR, RDPMC: ECX. */
function ecxOnly(c: Cpu, _i: Insn, e: CpuExit): void {
  e.ecx = c.s.gpr[2]!;
}

/** WRMSR, XSETBV, CPUID: ECX, EAX and EDX. */
function ecxEaxEdx(c: Cpu, _i: Insn, e: CpuExit): void {
  const g = c.s.gpr;
  e.ecx = g[2]!;
  e.eax = g[0]!;
  e.edx = g[4]!;
}

/** MWAIT: bit 0 set when the monitor was armed (SDM vol. 3, table 28-1). */
function mwaitQual(c: Cpu, _i: Insn, e: CpuExit): void {
  e.qualLo = c.monitorArmed ? 1 : 0;
}

/** VMFUNC: EAX (the function number). */
function eaxOnly(c: Cpu, _i: Insn, e: CpuExit): void {
  e.eax = c.s.gpr[0]!;
}

/** Builders by basic exit reason (reasons without one report the instruction length only). */
const BUILDERS: (Builder | undefined)[] = (() => {
  const t: (Builder | undefined)[] = new Array(80).fill(undefined);
  const rows: [number, Builder][] = [
    [R.CrAccess, crAccess],
    [R.MovDr, movDr],
    [R.IoInstruction, io],
    [R.Invlpg, invlpg],
    [R.GdtrIdtrAccess, gdtrIdtr],
    [R.LdtrTrAccess, ldtrTr],
    [R.Vmclear, vmxMemory],
    [R.Vmptrld, vmxMemory],
    [R.Vmptrst, vmxMemory],
    [R.Vmxon, vmxMemory],
    [R.Vmread, vmreadWrite],
    [R.Vmwrite, vmreadWrite],
    [R.Invept, invalidation],
    [R.Invvpid, invalidation],
    [R.Invpcid, invalidation],
    [R.Rdrand, randomInfo],
    [R.Rdseed, randomInfo],
    [R.Rdmsr, ecxOnly],
    [R.Rdpmc, ecxOnly],
    [R.Wrmsr, ecxEaxEdx],
    [R.Xsetbv, ecxEaxEdx],
    [R.Cpuid, ecxEaxEdx],
    [R.Vmfunc, eaxOnly],
    [R.Mwait, mwaitQual],
  ];
  for (const [reason, b] of rows) t[reason] = b;
  return t;
})();

/** Fills the qualification and the other reason-specific fields of `e` (whose reason is set). */
export function fillQualification(c: Cpu, i: Insn, e: CpuExit): void {
  BUILDERS[e.reason]?.(c, i, e);
}
