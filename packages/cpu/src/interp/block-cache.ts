/**
 * The decoded-code cache: blocks of {@link Insn} records keyed by guest-physical address, built
 * with the streaming decoder, and dropped when bytes they were decoded from are written (write
 * watching of `@turtles/memory`), which is what makes self-modifying code correct. Each watched
 * page keeps a map of the 16-byte granules that hold decoded code, so data written next to code
 * (a page that holds both) costs a bit test, not a rebuild.
 */
import { AccessKind } from "@turtles/memory";
import { Decoder, Instruction, OperandType } from "@turtles/x86-decoder";
import { Seg } from "../state/registers.js";
import type { CompiledBlock } from "./compile.js";
import type { Cpu } from "./cpu.js";
import { V } from "./fault.js";
import { jmpRel } from "./handlers/branch.js";
import { fuse } from "./handlers/fused.js";
import { Insn } from "./insn.js";
import { translateInstruction } from "./translate.js";

/** The most instructions one block holds. */
const MAX_BLOCK = 64;
/** Bytes per bit of a page's code map. */
const GRANULE_SHIFT = 4;

/** A direct JMP folded into its block (decoding went on at the target): nothing to do. */
export function followedJump(): void {}

/**
 * An instruction whose bytes run past the CS limit: fetching it raises #GP(0) (SDM vol. 3,
 * 5.3 "Limit Checking"). The block ends before it, so it is reached only as a block's first record.
 */
function beyondCsLimit(c: Cpu): void {
  c.fault(V.GP, 0);
}

/**
 * Makes a relative branch (JMP/Jcc/CALL/LOOP rel) whose static target lies past the CS limit
 * raise #GP(0) when taken, with RSP as it was (SDM vol. 2, JMP/CALL "Operation": the target is
 * checked before the transfer). Only such rare records pay for the check.
 */
function guardBranchTarget(rec: Insn): void {
  const taken = rec.fn;
  rec.fn = (c, i) => {
    const g = c.s.gpr;
    const sp = g[8]!;
    taken(c, i);
    if (c.nextRip > c.segLim[Seg.CS]!) {
      g[8] = sp;
      c.nextRip = Number.NaN;
      c.fault(V.GP, 0);
    }
  };
  rec.ends = true;
}

/** Whether the decoded instruction has a relative (near) branch target. */
function isNearBranch(ins: Instruction): boolean {
  for (let k = 0; k < ins.opCount; k++) if (ins.opType[k] === OperandType.NearBranch) return true;
  return false;
}

/** A run of decoded instructions starting at one address. */
export class Block {
  valid = true;
  /** Times the block ran interpreted (it is compiled at COMPILE_THRESHOLD). */
  runs = 0;
  /** The compiled form, once hot. */
  compiled: CompiledBlock | null = null;
  /** Successor cache: the two blocks last run after this one, and the addresses they start at. */
  link0: Block | null = null;
  rip0 = Number.NaN;
  link1: Block | null = null;
  rip1 = Number.NaN;
  /** The CS limit the block was cut to (outside 64-bit mode): another limit needs a new block. */
  csLimit = -1;
  /** The CPU's link epoch when the links above were made (older links are stale). */
  linkEpoch = -1;
  constructor(
    readonly rip: number,
    readonly pa: number,
    readonly key: number,
    readonly insns: Insn[],
    readonly pages: number[],
  ) {}
}

/** Blocks by physical address, with the pages they were decoded from. */
export class BlockCache {
  /** Blocks decoded since construction. */
  decoded = 0;
  private readonly blocks = new Map<number, Block>();
  private readonly pageBlocks = new Map<number, Block[]>();
  private readonly pageListeners = new Map<number, (addr: number, size: number) => void>();
  /** Per watched page: one bit per 16-byte granule that holds decoded code. */
  private readonly codeMaps = new Map<number, Uint32Array>();
  private readonly decoders: Decoder[];
  private readonly instruction = new Instruction();
  private readonly codeBuf = new Uint8Array(4096 + 16);

  constructor(private readonly cpu: Cpu) {
    const empty = new Uint8Array(16);
    this.decoders = [new Decoder(16, empty), new Decoder(32, empty), new Decoder(64, empty)];
  }

  /** The block cached at physical address `pa`, if any. */
  get(pa: number): Block | undefined {
    return this.blocks.get(pa);
  }

  /** Decodes the block at `rip` (linear `lin`, physical `pa`) for mode `key` and caches it. */
  build(rip: number, lin: number, pa: number, key: number): Block {
    const c = this.cpu;
    const old = this.blocks.get(pa);
    if (old !== undefined) this.dropBlock(old);
    this.decoded++;
    const buf = this.codeBuf;
    const inPage = 4096 - (lin & 0xfff);
    c.memory.readBytes(pa, buf.subarray(0, inPage), AccessKind.Fetch);
    // The next page, for an instruction that crosses the boundary (only if it translates).
    let extra = 0;
    let pa2 = -1;
    const lin2 = c.mode64 ? lin + inPage : (lin + inPage) >>> 0;
    const probe = c.probeFetch(lin2);
    if (probe >= 0) {
      pa2 = probe;
      extra = 15;
      c.memory.readBytes(pa2, buf.subarray(inPage, inPage + extra), AccessKind.Fetch);
    }
    const bits = c.bits;
    const dec = this.decoders[bits === 16 ? 0 : bits === 32 ? 1 : 2]!;
    dec.reset(buf, 0, 0, inPage + extra);
    if (bits === 64) dec.ip = rip;
    else dec.setIp(rip >>> 0, 0);
    const ins = this.instruction;
    const insns: Insn[] = [];
    let usedNext = false;
    let lastByte = 0;
    let at = rip;
    // Outside 64-bit mode every byte of an instruction must lie within the CS limit.
    const csLimit = bits === 64 ? Number.POSITIVE_INFINITY : c.segLim[Seg.CS]!;
    // Debug mode (key bit 16) runs one instruction per block: nothing fused, nothing compiled.
    const maxInsns = key >= 0x10000 ? 1 : MAX_BLOCK;
    while (dec.position < inPage && insns.length < maxInsns) {
      const start = dec.position;
      dec.decodeOut(ins);
      if (start + ins.length > lastByte) lastByte = start + ins.length;
      if (at + Math.max(ins.length, 1) - 1 > csLimit) {
        if (insns.length > 0) break;
        const rec = new Insn(beyondCsLimit);
        rec.rip = at;
        rec.next = at;
        rec.ends = true;
        insns.push(rec);
        break;
      }
      if (ins.invalidReason === 4 /* NeedMoreBytes */ && start + ins.length >= inPage && pa2 < 0) {
        if (insns.length > 0) break;
        // The instruction runs into a page that does not translate: fault on it.
        c.xlateFetch(lin2);
      }
      if (start + ins.length > inPage) usedNext = true;
      let rec = translateInstruction(ins, at, bits);
      // A relative branch whose target is past the CS limit faults at the branch when taken
      // (far transfers check their new offset against the new CS themselves).
      if (rec.target > csLimit && isNearBranch(ins)) guardBranchTarget(rec);
      const prevRec = insns[insns.length - 1];
      const fused = prevRec === undefined ? null : fuse(prevRec, rec);
      if (fused !== null) {
        insns[insns.length - 1] = fused;
        rec = fused;
      } else {
        insns.push(rec);
      }
      at = rec.next;
      if (rec.fn === jmpRel && bits !== 16) {
        // A direct jump forward within the bytes at hand: keep decoding at its target.
        const idx = rec.target - rip;
        // (A target beyond the CS limit stays a real jump: its handler raises the #GP.)
        if (idx >= dec.position && idx < inPage && rec.target <= csLimit) {
          rec.fn = followedJump;
          // The block goes on at the target: that is where execution resumes when a budget
          // stops the block right after this record.
          rec.next = rec.target;
          if (bits === 64) dec.reset(buf, 0, idx, inPage + extra);
          else dec.reset(buf, 0, idx, inPage + extra);
          if (bits === 64) dec.ip = rec.target;
          else dec.setIp(rec.target >>> 0, 0);
          at = rec.target;
          continue;
        }
      }
      if (rec.ends) break;
    }
    let seq = 0;
    for (const r of insns) {
      seq += r.count;
      r.seqEnd = seq;
    }
    const pages = [Math.floor(pa / 4096)];
    if (usedNext) pages.push(Math.floor(pa2 / 4096));
    const b = new Block(rip, pa, key, insns, pages);
    b.csLimit = bits === 64 ? -1 : csLimit;
    this.blocks.set(pa, b);
    // Forward jumps only were followed, so the block's bytes lie between its start and the
    // furthest byte decoded.
    const start = pa & 0xfff;
    const end = start + Math.min(lastByte, inPage);
    this.addPageBlock(pages[0]!, b, start, end);
    if (usedNext) this.addPageBlock(pages[1]!, b, 0, lastByte - inPage);
    return b;
  }

  /** Registers `b` as decoded from bytes [from, to) of `page`, watching the page. */
  private addPageBlock(page: number, b: Block, from: number, to: number): void {
    let list = this.pageBlocks.get(page);
    let map = this.codeMaps.get(page);
    if (list === undefined || map === undefined) {
      list = [];
      map = new Uint32Array(4096 >>> (GRANULE_SHIFT + 5));
      this.pageBlocks.set(page, list);
      this.codeMaps.set(page, map);
      const base = page * 4096;
      const listener = (addr: number, size: number): void => {
        if (this.touchesCode(map!, addr - base, size)) this.invalidatePage(page);
      };
      this.pageListeners.set(page, listener);
      this.cpu.memory.watchPage(base, listener);
    }
    list.push(b);
    for (let g = from >>> GRANULE_SHIFT; g <= (to - 1) >>> GRANULE_SHIFT && g < map.length * 32; g++)
      map[g >>> 5]! |= 1 << (g & 31);
  }

  /** Whether a write of `size` bytes at `offset` from the page start covers a code granule. */
  private touchesCode(map: Uint32Array, offset: number, size: number): boolean {
    const first = Math.max(offset, 0) >>> GRANULE_SHIFT;
    const last = Math.min(offset + size - 1, 4095) >>> GRANULE_SHIFT;
    for (let g = first; g <= last; g++) if ((map[g >>> 5]! & (1 << (g & 31))) !== 0) return true;
    return false;
  }

  /** Marks `b` stale and forgets it. */
  dropBlock(b: Block): void {
    b.valid = false;
    // A dropped block may still be the CPU's last block: its links must not keep a chain of
    // later blocks alive (self-modifying code drops and rebuilds blocks on every pass).
    b.link0 = null;
    b.link1 = null;
    b.rip0 = Number.NaN;
    b.rip1 = Number.NaN;
    if (this.blocks.get(b.pa) === b) this.blocks.delete(b.pa);
  }

  /**
   * Drops every block decoded from `page` (a 4 KiB page number): its bytes changed. The page stays
   * watched with an empty code map, so code rebuilt there (self-modifying code rewrites the same
   * page again and again) reuses the listener and map instead of allocating new ones.
   */
  invalidatePage(page: number): void {
    const list = this.pageBlocks.get(page);
    if (list === undefined || list.length === 0) return;
    for (const b of list) this.dropBlock(b);
    list.length = 0;
    this.codeMaps.get(page)?.fill(0);
    this.cpu.codeChanged();
  }

  /** Forgets every block and stops watching their pages. */
  invalidateAll(): void {
    for (const [page, listener] of this.pageListeners) {
      this.invalidatePage(page);
      this.cpu.memory.unwatchPage(page * 4096, listener);
    }
    this.pageBlocks.clear();
    this.codeMaps.clear();
    this.pageListeners.clear();
    this.blocks.clear();
  }
}
