import { type Cpu, Seg } from "@turtles/cpu";

const TWO_32 = 0x1_0000_0000;
const GPR_NAMES = ["RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI"] as const;
const SEG_NAMES = ["ES", "CS", "SS", "DS", "FS", "GS"] as const;

function hex(v: number, digits: number): string {
  return v.toString(16).padStart(digits, "0");
}

function hex64(lo: number, hi: number): string {
  return hi === 0 ? hex(lo >>> 0, 8) : `${hex(hi >>> 0, 8)}_${hex(lo >>> 0, 8)}`;
}

/** The linear address of CS:RIP. */
export function linearRip(cpu: Cpu): number {
  const s = cpu.state;
  const long = (s.efer[0]! & 0x400) !== 0 && (s.segAccess[Seg.CS]! & 0x2000) !== 0;
  if (long) return s.rip;
  return (s.segBase[2 * Seg.CS]! + s.rip) % TWO_32;
}

/**
 * Up to `count` bytes of RAM at the processor's CS:RIP, or undefined when that address does not
 * translate or is not RAM. With paging on, the processor's own translation is used.
 */
export function codeBytesAtRip(cpu: Cpu, count = 16): Uint8Array | undefined {
  const lin = linearRip(cpu);
  let pa = lin;
  if ((cpu.state.cr[0]! & 0x8000_0001) >>> 0 === 0x8000_0001) {
    try {
      pa = cpu.xlateFetch(lin);
    } catch {
      return undefined;
    }
  }
  const inPage = Math.min(count, 4096 - (pa % 4096));
  const view = cpu.memory.ramView(pa, inPage, true);
  return view === undefined ? undefined : view.slice();
}

/**
 * A few lines describing the processor for a report: the general registers, RIP and RFLAGS, the
 * segment selectors and bases, the control registers and EFER, and the bytes at CS:RIP.
 */
export function describeCpu(cpu: Cpu): string {
  const s = cpu.state;
  const lines: string[] = [];
  const long = (s.efer[0]! & 0x400) !== 0;
  const regs: string[] = [];
  for (let r = 0; r < (long ? 16 : 8); r++) {
    const name = r < 8 ? GPR_NAMES[r]! : `R${r}`;
    regs.push(`${name}=${hex64(s.lo(r), s.hi(r))}`);
  }
  for (let i = 0; i < regs.length; i += 4) lines.push(regs.slice(i, i + 4).join(" "));
  lines.push(
    `RIP=${hex64(s.rip % TWO_32, Math.floor(s.rip / TWO_32))} RFLAGS=${hex(s.flags.read(), 8)} CPL=${cpu.cpl} ${describeMode(cpu)}`,
  );
  lines.push(
    SEG_NAMES.map(
      (n, i) => `${n}=${hex(s.segSelector[i]!, 4)}(${hex64(s.segBase[2 * i]!, s.segBase[2 * i + 1]!)})`,
    ).join(" "),
  );
  lines.push(
    `CR0=${hex(s.cr[0]!, 8)} CR2=${hex64(s.cr[4]!, s.cr[5]!)} CR3=${hex64(s.cr[6]!, s.cr[7]!)} CR4=${hex(s.cr[8]!, 8)} EFER=${hex(s.efer[0]!, 8)}`,
  );
  lines.push(
    `GDTR=${hex64(s.gdtr.baseLo, s.gdtr.baseHi)}/${hex(s.gdtr.limit, 4)} IDTR=${hex64(s.idtr.baseLo, s.idtr.baseHi)}/${hex(s.idtr.limit, 4)}`,
  );
  const bytes = codeBytesAtRip(cpu);
  lines.push(
    `code at linear ${hex(linearRip(cpu), 8)}: ${bytes === undefined ? "(not in RAM or not mapped)" : [...bytes].map((b) => hex(b, 2)).join(" ")}`,
  );
  return lines.join("\n");
}

/** The operating mode in words ("real mode", "protected mode, 32-bit code, paging", ...). */
export function describeMode(cpu: Cpu): string {
  const s = cpu.state;
  const pe = (s.cr[0]! & 1) !== 0;
  const pg = (s.cr[0]! & 0x8000_0000) !== 0;
  if (!pe) return "real mode";
  const lma = (s.efer[0]! & 0x400) !== 0;
  const ar = s.segAccess[Seg.CS]!;
  const bits = lma && (ar & 0x2000) !== 0 ? 64 : (ar & 0x4000) !== 0 ? 32 : 16;
  const mode = lma ? (bits === 64 ? "64-bit mode" : "compatibility mode") : "protected mode";
  return `${mode}, ${bits}-bit code${pg ? ", paging" : ""}`;
}
