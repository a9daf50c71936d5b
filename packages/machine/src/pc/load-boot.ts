import type { PhysicalMemory } from "@turtles/memory";
import { isElf, loadElfKernel } from "../boot/elf.js";
import type { BootEntryState } from "../boot/entry.js";
import { BootLoadError } from "../boot/image.js";
import type { PcMemoryLayout } from "../boot/layout.js";
import { loadLinux } from "../boot/linux.js";
import { findMultibootHeader, loadMultiboot } from "../boot/multiboot.js";
import { findMultiboot2Header, loadMultiboot2 } from "../boot/multiboot2.js";
import { loadRaw } from "../boot/raw.js";
import type { MachineOptions } from "./options.js";

/** Where a boot sector is loaded and entered (as a BIOS does). */
export const BOOT_SECTOR_ADDRESS = 0x7c00;

/** Which loader took the kernel. */
export type KernelFormat = "multiboot" | "multiboot2" | "linux" | "elf" | "boot-sector" | "none";

/** True when `image` carries the Linux boot protocol's "HdrS" magic at 0x202. */
function isBzImage(image: Uint8Array): boolean {
  return (
    image.byteLength >= 0x206 &&
    image[0x202] === 0x48 &&
    image[0x203] === 0x64 &&
    image[0x204] === 0x72 &&
    image[0x205] === 0x53
  );
}

/**
 * Loads what the options ask for into `mem` (`rsdp`: the ACPI RSDP for a Multiboot2 tag) and returns the entry state and the format taken:
 * a boot sector at 0x7C00 (real mode, DL = 0x80), or a kernel — Linux bzImage when it has the
 * "HdrS" magic, otherwise Multiboot v1, Multiboot2, then plain ELF, as QEMU's `-kernel` tries.
 * With neither, the processor is left at its reset vector (F000:FFF0, where nothing is mapped:
 * there is no firmware).
 *
 * @throws BootLoadError for an image no loader accepts or that does not fit.
 */
export function loadBoot(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  options: MachineOptions,
  rsdp?: Uint8Array,
): { entry: BootEntryState | undefined; format: KernelFormat } {
  if (options.bootImage !== undefined) {
    const entry = loadRaw(mem, layout, options.bootImage, {
      address: BOOT_SECTOR_ADDRESS,
      entry: { mode: "real", cs: 0, ip: BOOT_SECTOR_ADDRESS },
    });
    return {
      entry: { ...entry, registers: { ...entry.registers, rdx: 0x80 } },
      format: "boot-sector",
    };
  }
  const kernel = options.kernel;
  if (kernel === undefined) return { entry: undefined, format: "none" };
  if (kernel.byteLength === 0) throw new BootLoadError("kernel", "image is empty");
  if (isBzImage(kernel)) {
    const initrd = options.initrd?.[0]?.data;
    const entry = loadLinux(mem, layout, kernel, {
      ...(options.append !== undefined ? { cmdline: options.append } : {}),
      ...(initrd !== undefined ? { initrd } : {}),
    });
    return { entry, format: "linux" };
  }
  const common = {
    ...(options.append !== undefined ? { cmdline: options.append } : {}),
    ...(options.initrd !== undefined ? { modules: options.initrd } : {}),
    ...(options.kernelName !== undefined ? { kernelName: options.kernelName } : {}),
  };
  if (findMultibootHeader(kernel) !== undefined) {
    return { entry: loadMultiboot(mem, layout, kernel, common), format: "multiboot" };
  }
  if (findMultiboot2Header(kernel) !== undefined) {
    return {
      entry: loadMultiboot2(mem, layout, kernel, rsdp !== undefined ? { ...common, rsdp } : common),
      format: "multiboot2",
    };
  }
  if (isElf(kernel)) return { entry: loadElfKernel(mem, layout, kernel), format: "elf" };
  throw new BootLoadError("kernel", "not a Linux bzImage, Multiboot v1/v2 image or ELF kernel");
}
