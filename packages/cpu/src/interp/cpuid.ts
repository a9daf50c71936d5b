/**
 * CPUID (SDM vol. 2A, CPUID): identity, caches and topology from the {@link CpuModel}, and
 * feature bits for exactly what the interpreter implements — no x87, SSE or AVX; no XSAVE; no
 * VMX (VMX non-root execution is not wired into the interpreter yet); no APIC in the processor.
 */
import type { Cpu } from "./cpu.js";
import type { CpuModel } from "./cpu-model.js";
import { CR4_PKE } from "./cr4.js";
import { nxSupported } from "./msr-access.js";

const result = new Uint32Array(4);

/** The highest basic leaf (0x1F: V2 extended topology) and the highest extended leaf. */
export const MAX_BASIC_LEAF = 0x1f;
/** The highest extended leaf. */
export const MAX_EXTENDED_LEAF = 0x80000008;

/** One advertised feature bit: where it is, and what it stands for. */
export interface FeatureBit {
  /** CPUID leaf (subleaf 0). */
  readonly leaf: number;
  /** Output register: 0 EAX, 1 EBX, 2 ECX, 3 EDX. */
  readonly reg: 0 | 1 | 2 | 3;
  /** Bit number. */
  readonly bit: number;
  /** The SDM's name of the feature. */
  readonly name: string;
}

const f = (leaf: number, reg: 0 | 1 | 2 | 3, bit: number, name: string): FeatureBit => ({
  leaf,
  reg,
  bit,
  name,
});

/**
 * The feature bits the interpreter advertises on every model (audited against what it
 * implements; see the package README). Not advertised: FPU, APIC, MMX, FXSR, SSE*, VMX,
 * x2APIC, TSC-deadline, AVX, HTT, and XSAVE (XSAVE/XRSTOR are absent; XGETBV/XSETBV work on
 * XCR0 = x87 once CR4.OSXSAVE is set). PCID/INVPCID, PKU, LA57 and NX follow the model.
 */
export const FEATURES: readonly FeatureBit[] = [
  f(1, 3, 1, "VME"),
  f(1, 3, 2, "DE"),
  f(1, 3, 3, "PSE"),
  f(1, 3, 4, "TSC"),
  f(1, 3, 5, "MSR"),
  f(1, 3, 6, "PAE"),
  f(1, 3, 7, "MCE"),
  f(1, 3, 8, "CX8"),
  f(1, 3, 11, "SEP"),
  f(1, 3, 12, "MTRR"),
  f(1, 3, 13, "PGE"),
  f(1, 3, 14, "MCA"),
  f(1, 3, 15, "CMOV"),
  f(1, 3, 16, "PAT"),
  f(1, 3, 17, "PSE-36"),
  f(1, 3, 19, "CLFSH"),
  f(1, 2, 3, "MONITOR"),
  f(1, 2, 13, "CMPXCHG16B"),
  f(1, 2, 22, "MOVBE"),
  f(1, 2, 23, "POPCNT"),
  f(1, 2, 30, "RDRAND"),
  f(7, 1, 0, "FSGSBASE"),
  f(7, 1, 1, "IA32_TSC_ADJUST"),
  f(7, 1, 3, "BMI1"),
  f(7, 1, 7, "SMEP"),
  f(7, 1, 8, "BMI2"),
  f(7, 1, 9, "ERMS"),
  f(7, 1, 18, "RDSEED"),
  f(7, 1, 19, "ADX"),
  f(7, 1, 20, "SMAP"),
  f(7, 1, 23, "CLFLUSHOPT"),
  f(7, 1, 24, "CLWB"),
  f(7, 2, 2, "UMIP"),
  f(7, 2, 22, "RDPID"),
  f(7, 3, 14, "SERIALIZE"),
  f(0x80000001, 2, 0, "LAHF-SAHF"),
  f(0x80000001, 2, 5, "LZCNT"),
  f(0x80000001, 2, 8, "PREFETCHW"),
  f(0x80000001, 3, 11, "SYSCALL"),
  f(0x80000001, 3, 29, "LM"),
  f(0x80000001, 3, 27, "RDTSCP"),
  f(0x80000008, 1, 9, "WBNOINVD"),
];

/** Feature bits that depend on the model: 1-GByte pages, NX, the speculation controls, invariant TSC. */
export const MODEL_FEATURES: readonly (FeatureBit & { readonly when: (m: CpuModel) => boolean })[] = [
  { ...f(1, 2, 17, "PCID"), when: (m) => m.pcid !== false },
  { ...f(7, 1, 10, "INVPCID"), when: (m) => m.pcid !== false },
  { ...f(7, 2, 3, "PKU"), when: (m) => m.pku !== false },
  { ...f(7, 2, 16, "LA57"), when: (m) => m.la57 === true },
  { ...f(0x80000001, 3, 26, "Page1GB"), when: (m) => m.pages1G },
  { ...f(0x80000001, 3, 20, "NX"), when: (m) => m.nx },
  { ...f(7, 3, 26, "IBRS-IBPB"), when: (m) => m.speculationControl },
  { ...f(7, 3, 27, "STIBP"), when: (m) => m.speculationControl },
  { ...f(7, 3, 29, "IA32_ARCH_CAPABILITIES"), when: (m) => m.speculationControl },
  { ...f(7, 3, 31, "SSBD"), when: (m) => m.speculationControl },
  { ...f(0x80000007, 3, 8, "Invariant TSC"), when: (m) => m.invariantTsc },
];

function str4(text: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (text.charCodeAt(at + k) & 0xff) << (8 * k);
  return v >>> 0;
}

/** ceil(log2(n)) for n >= 1: the APIC-ID bits a topology level takes. */
function idBits(n: number): number {
  let b = 0;
  while (1 << b < n) b++;
  return b;
}

/** The L2 associativity code of CPUID.80000006H:ECX[15:12]. */
const L2_WAYS: Record<number, number> = {
  1: 1,
  2: 2,
  4: 4,
  8: 6,
  16: 8,
  32: 0xa,
  48: 0xb,
  64: 0xc,
  96: 0xd,
  128: 0xe,
};

function setFeatures(r: Uint32Array, leaf: number, m: CpuModel): void {
  for (const x of FEATURES) if (x.leaf === leaf) r[x.reg] = (r[x.reg]! | (1 << x.bit)) >>> 0;
  for (const x of MODEL_FEATURES)
    if (x.leaf === leaf && x.when(m)) r[x.reg] = (r[x.reg]! | (1 << x.bit)) >>> 0;
}

/** Leaf 4 (deterministic cache parameters), subleaf `n`: type 0 past the last cache. */
function cacheLeaf(r: Uint32Array, m: CpuModel, n: number): void {
  const cache = m.caches[n];
  if (cache === undefined) return;
  const sets = Math.max(1, Math.floor(cache.size / (cache.ways * cache.lineSize)));
  r[0] =
    (cache.type |
      (cache.level << 5) |
      (1 << 8) | // self-initializing
      ((Math.max(1, cache.sharedBy) - 1) << 14) |
      ((Math.max(1, m.coresPerPackage) - 1) << 26)) >>>
    0;
  r[1] = ((cache.lineSize - 1) | ((cache.ways - 1) << 22)) >>> 0;
  r[2] = sets - 1;
  r[3] = cache.inclusive ? 2 : 0;
}

/** Leaves 0xB and 0x1F (extended topology): SMT, then core, then an invalid level. */
function topologyLeaf(r: Uint32Array, m: CpuModel, sub: number): void {
  const threads = Math.max(1, m.threadsPerCore);
  const logical = threads * Math.max(1, m.coresPerPackage);
  if (sub === 0) {
    r[0] = idBits(threads);
    r[1] = threads;
    r[2] = 0 | (1 << 8);
  } else if (sub === 1) {
    r[0] = idBits(logical);
    r[1] = logical;
    r[2] = 1 | (2 << 8);
  } else {
    r[2] = sub & 0xff;
  }
  r[3] = m.apicId >>> 0;
}

/** The L1 cache of `type` (1 data, 2 instruction) in the AMD-style format of leaf 0x80000005. */
function l1Info(m: CpuModel, type: number): number {
  const c = m.caches.find((x) => x.level === 1 && (x.type === type || x.type === 3));
  if (c === undefined) return 0;
  return (((c.size >>> 10) << 24) | ((c.ways & 0xff) << 16) | (1 << 8) | (c.lineSize & 0xff)) >>> 0;
}

/** Runs CPUID for `leaf`/`subleaf`: returns EAX, EBX, ECX, EDX in a reused array. */
export function cpuid(c: Cpu, leaf: number, subleaf: number): Uint32Array {
  const m = c.model;
  const r = result;
  r.fill(0);
  leaf >>>= 0;
  subleaf >>>= 0;
  // IA32_MISC_ENABLE.LIMIT_CPUID (bit 22) caps the basic leaves at 2.
  const maxBasic = (c.msrs.miscEnable[0]! & 0x400000) !== 0 ? 2 : MAX_BASIC_LEAF;
  // Beyond the highest leaf, Intel processors return the highest basic leaf's data.
  if ((leaf > maxBasic && leaf < 0x80000000) || leaf > MAX_EXTENDED_LEAF) leaf = maxBasic;
  switch (leaf) {
    case 0: {
      const vendor = m.vendor.padEnd(12, " ");
      r[0] = maxBasic;
      r[1] = str4(vendor, 0);
      r[3] = str4(vendor, 4);
      r[2] = str4(vendor, 8);
      break;
    }
    case 1:
      r[0] = m.signature;
      // CLFLUSH line size 8 x 8 bytes; logical processors per package; initial APIC ID.
      r[1] =
        ((8 << 8) |
          ((Math.max(1, m.threadsPerCore * m.coresPerPackage) & 0xff) << 16) |
          ((m.apicId & 0xff) << 24)) >>>
        0;
      setFeatures(r, 1, m);
      if ((c.s.cr[8]! & 0x40000) !== 0) r[2] = (r[2]! | (1 << 27)) >>> 0; // OSXSAVE mirrors CR4.OSXSAVE
      break;
    case 2:
      r[0] = 0x0000ff01; // one iteration; descriptor FFH: "use leaf 4"
      break;
    case 4:
      cacheLeaf(r, m, subleaf);
      break;
    case 5:
      // MONITOR/MWAIT: 64-byte monitor lines; no MWAIT extensions enumerated (ECX = 0).
      r[0] = 64;
      r[1] = 64;
      break;
    case 7:
      if (subleaf === 0) {
        setFeatures(r, 7, m);
        if ((c.s.cr[8]! & CR4_PKE) !== 0) r[2] = (r[2]! | (1 << 4)) >>> 0; // OSPKE mirrors CR4.PKE
      }
      break;
    case 0xb:
    case 0x1f:
      topologyLeaf(r, m, subleaf);
      break;
    case 0xd:
      // XSAVE state components: x87 only (XCR0 bit 0, the one XCR0 bit that exists here); the
      // area is the 512-byte legacy region plus the 64-byte header (SDM vol. 1, 13.4).
      if (subleaf === 0) {
        r[0] = 1;
        r[1] = 576;
        r[2] = 576;
      }
      break;
    case 0x80000000:
      r[0] = MAX_EXTENDED_LEAF;
      break;
    case 0x80000001:
      setFeatures(r, 0x80000001, m);
      if (!nxSupported(c)) r[3] = r[3]! & ~(1 << 20);
      break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const brand = m.brand.padEnd(48, "\0");
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) r[k] = str4(brand, base + 4 * k);
      break;
    }
    case 0x80000005:
      r[2] = l1Info(m, 1);
      r[3] = l1Info(m, 2);
      break;
    case 0x80000006: {
      const l2 = m.caches.find((x) => x.level === 2);
      if (l2 !== undefined)
        r[2] = (((l2.size >>> 10) << 16) | ((L2_WAYS[l2.ways] ?? 0xf) << 12) | (l2.lineSize & 0xff)) >>> 0;
      break;
    }
    case 0x80000007:
      setFeatures(r, 0x80000007, m);
      break;
    case 0x80000008:
      r[0] = m.maxPhysAddr | ((m.la57 === true ? 57 : m.linearAddressBits) << 8);
      setFeatures(r, 0x80000008, m);
      break;
    default:
      break;
  }
  return r;
}
