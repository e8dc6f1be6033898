import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  gumbel,
  gumbelArray,
  normal,
  normalArray,
  PRNGKey,
  split,
  truncatedNormal,
  truncatedNormalArray,
  uniform,
  uniformArray,
} from '../src/index.js';
import { fx, key, setupTf, take } from './helpers.js';

setupTf();

describe('uniform', () => {
  it('matches jax.random.uniform bit for bit (shapes, ranges)', () => {
    for (const c of fx.uniform) {
      const got = uniformArray(key(c.key), c.shape, { minval: c.minval, maxval: c.maxval });
      expect(Array.from(got), `uniform(${c.key}, [${c.shape}], ${c.minval}, ${c.maxval})`).toEqual(c.expected);
    }
    const c = fx.randomValuesCases.uniform; // jax tests/random_test.py: [0.298671, 0.073213, 0.873356, 0.260549, 0.412797]
    expect(Array.from(uniformArray(PRNGKey(c.seed), [5]))).toEqual(c.expected);
  });

  it('returns a float32 tensor of the requested shape', () => {
    const t = take(() => uniform(PRNGKey(0), [2, 3], { minval: -1, maxval: 1 }));
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3]);
    expect(t.values).toEqual(Array.from(uniformArray(PRNGKey(0), [2, 3], { minval: -1, maxval: 1 })));
    expect(take(() => uniform(PRNGKey(0))).shape).toEqual([]);
  });

  it('rejects bad bounds', () => {
    expect(() => uniform(PRNGKey(0), [2], { minval: 1, maxval: 1 })).toThrow(/uniform: minval must be less than maxval.*minval=1, maxval=1/);
    expect(() => uniformArray(PRNGKey(0), [2], { minval: 2, maxval: 1 })).toThrow(/uniformArray: minval must be less than maxval/);
    expect(() => uniform(PRNGKey(0), [2], { maxval: NaN })).toThrow(/uniform: maxval must be a finite number, got NaN/);
    expect(() => uniform(PRNGKey(0), [2], { minval: -Infinity })).toThrow(/uniform: minval must be a finite number/);
  });
});

describe('normal', () => {
  it('matches jax.random.normal bit for bit', () => {
    for (const c of fx.normal) expect(Array.from(normalArray(key(c.key), c.shape)), `normal(${c.key}, [${c.shape}])`).toEqual(c.expected);
    const c = fx.randomValuesCases.normal; // [-1.173234, -1.511662, 0.070593, -0.099764, 1.052845]
    expect(Array.from(normalArray(PRNGKey(c.seed), [5]))).toEqual(c.expected);
  });

  it('gives theta = normal(PRNGKey(42)) of seed 000 (-0.18471177 in the jax docs)', () => {
    const theta = take(() => normal(PRNGKey(42)));
    expect(theta.shape).toEqual([]);
    expect(theta.values[0]).toBe(fx.seed000.theta);
    expect(theta.values[0]).toBe(Math.fround(-0.18471177));
  });

  it('matches values printed in the jax docs and in downstream tests', () => {
    // jax quickstart: k1, k2 = split(key(42)); normal(k1), normal(k2)
    const [k1, k2] = split(PRNGKey(42));
    expect(normalArray(k1!)[0]!.toPrecision(8)).toBe('0.13790321');
    expect(normalArray(k2!)[0]!.toPrecision(8)).toBe('1.3694694');
    // pangeo-docker-images' jax GPU smoke test: normal(key(24)) == -1.168644
    expect(normalArray(PRNGKey(24))[0]!.toPrecision(7)).toBe('-1.168644');
  });

  it('applies mean and stddev in float32', () => {
    const z = normalArray(PRNGKey(3), [4]);
    const y = normalArray(PRNGKey(3), [4], { mean: 2, stddev: 0.5 });
    expect(Array.from(y)).toEqual(Array.from(z, (v) => Math.fround(Math.fround(v * 0.5) + 2)));
    expect(() => normal(PRNGKey(0), [2], { stddev: -1 })).toThrow(/normal: stddev must be >= 0, got -1/);
    expect(() => normal(PRNGKey(0), [2], { mean: NaN })).toThrow(/normal: mean must be a finite number/);
  });
});

describe('seed 000: the optax meta-learning generator', () => {
  it('reproduces the printed samples', () => {
    let rng = PRNGKey(0);
    const printed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [next, k1, k2] = split(rng, 3);
      rng = next!;
      const x = uniformArray(k1!, [], { minval: 0, maxval: 10 })[0]!;
      const y = Math.fround(Math.fround(10 * x) + normalArray(k2!)[0]!);
      expect(x).toBe(fx.seed000.samples[i].x);
      expect(y).toBe(fx.seed000.samples[i].y);
      printed.push(`Sampled y = ${y.toFixed(3)}, x = ${x.toFixed(3)}`);
    }
    expect(printed).toEqual([
      'Sampled y = 72.695, x = 7.184',
      'Sampled y = 3.827, x = 0.367',
      'Sampled y = 3.362, x = 0.327',
      'Sampled y = 10.027, x = 0.973',
      'Sampled y = 96.446, x = 9.739',
    ]);
  });

  it('gives the same numbers through tensors', () => {
    const [, k1, k2] = split(PRNGKey(0), 3);
    const y = take(() => tf.tidy(() => tf.add(tf.mul(10, uniform(k1!, [], { minval: 0, maxval: 10 })), normal(k2!))));
    expect(y.values[0]).toBe(fx.seed000.samples[0].y);
  });
});

describe('truncatedNormal', () => {
  it('matches jax.random.truncated_normal bit for bit, infinite bounds included', () => {
    for (const c of fx.truncatedNormal) {
      const got = truncatedNormalArray(key(c.key), Number(c.lower), Number(c.upper), c.shape);
      expect(Array.from(got), `truncated_normal(${c.key}, ${c.lower}, ${c.upper}, [${c.shape}])`).toEqual(c.expected);
    }
    const c = fx.randomValuesCases.truncated_normal; // [0.582807, 1.709771, 0.159513, 0.861376, 0.36148]
    expect(Array.from(truncatedNormalArray(PRNGKey(c.seed), 0, 2, [5]))).toEqual(c.expected);
  });

  it('stays inside the open interval and returns a tensor', () => {
    const v = truncatedNormalArray(PRNGKey(9), 0.5, 0.5001, [1000]);
    expect(v.every((x) => x > 0.5 && x < Math.fround(0.5001))).toBe(true);
    const t = take(() => truncatedNormal(PRNGKey(9), -1, 1, [3, 2]));
    expect(t.shape).toEqual([3, 2]);
    expect(() => truncatedNormal(PRNGKey(0), 1, 1)).toThrow(/truncatedNormal: lower must be less than upper, got lower=1, upper=1/);
    expect(() => truncatedNormal(PRNGKey(0), NaN, 1)).toThrow(/truncatedNormal: lower must be a number/);
  });
});

describe('gumbel', () => {
  it('matches jax.random.gumbel bit for bit', () => {
    for (const c of fx.gumbel) expect(Array.from(gumbelArray(key(c.key), c.shape))).toEqual(c.expected);
    const c = fx.randomValuesCases.gumbel; // [2.06701, 0.911726, 0.145736, 0.185427, -0.00711]
    expect(Array.from(gumbelArray(PRNGKey(c.seed), [5]))).toEqual(c.expected);
    expect(take(() => gumbel(PRNGKey(1), [2, 2])).shape).toEqual([2, 2]);
  });
});
