import { describe, expect, it } from 'vitest';
import {
  bernoulliArray,
  categoricalArray,
  choiceArray,
  gumbelArray,
  normalArray,
  permutationArray,
  PRNGKey,
  randintArray,
  split,
  truncatedNormalArray,
  uniformArray,
} from '../src/index.js';
import { erf32 } from '../src/f32.js';
import { setupTf } from './helpers.js';

setupTf();

const N = 200_000;
const mean = (x: ArrayLike<number>) => Array.from(x).reduce((a, b) => a + b, 0) / x.length;
const variance = (x: ArrayLike<number>) => {
  const m = mean(x);
  return Array.from(x).reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
};
/** Kolmogorov-Smirnov statistic of a sample against a CDF. */
function ks(x: Float32Array, cdf: (v: number) => number): number {
  const s = Float64Array.from(x).sort();
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const c = cdf(s[i]!);
    d = Math.max(d, Math.abs(c - i / s.length), Math.abs(c - (i + 1) / s.length));
  }
  return d;
}
const KS_LIMIT = 1.63 / Math.sqrt(N); // 1% level
const phi = (v: number) => 0.5 * (1 + erf32(Math.fround(v / Math.SQRT2)));
/** Frequencies of 0..k-1 in x. */
const freq = (x: Int32Array | Uint8Array, k: number) => {
  const c = new Array<number>(k).fill(0);
  for (const v of x) c[v]!++;
  return c.map((v) => v / x.length);
};

describe('distributions (statistical checks)', () => {
  it('uniform is uniform on [minval, maxval)', () => {
    const x = uniformArray(PRNGKey(1), [N], { minval: -2, maxval: 3 });
    expect(x.every((v) => v >= -2 && v < 3)).toBe(true);
    expect(ks(x, (v) => (v + 2) / 5)).toBeLessThan(KS_LIMIT);
  });

  it('normal has mean 0, variance 1, and the normal CDF', () => {
    const x = normalArray(PRNGKey(2), [N]);
    expect(Math.abs(mean(x))).toBeLessThan(0.01);
    expect(Math.abs(variance(x) - 1)).toBeLessThan(0.015);
    expect(ks(x, phi)).toBeLessThan(KS_LIMIT);
    const y = normalArray(PRNGKey(2), [N], { mean: 5, stddev: 2 });
    expect(Math.abs(mean(y) - 5)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(variance(y)) - 2)).toBeLessThan(0.02);
  });

  it('truncated normal stays in (lower, upper) with the truncated CDF', () => {
    const [a, b] = [-0.5, 1.5];
    const x = truncatedNormalArray(PRNGKey(3), a, b, [N]);
    expect(x.every((v) => v > a && v < b)).toBe(true);
    const z = phi(b) - phi(a);
    expect(ks(x, (v) => (phi(v) - phi(a)) / z)).toBeLessThan(KS_LIMIT);
    const tail = truncatedNormalArray(PRNGKey(4), 3, Infinity, [1000]);
    expect(tail.every((v) => v > 3 && Number.isFinite(v))).toBe(true);
  });

  it('gumbel has mean = Euler-Mascheroni and variance pi^2/6', () => {
    const x = gumbelArray(PRNGKey(5), [N]);
    expect(Math.abs(mean(x) - 0.5772156649)).toBeLessThan(0.015);
    expect(Math.abs(variance(x) - Math.PI ** 2 / 6)).toBeLessThan(0.04);
  });

  it('bernoulli has frequency p', () => {
    for (const p of [0.05, 0.5, 0.8]) expect(Math.abs(mean(bernoulliArray(PRNGKey(6), p, [N])) - p)).toBeLessThan(0.005);
    expect(bernoulliArray(PRNGKey(6), 0, [100]).every((v) => v === 0)).toBe(true);
    expect(bernoulliArray(PRNGKey(6), 1, [100]).every((v) => v === 1)).toBe(true);
  });

  it('randint covers [minval, maxval) evenly', () => {
    const x = randintArray(PRNGKey(7), [N], -3, 7);
    expect(x.every((v) => v >= -3 && v < 7)).toBe(true);
    for (const f of freq(x.map((v) => v + 3), 10)) expect(Math.abs(f - 0.1)).toBeLessThan(0.005);
    const big = randintArray(PRNGKey(7), [N], -(2 ** 31), 2 ** 31 - 1);
    expect(Math.abs(mean(big))).toBeLessThan(2 ** 31 * 0.01);
  });

  it('categorical and weighted choice follow the probabilities', () => {
    const logits = [0, Math.log(2), Math.log(5), -Infinity];
    const p = [1 / 8, 2 / 8, 5 / 8, 0];
    const cat = categoricalArray(PRNGKey(8), logits, { shape: [N] });
    freq(cat, 4).forEach((f, i) => expect(Math.abs(f - p[i]!)).toBeLessThan(0.005));
    const ch = choiceArray(PRNGKey(9), 4, [N], { p: [1, 2, 5, 0] });
    freq(ch, 4).forEach((f, i) => expect(Math.abs(f - p[i]!)).toBeLessThan(0.005));
  });

  it('sampling without replacement gives distinct values; permutations are uniform', () => {
    const keys = split(PRNGKey(10), 2000);
    const first = new Array<number>(5).fill(0);
    for (let b = 0; b < keys.size; b++) {
      const perm = permutationArray(keys.at(b), 5);
      expect(new Set(perm).size).toBe(5);
      first[perm[0]!]!++;
      const c = choiceArray(keys.at(b), 50, [20], { replace: false, p: Array.from({ length: 50 }, (_, i) => i + 1) });
      expect(new Set(c).size).toBe(20);
    }
    for (const f of first) expect(Math.abs(f / keys.size - 0.2)).toBeLessThan(0.04);
    const cat = categoricalArray(PRNGKey(11), [0, 0, 0, 0], { shape: [4], replace: false });
    expect([...cat].sort()).toEqual([0, 1, 2, 3]);
  });
});
