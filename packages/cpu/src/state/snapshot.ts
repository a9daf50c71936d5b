import type { Cpu } from "../interp/cpu.js";
import type { MsrsSnapshot } from "../interp/msr.js";
import { CpuState, type DescriptorTableRegister } from "./cpu-state.js";
import { FLAG_OP_COUNT, type FlagOp } from "./lazy-flags.js";
import type { OperandSize } from "./operand-size.js";

/** The lazy-flags part of a {@link CpuStateSnapshot}, field for field. */
export interface FlagsSnapshot {
  /** Kind of the last flag-setting operation. */
  op: number;
  /** Its operand size in bits. */
  size: number;
  /** Operand and result halves. */
  aLo: number;
  /** First operand, high half. */
  aHi: number;
  /** Second operand, low half. */
  bLo: number;
  /** Second operand, high half. */
  bHi: number;
  /** Result, low half. */
  rLo: number;
  /** Result, high half. */
  rHi: number;
  /** Carry-in or preserved CF. */
  cin: number;
  /** RFLAGS bits. */
  bits: number;
}

/** One segment register with its hidden parts, in a {@link CpuStateSnapshot}. */
export interface SegmentSnapshot {
  /** Visible selector. */
  selector: number;
  /** Base, low half. */
  baseLo: number;
  /** Base, high half. */
  baseHi: number;
  /** Limit in bytes. */
  limit: number;
  /** Access rights, VMCS format. */
  access: number;
}

/** GDTR or IDTR in a {@link CpuStateSnapshot}. */
export interface TableRegisterSnapshot {
  /** Base, low half. */
  baseLo: number;
  /** Base, high half. */
  baseHi: number;
  /** Limit. */
  limit: number;
}

/**
 * A plain, JSON-safe copy of a {@link CpuState}: only numbers, arrays and objects. Lazy flags
 * are kept lazy, so restoring gives back exactly the same state.
 */
export interface CpuStateSnapshot {
  /** Format version, 1. */
  version: 1;
  /** 32 numbers: the 16 GPRs as lo/hi halves. */
  gpr: number[];
  /** Instruction pointer. */
  rip: number;
  /** RFLAGS and its lazy state. */
  flags: FlagsSnapshot;
  /** 8 segment registers: ES, CS, SS, DS, FS, GS, LDTR, TR. */
  segments: SegmentSnapshot[];
  /** GDTR. */
  gdtr: TableRegisterSnapshot;
  /** IDTR. */
  idtr: TableRegisterSnapshot;
  /** 32 numbers: CR0-CR15 as lo/hi halves. */
  cr: number[];
  /** 16 numbers: DR0-DR7 as lo/hi halves. */
  dr: number[];
  /** DR6 bits of a #DB trap held over a MOV SS shadow (absent in older snapshots: 0). */
  pendingDebug?: number;
  /** IA32_EFER as [lo, hi]. */
  efer: number[];
  /** XCR0 as [lo, hi]. */
  xcr0: number[];
  /** The MSRs kept outside the state (with the TSC), when the snapshot was taken from a `Cpu`. */
  msrs?: MsrsSnapshot;
  /** PKRU (absent in snapshots made before protection keys: 0). */
  pkru?: number;
  /**
   * Event state: activity (0 active, 1 HLT, 3 wait-for-SIPI), interruptibility (VMCS bits: 0 STI,
   * 1 MOV SS, 3 NMI blocking) and whether an NMI is pending. Absent in older snapshots (all 0).
   */
  events?: EventsSnapshot;
}

/** The event part of a {@link CpuStateSnapshot} (see {@link CpuState.activity}). */
export interface EventsSnapshot {
  /** Activity state, VMCS encoding. */
  activity: number;
  /** Interruptibility state, VMCS encoding. */
  interruptibility: number;
  /** 1 when an NMI is pending. */
  nmiPending: number;
}

function table(t: DescriptorTableRegister): TableRegisterSnapshot {
  return { baseLo: t.baseLo, baseHi: t.baseHi, limit: t.limit };
}

/**
 * Copies the architectural state of `s` into a new plain object; with `cpu` (whose state `s`
 * is), its MSRs and time-stamp counter too.
 */
export function snapshot(s: CpuState, cpu?: Cpu): CpuStateSnapshot {
  const snap = snapshotState(s);
  if (cpu !== undefined) snap.msrs = cpu.msrs.save(cpu.instructions);
  return snap;
}

function snapshotState(s: CpuState): CpuStateSnapshot {
  const f = s.flags;
  const segments: SegmentSnapshot[] = [];
  for (let i = 0; i < 8; i++) {
    segments.push({
      selector: s.segSelector[i]!,
      baseLo: s.segBase[2 * i]!,
      baseHi: s.segBase[2 * i + 1]!,
      limit: s.segLimit[i]!,
      access: s.segAccess[i]!,
    });
  }
  return {
    version: 1,
    gpr: Array.from(s.gpr),
    rip: s.rip,
    flags: {
      op: f.op,
      size: f.size,
      aLo: f.aLo,
      aHi: f.aHi,
      bLo: f.bLo,
      bHi: f.bHi,
      rLo: f.rLo,
      rHi: f.rHi,
      cin: f.cin,
      bits: f.bits,
    },
    segments,
    gdtr: table(s.gdtr),
    idtr: table(s.idtr),
    cr: Array.from(s.cr),
    dr: Array.from(s.dr),
    pendingDebug: s.pendingDebug,
    efer: Array.from(s.efer),
    xcr0: Array.from(s.xcr0),
    pkru: s.pkru,
    events: { activity: s.activity, interruptibility: s.interruptibility, nmiPending: s.nmiPending },
  };
}

function fill(dst: Uint32Array | Uint16Array, src: unknown, what: string): void {
  if (!Array.isArray(src) || src.length !== dst.length) {
    throw new TypeError(`snapshot.${what}: expected ${dst.length} numbers`);
  }
  for (let i = 0; i < dst.length; i++) dst[i] = u32(src[i], `${what}[${i}]`);
}

function u32(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new TypeError(`snapshot.${what}: expected an unsigned 32-bit integer`);
  }
  return v;
}

/**
 * Loads a snapshot into `into` (or into a new state) and returns it; with `cpu` (whose state
 * `into` is), also the MSRs the snapshot holds, the TSC continuing from its saved value. A
 * malformed snapshot is a caller error and throws a `TypeError`.
 */
export function restore(snap: CpuStateSnapshot, into: CpuState = new CpuState(), cpu?: Cpu): CpuState {
  if (snap.version !== 1) throw new TypeError("snapshot.version: expected 1");
  fill(into.gpr, snap.gpr, "gpr");
  if (typeof snap.rip !== "number" || !Number.isSafeInteger(snap.rip)) {
    throw new TypeError("snapshot.rip: expected a safe integer");
  }
  into.rip = snap.rip;
  const f = snap.flags;
  if (!Number.isInteger(f.op) || f.op < 0 || f.op >= FLAG_OP_COUNT) throw new TypeError("snapshot.flags.op");
  if (f.size !== 8 && f.size !== 16 && f.size !== 32 && f.size !== 64)
    throw new TypeError("snapshot.flags.size");
  if (f.cin !== 0 && f.cin !== 1) throw new TypeError("snapshot.flags.cin");
  into.flags.op = f.op as FlagOp;
  into.flags.size = f.size as OperandSize;
  into.flags.aLo = u32(f.aLo, "flags.aLo");
  into.flags.aHi = u32(f.aHi, "flags.aHi");
  into.flags.bLo = u32(f.bLo, "flags.bLo");
  into.flags.bHi = u32(f.bHi, "flags.bHi");
  into.flags.rLo = u32(f.rLo, "flags.rLo");
  into.flags.rHi = u32(f.rHi, "flags.rHi");
  into.flags.cin = f.cin;
  into.flags.bits = u32(f.bits, "flags.bits");
  if (!Array.isArray(snap.segments) || snap.segments.length !== 8) throw new TypeError("snapshot.segments");
  for (let i = 0; i < 8; i++) {
    const g = snap.segments[i]!;
    if (!Number.isInteger(g.selector) || g.selector < 0 || g.selector > 0xffff) {
      throw new TypeError(`snapshot.segments[${i}].selector`);
    }
    into.segSelector[i] = g.selector;
    into.segBase[2 * i] = u32(g.baseLo, `segments[${i}].baseLo`);
    into.segBase[2 * i + 1] = u32(g.baseHi, `segments[${i}].baseHi`);
    into.segLimit[i] = u32(g.limit, `segments[${i}].limit`);
    into.segAccess[i] = u32(g.access, `segments[${i}].access`);
  }
  for (const [name, t] of [
    ["gdtr", into.gdtr],
    ["idtr", into.idtr],
  ] as const) {
    const src = snap[name];
    t.baseLo = u32(src.baseLo, `${name}.baseLo`);
    t.baseHi = u32(src.baseHi, `${name}.baseHi`);
    if (!Number.isInteger(src.limit) || src.limit < 0 || src.limit > 0xffff)
      throw new TypeError(`snapshot.${name}.limit`);
    t.limit = src.limit;
  }
  fill(into.cr, snap.cr, "cr");
  fill(into.dr, snap.dr, "dr");
  into.pendingDebug = snap.pendingDebug === undefined ? 0 : u32(snap.pendingDebug, "pendingDebug");
  fill(into.efer, snap.efer, "efer");
  fill(into.xcr0, snap.xcr0, "xcr0");
  if (cpu !== undefined && snap.msrs !== undefined) cpu.msrs.load(snap.msrs, cpu.instructions);
  into.pkru = snap.pkru === undefined ? 0 : u32(snap.pkru, "pkru");
  const ev = snap.events;
  into.activity = ev === undefined ? 0 : u32(ev.activity, "events.activity");
  into.interruptibility = ev === undefined ? 0 : u32(ev.interruptibility, "events.interruptibility");
  into.nmiPending = ev === undefined ? 0 : u32(ev.nmiPending, "events.nmiPending");
  if (into.activity !== 0 && into.activity !== 1 && into.activity !== 3)
    throw new TypeError("snapshot.events.activity");
  return into;
}
