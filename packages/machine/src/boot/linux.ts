import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import { type BootEntryState, longModeEntry, protectedModeEntry } from "./entry.js";
import { BootLoadError, checkFits, cString, ImageReader, placeInRam } from "./image.js";
import type { PcMemoryLayout } from "./layout.js";

/** Options of {@link loadLinux}. */
export interface LinuxBootOptions {
  /** The kernel command line (default empty). */
  readonly cmdline?: string;
  /** The initial RAM disk, placed page-aligned as high as the kernel allows below 4 GiB. */
  readonly initrd?: Uint8Array;
  /** Entry through the 64-bit boot protocol (default) or the 32-bit one. */
  readonly entry?: "64" | "32";
}

/** Where the Linux loader puts things (the addresses QEMU and Firecracker use). */
export const LINUX_BOOT = {
  /** boot_params ("zero page"), passed in RSI/ESI. */
  bootParams: 0x7000,
  /** The command line. */
  cmdline: 0x2_0000,
  /** Where the protected-mode kernel is loaded. */
  kernel: 0x10_0000,
  /** The `type_of_loader` value written (0xFF: undefined loader). */
  loaderType: 0xff,
} as const;

/** Offsets of setup_header fields (they are the same in the image and in boot_params). */
export const SetupHeader = {
  setupSects: 0x1f1,
  vidMode: 0x1fa,
  bootFlag: 0x1fe,
  jump: 0x200,
  header: 0x202,
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  xloadflags: 0x236,
  cmdlineSize: 0x238,
  initSize: 0x260,
} as const;

/** boot_params fields outside the setup header. */
export const BootParams = {
  /** Number of e820 entries (u8). */
  e820Entries: 0x1e8,
  /** The e820 table: up to 128 entries of 20 bytes (addr u64, size u64, type u32). */
  e820Table: 0x2d0,
  /** Size of boot_params. */
  size: 0x1000,
} as const;

const HDRS = 0x5372_6448; // "HdrS"
const LOADED_HIGH = 0x01;
const CAN_USE_HEAP = 0x80;
const XLF_KERNEL_64 = 0x01;
const XLF_INITRD_ABOVE_4G = 0x02;
const E820_MAX = 128;

/** What the setup header of a bzImage says. */
export interface BzImageInfo {
  /** Boot protocol version (e.g. 0x20F). */
  readonly version: number;
  /** Setup sectors (0 read as 4). */
  readonly setupSects: number;
  /** Offset of the protected-mode kernel in the image: (setupSects + 1) * 512. */
  readonly kernelOffset: number;
  /** loadflags. */
  readonly loadflags: number;
  /** xloadflags (0 before 2.12). */
  readonly xloadflags: number;
  /** initrd_addr_max. */
  readonly initrdAddrMax: number;
  /** cmdline_size: the longest command line, without the NUL. */
  readonly cmdlineSize: number;
  /** init_size: the memory the kernel needs from its load address (0 before 2.10). */
  readonly initSize: number;
}

/**
 * Parses and checks a bzImage's setup header (Documentation/arch/x86/boot.rst): the 0xAA55 boot
 * flag, the "HdrS" magic, protocol 2.06 or later, and a kernel loaded high.
 * @throws BootLoadError for anything else.
 */
export function parseBzImage(image: Uint8Array): BzImageInfo {
  const r = new ImageReader(image, "bzImage");
  r.need(0, 0x264, "the setup header");
  if (r.u16(SetupHeader.bootFlag, "boot_flag") !== 0xaa55)
    throw new BootLoadError("bzImage", "no 0xAA55 boot flag at 0x1FE: not a Linux kernel image");
  if (r.u32(SetupHeader.header, "header") !== HDRS)
    throw new BootLoadError("bzImage", 'no "HdrS" magic at 0x202: not a Linux kernel image');
  const version = r.u16(SetupHeader.version, "version");
  if (version < 0x206) {
    throw new BootLoadError(
      "bzImage",
      `boot protocol ${(version >> 8).toString()}.${(version & 0xff).toString().padStart(2, "0")} is too old (need 2.06 or later)`,
    );
  }
  const loadflags = r.u8(SetupHeader.loadflags, "loadflags");
  if (!(loadflags & LOADED_HIGH))
    throw new BootLoadError("bzImage", "not a bzImage (the kernel is not loaded high)");
  const sects = r.u8(SetupHeader.setupSects, "setup_sects");
  const setupSects = sects === 0 ? 4 : sects;
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= image.byteLength)
    throw new BootLoadError(
      "bzImage",
      "image is truncated: no protected-mode kernel after the setup sectors",
    );
  return {
    version,
    setupSects,
    kernelOffset,
    loadflags,
    xloadflags: version >= 0x20c ? r.u16(SetupHeader.xloadflags, "xloadflags") : 0,
    initrdAddrMax: r.u32(SetupHeader.initrdAddrMax, "initrd_addr_max"),
    cmdlineSize: r.u32(SetupHeader.cmdlineSize, "cmdline_size"),
    initSize: version >= 0x20a ? r.u32(SetupHeader.initSize, "init_size") : 0,
  };
}

/**
 * Loads a bzImage by the Linux/x86 boot protocol's 32/64-bit entry, as QEMU's direct kernel boot
 * and Firecracker do: the protected-mode kernel at 1 MiB, boot_params at 0x7000 holding a copy of
 * the image's setup header with type_of_loader, loadflags (CAN_USE_HEAP), heap_end_ptr,
 * cmd_line_ptr (command line at 0x20000), ramdisk_image/size, and the e820 table from the
 * layout; vid_mode stays as the image has it (QEMU changes it only for a `vga=` option). The 64-bit entry (protocol 2.12+, XLF_KERNEL_64) is load address + 0x200 in long
 * mode with a 4 GiB identity map; the 32-bit entry is the load address in flat protected mode.
 * Both have RSI = boot_params, CS = 0x10, DS/ES/SS = 0x18.
 *
 * @throws BootLoadError for a bad header, a command line longer than cmdline_size, a kernel or
 * initrd that does not fit, or a 64-bit entry the kernel does not offer.
 */
export function loadLinux(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
  options: LinuxBootOptions = {},
): BootEntryState {
  const what = "bzImage";
  const info = parseBzImage(image);
  const entry64 = (options.entry ?? "64") === "64";
  if (entry64 && (info.version < 0x20c || !(info.xloadflags & XLF_KERNEL_64))) {
    throw new BootLoadError(
      what,
      "the kernel has no 64-bit entry point (needs protocol 2.12 and XLF_KERNEL_64)",
    );
  }
  const kernel = image.subarray(info.kernelOffset);
  const kernelEnd = LINUX_BOOT.kernel + Math.max(kernel.byteLength, info.initSize);
  checkFits(layout, what, "kernel (with init_size)", LINUX_BOOT.kernel, kernelEnd - LINUX_BOOT.kernel);
  placeInRam(mem, layout, what, "kernel", LINUX_BOOT.kernel, kernel);

  const cmdline = cString(options.cmdline ?? "");
  if (cmdline.byteLength - 1 > info.cmdlineSize) {
    throw new BootLoadError(
      what,
      `command line of ${cmdline.byteLength - 1} bytes is longer than the kernel's ${info.cmdlineSize}`,
    );
  }
  placeInRam(mem, layout, what, "command line", LINUX_BOOT.cmdline, cmdline);

  // boot_params: zeroed, then the setup header copied from the image (0x1F1 to the end given by the jump).
  const bp = LINUX_BOOT.bootParams;
  const params = new Uint8Array(BootParams.size);
  const headerEnd = Math.min(0x202 + image[SetupHeader.jump + 1]!, BootParams.size, image.byteLength);
  params.set(image.subarray(SetupHeader.setupSects, headerEnd), SetupHeader.setupSects);
  const v = new DataView(params.buffer);
  v.setUint8(SetupHeader.typeOfLoader, LINUX_BOOT.loaderType);
  v.setUint8(SetupHeader.loadflags, info.loadflags | CAN_USE_HEAP);
  v.setUint16(SetupHeader.heapEndPtr, 0xfe00, true);
  v.setUint32(SetupHeader.code32Start, LINUX_BOOT.kernel, true);
  v.setUint32(SetupHeader.cmdLinePtr, LINUX_BOOT.cmdline, true);

  const initrd = options.initrd;
  if (initrd !== undefined && initrd.byteLength > 0) {
    // Like QEMU: a kernel that can take its initrd above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G) takes
    // it anywhere below 4 GiB; otherwise initrd_addr_max applies. Either way it stays in RAM.
    const limit = info.xloadflags & XLF_INITRD_ABOVE_4G ? 0xffff_ffff : info.initrdAddrMax;
    const max = Math.min(limit, layout.below4g - 1);
    // QEMU's placement (hw/i386/x86.c): (initrd_max - size) rounded down to a page.
    const addr = Math.floor((max - initrd.byteLength) / 4096) * 4096;
    if (addr < kernelEnd) {
      throw new BootLoadError(
        what,
        `initrd of ${initrd.byteLength} bytes does not fit between the kernel and 0x${max.toString(16)}`,
      );
    }
    placeInRam(mem, layout, what, "initrd", addr, initrd);
    v.setUint32(SetupHeader.ramdiskImage, addr, true);
    v.setUint32(SetupHeader.ramdiskSize, initrd.byteLength, true);
  }

  const map = layout.e820();
  if (map.length > E820_MAX) throw new BootLoadError(what, "memory map has more than 128 entries");
  v.setUint8(BootParams.e820Entries, map.length);
  map.forEach((e, i) => {
    const at = BootParams.e820Table + 20 * i;
    v.setUint32(at, e.base >>> 0, true);
    v.setUint32(at + 4, Math.floor(e.base / 0x1_0000_0000), true);
    v.setUint32(at + 8, e.length >>> 0, true);
    v.setUint32(at + 12, Math.floor(e.length / 0x1_0000_0000), true);
    v.setUint32(at + 16, e.type, true);
  });
  mem.writeBytes(bp, params, AccessKind.Write);

  return entry64
    ? longModeEntry(mem, LINUX_BOOT.kernel + 0x200, { rsi: bp, rsp: 0x8ff0 })
    : protectedModeEntry(mem, LINUX_BOOT.kernel, { rsi: bp });
}
