import { describe, expect, it } from 'vitest';
import { GUMBEL_UNIFORM_LO, uniformToGumbel } from '../src/gumbel.js';
import { NORMAL_UNIFORM_LO, uniformToNormal } from '../src/normal.js';
import { truncatedUniformRange, uniformToTruncated } from '../src/truncated-normal.js';
import { wordsToUniform } from '../src/uniform.js';
import { fx, sha256 } from './helpers.js';

// Every float sampler starts from uniform, which can only produce 2^23 values (one per mantissa).
// Running the float math on all of them and comparing a digest with jax's (computed by the fixture
// script with jax's random bits replaced by i << 9) checks the whole input domain.
const N = 1 << 23;

function allMantissas(lo: number, hi: number): Float32Array {
  const out = new Float32Array(N);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < N; i++) words[i] = i << 9;
  wordsToUniform(out, 0, N, Math.fround(lo), Math.fround(hi));
  return out;
}

describe('exhaustive float32 agreement with XLA (all 2^23 uniform values)', () => {
  it('uniform with fused multiply-add', () => {
    expect(sha256(allMantissas(0.3, 1.7))).toBe(fx.exhaustive['uniform[0.3,1.7)']);
    expect(sha256(allMantissas(-3, 5.5))).toBe(fx.exhaustive['uniform[-3,5.5)']);
  });

  it('normal: sqrt(2) * erfinv(u) with XLA log1p/log/erfinv', () => {
    const u = allMantissas(NORMAL_UNIFORM_LO, 1);
    uniformToNormal(u, 0, N);
    expect(sha256(u)).toBe(fx.exhaustive.normal);
  });

  it('gumbel: -log(-log(u)) with XLA log', () => {
    const u = allMantissas(GUMBEL_UNIFORM_LO, 1);
    uniformToGumbel(u, 0, N);
    expect(sha256(u)).toBe(fx.exhaustive.gumbel);
  });

  it('truncated normal: erf bounds, erfinv, clipping', () => {
    for (const [lower, upper, name] of [[-1.5, 2, 'truncatedNormal(-1.5,2)'], [0, 2, 'truncatedNormal(0,2)']] as const) {
      const [a, b] = truncatedUniformRange(lower, upper);
      const u = allMantissas(a, b);
      uniformToTruncated(u, 0, N, lower, upper);
      expect(sha256(u)).toBe(fx.exhaustive[name]);
    }
  });
});
