import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { isElf, loadElfSegments, parseElf } from "./elf.js";
import { BOOT_RESERVED, type BootEntryState, protectedModeEntry } from "./entry.js";
import {
  alignUp,
  BootLoadError,
  checkPlacement,
  cString,
  ImageReader,
  placeInRam,
  type ReservedRange,
} from "./image.js";
import type { PcMemoryLayout } from "./layout.js";

/** A boot module: its bytes and its string (QEMU: the `-initrd` entry, file name and arguments). */
export interface BootModule {
  /** The module's contents. */
  readonly data: Uint8Array;
  /** The module's string (e.g. `"initrd.img arg=1"`). */
  readonly cmdline: string;
}

/** Options of {@link loadMultiboot}. */
export interface MultibootOptions {
  /** The kernel's file name: the first word of the command line (default `"kernel"`). */
  readonly kernelName?: string;
  /** The command line after the file name (default empty). */
  readonly cmdline?: string;
  /** Modules, loaded page-aligned after the kernel in this order. */
  readonly modules?: readonly BootModule[];
  /** The boot loader name reported to the kernel (default `"turtles"`). */
  readonly bootLoaderName?: string;
}

/** Multiboot v1 constants (Multiboot Specification 0.6.96). */
export const MULTIBOOT = {
  /** The header magic. */
  headerMagic: 0x1bad_b002,
  /** EAX at the kernel's entry. */
  bootloaderMagic: 0x2bad_b002,
  /** Where the memory map (mmap) is written. */
  mmapAddress: 0x9000,
  /** Where the multiboot information structure is written (EBX). */
  infoAddress: 0x9500,
  /** How far into the image the header is searched. */
  searchLength: 8192,
} as const;

/** What the loader itself uses below 1 MiB: the boot GDT, the memory map and the information structure. */
const MULTIBOOT_RESERVED: readonly ReservedRange[] = [
  BOOT_RESERVED.gdt,
  [0x9000, 0x9600, "the multiboot information"],
];

/** The header flag saying the address fields (the a.out kludge) are valid. */
const HEADER_HAS_ADDRESS = 0x1_0000;

/** Info flags set: mem_*, boot_device, cmdline, mods, mmap, boot_loader_name (as QEMU). */
const INFO_FLAGS = 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x200;
const INFO_SIZE = 88;
const MODULE_ENTRY_SIZE = 16;
const PAGE = 4096;

/** A multiboot v1 header found in an image. */
export interface MultibootHeader {
  /** Offset of the header in the image. */
  readonly offset: number;
  /** The flags word. */
  readonly flags: number;
}

/** Finds the multiboot v1 header (magic and checksum) in the first 8192 bytes, 4-byte aligned. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader | undefined {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const end = Math.min(image.byteLength, MULTIBOOT.searchLength);
  for (let i = 0; i + 12 <= end && i < MULTIBOOT.searchLength - 48; i += 4) {
    if (view.getUint32(i, true) !== MULTIBOOT.headerMagic) continue;
    const flags = view.getUint32(i + 4, true);
    if (((MULTIBOOT.headerMagic + flags + view.getUint32(i + 8, true)) | 0) === 0)
      return { offset: i, flags };
  }
  return undefined;
}

/** Splits a QEMU `-initrd` list: entries separated by `,` (`,,` stands for a comma). */
export function splitModuleList(list: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === "," && list[i + 1] === ",") {
      cur += ",";
      i++;
    } else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The file name of a module list entry: its first word (the rest is the module's arguments). */
export function moduleFileName(entry: string): string {
  const space = entry.indexOf(" ");
  return space < 0 ? entry : entry.slice(0, space);
}

/** Where the kernel image went: its load address, bytes occupied (with bss) and entry. */
export interface KernelPlacement {
  /** Lowest address loaded. */
  readonly loadAddress: number;
  /** Bytes from the load address to the end of the bss. */
  readonly size: number;
  /** The entry point. */
  readonly entry: number;
}

/**
 * Loads a kernel by the a.out kludge: the header (at `headerOffset` of the image) gives
 * header_addr, load_addr, load_end_addr, bss_end_addr and entry_addr at `fields`.
 */
export function loadByAddressFields(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
  headerOffset: number,
  fields: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entry: number },
  what: string,
  reserved: readonly ReservedRange[] = [],
): KernelPlacement {
  const { headerAddr, loadAddr, loadEndAddr, bssEndAddr } = fields;
  if (headerAddr < loadAddr)
    throw new BootLoadError(
      what,
      `header_addr 0x${headerAddr.toString(16)} is below load_addr 0x${loadAddr.toString(16)}`,
    );
  const textOffset = headerOffset - (headerAddr - loadAddr);
  if (textOffset < 0) throw new BootLoadError(what, "load_addr is before the start of the image");
  let loadSize: number;
  if (loadEndAddr !== 0) {
    if (loadEndAddr < loadAddr) throw new BootLoadError(what, "load_end_addr is below load_addr");
    loadSize = loadEndAddr - loadAddr;
  } else loadSize = image.byteLength - textOffset;
  new ImageReader(image, what).need(textOffset, loadSize, "the a.out kludge's load range");
  let size = loadSize;
  if (bssEndAddr !== 0) {
    if (bssEndAddr < loadAddr + loadSize)
      throw new BootLoadError(what, "bss_end_addr is below load_end_addr");
    size = bssEndAddr - loadAddr;
  }
  placeInRam(
    mem,
    layout,
    what,
    "kernel",
    loadAddr,
    image.subarray(textOffset, textOffset + loadSize),
    size - loadSize,
    reserved,
  );
  return { loadAddress: loadAddr, size, entry: fields.entry };
}

/** Loads an ELF kernel (ELF32 for i386 only, unless `allow64`) at its physical addresses. */
export function loadElfForMultiboot(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
  what: string,
  allow64: boolean,
  reserved: readonly ReservedRange[] = [],
): KernelPlacement {
  if (!isElf(image))
    throw new BootLoadError(what, "the header has no address fields and the image is not ELF");
  const elf = parseElf(image, what);
  if (elf.bits === 64 && !allow64)
    throw new BootLoadError(what, "cannot load an ELF64 (x86-64) image; give a 32-bit one");
  const want = elf.bits === 64 ? 62 : 3;
  if (elf.machine !== want)
    throw new BootLoadError(what, `ELF${elf.bits} image is for machine ${elf.machine}, not ${want}`);
  loadElfSegments(mem, layout, image, elf, what, reserved);
  return { loadAddress: elf.low, size: elf.high - elf.low, entry: elf.entry };
}

/** Writes the e820 map in the multiboot mmap format (size 20, base, length, type) at `addr`; returns its length. */
export function writeMultibootMmap(mem: PhysicalMemory, layout: PcMemoryLayout, addr: number): number {
  const map = layout.e820();
  map.forEach((r, i) => {
    const at = addr + 24 * i;
    mem.write32(at, 20, AccessKind.Write);
    mem.write64(at + 4, r.base >>> 0, Math.floor(r.base / 0x1_0000_0000), AccessKind.Write);
    mem.write64(at + 12, r.length >>> 0, Math.floor(r.length / 0x1_0000_0000), AccessKind.Write);
    mem.write32(at + 20, r.type, AccessKind.Write);
  });
  return 24 * map.length;
}

/**
 * Loads a Multiboot v1 kernel as QEMU's `-kernel` does (hw/i386/multiboot.c and its option ROM):
 *
 * - the header is searched in the first 8192 bytes; the video-mode flag is ignored;
 * - with the address flag (bit 16) the a.out kludge fields place the image (load_end_addr 0 =
 *   to the end of the file; bss_end_addr zeroes the bss); otherwise the image must be an i386
 *   ELF32, loaded by its program headers (bss zeroed);
 * - after the kernel, page-aligned: the module list (16 bytes per module), the strings (each
 *   module's, then the kernel's `"<name> <cmdline>"`), the boot loader name; then each module,
 *   page-aligned;
 * - the memory map at 0x9000 and the information structure at 0x9500 with mem_lower/mem_upper,
 *   boot_device 0x8000FFFF, cmdline, mods, mmap and boot_loader_name;
 * - entry in 32-bit protected mode, flat segments, EAX = 0x2BADB002, EBX = 0x9500.
 *
 * @throws BootLoadError for no header, a truncated or wrong-machine image, or one that does not fit in RAM.
 */
export function loadMultiboot(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
  options: MultibootOptions = {},
): BootEntryState {
  const what = "multiboot";
  const header = findMultibootHeader(image);
  if (header === undefined) throw new BootLoadError(what, "no multiboot header in the first 8192 bytes");
  const r = new ImageReader(image, what);
  let kernel: KernelPlacement;
  if (header.flags & HEADER_HAS_ADDRESS) {
    const h = header.offset;
    kernel = loadByAddressFields(
      mem,
      layout,
      image,
      h,
      {
        headerAddr: r.u32(h + 12, "header_addr"),
        loadAddr: r.u32(h + 16, "load_addr"),
        loadEndAddr: r.u32(h + 20, "load_end_addr"),
        bssEndAddr: r.u32(h + 24, "bss_end_addr"),
        entry: r.u32(h + 28, "entry_addr"),
      },
      what,
      MULTIBOOT_RESERVED,
    );
  } else {
    kernel = loadElfForMultiboot(mem, layout, image, what, false, MULTIBOOT_RESERVED);
  }

  const modules = options.modules ?? [];
  const kernelCmdline = `${options.kernelName ?? "kernel"} ${options.cmdline ?? ""}`;
  const loaderName = options.bootLoaderName ?? "turtles";

  // The buffer after the kernel: module list, strings, loader name.
  const listAddr = kernel.loadAddress + alignUp(kernel.size, PAGE);
  let at = listAddr + MODULE_ENTRY_SIZE * modules.length;
  const strings: { addr: number; bytes: Uint8Array }[] = [];
  const addString = (s: string): number => {
    const bytes = cString(s);
    strings.push({ addr: at, bytes });
    at += bytes.byteLength;
    return strings[strings.length - 1]!.addr;
  };
  const moduleStrings = modules.map((m) => addString(m.cmdline));
  const cmdlineAddr = addString(kernelCmdline);
  const loaderAddr = addString(loaderName);
  checkPlacement(layout, what, "the module list and strings", listAddr, at - listAddr, MULTIBOOT_RESERVED);
  for (const s of strings) mem.writeBytes(s.addr, s.bytes, AccessKind.Write);

  let modAddr = alignUp(at, PAGE);
  modules.forEach((m, i) => {
    placeInRam(mem, layout, what, `module ${i}`, modAddr, m.data, 0, MULTIBOOT_RESERVED);
    const entry = listAddr + MODULE_ENTRY_SIZE * i;
    mem.write32(entry, modAddr, AccessKind.Write);
    mem.write32(entry + 4, modAddr + m.data.byteLength, AccessKind.Write);
    mem.write32(entry + 8, moduleStrings[i]!, AccessKind.Write);
    mem.write32(entry + 12, 0, AccessKind.Write);
    modAddr = alignUp(modAddr + m.data.byteLength, PAGE);
  });

  const mmapLength = writeMultibootMmap(mem, layout, MULTIBOOT.mmapAddress);
  if (MULTIBOOT.mmapAddress + mmapLength > MULTIBOOT.infoAddress)
    throw new BootLoadError(what, "memory map too long");
  const info = MULTIBOOT.infoAddress;
  mem.writeBytes(info, new Uint8Array(INFO_SIZE), AccessKind.Write);
  mem.write32(info + 0, INFO_FLAGS, AccessKind.Write);
  mem.write32(info + 4, layout.memLowerKiB, AccessKind.Write);
  mem.write32(info + 8, layout.memUpperKiB, AccessKind.Write);
  mem.write32(info + 12, 0x8000_ffff, AccessKind.Write);
  mem.write32(info + 16, cmdlineAddr, AccessKind.Write);
  mem.write32(info + 20, modules.length, AccessKind.Write);
  mem.write32(info + 24, listAddr, AccessKind.Write);
  mem.write32(info + 44, mmapLength, AccessKind.Write);
  mem.write32(info + 48, MULTIBOOT.mmapAddress, AccessKind.Write);
  mem.write32(info + 64, loaderAddr, AccessKind.Write);

  return protectedModeEntry(mem, kernel.entry, { rax: MULTIBOOT.bootloaderMagic, rbx: info });
}
