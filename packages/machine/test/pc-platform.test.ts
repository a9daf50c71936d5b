// The assembled platform: every device where the ACPI tables and the PC say it is, wired.
import { AccessKind } from "@turtles/memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HPET_CAPABILITIES_LOW,
  loadMultiboot,
  ManualClock,
  MemoryType,
  PciFunction,
  PcPlatform,
  pciIntxIrq,
  ResetKind,
} from "../src/index.js";
import { checkRoundTrip } from "./round-trip.js";

function make() {
  const out = { serial: "", debug: "", exits: [] as number[], resets: [] as string[], a20: [] as boolean[] };
  const clock = new ManualClock();
  const p = new PcPlatform({
    clock,
    ramSize: 64 * 0x10_0000,
    serial: (b) => (out.serial += String.fromCharCode(b)),
    debugConsole: (b) => (out.debug += String.fromCharCode(b)),
    exit: (s) => out.exits.push(s),
    reset: (k) => out.resets.push(k),
    a20: (on) => out.a20.push(on),
    cmdline: "hello",
  });
  /** The run loop's part: advance the clock deadline by deadline, polling. */
  const run = (ns: number) => {
    const end = p.clock.nowNs() + ns;
    for (;;) {
      const next = p.nextDeadlineNs();
      if (next > end) break;
      clock.set(Math.max(next, clock.nowNs()));
      p.pollTimers();
    }
    clock.set(end);
  };
  return { p, out, run, clock };
}

describe("PcPlatform", () => {
  it("reserves the ECAM window and describes it, the APICs and the HPET in ACPI", () => {
    const { p, clock } = make();
    expect(p.layout.e820()).toContainEqual({
      base: 0xc000_0000,
      length: 0x1000_0000,
      type: MemoryType.Reserved,
    });
    expect(Object.keys(p.acpi.tables)).toEqual(["FACS", "DSDT", "FACP", "APIC", "HPET", "MCFG"]);
    const mcfg = p.acpi.tables.MCFG!;
    expect(p.space.read32(mcfg + 44, AccessKind.Read)).toBe(0xc000_0000);
    // The devices answer where the tables point.
    expect(p.space.read32(0xc000_0000, AccessKind.Read)).toBe(0x0008_1b36); // ECAM: host bridge
    expect(p.space.read32(0xfed0_0000, AccessKind.Read)).toBe(HPET_CAPABILITIES_LOW);
    expect(p.space.read32(0xfee0_0030, AccessKind.Read) & 0xff).toBe(0x14);
    p.space.write32(0xfec0_0000, 1, AccessKind.Write);
    expect(p.space.read32(0xfec0_0010, AccessKind.Read) & 0xff).toBe(0x20);
    const pmTimerPort = p.space.read32(p.acpi.tables.FACP! + 76, AccessKind.Read);
    const t0 = p.io.read(pmTimerPort, 4);
    clock.advance(1_000_000);
    expect(p.io.read(pmTimerPort, 4) - t0).toBe(3579);
  });

  it("assigns pci-testdev's BARs after the ECAM window and maps them", () => {
    const { p } = make();
    p.io.write(0xcf8, 4, 0x8000_0810);
    const bar0 = p.io.read(0xcfc, 4);
    expect(bar0).toBe(0xd000_0000);
    p.space.write8(bar0, 0, AccessKind.Write);
    expect(p.space.read8(bar0 + 16, AccessKind.Read)).toBe("m".charCodeAt(0));
  });

  it("delivers the PIT through virtual wire, then through the I/O APIC; HPET legacy replacement mutes it", () => {
    const { p, run } = make();
    for (const [port, v] of [
      [0x20, 0x11],
      [0x21, 0x20],
      [0x21, 0x04],
      [0x21, 0x01],
      [0x21, 0xfe],
    ] as const)
      p.io.write(port, 1, v);
    p.io.write(0x43, 1, 0x34);
    p.io.write(0x40, 1, 0xa9);
    p.io.write(0x40, 1, 0x04); // ~1 kHz
    run(1_500_000);
    expect(p.interrupts.hasInterrupt()).toBe(true);
    expect(p.interrupts.acknowledge()).toBe(0x20);
    p.io.write(0x20, 1, 0x20);
    // APIC mode: mask the PIC and LINT0, route pin 2.
    p.io.write(0x21, 1, 0xff);
    p.space.write32(0xfee0_00f0, 0x1ff, AccessKind.Write);
    p.space.write32(0xfee0_0350, 0x1_0700, AccessKind.Write);
    p.space.write32(0xfec0_0000, 0x10 + 4, AccessKind.Write);
    p.space.write32(0xfec0_0010, 0x31, AccessKind.Write);
    run(1_000_000);
    expect(p.interrupts.acknowledge()).toBe(0x31);
    p.space.write32(0xfee0_00b0, 0, AccessKind.Write);
    // HPET legacy replacement takes IRQ0 (pin 2) from the PIT.
    p.space.write32(0xfed0_0010, 2, AccessKind.Write);
    run(5_000_000);
    expect(p.interrupts.hasInterrupt()).toBe(false);
  });

  it("serial, debug console, isa-debug-exit, reset through 0xCF9, A20, fw_cfg", () => {
    const { p, out } = make();
    for (const c of "hi") p.io.write(0x3f8, 1, c.charCodeAt(0));
    p.io.write(0xe9, 1, 0x21);
    p.io.write(0xf4, 1, 0x10);
    p.io.write(0xcf9, 1, 0x06);
    p.io.write(0x92, 1, 0x02);
    p.io.write(0x510, 2, 0x0000); // FW_CFG_SIGNATURE
    let sig = "";
    for (let i = 0; i < 4; i++) sig += String.fromCharCode(p.io.read(0x511, 1));
    expect(out).toMatchObject({
      serial: "hi",
      debug: "!",
      exits: [33],
      resets: [ResetKind.Hard],
      a20: [true],
    });
    expect(sig).toBe("QEMU");
  });

  it("loads a kernel into its memory with the platform's layout", () => {
    const { p } = make();
    const image = new Uint8Array(64);
    new DataView(image.buffer).setUint32(0, 0x1badb002, true);
    new DataView(image.buffer).setUint32(4, 0x10000, true);
    new DataView(image.buffer).setUint32(8, -(0x1badb002 + 0x10000) >>> 0, true);
    for (const [i, v] of [0x100000, 0x100000, 0, 0, 0x100020].entries())
      new DataView(image.buffer).setUint32(12 + 4 * i, v, true);
    const entry = loadMultiboot(p.space, p.layout, image);
    expect(entry.rip).toBe(0x100020);
    expect(p.space.read32(0x9500 + 8, AccessKind.Read)).toBe(63 * 1024);
  });
});

describe("PcPlatform options a machine uses", () => {
  it("places or leaves out the QEMU test devices; without the 0xE9 console pc-testdev has all of 0xE8-0xEB", () => {
    const exits: number[] = [];
    const p = new PcPlatform({
      ramSize: 64 * 0x10_0000,
      exit: (s) => exits.push(s),
      isaDebugExit: { iobase: 0x501, iosize: 2 },
      debugConsolePort: false,
      pciTestdevSlot: 3,
    });
    p.io.write(0xf4, 1, 1);
    p.io.write(0x503, 1, 1);
    expect(exits).toEqual([]);
    p.io.write(0x501, 1, 2);
    expect(exits).toEqual([5]);
    p.io.write(0xe8, 4, 0x1234_5678);
    expect(p.io.read(0xe9, 1)).toBe(0x56);
    p.io.write(0xcf8, 4, 0x8000_1800); // 00:03.0
    expect(p.io.read(0xcfc, 4)).toBe(0x0005_1b36);
    expect(p.pciTestdev).toBeDefined();
    const bare = new PcPlatform({
      ramSize: 64 * 0x10_0000,
      isaDebugExit: false,
      pcTestdev: false,
      pciTestdev: false,
    });
    expect(bare.io.windowAt(0xf4)).toBeUndefined();
    expect(bare.io.windowAt(0xe8)).toBeUndefined();
    expect(bare.space.regionAt(0xff00_0000)).toBeUndefined();
    expect(bare.pciTestdev).toBeUndefined();
  });

  it("reports timer register accesses, wraps ports and IRQ lines, and resets to power-on", () => {
    const seen: string[] = [];
    let timerAccesses = 0;
    const p = new PcPlatform({
      ramSize: 64 * 0x10_0000,
      rtcStartTimeMs: Date.UTC(2021, 4, 6),
      timerAccess: () => timerAccesses++,
      wrapPort: (h, base, name) => ({
        read: (o, n) => h.read(o, n),
        write: (o, n, v) => {
          seen.push(`${name}@${(base + o).toString(16)}`);
          h.write(o, n, v);
        },
      }),
      wrapIrq: (line, name) => ({
        set: (level) => {
          if (level) seen.push(name);
          line.set(level);
        },
      }),
    });
    p.io.write(0x70, 1, 0x09); // RTC year register
    expect(p.io.read(0x71, 1)).toBe(0x21);
    p.space.read32(0xfed0_0000, AccessKind.Read);
    p.space.read32(0xfee0_0030, AccessKind.Read);
    p.io.write(0x43, 1, 0x34); // mode 2: OUT0 goes high
    expect(timerAccesses).toBe(5);
    p.io.write(0x21, 1, 0xff);
    p.io.write(0x2004, 1, 1); // pc-testdev raises IRQ4
    expect(seen).toEqual([
      "rtc@70",
      "pit@43",
      "IRQ0",
      "INTR",
      "pic-master@21",
      "pc-testdev-irq@2004",
      "IRQ4",
    ]);
    expect(p.pic.state()).not.toEqual(new PcPlatform({ ramSize: 64 * 0x10_0000 }).pic.state());
    p.space.write32(p.acpi.rsdp, 0, AccessKind.Write);
    p.reset();
    expect(p.space.read32(p.acpi.rsdp, AccessKind.Read)).toBe(0x20445352); // "RSD "
    expect(p.io.read(0x21, 1)).toBe(0);
  });
});

describe("PcPlatform snapshots", () => {
  it("devicesState()/fromDevicesState() round-trips the whole platform", () => {
    type Op =
      | { k: "out"; port: number; size: 1 | 2 | 4; value: number }
      | { k: "in"; port: number; size: 1 | 2 | 4 }
      | { k: "mmio"; addr: number; value: number | null }
      | { k: "time"; ns: number };
    const programs: Op[] = [
      // PIC init, PIT at ~1 kHz, RTC periodic, COM1 interrupts, APIC on, HPET running.
      ...[
        [0x20, 0x11],
        [0x21, 0x20],
        [0x21, 0x04],
        [0x21, 0x01],
        [0xa0, 0x11],
        [0xa1, 0x28],
        [0xa1, 0x02],
        [0xa1, 0x01],
        [0x43, 0x34],
        [0x40, 0xa9],
        [0x40, 0x04],
      ].map(([port, value]) => ({ k: "out" as const, port: port!, size: 1 as const, value: value! })),
    ];
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constantFrom(...programs),
      fc.record({
        k: fc.constant("out" as const),
        port: fc.constantFrom(
          0x20,
          0x21,
          0x40,
          0x43,
          0x61,
          0x70,
          0x71,
          0x3f8,
          0x3f9,
          0x3fb,
          0xe0,
          0xf4,
          0x510,
          0x92,
          0x64,
        ),
        size: fc.constant(1 as const),
        value: fc.nat(255),
      }),
      fc.record({
        k: fc.constant("out" as const),
        port: fc.constant(0xcf8),
        size: fc.constant(4 as const),
        value: fc.constantFrom(0x8000_0000, 0x8000_0804, 0x8000_0810),
      }),
      fc.record({
        k: fc.constant("out" as const),
        port: fc.constant(0xcfc),
        size: fc.constant(4 as const),
        value: fc.constantFrom(0, 3, 0xffff_ffff, 0xd000_0000),
      }),
      fc.record({
        k: fc.constant("in" as const),
        port: fc.constantFrom(0x20, 0x21, 0x40, 0x61, 0x71, 0x3fd, 0x3fa, 0x511, 0x608, 0xcfc, 0xe0),
        size: fc.constantFrom(1 as const, 4 as const),
      }),
      fc.record({
        k: fc.constant("mmio" as const),
        addr: fc.constantFrom(
          0xfee0_00f0,
          0xfee0_0080,
          0xfee0_0320,
          0xfee0_0380,
          0xfee0_03e0,
          0xfee0_00b0,
          0xfed0_0010,
          0xfed0_0100,
          0xfed0_0108,
          0xfed0_00f0,
          0xfec0_0000,
          0xfec0_0010,
        ),
        value: fc.oneof(
          fc.constant(null),
          fc.constantFrom(0x1ff, 0x30, 0x2_0040, 1, 3, 0x4 | (20 << 9), 500, 0x10 + 4, 0x8031),
        ),
      }),
      fc.record({ k: fc.constant("time" as const), ns: fc.nat(3_000_000) }),
    );
    checkRoundTrip<Record<string, unknown>, Op>(
      (startNs) => {
        const clock = new ManualClock(startNs);
        const log: unknown[] = [];
        const p = new PcPlatform({
          clock,
          ramSize: 16 * 0x10_0000,
          serial: (b) => log.push(["serial", b]),
          exit: (s) => log.push(["exit", s]),
          reset: (k) => log.push(["reset", k]),
          a20: (on) => log.push(["a20", on]),
        });
        return {
          log,
          nowNs: () => clock.nowNs(),
          apply(o) {
            if (o.k === "out") p.io.write(o.port, o.size, o.value);
            else if (o.k === "in") log.push(p.io.read(o.port, o.size));
            else if (o.k === "mmio") {
              if (o.value === null) log.push(p.space.read32(o.addr, AccessKind.Read));
              else p.space.write32(o.addr, o.value, AccessKind.Write);
            } else {
              const end = clock.nowNs() + o.ns;
              for (let guard = 0; guard < 50; guard++) {
                const next = p.nextDeadlineNs();
                if (next > end) break;
                clock.set(Math.max(next, clock.nowNs()));
                p.pollTimers();
                if (p.interrupts.hasInterrupt()) log.push(["int", p.interrupts.acknowledge()]);
              }
              clock.set(end);
            }
          },
          state: () => p.devicesState(),
          fromState: (s) => p.fromDevicesState(s),
        };
      },
      op,
      Number(process.env.ROUNDTRIP_RUNS ?? 60),
    );
  }, 120_000);
});

describe("PcPlatform PCI interrupts", () => {
  it("routes INTx as PIIX/SeaBIOS do: Interrupt Line, ELCR, MADT overrides, both controllers", () => {
    const clock = new ManualClock();
    const nic = new PciFunction(
      { vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000, interruptPin: 1 },
      [{ kind: "mem32", size: 0x1000, handler: { read: () => 0, write: () => {} } }],
    );
    const p = new PcPlatform({
      clock,
      ramSize: 16 * 0x10_0000,
      pciDevices: [{ address: { bus: 0, device: 3, fn: 0 }, fn: nic }],
    });
    expect(pciIntxIrq({ bus: 0, device: 3, fn: 0 }, 1)).toBe(11);
    expect(nic.readConfig(0x3c, 1)).toBe(11);
    expect(p.io.read(0x4d1, 1)).toBe(0x0c); // ELCR: IRQ10 and IRQ11 level
    const madt = p.acpi.tables.APIC!;
    const overrides: number[] = [];
    const length = p.space.read32(madt + 4, AccessKind.Read);
    for (let o = 44; o < length; o += p.space.read8(madt + o + 1, AccessKind.Read)) {
      if (p.space.read8(madt + o, AccessKind.Read) === 2)
        overrides.push(p.space.read8(madt + o + 3, AccessKind.Read));
    }
    expect(overrides).toEqual([0, 9, 10, 11]);
    // PIC mode: the 8259A sees IRQ11 (slave IRQ3) while INTx is asserted.
    for (const [port, v] of [
      [0x20, 0x11],
      [0x21, 0x20],
      [0x21, 0x04],
      [0x21, 0x01],
      [0xa0, 0x11],
      [0xa1, 0x28],
      [0xa1, 0x02],
      [0xa1, 0x01],
    ] as const)
      p.io.write(port, 1, v);
    nic.setIntx(true);
    expect(p.interrupts.acknowledge()).toBe(0x2b);
    p.io.write(0xa0, 1, 0x20);
    p.io.write(0x20, 1, 0x20);
    const slaveIrr = () => {
      p.io.write(0xa0, 1, 0x0a); // OCW3: read IRR
      return p.io.read(0xa0, 1);
    };
    expect(slaveIrr()).toBe(0x08); // level: still requested while asserted
    nic.setIntx(false);
    expect(slaveIrr()).toBe(0); // and no longer once deasserted
    // APIC mode: I/O APIC pin 11, level.
    p.io.write(0x21, 1, 0xff);
    p.io.write(0xa1, 1, 0xff);
    p.space.write32(0xfee0_00f0, 0x1ff, AccessKind.Write);
    p.space.write32(0xfee0_0350, 0x1_0700, AccessKind.Write);
    p.space.write32(0xfec0_0000, 0x10 + 22, AccessKind.Write);
    p.space.write32(0xfec0_0010, 0x8000 | 0x61, AccessKind.Write);
    nic.setIntx(true);
    expect(p.interrupts.acknowledge()).toBe(0x61);
    nic.setIntx(false);
    p.space.write32(0xfee0_00b0, 0, AccessKind.Write);
    expect(p.interrupts.hasInterrupt()).toBe(false);
  });
});
