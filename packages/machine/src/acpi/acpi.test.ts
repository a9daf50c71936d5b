// The tables are read back by a small parser of our own that knows nothing of the builder: it
// finds the RSDP the way an OS does, checks every checksum and decodes every field.
import { AccessKind, type PhysicalMemory } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PcMemoryLayout } from "../boot/layout.js";
import { buildAcpiTables, DSDT_AML } from "./tables.js";
import { writeAcpiTables } from "./write.js";

class Reader {
  constructor(
    private readonly mem: PhysicalMemory,
    readonly base: number,
  ) {}
  u8 = (o: number) => this.mem.read8(this.base + o, AccessKind.Read);
  u16 = (o: number) => this.mem.read16(this.base + o, AccessKind.Read);
  u32 = (o: number) => this.mem.read32(this.base + o, AccessKind.Read);
  u64 = (o: number) => this.u32(o) + this.u32(o + 4) * 2 ** 32;
  str = (o: number, n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.u8(o + i));
    return s;
  };
  sum = (n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += this.u8(i);
    return s & 0xff;
  };
  gas = (o: number) => ({
    space: this.u8(o),
    width: this.u8(o + 1),
    offset: this.u8(o + 2),
    access: this.u8(o + 3),
    address: this.u64(o + 4),
  });
}

function findRsdp(mem: PhysicalMemory): number | undefined {
  for (let a = 0xe0000; a < 0x100000; a += 16) {
    const r = new Reader(mem, a);
    if (r.str(0, 8) === "RSD PTR " && r.sum(20) === 0) return a;
  }
  return undefined;
}

function header(mem: PhysicalMemory, addr: number) {
  const r = new Reader(mem, addr);
  const length = r.u32(4);
  return {
    r,
    signature: r.str(0, 4),
    length,
    revision: r.u8(8),
    checksumOk: r.sum(length) === 0,
    oemId: r.str(10, 6),
    oemTableId: r.str(16, 8),
    oemRevision: r.u32(24),
    creatorId: r.str(28, 4),
  };
}

function setup(platform: Parameters<typeof buildAcpiTables>[0] = {}) {
  const layout = new PcMemoryLayout({ ramSize: 16 * 0x100000 });
  const { space } = layout.createSpace();
  const placement = writeAcpiTables(space, buildAcpiTables(platform));
  return { space, placement, layout };
}

describe("ACPI tables", () => {
  it("has an RSDP v2 in the BIOS search area with both checksums, pointing to XSDT and RSDT", () => {
    const { space, placement, layout } = setup();
    const at = findRsdp(space);
    expect(at).toBe(placement.rsdp);
    expect(layout.isUsableRam(at!, 36)).toBe(false); // reserved in e820
    const r = new Reader(space, at!);
    expect(r.u8(15)).toBe(2);
    expect(r.u32(20)).toBe(36);
    expect(r.sum(36)).toBe(0);
    expect(r.str(9, 6)).toBe("TURTLE");
    expect(r.u32(16)).toBe(placement.rsdt);
    expect(r.u64(24)).toBe(placement.xsdt);
    expect([...placement.rsdpBytes]).toEqual(Array.from({ length: 36 }, (_, i) => r.u8(i)));
  });

  it("XSDT and RSDT list the same checksum-valid tables", () => {
    const { space } = setup({ mcfg: { base: 0xb0000000, startBus: 0, endBus: 255 } });
    const rsdp = new Reader(space, findRsdp(space)!);
    const xsdt = header(space, rsdp.u64(24));
    const rsdt = header(space, rsdp.u32(16));
    expect([xsdt.signature, xsdt.checksumOk, xsdt.revision, rsdt.signature, rsdt.checksumOk]).toEqual([
      "XSDT",
      true,
      1,
      "RSDT",
      true,
    ]);
    const x = Array.from({ length: (xsdt.length - 36) / 8 }, (_, i) => xsdt.r.u64(36 + 8 * i));
    const r = Array.from({ length: (rsdt.length - 36) / 4 }, (_, i) => rsdt.r.u32(36 + 4 * i));
    expect(x).toEqual(r);
    const tables = x.map((a) => header(space, a));
    expect(tables.map((t) => t.signature)).toEqual(["FACP", "APIC", "HPET", "MCFG"]);
    for (const t of [...tables, xsdt, rsdt]) {
      expect(t.checksumOk).toBe(true);
      expect(t.oemId).toBe("TURTLE");
      expect(t.oemTableId).toBe("TURTLESP");
      expect(t.oemRevision).toBe(1);
      expect(t.creatorId).toBe("TRTL");
      expect(t.r.base % 16).toBe(0);
    }
  });

  it("FADT: PM blocks, PM timer, SCI, century, flags, reset register, FACS and DSDT", () => {
    const { space, placement } = setup();
    const f = header(space, placement.tables.FACP!);
    const r = f.r;
    expect([f.length, f.revision, r.u8(131)]).toEqual([276, 6, 5]);
    const facs = r.u32(36);
    const dsdt = r.u32(40);
    expect(r.u64(132)).toBe(facs);
    expect(r.u64(140)).toBe(dsdt);
    expect(facs % 64).toBe(0);
    const fr = new Reader(space, facs);
    expect([fr.str(0, 4), fr.u32(4), fr.u8(32)]).toEqual(["FACS", 64, 2]);
    const d = header(space, dsdt);
    expect([d.signature, d.checksumOk, d.revision, d.length]).toEqual([
      "DSDT",
      true,
      2,
      36 + DSDT_AML.length,
    ]);
    expect(d.r.str(36, 5)).toBe("\x08_S5_");
    expect(r.u16(46)).toBe(9); // SCI_INT
    expect(r.u32(48)).toBe(0); // SMI_CMD
    expect([r.u32(56), r.u32(64), r.u32(76)]).toEqual([0x600, 0x604, 0x608]);
    expect([r.u32(60), r.u32(68), r.u32(72), r.u32(80), r.u32(84)]).toEqual([0, 0, 0, 0, 0]);
    expect([r.u8(88), r.u8(89), r.u8(90), r.u8(91)]).toEqual([4, 2, 0, 4]);
    expect([r.u16(96), r.u16(98)]).toEqual([101, 1001]);
    expect(r.u8(108)).toBe(0x32); // CENTURY
    expect(r.u16(109)).toBe(0x7); // IAPC_BOOT_ARCH: legacy, 8042, no VGA
    const flags = r.u32(112);
    expect(flags & (1 << 8)).not.toBe(0); // TMR_VAL_EXT
    expect(flags & (1 << 10)).not.toBe(0); // RESET_REG_SUP
    expect(flags & (1 << 20)).toBe(0); // not HW_REDUCED_ACPI
    expect(r.gas(116)).toEqual({ space: 1, width: 8, offset: 0, access: 1, address: 0xcf9 });
    expect(r.u8(128)).toBe(6);
    expect(r.gas(148)).toEqual({ space: 1, width: 32, offset: 0, access: 3, address: 0x600 });
    expect(r.gas(172)).toEqual({ space: 1, width: 16, offset: 0, access: 2, address: 0x604 });
    expect(r.gas(208)).toEqual({ space: 1, width: 32, offset: 0, access: 3, address: 0x608 });
    expect(r.str(268, 8)).toBe("TURTLES\0");
  });

  it("a 24-bit PM timer clears TMR_VAL_EXT", () => {
    const { space, placement } = setup({ pmTimer32: false, pmBase: 0xb000 });
    const r = new Reader(space, placement.tables.FACP!);
    expect(r.u32(112) & (1 << 8)).toBe(0);
    expect(r.u32(76)).toBe(0xb008);
  });

  it("MADT: local APICs, I/O APIC, overrides IRQ0->GSI2 and SCI level/high, LINT1 NMI", () => {
    const { space, placement } = setup({ cpus: 2 });
    const m = header(space, placement.tables.APIC!);
    const r = m.r;
    expect(r.u32(36)).toBe(0xfee00000);
    expect(r.u32(40)).toBe(1); // PCAT_COMPAT
    const entries: number[][] = [];
    for (let o = 44; o < m.length; o += r.u8(o + 1)) {
      entries.push(Array.from({ length: r.u8(o + 1) }, (_, i) => r.u8(o + i)));
    }
    expect(entries).toEqual([
      [0, 8, 0, 0, 1, 0, 0, 0],
      [0, 8, 1, 1, 1, 0, 0, 0],
      [1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0],
      [2, 10, 0, 0, 2, 0, 0, 0, 0, 0],
      [2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0],
      [4, 6, 0xff, 0, 0, 1],
    ]);
  });

  it("declares extra level-triggered IRQs (PCI interrupt lines) with overrides", () => {
    const { space, placement } = setup({ levelIrqs: [10, 11, 9] });
    const m = header(space, placement.tables.APIC!);
    const overrides: number[][] = [];
    for (let o = 44; o < m.length; o += m.r.u8(o + 1)) {
      if (m.r.u8(o) === 2) overrides.push([m.r.u8(o + 3), m.r.u32(o + 4), m.r.u16(o + 8)]);
    }
    expect(overrides).toEqual([
      [0, 2, 0],
      [9, 9, 0x0d],
      [10, 10, 0x0d],
      [11, 11, 0x0d],
    ]);
    expect(m.checksumOk).toBe(true);
    expect(() => buildAcpiTables({ levelIrqs: [2] })).toThrow(RangeError);
  });

  it("HPET and MCFG", () => {
    const { space, placement } = setup({ mcfg: { base: 0xb0000000, startBus: 0, endBus: 255 } });
    const h = header(space, placement.tables.HPET!);
    expect([h.length, h.revision]).toEqual([56, 1]);
    const id = h.r.u32(36);
    expect(id >>> 16).toBe(0x8086);
    expect(((id >> 8) & 0x1f) + 1).toBe(3); // comparators
    expect(id & (1 << 13)).not.toBe(0); // 64-bit counter
    expect(id & (1 << 15)).not.toBe(0); // legacy replacement capable
    expect(h.r.gas(40)).toEqual({ space: 0, width: 64, offset: 0, access: 0, address: 0xfed00000 });
    expect([h.r.u8(52), h.r.u16(53), h.r.u8(55)]).toEqual([0, 0x80, 0]);
    const m = header(space, placement.tables.MCFG!);
    expect(m.length).toBe(60);
    expect(m.r.u64(36)).toBe(0);
    expect([m.r.u64(44), m.r.u16(52), m.r.u8(54), m.r.u8(55), m.r.u32(56)]).toEqual([
      0xb0000000, 0, 0, 255, 0,
    ]);
  });

  it("takes extra tables into the lists (room for a DMAR) and can leave out the HPET", () => {
    const extra = buildAcpiTables({ hpet: false }).find((t) => t.signature === "APIC")!;
    const dmar = { signature: "DMAR", bytes: extra.bytes.slice() };
    dmar.bytes.set([0x44, 0x4d, 0x41, 0x52]);
    dmar.bytes[9] = (dmar.bytes[9]! + 0x41 + 0x50 + 0x49 + 0x43 - 0x44 - 0x4d - 0x41 - 0x52) & 0xff;
    const { space } = setup({ hpet: false, extraTables: [dmar] });
    const rsdp = new Reader(space, findRsdp(space)!);
    const xsdt = header(space, rsdp.u64(24));
    const sigs = Array.from({ length: (xsdt.length - 36) / 8 }, (_, i) =>
      header(space, xsdt.r.u64(36 + 8 * i)),
    );
    expect(sigs.map((t) => t.signature)).toEqual(["FACP", "APIC", "DMAR"]);
    expect(sigs.every((t) => t.checksumOk)).toBe(true);
  });

  it("puts the RSDP in the F segment by default (kvm-unit-tests scan only 0xF0000-0xFFFFF)", () => {
    const { space, placement } = setup();
    expect(placement.rsdp).toBe(0xf0000);
    expect(placement.end).toBeLessThan(0x100000);
    const rsdp = new Reader(space, 0xf0000);
    expect(rsdp.str(0, 8)).toBe("RSD PTR ");
    // The RSDT's 32-bit entries are what those tests walk.
    const rsdt = header(space, rsdp.u32(16));
    expect(rsdt.checksumOk).toBe(true);
  });

  it("rejects an RSDP outside the search area", () => {
    const { space } = new PcMemoryLayout({ ramSize: 16 * 0x100000 }).createSpace();
    expect(() => writeAcpiTables(space, buildAcpiTables(), { rsdpAddress: 0x9000 })).toThrow(RangeError);
    expect(() => writeAcpiTables(space, buildAcpiTables(), { rsdpAddress: 0xe0008 })).toThrow(RangeError);
    expect(() => writeAcpiTables(space, buildAcpiTables(), { limit: 0xe0100 })).toThrow(/do not fit/);
  });
});

describe("ACPI tables (law)", () => {
  it("every table of any platform is checksum-valid, listed in both XSDT and RSDT, and the MADT has one entry per CPU", () => {
    fc.assert(
      fc.property(
        fc.record({
          cpus: fc.integer({ min: 1, max: 64 }),
          pmBase: fc.integer({ min: 0x400, max: 0xff00 }).map((x) => x & ~0xf),
          sciIrq: fc.constantFrom(9, 10, 11),
          hpet: fc.boolean(),
          mcfg: fc.boolean(),
          oemId: fc.stringMatching(/^[A-Z]{1,6}$/),
        }),
        (c) => {
          const { space } = new PcMemoryLayout({ ramSize: 4 * 0x100000 }).createSpace();
          writeAcpiTables(
            space,
            buildAcpiTables({
              cpus: c.cpus,
              pmBase: c.pmBase,
              sciIrq: c.sciIrq,
              oemId: c.oemId,
              ...(c.hpet ? {} : { hpet: false as const }),
              ...(c.mcfg ? { mcfg: { base: 0xb0000000, startBus: 0, endBus: 255 } } : {}),
            }),
            { oemId: c.oemId },
          );
          const rsdp = new Reader(space, findRsdp(space)!);
          expect(rsdp.sum(36)).toBe(0);
          const xsdt = header(space, rsdp.u64(24));
          const rsdt = header(space, rsdp.u32(16));
          const x = Array.from({ length: (xsdt.length - 36) / 8 }, (_, i) => xsdt.r.u64(36 + 8 * i));
          const r = Array.from({ length: (rsdt.length - 36) / 4 }, (_, i) => rsdt.r.u32(36 + 4 * i));
          expect(x).toEqual(r);
          const tables = x.map((a) => header(space, a));
          expect(tables.every((t) => t.checksumOk && t.oemId.trim() === c.oemId)).toBe(true);
          expect(tables.length).toBe(2 + (c.hpet ? 1 : 0) + (c.mcfg ? 1 : 0));
          const madt = tables.find((t) => t.signature === "APIC")!;
          let lapics = 0;
          for (let o = 44; o < madt.length; o += madt.r.u8(o + 1)) if (madt.r.u8(o) === 0) lapics++;
          expect(lapics).toBe(c.cpus);
          const fadt = tables.find((t) => t.signature === "FACP")!;
          expect([fadt.r.u32(76), fadt.r.u16(46)]).toEqual([c.pmBase + 8, c.sciIrq]);
          expect(header(space, fadt.r.u32(40)).checksumOk).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
