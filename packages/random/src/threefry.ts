/**
 * The Threefry-2x32 block cipher with 20 rounds (Salmon et al., "Parallel random numbers: as easy
 * as 1, 2, 3", 2011), the hash under jax.random's default PRNG, and jax's way of applying it to a
 * flat array of counters.
 */

const PARITY = 0x1bd11bda;

const pair = new Uint32Array(2);
// State words of the block being hashed (int32 arithmetic, `| 0`, is uint32 arithmetic mod 2^32).
let a = 0;
let b = 0;

/** Four Threefry rounds with rotation constants r0..r3. */
function rounds(r0: number, r1: number, r2: number, r3: number): void {
  a = (a + b) | 0;
  b = ((b << r0) | (b >>> (32 - r0))) ^ a;
  a = (a + b) | 0;
  b = ((b << r1) | (b >>> (32 - r1))) ^ a;
  a = (a + b) | 0;
  b = ((b << r2) | (b >>> (32 - r2))) ^ a;
  a = (a + b) | 0;
  b = ((b << r3) | (b >>> (32 - r3))) ^ a;
}

/**
 * Hash one counter pair `(x0, x1)` under key `(k0, k1)`; the result is left in the returned
 * (shared, reused) 2-word buffer, so copy it out before the next call.
 */
function block(k0: number, k1: number, x0: number, x1: number): Uint32Array {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = (k0 ^ k1 ^ PARITY) | 0;
  a = (x0 + ks0) | 0;
  b = (x1 + ks1) | 0;
  // Five groups of four rounds, alternating rotation sets, each followed by a key injection whose
  // words rotate through (ks1, ks2), (ks2, ks0), (ks0, ks1), ... plus the group number.
  rounds(13, 15, 26, 6);
  a = (a + ks1) | 0;
  b = (b + ks2 + 1) | 0;
  rounds(17, 29, 16, 24);
  a = (a + ks2) | 0;
  b = (b + ks0 + 2) | 0;
  rounds(13, 15, 26, 6);
  a = (a + ks0) | 0;
  b = (b + ks1 + 3) | 0;
  rounds(17, 29, 16, 24);
  a = (a + ks1) | 0;
  b = (b + ks2 + 4) | 0;
  rounds(13, 15, 26, 6);
  a = (a + ks2) | 0;
  b = (b + ks0 + 5) | 0;
  pair[0] = a;
  pair[1] = b;
  return pair;
}

/** Raw Threefry-2x32 (20 rounds) of one counter pair: returns `[y0, y1]` as uint32 numbers. */
export function threefry2x32Block(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const out = block(k0, k1, x0, x1);
  return [out[0]!, out[1]!];
}

function checkWords(fn: string, words: readonly number[]): void {
  for (const w of words) {
    if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new Error(`${fn}: key words must be uint32 integers, got ${w}`);
  }
}

/**
 * Threefry-2x32 over arrays of counter pairs: `y[i] = threefry(key, (x0[i], x1[i]))`.
 * This is jax's `threefry2x32_p` primitive.
 */
export function threefry2x32(
  key: readonly [number, number],
  x0: Uint32Array,
  x1: Uint32Array,
): [Uint32Array, Uint32Array] {
  checkWords('threefry2x32', key);
  if (x0.length !== x1.length) {
    throw new Error(`threefry2x32: x0 and x1 must have the same length, got ${x0.length} and ${x1.length}`);
  }
  const y0 = new Uint32Array(x0.length);
  const y1 = new Uint32Array(x0.length);
  for (let i = 0; i < x0.length; i++) {
    const out = block(key[0], key[1], x0[i]!, x1[i]!);
    y0[i] = out[0]!;
    y1[i] = out[1]!;
  }
  return [y0, y1];
}

/**
 * jax's `threefry_2x32(keypair, count)`: hash a flat array of counters by pairing its first half
 * with its second half (zero-padded to even length) and concatenating the two output halves.
 */
export function threefry2x32Counts(key: readonly [number, number], count: Uint32Array): Uint32Array {
  checkWords('threefry2x32Counts', key);
  const m = count.length;
  const half = Math.ceil(m / 2);
  const out = new Uint32Array(m);
  for (let j = 0; j < half; j++) {
    const hi = half + j < m;
    const y = block(key[0], key[1], count[j]!, hi ? count[half + j]! : 0);
    out[j] = y[0]!;
    if (hi) out[half + j] = y[1]!;
  }
  return out;
}

/**
 * `threefry_2x32(key, iota(n))` written into `out[offset .. offset + n)`, without building the
 * counter array: counter j is paired with counter j + ceil(n/2).
 */
export function hashIotaInto(k0: number, k1: number, n: number, out: Uint32Array, offset: number): void {
  const half = Math.ceil(n / 2);
  for (let j = 0; j < half; j++) {
    const hi = half + j < n;
    const y = block(k0, k1, j, hi ? half + j : 0);
    out[offset + j] = y[0]!;
    if (hi) out[offset + half + j] = y[1]!;
  }
}
