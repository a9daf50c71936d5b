import type { PhysicalMemory } from "@turtles/memory";
import { type BootEntryState, protectedModeEntry, realModeEntry } from "./entry.js";
import { BootLoadError, placeInRam } from "./image.js";
import type { PcMemoryLayout } from "./layout.js";

/** Options of {@link loadRaw}: where the bytes go and how they are entered. */
export interface RawImageOptions {
  /** Physical load address. */
  readonly address: number;
  /**
   * The entry: real mode at `cs:ip` (e.g. a boot sector at 0x7C00 entered at 0000:7C00), or
   * 32-bit protected mode at `eip` with flat segments. Default: protected mode at `address`.
   */
  readonly entry?:
    | { readonly mode: "real"; readonly cs: number; readonly ip: number }
    | { readonly mode: "protected32"; readonly eip: number };
}

/**
 * Loads a raw binary at a given address and describes its entry.
 * @throws BootLoadError for an empty image, an image that does not fit in RAM, or a real-mode
 * entry outside the first MiB.
 */
export function loadRaw(
  mem: PhysicalMemory,
  layout: PcMemoryLayout,
  image: Uint8Array,
  options: RawImageOptions,
): BootEntryState {
  if (image.byteLength === 0) throw new BootLoadError("raw", "image is empty");
  placeInRam(mem, layout, "raw", "image", options.address, image);
  const entry = options.entry ?? { mode: "protected32", eip: options.address };
  if (entry.mode === "real") {
    if (entry.cs < 0 || entry.cs > 0xffff || entry.ip < 0 || entry.ip > 0xffff) {
      throw new BootLoadError(
        "raw",
        `real-mode entry ${entry.cs.toString(16)}:${entry.ip.toString(16)} is not a 16-bit CS:IP`,
      );
    }
    return realModeEntry(entry.cs, entry.ip);
  }
  return protectedModeEntry(mem, entry.eip, {});
}
