import { PhysicalAddressSpace, Ram } from "@turtles/memory";

/** Types of an e820 / multiboot memory-map entry (the numbers are the same in both maps). */
export const MemoryType = {
  /** Usable RAM. */
  Ram: 1,
  /** Reserved: the OS must not use it. */
  Reserved: 2,
  /** ACPI tables: reclaimable once the OS has read them. */
  Acpi: 3,
  /** ACPI non-volatile storage. */
  Nvs: 4,
  /** Unusable (bad) memory. */
  Unusable: 5,
} as const;

/** One of the {@link MemoryType} values. */
export type MemoryType = (typeof MemoryType)[keyof typeof MemoryType];

/** One entry of a memory map: `[base, base + length)` of a type. */
export interface MemoryRange {
  /** First physical address. */
  readonly base: number;
  /** Length in bytes (> 0). */
  readonly length: number;
  /** What the range is. */
  readonly type: MemoryType;
}

/** Options of a {@link PcMemoryLayout}. */
export interface PcMemoryLayoutOptions {
  /** Guest RAM in bytes (a multiple of 1 MiB, at least 2 MiB). */
  readonly ramSize: number;
  /**
   * Start of the PCI hole below 4 GiB (default 0xC0000000): RAM beyond it is placed above 4 GiB.
   * A multiple of 1 MiB between 2 MiB and 0xFE000000.
   */
  readonly pciHoleStart?: number;
  /** Extra reserved ranges to report in the maps (e.g. the ECAM window), outside RAM. */
  readonly reserved?: readonly MemoryRange[];
}

/** Fixed addresses of the PC's first megabyte, as the layout and the loaders use them. */
export const LOW_MEMORY = {
  /** End of conventional RAM usable by the OS: the EBDA (1 KiB) starts here. */
  ebda: 0x9_fc00,
  /** Start of the legacy VGA window (not RAM). */
  vgaStart: 0xa_0000,
  /** End of the VGA window: 0xC0000-0xFFFFF is RAM holding the "BIOS area" (reserved in the maps). */
  vgaEnd: 0xc_0000,
  /** Start of the area where OSes search for the ACPI RSDP, reserved in the maps. */
  biosAreaStart: 0xe_0000,
  /** 1 MiB: extended memory starts here. */
  highStart: 0x10_0000,
} as const;

const MiB = 0x10_0000;
const FOUR_GIB = 0x1_0000_0000;

/**
 * The PC's physical memory layout, from which the e820 map, the multiboot maps and the RAM
 * mapping of a `PhysicalAddressSpace` all come:
 *
 * - `[0, 0x9FC00)` low RAM; `[0x9FC00, 0xA0000)` the EBDA (reserved);
 * - `[0xA0000, 0xC0000)` the VGA window (not mapped as RAM);
 * - `[0xC0000, 0x100000)` RAM holding the option-ROM/BIOS area; `[0xE0000, 0x100000)` is reported
 *   reserved (the ACPI tables and the RSDP go there);
 * - `[1 MiB, pciHoleStart)` RAM; `[pciHoleStart, 4 GiB)` the PCI hole (devices, I/O APIC,
 *   local APIC, HPET);
 * - `[4 GiB, 4 GiB + ramSize - pciHoleStart)` the rest of the RAM, when there is more.
 */
export class PcMemoryLayout {
  /** Total guest RAM in bytes. */
  readonly ramSize: number;
  /** Start of the PCI hole below 4 GiB. */
  readonly pciHoleStart: number;
  /** Bytes of RAM below 4 GiB (up to {@link PcMemoryLayout.pciHoleStart}). */
  readonly below4g: number;
  /** Bytes of RAM placed at 4 GiB and above. */
  readonly above4g: number;
  private readonly extra: MemoryRange[];

  /** @throws RangeError for a RAM size or hole start that is not a multiple of 1 MiB or out of range. */
  constructor(options: PcMemoryLayoutOptions) {
    const { ramSize } = options;
    const hole = options.pciHoleStart ?? 0xc000_0000;
    if (!Number.isSafeInteger(ramSize) || ramSize < 2 * MiB || ramSize % MiB !== 0) {
      throw new RangeError(
        `PcMemoryLayout: RAM size ${ramSize} is not a multiple of 1 MiB of at least 2 MiB`,
      );
    }
    if (!Number.isSafeInteger(hole) || hole % MiB !== 0 || hole < 2 * MiB || hole > 0xfe00_0000) {
      throw new RangeError(
        `PcMemoryLayout: PCI hole start 0x${hole.toString(16)} is not a 1 MiB multiple in [2 MiB, 0xFE000000]`,
      );
    }
    this.ramSize = ramSize;
    this.pciHoleStart = hole;
    this.below4g = Math.min(ramSize, hole);
    this.above4g = ramSize - this.below4g;
    this.extra = [];
    for (const r of options.reserved ?? []) {
      const overlaps = (o: MemoryRange) => r.base < o.base + o.length && o.base < r.base + r.length;
      if (!(r.length > 0) || this.ramRanges().some(overlaps) || this.e820().some(overlaps)) {
        throw new RangeError(
          `PcMemoryLayout: reserved range 0x${r.base.toString(16)} is empty or overlaps RAM or another range`,
        );
      }
      this.extra.push(r);
    }
  }

  /** The RAM ranges the OS may use plus the ones the firmware area keeps, as mapped (ascending). */
  private ramRanges(): MemoryRange[] {
    const out: MemoryRange[] = [
      { base: 0, length: LOW_MEMORY.vgaStart, type: MemoryType.Ram },
      { base: LOW_MEMORY.vgaEnd, length: this.below4g - LOW_MEMORY.vgaEnd, type: MemoryType.Ram },
    ];
    if (this.above4g > 0) out.push({ base: FOUR_GIB, length: this.above4g, type: MemoryType.Ram });
    return out;
  }

  /**
   * The memory map as the firmware reports it (BIOS e820, multiboot `mmap`, Linux
   * `boot_params.e820_table`), sorted by address, with no overlaps.
   */
  e820(): MemoryRange[] {
    const map: MemoryRange[] = [
      { base: 0, length: LOW_MEMORY.ebda, type: MemoryType.Ram },
      { base: LOW_MEMORY.ebda, length: LOW_MEMORY.vgaStart - LOW_MEMORY.ebda, type: MemoryType.Reserved },
      {
        base: LOW_MEMORY.biosAreaStart,
        length: LOW_MEMORY.highStart - LOW_MEMORY.biosAreaStart,
        type: MemoryType.Reserved,
      },
      { base: LOW_MEMORY.highStart, length: this.below4g - LOW_MEMORY.highStart, type: MemoryType.Ram },
    ];
    if (this.above4g > 0) map.push({ base: FOUR_GIB, length: this.above4g, type: MemoryType.Ram });
    map.push(...this.extra);
    return map.sort((a, b) => a.base - b.base);
  }

  /**
   * KiB of usable memory from address 0 (multiboot `mem_lower`): the e820 RAM entry at 0, up to
   * the EBDA — 639, as QEMU's multiboot loader reports it (its option ROM asks the BIOS).
   */
  get memLowerKiB(): number {
    return LOW_MEMORY.ebda / 1024;
  }

  /**
   * KiB of contiguous usable memory from 1 MiB (multiboot `mem_upper`): the length of the e820
   * RAM entry at 1 MiB, as QEMU reports it.
   */
  get memUpperKiB(): number {
    return (this.below4g - LOW_MEMORY.highStart) / 1024;
  }

  /** Whether `[addr, addr + length)` lies entirely inside one usable-RAM range of the e820 map. */
  isUsableRam(addr: number, length: number): boolean {
    return this.e820().some(
      (r) => r.type === MemoryType.Ram && addr >= r.base && addr + length <= r.base + r.length,
    );
  }

  /** Whether `[addr, addr + length)` lies inside RAM as mapped (usable or firmware-reserved RAM). */
  isRam(addr: number, length: number): boolean {
    return this.ramRanges().some((r) => addr >= r.base && addr + length <= r.base + r.length);
  }

  /**
   * Maps `ram` (at least {@link PcMemoryLayout.ramSize} bytes) into `space` following the layout:
   * `[0, 0xA0000)` and `[0xC0000, below4g)` from the same offsets of `ram` (the 128 KiB behind the
   * VGA window are lost, as on real boards), and the rest of `ram` at 4 GiB.
   */
  mapInto(space: PhysicalAddressSpace, ram: Ram): void {
    if (ram.size < this.ramSize)
      throw new RangeError(`PcMemoryLayout.mapInto: RAM of ${ram.size} bytes is too small`);
    space.mapRam(0, ram, { size: LOW_MEMORY.vgaStart, name: "ram-low" });
    space.mapRam(LOW_MEMORY.vgaEnd, ram, {
      offset: LOW_MEMORY.vgaEnd,
      size: this.below4g - LOW_MEMORY.vgaEnd,
      name: "ram-below-4g",
    });
    if (this.above4g > 0) {
      space.mapRam(FOUR_GIB, ram, { offset: this.below4g, size: this.above4g, name: "ram-above-4g" });
    }
  }

  /** A new address space and RAM mapped by {@link PcMemoryLayout.mapInto}. */
  createSpace(): { space: PhysicalAddressSpace; ram: Ram } {
    const space = new PhysicalAddressSpace();
    const ram = new Ram(this.ramSize);
    this.mapInto(space, ram);
    return { space, ram };
  }
}
