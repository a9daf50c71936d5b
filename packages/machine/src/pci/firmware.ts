import { type PciAddress, type PciBus, pciKey } from "./pci-bus.js";
import { PciCommand, PciConfig, type PciFunction } from "./pci-function.js";

/** Windows and policies for {@link assignPciResources}. */
export interface PciResourceOptions {
  /** Memory window for BARs, `[start, end)` below 4 GiB (default 0xC0000000-0xFEC00000). */
  readonly memory?: { readonly start: number; readonly end: number };
  /** I/O window for BARs, `[start, end)` (default 0xC000-0x10000, as SeaBIOS). */
  readonly io?: { readonly start: number; readonly end: number };
  /** The Interrupt Line value (legacy IRQ) of a function's INTx pin (1-4); default: leave it 0xFF. */
  readonly interruptLine?: (address: PciAddress, pin: number) => number;
  /** Also set Bus Master (default true, as firmware does for devices it enables). */
  readonly busMaster?: boolean;
}

/** Where one BAR went. */
export interface PciBarAssignment {
  /** The function's address. */
  readonly address: PciAddress;
  /** BAR index. */
  readonly bar: number;
  /** Assigned base. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
}

/**
 * Does what PC firmware (SeaBIOS) does before an OS boots: sizes every BAR of every function on
 * the bus through its configuration registers (write all-ones, read back), gives each one a
 * naturally aligned address — memory BARs (32- and 64-bit) from the memory window, largest
 * first, I/O BARs from the I/O window — writes the addresses, sets the Interrupt Line register,
 * and enables decoding (and bus mastering). Functions whose class is a host bridge are left
 * alone. Returns the assignments; the bus's BAR listener hears the mappings as the guest would
 * cause them.
 * @throws RangeError when the windows are too small (a configuration error of the machine).
 */
export function assignPciResources(bus: PciBus, options: PciResourceOptions = {}): PciBarAssignment[] {
  const mem = options.memory ?? { start: 0xc000_0000, end: 0xfec0_0000 };
  const io = options.io ?? { start: 0xc000, end: 0x1_0000 };
  type Want = {
    address: PciAddress;
    fn: PciFunction;
    bar: number;
    size: number;
    isIo: boolean;
    is64: boolean;
  };
  const wants: Want[] = [];
  const functions = bus.list().filter(({ fn }) => fn.readConfig(PciConfig.classCode + 1, 2) !== 0x0600);
  for (const { address, fn } of functions) {
    fn.writeConfig(
      PciConfig.command,
      2,
      fn.readConfig(PciConfig.command, 2) & ~(PciCommand.Io | PciCommand.Memory),
    );
    for (let bar = 0; bar < 6; bar++) {
      const at = PciConfig.bar0 + 4 * bar;
      fn.writeConfig(at, 4, 0xffff_ffff);
      const lo = fn.readConfig(at, 4);
      if (lo === 0) continue;
      const isIo = (lo & 1) === 1;
      const is64 = !isIo && (lo & 0x6) === 0x4;
      let size: number;
      if (is64) {
        fn.writeConfig(at + 4, 4, 0xffff_ffff);
        const hi = fn.readConfig(at + 4, 4);
        const loBits = (lo & ~0xf) >>> 0;
        size = loBits !== 0 ? 2 ** 32 - loBits : (2 ** 32 - hi) * 2 ** 32;
      } else {
        size = 2 ** 32 - ((lo & (isIo ? ~0x3 : ~0xf)) >>> 0);
        if (isIo) size &= 0xffff;
      }
      wants.push({ address, fn, bar, size, isIo, is64 });
      if (is64) bar++;
    }
  }
  const out: PciBarAssignment[] = [];
  const place = (list: Want[], window: { start: number; end: number }, kind: string) => {
    let next = window.start;
    for (const w of list.sort((a, b) => b.size - a.size)) {
      const base = Math.ceil(next / w.size) * w.size;
      if (base + w.size > window.end) {
        throw new RangeError(
          `assignPciResources: no room for a ${w.size}-byte ${kind} BAR in 0x${window.start.toString(16)}-0x${window.end.toString(16)}`,
        );
      }
      const at = PciConfig.bar0 + 4 * w.bar;
      w.fn.writeConfig(at, 4, base % 2 ** 32);
      if (w.is64) w.fn.writeConfig(at + 4, 4, Math.floor(base / 2 ** 32));
      out.push({ address: w.address, bar: w.bar, base, size: w.size });
      next = base + w.size;
    }
  };
  place(
    wants.filter((w) => !w.isIo),
    mem,
    "memory",
  );
  place(
    wants.filter((w) => w.isIo),
    io,
    "I/O",
  );
  for (const { address, fn } of functions) {
    const pin = fn.readConfig(PciConfig.interruptPin, 1);
    if (pin >= 1 && pin <= 4 && options.interruptLine !== undefined) {
      fn.writeConfig(PciConfig.interruptLine, 1, options.interruptLine(address, pin));
    }
    const mine = wants.filter((w) => w.fn === fn);
    const hasIo = mine.some((w) => w.isIo);
    const hasMem = mine.some((w) => !w.isIo);
    const enable =
      (hasIo ? PciCommand.Io : 0) |
      (hasMem ? PciCommand.Memory : 0) |
      ((options.busMaster ?? true) ? PciCommand.BusMaster : 0);
    fn.writeConfig(PciConfig.command, 2, fn.readConfig(PciConfig.command, 2) | enable);
  }
  return out.sort((a, b) => pciKey(a.address) - pciKey(b.address) || a.bar - b.bar);
}
