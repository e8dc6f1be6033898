import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  bernoulli,
  bernoulliArray,
  categorical,
  categoricalArray,
  choice,
  choiceArray,
  permutation,
  permutationArray,
  PRNGKey,
  randint,
  randintArray,
  type ChoiceOptions,
} from '../src/index.js';
import { cumsum32 } from '../src/f32.js';
import { expectMatches, fx, key, setupTf, take } from './helpers.js';

setupTf();

describe('bernoulli', () => {
  it('matches jax.random.bernoulli', () => {
    for (const c of fx.bernoulli) expect(Array.from(bernoulliArray(key(c.key), c.p, c.shape)), `p=${c.p}`).toEqual(c.expected);
    const c = fx.randomValuesCases.bernoulli; // [False, True, True, True, False]
    expect(Array.from(bernoulliArray(PRNGKey(c.seed), 0.5, [5]))).toEqual(c.expected);
  });

  it('returns a bool tensor and validates p', () => {
    const t = take(() => bernoulli(PRNGKey(0), 0.3, [4]));
    expect(t.dtype).toBe('bool');
    expect(t.shape).toEqual([4]);
    expect(() => bernoulli(PRNGKey(0), 1.5)).toThrow(/bernoulli: p must be a number in \[0, 1\], got 1.5/);
    expect(() => bernoulliArray(PRNGKey(0), -0.1)).toThrow(/bernoulliArray: p must be a number in \[0, 1\], got -0.1/);
    expect(() => bernoulli(PRNGKey(0), NaN)).toThrow(/bernoulli: p must be a number in \[0, 1\], got NaN/);
  });
});

describe('randint', () => {
  it("matches jax.random.randint, including spans above 2^16 and the full int32 range", () => {
    for (const c of fx.randint) {
      const got = randintArray(key(c.key), c.shape, c.minval, c.maxval);
      expect(Array.from(got), `randint(${c.key}, [${c.shape}], ${c.minval}, ${c.maxval})`).toEqual(c.expected);
    }
  });

  it("matches jax's testPRNGValues and RandomValuesCase('randint')", () => {
    expect(Array.from(randintArray(PRNGKey(0), [3, 3], 0, 8))).toEqual([2, 1, 3, 6, 1, 5, 6, 3, 4]);
    const c = fx.randomValuesCases.randint; // [0, 5, 7, 7, 5]
    expect(Array.from(randintArray(PRNGKey(c.seed), [5], 0, 10))).toEqual(c.expected);
  });

  it('returns an int32 tensor and validates bounds', () => {
    const t = take(() => randint(PRNGKey(0), [3, 3], 0, 8));
    expect(t.dtype).toBe('int32');
    expect(t.values).toEqual([2, 1, 3, 6, 1, 5, 6, 3, 4]);
    expect(() => randint(PRNGKey(0), [2], 5, 5)).toThrow(/randint: minval must be less than maxval, got minval=5, maxval=5/);
    expect(() => randint(PRNGKey(0), [2], 0, 2 ** 31)).toThrow(/randint: maxval must be an integer in \[-2147483648, 2147483647\], got 2147483648/);
    expect(() => randintArray(PRNGKey(0), [2], 0.5, 3)).toThrow(/randintArray: minval must be an integer/);
  });
});

describe('permutation', () => {
  it('matches jax.random.permutation of arange(n), across the 1- to 2-round boundary', () => {
    for (const c of fx.permutation) expectMatches(permutationArray(key(c.key), c.n), c.expected);
  });

  it('matches jax for arrays along either axis, shared or independent', () => {
    for (const c of fx.permutationArray) {
      const x = tf.tensor(c.x as number[][]);
      const t = take(() => permutation(key(c.key), x, { axis: c.axis, independent: c.independent }));
      x.dispose();
      expect(t.shape).toEqual([3, 4]);
      expect(t.values, `axis=${c.axis} independent=${c.independent}`).toEqual(c.expected);
    }
  });

  it('keeps dtype, returns int32 for integers, validates input', () => {
    expect(take(() => permutation(PRNGKey(0), Int32Array.of(5, 6, 7))).dtype).toBe('int32');
    expect(take(() => permutation(PRNGKey(0), 4)).dtype).toBe('int32');
    expect(take(() => permutation(PRNGKey(0), [1.5, 2.5])).dtype).toBe('float32');
    expect(() => permutation(PRNGKey(0), -1)).toThrow(/permutation: x must be an integer in \[0, 2147483647\], got -1/);
    expect(() => permutation(PRNGKey(0), [[1, 2]], { axis: 2 })).toThrow(/permutation: axis 2 is out of range for an array of rank 2/);
    const s = tf.scalar(3);
    expect(() => permutation(PRNGKey(0), s)).toThrow(/permutation: x must be an integer or an array of rank >= 1/);
    s.dispose();
  });
});

describe('choice', () => {
  it('matches jax.random.choice: uniform/weighted, with/without replacement, arrays along an axis', () => {
    for (const c of fx.choice) {
      const opts: ChoiceOptions = { replace: c.replace };
      if (c.p !== null) opts.p = c.p;
      if (c.axis !== undefined) opts.axis = c.axis;
      const label = `choice(${c.key}, ${typeof c.a === 'number' ? c.a : 'array'}, [${c.shape}], replace=${c.replace}, p=${c.p !== null})`;
      if (typeof c.a === 'number') {
        expect(Array.from(choiceArray(key(c.key), c.a, c.shape, opts)), label).toEqual(c.expected);
        const t = take(() => choice(key(c.key), c.a, c.shape, opts));
        expect(t.values, label).toEqual(c.expected);
        expect(t.shape).toEqual(c.shape);
      } else {
        const a = tf.tensor(c.a as number[][]);
        const t = take(() => choice(key(c.key), a, c.shape, opts));
        a.dispose();
        expect(t.shape).toEqual(c.outShape);
        expect(t.values, label).toEqual(c.expected);
      }
    }
  });

  it('validates its arguments', () => {
    expect(() => choice(PRNGKey(0), 3, [4], { replace: false })).toThrow(
      /choice: cannot take a larger sample \(size 4\) than the population \(size 3\) when replace is false/,
    );
    expect(() => choice(PRNGKey(0), 0, [1])).toThrow(/choice: a must be greater than 0/);
    expect(() => choice(PRNGKey(0), 3, [2], { p: [0.5, 0.5] })).toThrow(/choice: p must be a 1-D array with the same size as a \(3\)/);
    expect(() => choice(PRNGKey(0), 2, [2], { p: [0.5, -0.5] })).toThrow(/choice: p must hold finite non-negative probabilities, got p\[1\]=-0.5/);
    expect(() => choice(PRNGKey(0), 2, [2], { p: [0, 0] })).toThrow(/choice: p must have a positive sum/);
    expect(take(() => choice(PRNGKey(0), 3, [0])).shape).toEqual([0]);
  });

  it("sums p in XLA's CPU cumsum order", () => {
    for (const c of fx.cumsum) expectMatches(cumsum32(c.x), c.expected);
  });
});

describe('categorical', () => {
  it('matches jax.random.categorical (axes, shapes with extra and broadcast dims, without replacement)', () => {
    for (const c of fx.categorical) {
      const opts: { axis: number; replace: boolean; shape?: number[] } = { axis: c.axis, replace: c.replace };
      if (c.shape !== null) opts.shape = c.shape;
      const label = `categorical(${JSON.stringify(c.logits)}, ${JSON.stringify(opts)})`;
      expect(Array.from(categoricalArray(key(c.key), c.logits, opts)), label).toEqual(c.expected);
      const logits = tf.tensor(c.logits);
      const t = take(() => categorical(key(c.key), logits, opts));
      logits.dispose();
      expect(t.shape, label).toEqual(c.outShape);
      expect(t.dtype).toBe('int32');
      expect(t.values, label).toEqual(c.expected);
    }
  });

  it('validates its arguments', () => {
    expect(() => categorical(PRNGKey(0), [1, 2], { axis: 1 })).toThrow(/categorical: axis 1 is out of range for an array of rank 1/);
    expect(categoricalArray(PRNGKey(0), [[1, 2]], { shape: [3] })).toHaveLength(3); // (1,) broadcasts to (3,)
    expect(() => categoricalArray(PRNGKey(0), [[1, 2], [3, 4]], { shape: [3] })).toThrow(/categoricalArray: shape \[3\] must be broadcast-compatible/);
    expect(() => categorical(PRNGKey(0), [1, 2], { shape: [3], replace: false })).toThrow(
      /categorical: number of samples without replacement \(3\) cannot exceed number of categories \(2\)/,
    );
    expect(() => categorical(PRNGKey(0), [[1, 2], [3]])).toThrow(/categorical: logits is a ragged nested array/);
  });
});
