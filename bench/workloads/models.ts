// Reference models of the workloads: the checksum each image must print for a given iteration
// count, computed here independently of any emulator. Bench code, not a hot path: BigInt is fine.

const M64 = (1n << 64n) - 1n;
const M32 = 0xffff_ffffn;

const rol64 = (x: bigint, n: bigint): bigint => ((x << n) | (x >> (64n - n))) & M64;
const rol32 = (x: bigint, n: bigint): bigint => ((x << n) | (x >> (32n - n))) & M32;

/** intloop64.asm, instruction for instruction. */
export function intloop64(iterations: number): bigint {
  const array = new BigUint64Array(512);
  let rax = 0n;
  const rdx = 0x9e3779b97f4a7c15n;
  let r8 = 0;
  for (let rcx = iterations; rcx !== 0; rcx--) {
    const r9 = (array[r8]! + rdx) & M64;
    rax = rol64(rax ^ r9, 13n);
    array[r8] = r9;
    r8 = (r8 + 1) & 511;
    rax = (r9 & 1n ? rax + BigInt(rcx) : rax - BigInt(rcx)) & M64;
  }
  return rax;
}

/** intloop32.asm: EDX:EAX. `xor eax, ebx` clears CF, so the `adc` adds no carry. */
export function intloop32(iterations: number): bigint {
  const array = new Uint32Array(1024);
  let eax = 0n;
  let edx = 0n;
  let ebp = 0;
  for (let ecx = iterations; ecx !== 0; ecx--) {
    const ebx = (BigInt(array[ebp]!) + 0x9e3779b9n) & M32;
    eax ^= ebx;
    edx = (edx + eax) & M32;
    eax = rol32(eax, 13n);
    array[ebp] = Number(ebx);
    ebp = (ebp + 1) & 1023;
    edx ^= BigInt(ecx);
    eax = (ebx & 1n ? eax + BigInt(ecx) : eax - BigInt(ecx)) & M32;
  }
  return (edx << 32n) | eax;
}

/** memwalk.asm: page i holds i; every round adds all 16384 of them. */
export function memwalk(rounds: number): bigint {
  return (BigInt(rounds) * ((16384n * 16383n) / 2n)) & M64;
}

/** pio.asm and mmio.asm: the register reads back the low byte of the counter. */
export function lowByteSum(iterations: number): bigint {
  let sum = 0n;
  const n = BigInt(iterations);
  const full = n / 256n; // complete cycles of 0..255 among 1..n
  sum += full * ((255n * 256n) / 2n);
  for (let i = full * 256n + 1n; i <= n; i++) sum += i & 0xffn;
  return sum & M64;
}

/** smc.asm: the sum of the counter values. */
export function smc(iterations: number): bigint {
  const n = BigInt(iterations);
  return ((n * (n + 1n)) / 2n) & M64;
}

/** syscall.asm: each iteration adds 1 + counter (SYSCALL) and 3 (INT 0x80). */
export function syscall(iterations: number): bigint {
  const n = BigInt(iterations);
  return (4n * n + (n * (n + 1n)) / 2n) & M64;
}
