/**
 * Wide integer helpers on 32-bit words (no BigInt, no allocation): products and quotients are
 * left in the module's scratch words `W` for the caller to pick up at once.
 */

/** Scratch words written by the helpers below. */
export const W = new Uint32Array(4);

const TWO32 = 4294967296;

/** Unsigned 32 × 32 → 64: W[0] = low word, W[1] = high word. */
export function mulU32(a: number, b: number): void {
  a >>>= 0;
  b >>>= 0;
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const mid = aL * bH + aH * bL; // < 2^33
  const low = aL * bL + (mid % 65536) * 65536; // < 2^33
  W[0] = low;
  W[1] = aH * bH + Math.floor(mid / 65536) + (low >= TWO32 ? 1 : 0);
}

/** Unsigned 64 × 64 → 128: W[0..3] = the product's words, least significant first. */
export function mulU64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulU32(aLo, bLo);
  const p0l = W[0]!;
  const p0h = W[1]!;
  mulU32(aLo, bHi);
  const p1l = W[0]!;
  const p1h = W[1]!;
  mulU32(aHi, bLo);
  const p2l = W[0]!;
  const p2h = W[1]!;
  mulU32(aHi, bHi);
  const p3l = W[0]!;
  const p3h = W[1]!;
  const t1 = p0h + p1l + p2l;
  const c1 = Math.floor(t1 / TWO32);
  const t2 = p1h + p2h + p3l + c1;
  const c2 = Math.floor(t2 / TWO32);
  W[0] = p0l;
  W[1] = t1;
  W[2] = t2;
  W[3] = p3h + c2;
}

/**
 * Unsigned division of the 128-bit n3:n2:n1:n0 by the 64-bit dHi:dLo, which the caller has
 * checked to be non-zero and greater than n3:n2 (so the quotient fits 64 bits).
 * W[0..1] = quotient (lo, hi), W[2..3] = remainder (lo, hi).
 */
export function divU128(n3: number, n2: number, n1: number, n0: number, dHi: number, dLo: number): void {
  dHi >>>= 0;
  dLo >>>= 0;
  if (dHi === 0) {
    // Long division by 16-bit digits: the remainder stays below d < 2^32, so every partial
    // dividend is below 2^48 and exact in a double.
    let r = n2 >>> 0;
    let t = r * 65536 + (n1 >>> 16);
    const q3 = Math.floor(t / dLo);
    r = t - q3 * dLo;
    t = r * 65536 + (n1 & 0xffff);
    const q2 = Math.floor(t / dLo);
    r = t - q2 * dLo;
    t = r * 65536 + (n0 >>> 16);
    const q1 = Math.floor(t / dLo);
    r = t - q1 * dLo;
    t = r * 65536 + (n0 & 0xffff);
    const q0 = Math.floor(t / dLo);
    r = t - q0 * dLo;
    W[0] = q1 * 65536 + q0;
    W[1] = q3 * 65536 + q2;
    W[2] = r;
    W[3] = 0;
    return;
  }
  // Restoring division, one quotient bit per step; the remainder stays below d, plus a carry bit.
  let rHi = n3 >>> 0;
  let rLo = n2 >>> 0;
  let qHi = 0;
  let qLo = 0;
  for (let i = 63; i >= 0; i--) {
    const bit = i >= 32 ? (n1 >>> (i - 32)) & 1 : (n0 >>> i) & 1;
    const carry = rHi >>> 31;
    rHi = ((rHi << 1) | (rLo >>> 31)) >>> 0;
    rLo = ((rLo << 1) | bit) >>> 0;
    if (carry || rHi > dHi || (rHi === dHi && rLo >= dLo)) {
      const lo = rLo - dLo;
      rHi = (rHi - dHi - (lo < 0 ? 1 : 0)) >>> 0;
      rLo = lo >>> 0;
      if (i >= 32) qHi |= 1 << (i - 32);
      else qLo |= 1 << i;
    }
  }
  W[0] = qLo;
  W[1] = qHi;
  W[2] = rLo;
  W[3] = rHi;
}

/** True when the unsigned 64-bit aHi:aLo is below bHi:bLo. */
export function ltU64(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  aHi >>>= 0;
  bHi >>>= 0;
  return aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}
