import type { PhysicalMemory } from "@turtles/memory";
import { BOOT_RESERVED, type BootEntryState, longModeEntry, protectedModeEntry } from "./entry.js";
import { BootLoadError, ImageReader, placeInRam, type ReservedRange } from "./image.js";
import type { PcMemoryLayout } from "./layout.js";

/** ELF `e_machine` values the loaders accept. */
export const ElfMachine = {
  /** EM_386. */
  I386: 3,
  /** EM_X86_64. */
  X86_64: 62,
} as const;

/** One loadable segment (PT_LOAD) of an ELF image. */
export interface ElfSegment {
  /** Physical load address (`p_paddr`). */
  readonly paddr: number;
  /** Offset of the file bytes in the image. */
  readonly offset: number;
  /** Bytes taken from the file. */
  readonly fileSize: number;
  /** Bytes in memory (the rest, after `fileSize`, is zeroed: the bss). */
  readonly memSize: number;
}

/** What {@link parseElf} finds in an ELF image. */
export interface ElfImage {
  /** 32 (ELFCLASS32) or 64 (ELFCLASS64). */
  readonly bits: 32 | 64;
  /** `e_machine`. */
  readonly machine: number;
  /** `e_entry`. */
  readonly entry: number;
  /** The PT_LOAD segments with a non-zero memory size. */
  readonly segments: readonly ElfSegment[];
  /** Lowest physical address loaded. */
  readonly low: number;
  /** End (exclusive) of the highest physical address loaded. */
  readonly high: number;
}

const PT_LOAD = 1;

/** Whether `image` starts with the ELF magic. */
export function isElf(image: Uint8Array): boolean {
  return (
    image.byteLength >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46
  );
}

/**
 * Parses an ELF executable's header and program headers (little-endian, ELF32 or ELF64).
 * @throws BootLoadError for a truncated or malformed image, or one with nothing to load.
 */
export function parseElf(image: Uint8Array, what = "elf"): ElfImage {
  const r = new ImageReader(image, what);
  r.need(0, 16, "e_ident");
  if (!isElf(image)) throw new BootLoadError(what, "not an ELF image (no \\x7fELF magic)");
  const cls = image[4];
  if (cls !== 1 && cls !== 2) throw new BootLoadError(what, `unknown ELF class ${cls}`);
  if (image[5] !== 1) throw new BootLoadError(what, "ELF image is not little-endian");
  const is64 = cls === 2;
  const machine = r.u16(18, "e_machine");
  const entry = is64 ? r.u64(24, "e_entry") : r.u32(24, "e_entry");
  const phoff = is64 ? r.u64(32, "e_phoff") : r.u32(28, "e_phoff");
  const phentsize = r.u16(is64 ? 54 : 42, "e_phentsize");
  const phnum = r.u16(is64 ? 56 : 44, "e_phnum");
  if (phnum > 0 && phentsize < (is64 ? 56 : 32))
    throw new BootLoadError(what, `e_phentsize ${phentsize} is too small`);
  const segments: ElfSegment[] = [];
  let low = Number.POSITIVE_INFINITY;
  let high = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const field = `program header ${i}`;
    if (r.u32(ph, field) !== PT_LOAD) continue;
    const seg: ElfSegment = is64
      ? {
          offset: r.u64(ph + 8, field),
          paddr: r.u64(ph + 24, field),
          fileSize: r.u64(ph + 32, field),
          memSize: r.u64(ph + 40, field),
        }
      : {
          offset: r.u32(ph + 4, field),
          paddr: r.u32(ph + 12, field),
          fileSize: r.u32(ph + 16, field),
          memSize: r.u32(ph + 20, field),
        };
    if (seg.memSize === 0) continue;
    if (seg.fileSize > seg.memSize) throw new BootLoadError(what, `segment ${i} has p_filesz > p_memsz`);
    r.need(seg.offset, seg.fileSize, `segment ${i}`);
    segments.push(seg);
    low = Math.min(low, seg.paddr);
    high = Math.max(high, seg.paddr + seg.memSize);
  }
  if (segments.length === 0) throw new BootLoadError(what, "ELF image has no loadable segment");
  return { bits: is64 ? 64 : 32, machine, entry, segments, low, high };
}

/** Copies every segment of `elf` to its physical address, zeroing the bss; none may touch `reserved`. */
export function loadElfSegments(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
  elf: ElfImage,
  what: string,
  reserved: readonly ReservedRange[] = [],
): void {
  elf.segments.forEach((s, i) => {
    placeInRam(
      mem,
      layout,
      what,
      `segment ${i}`,
      s.paddr,
      image.subarray(s.offset, s.offset + s.fileSize),
      s.memSize - s.fileSize,
      reserved,
    );
  });
}

/**
 * Loads a plain ELF kernel: ELF32 (EM_386) entered in 32-bit protected mode, ELF64 (EM_X86_64)
 * in 64-bit mode with a 4 GiB identity map; flat segments, ESP/RSP at the boot stack, other
 * registers 0.
 * @throws BootLoadError for a malformed image, a wrong machine or segments outside RAM.
 */
export function loadElfKernel(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
): BootEntryState {
  const elf = parseElf(image);
  const want = elf.bits === 64 ? ElfMachine.X86_64 : ElfMachine.I386;
  if (elf.machine !== want) {
    throw new BootLoadError(
      "elf",
      `ELF${elf.bits} image is for machine ${elf.machine}, not ${want} (${elf.bits === 64 ? "x86-64" : "i386"})`,
    );
  }
  const reserved: ReservedRange[] = [BOOT_RESERVED.gdt, BOOT_RESERVED.stack];
  if (elf.bits === 64) reserved.push(BOOT_RESERVED.pageTables);
  loadElfSegments(mem, layout, image, elf, "elf", reserved);
  return elf.bits === 64
    ? longModeEntry(mem, elf.entry, { rsp: 0x8ff0 })
    : protectedModeEntry(mem, elf.entry, { rsp: 0x8ff0 });
}
