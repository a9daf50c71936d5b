// The bench workloads as data: what each image does, how much work one iteration is, and the
// model that gives its checksum. The numbers here are checked against the .asm sources by
// bench/workloads.test.ts.
import * as models from "./models.js";

/** One bench workload image. */
export interface Workload {
  /** Name, also of `<name>.asm` and `images/<name>.img`. */
  readonly name: string;
  /** What it measures. */
  readonly measures: string;
  /** Mode the timed loop runs in. */
  readonly mode: 32 | 64;
  /** Iterations the harness runs by default (DEFAULT_ITERATIONS in the source). */
  readonly defaultIterations: number;
  /** Guest instructions per iteration of the timed loop (INSNS_PER_ITERATION in the source). */
  readonly insnsPerIteration: number;
  /** The operation that "ns per operation" is about, and how many happen per iteration. */
  readonly op: { readonly name: string; readonly perIteration: number } | undefined;
  /** The checksum the image prints after `iterations` iterations. */
  readonly checksum: (iterations: number) => bigint;
}

/** Every workload, in the order the harness runs them. */
export const workloads: readonly Workload[] = [
  {
    name: "intloop64",
    measures: "integer ALU, branches, loads and stores; 64-bit long mode with paging",
    mode: 64,
    defaultIterations: 20_000_000,
    insnsPerIteration: 13,
    op: undefined,
    checksum: models.intloop64,
  },
  {
    name: "intloop32",
    measures: "the same loop in 32-bit protected mode",
    mode: 32,
    defaultIterations: 20_000_000,
    insnsPerIteration: 15,
    op: undefined,
    checksum: models.intloop32,
  },
  {
    name: "memwalk",
    measures: "translation and TLB refill: every 4 KiB page of 64 MiB, CR3 reloaded per round",
    mode: 64,
    defaultIterations: 200,
    insnsPerIteration: 16384 * 4 + 5,
    op: { name: "page touch", perIteration: 16384 },
    checksum: models.memwalk,
  },
  {
    name: "pio",
    measures: "port I/O dispatch (16550 scratch register)",
    mode: 64,
    defaultIterations: 10_000_000,
    insnsPerIteration: 7,
    op: { name: "port access", perIteration: 2 },
    checksum: models.lowByteSum,
  },
  {
    name: "mmio",
    measures: "MMIO dispatch (I/O APIC register select)",
    mode: 64,
    defaultIterations: 10_000_000,
    insnsPerIteration: 7,
    op: { name: "MMIO access", perIteration: 2 },
    checksum: models.lowByteSum,
  },
  {
    name: "syscall",
    measures: "privilege changes: SYSCALL/SYSRET and INT/IRETQ round trips from ring 3",
    mode: 64,
    defaultIterations: 1_000_000,
    insnsPerIteration: 12,
    op: { name: "round trip", perIteration: 2 },
    checksum: models.syscall,
  },
  {
    name: "smc",
    measures: "self-modifying code: a store into the next instruction every iteration",
    mode: 64,
    defaultIterations: 200_000,
    insnsPerIteration: 5,
    op: { name: "code write", perIteration: 1 },
    checksum: models.smc,
  },
];

/** Image offset of the parameter block's iteration count (boot sector + payload header). */
export const ITERATIONS_OFFSET = 512 + 16;

/** Size of the disk image handed to BIOS-based emulators: 2 cylinders x 16 heads x 63 sectors. */
export const DISK_SIZE = 2 * 16 * 63 * 512;

/** Parses the line an image prints: `turtles-bench <name> iterations=<hex> checksum=<hex>`. */
export function parseReport(
  text: string,
): { name: string; iterations: number; checksum: bigint } | undefined {
  const m = /turtles-bench (\S+) iterations=([0-9a-f]{8}) checksum=([0-9a-f]{16})/.exec(text);
  if (!m) return undefined;
  return { name: m[1]!, iterations: Number.parseInt(m[2]!, 16), checksum: BigInt(`0x${m[3]}`) };
}
