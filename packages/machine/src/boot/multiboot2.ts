import type { PhysicalMemory } from "@turtles/memory";
import { BOOT_RESERVED, type BootEntryState, protectedModeEntry } from "./entry.js";
import { alignUp, BootLoadError, ImageReader, placeInRam, utf8 } from "./image.js";
import type { PcMemoryLayout } from "./layout.js";
import {
  type BootModule,
  type KernelPlacement,
  loadByAddressFields,
  loadElfForMultiboot,
} from "./multiboot.js";

/** Options of {@link loadMultiboot2}. */
export interface Multiboot2Options {
  /** The kernel command line (default empty). */
  readonly cmdline?: string;
  /** Modules, loaded page-aligned after the information structure. */
  readonly modules?: readonly BootModule[];
  /** The boot loader name (default `"turtles"`). */
  readonly bootLoaderName?: string;
  /** The ACPI RSDP bytes, copied into an "ACPI new RSDP" (v2, 36 bytes) or "old RSDP" (v1, 20 bytes) tag. */
  readonly rsdp?: Uint8Array;
}

/** Multiboot2 constants (Multiboot2 specification, version 2.0). */
export const MULTIBOOT2 = {
  /** The header magic. */
  headerMagic: 0xe852_50d6,
  /** EAX at the kernel's entry. */
  bootloaderMagic: 0x36d7_6289,
  /** How far into the image the header is searched. */
  searchLength: 32768,
} as const;

/** Header tag types. */
const HeaderTag = {
  End: 0,
  InfoRequest: 1,
  Address: 2,
  Entry: 3,
  ConsoleFlags: 4,
  Framebuffer: 5,
  ModuleAlign: 6,
  Relocatable: 10,
} as const;
/** Information tag types we produce. */
const InfoTag = {
  End: 0,
  Cmdline: 1,
  LoaderName: 2,
  Module: 3,
  BasicMeminfo: 4,
  Mmap: 6,
  AcpiOld: 14,
  AcpiNew: 15,
} as const;
const PROVIDED: ReadonlySet<number> = new Set(Object.values(InfoTag));
/** Header tags that can be ignored even when not optional (we have no framebuffer or EFI). */
const UNDERSTOOD: ReadonlySet<number> = new Set([
  HeaderTag.InfoRequest,
  HeaderTag.Address,
  HeaderTag.Entry,
  HeaderTag.ConsoleFlags,
  HeaderTag.ModuleAlign,
  HeaderTag.Relocatable,
]);
const PAGE = 4096;

/** Finds the Multiboot2 header (8-byte aligned in the first 32 KiB, checksum valid); returns its offset. */
export function findMultiboot2Header(image: Uint8Array): number | undefined {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const end = Math.min(image.byteLength, MULTIBOOT2.searchLength);
  for (let i = 0; i + 16 <= end; i += 8) {
    if (view.getUint32(i, true) !== MULTIBOOT2.headerMagic) continue;
    const sum =
      MULTIBOOT2.headerMagic +
      view.getUint32(i + 4, true) +
      view.getUint32(i + 8, true) +
      view.getUint32(i + 12, true);
    if ((sum | 0) === 0) return i;
  }
  return undefined;
}

/** Builds the boot information structure as bytes: a list of 8-byte aligned tags. */
class InfoBuilder {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  length = 8; // total_size, reserved

  private grow(n: number): void {
    if (this.length + n <= this.bytes.byteLength) return;
    const next = new Uint8Array(Math.max(2 * this.bytes.byteLength, this.length + n));
    next.set(this.bytes);
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  /** Appends a tag whose payload `fill` writes at the given offset; `size` excludes padding. */
  tag(type: number, payloadSize: number, fill: (view: DataView, at: number) => void): void {
    const size = 8 + payloadSize;
    this.grow(alignUp(size, 8));
    this.view.setUint32(this.length, type, true);
    this.view.setUint32(this.length + 4, size, true);
    fill(this.view, this.length + 8);
    this.length += alignUp(size, 8);
  }

  string(type: number, s: string, prefix?: (view: DataView, at: number) => void, prefixSize = 0): void {
    const body = utf8(s);
    this.tag(type, prefixSize + body.byteLength + 1, (view, at) => {
      prefix?.(view, at);
      new Uint8Array(view.buffer, at + prefixSize, body.byteLength).set(body);
    });
  }

  finish(): Uint8Array {
    this.tag(InfoTag.End, 0, () => {});
    this.view.setUint32(0, this.length, true);
    return this.bytes.slice(0, this.length);
  }
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

/**
 * Loads a Multiboot2 kernel: the header (magic, architecture 0 = i386, checksum) in the first
 * 32 KiB; header tags: information request (every non-optional request must be one we provide),
 * address (the a.out kludge), entry address, console flags, module alignment and relocatable
 * (loaded at its given address) are understood; a non-optional framebuffer or EFI tag fails.
 * Without an address tag the image is an ELF32 or ELF64, loaded by physical addresses.
 *
 * The information structure (page-aligned after the kernel) carries cmdline, boot loader name,
 * one tag per module (modules page-aligned after it), basic meminfo, the memory map (entry size
 * 24, version 0) and the RSDP when given. Entry in 32-bit protected mode, EAX = 0x36D76289,
 * EBX = the structure's address.
 *
 * @throws BootLoadError for no header, unsupported required tags, bad images, or no room in RAM.
 */
export function loadMultiboot2(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
  options: Multiboot2Options = {},
): BootEntryState {
  const what = "multiboot2";
  const h = findMultiboot2Header(image);
  if (h === undefined) throw new BootLoadError(what, "no multiboot2 header in the first 32768 bytes");
  const r = new ImageReader(image, what);
  const arch = r.u32(h + 4, "architecture");
  if (arch !== 0) throw new BootLoadError(what, `architecture ${arch} is not i386 (0)`);
  const headerLength = r.u32(h + 8, "header_length");
  r.need(h, headerLength, "header");
  let address: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number } | undefined;
  let entry: number | undefined;
  for (let at = h + 16; at + 8 <= h + headerLength; ) {
    const type = r.u16(at, "header tag");
    const optional = (r.u16(at + 2, "header tag") & 1) !== 0;
    const size = r.u32(at + 4, "header tag");
    if (type === HeaderTag.End) break;
    if (size < 8) throw new BootLoadError(what, `header tag ${type} has size ${size}`);
    r.need(at, size, `header tag ${type}`);
    if (type === HeaderTag.InfoRequest && !optional) {
      for (let q = at + 8; q + 4 <= at + size; q += 4) {
        const want = r.u32(q, "information request");
        if (!PROVIDED.has(want))
          throw new BootLoadError(what, `the kernel requires information tag ${want}, which is not provided`);
      }
    } else if (type === HeaderTag.Address) {
      address = {
        headerAddr: r.u32(at + 8, "header_addr"),
        loadAddr: r.u32(at + 12, "load_addr"),
        loadEndAddr: r.u32(at + 16, "load_end_addr"),
        bssEndAddr: r.u32(at + 20, "bss_end_addr"),
      };
    } else if (type === HeaderTag.Entry) {
      entry = r.u32(at + 8, "entry_addr");
    } else if (!UNDERSTOOD.has(type) && !optional) {
      throw new BootLoadError(what, `the kernel requires header tag ${type}, which is not supported`);
    }
    at += alignUp(size, 8);
  }

  let kernel: KernelPlacement;
  if (address !== undefined) {
    if (entry === undefined) throw new BootLoadError(what, "an address tag needs an entry address tag");
    kernel = loadByAddressFields(mem, layout, image, h, { ...address, entry }, what, [BOOT_RESERVED.gdt]);
  } else {
    kernel = loadElfForMultiboot(mem, layout, image, what, true, [BOOT_RESERVED.gdt]);
    if (entry !== undefined) kernel = { ...kernel, entry };
  }
  if (kernel.entry >= 0x1_0000_0000) throw new BootLoadError(what, "entry point is above 4 GiB");

  const infoAddr = kernel.loadAddress + alignUp(kernel.size, PAGE);
  const modules = options.modules ?? [];
  // Modules go after the structure; its size does not depend on their addresses, so build twice.
  const build = (moduleAddrs: readonly number[]): Uint8Array => {
    const b = new InfoBuilder();
    b.string(InfoTag.Cmdline, options.cmdline ?? "");
    b.string(InfoTag.LoaderName, options.bootLoaderName ?? "turtles");
    modules.forEach((m, i) => {
      const start = moduleAddrs[i] ?? 0;
      b.string(
        InfoTag.Module,
        m.cmdline,
        (view, at) => {
          view.setUint32(at, start, true);
          view.setUint32(at + 4, start + m.data.byteLength, true);
        },
        8,
      );
    });
    b.tag(InfoTag.BasicMeminfo, 8, (view, at) => {
      view.setUint32(at, layout.memLowerKiB, true);
      view.setUint32(at + 4, layout.memUpperKiB, true);
    });
    const map = layout.e820();
    b.tag(InfoTag.Mmap, 8 + 24 * map.length, (view, at) => {
      view.setUint32(at, 24, true);
      view.setUint32(at + 4, 0, true);
      map.forEach((e, i) => {
        const p = at + 8 + 24 * i;
        setU64(view, p, e.base);
        setU64(view, p + 8, e.length);
        view.setUint32(p + 16, e.type, true);
      });
    });
    const rsdp = options.rsdp;
    if (rsdp !== undefined) {
      b.tag(
        rsdp.byteLength >= 36 && rsdp[15]! >= 2 ? InfoTag.AcpiNew : InfoTag.AcpiOld,
        rsdp.byteLength,
        (view, at) => {
          new Uint8Array(view.buffer, at, rsdp.byteLength).set(rsdp);
        },
      );
    }
    return b.finish();
  };
  const size = build([]).byteLength;
  const addrs: number[] = [];
  let next = alignUp(infoAddr + size, PAGE);
  for (const m of modules) {
    addrs.push(next);
    next = alignUp(next + m.data.byteLength, PAGE);
  }
  placeInRam(mem, layout, what, "boot information", infoAddr, build(addrs), 0, [BOOT_RESERVED.gdt]);
  modules.forEach((m, i) => {
    placeInRam(mem, layout, what, `module ${i}`, addrs[i]!, m.data, 0, [BOOT_RESERVED.gdt]);
  });
  return protectedModeEntry(mem, kernel.entry, { rax: MULTIBOOT2.bootloaderMagic, rbx: infoAddr });
}
