import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import * as random from '../src/index.js';
import { foldIn, PRNGKey, split, wrapKeyData, type Key } from '../src/index.js';
import { fx, setupTf, take } from './helpers.js';

setupTf();

/** Every tensor sampler, as (key) => tensor, with a sample shape. */
const samplers: [string, (k: Key) => tf.Tensor][] = [
  ['bits', (k) => random.bits(k, [2, 3])],
  ['uniform', (k) => random.uniform(k, [2, 3], { minval: -2, maxval: 3 })],
  ['normal', (k) => random.normal(k, [5])],
  ['truncatedNormal', (k) => random.truncatedNormal(k, -1, 2, [3])],
  ['gumbel', (k) => random.gumbel(k, [4])],
  ['bernoulli', (k) => random.bernoulli(k, 0.3, [6])],
  ['randint', (k) => random.randint(k, [3], -4, 70000)],
  ['permutation', (k) => random.permutation(k, 7)],
  ['permutation(array)', (k) => random.permutation(k, [[1, 2, 3], [4, 5, 6]], { axis: 1 })],
  ['choice', (k) => random.choice(k, 9, [4], { replace: false })],
  ['choice(p)', (k) => random.choice(k, 3, [5], { p: [0.2, 0.3, 0.5] })],
  ['categorical', (k) => random.categorical(k, [[0, 1, 2], [2, 1, 0]], { shape: [3, 2] })],
];

describe('key batches behave like jax.vmap', () => {
  for (const batchShape of [[4], [2, 3]]) {
    it(`batch shape [${batchShape}]: row b equals the call on key b, for every function`, () => {
      const keys = split(PRNGKey(11), batchShape.reduce((a, b) => a * b, 1));
      const batch = wrapKeyData(keys.data, batchShape);
      for (const [name, f] of samplers) {
        const whole = take(() => f(batch));
        const one = take(() => f(keys.at(0)));
        expect(whole.shape, name).toEqual([...batchShape, ...one.shape]);
        const size = one.values.length;
        for (let b = 0; b < keys.size; b++) {
          const row = take(() => f(keys.at(b)));
          expect(whole.values.slice(b * size, (b + 1) * size), `${name} row ${b}`).toEqual(row.values);
        }
      }
    });
  }

  it('split and foldIn map over the batch', () => {
    const keys = split(PRNGKey(5), 3);
    const s = split(keys, 4);
    expect(s.shape).toEqual([3, 4]);
    for (let b = 0; b < 3; b++) expect(s.at(b).toArray()).toEqual(split(keys.at(b), 4).toArray());
    const f = foldIn(keys, 77);
    expect(f.shape).toEqual([3]);
    for (let b = 0; b < 3; b++) expect(f.at(b).toArray()).toEqual(foldIn(keys.at(b), 77).toArray());
  });

  it('matches jax.vmap over split keys', () => {
    const keys = wrapKeyData(fx.vmap.keys, [4]);
    expect(Array.from(random.uniformArray(keys, [2, 3]))).toEqual(fx.vmap.uniform);
    expect(Array.from(random.normalArray(keys, [5]))).toEqual(fx.vmap.normal);
    expect(Array.from(split(keys, 3).data)).toEqual(fx.vmap.split);
    expect(Array.from(foldIn(keys, 9).data)).toEqual(fx.vmap.foldIn);
    expect(Array.from(random.randintArray(keys, [3], 0, 100))).toEqual(fx.vmap.randint);
    expect(Array.from(random.permutationArray(keys, 6))).toEqual(fx.vmap.permutation);
  });

  it('an empty batch gives an empty result', () => {
    const none = wrapKeyData([], [0]);
    expect(take(() => random.normal(none, [3])).shape).toEqual([0, 3]);
    expect(split(none, 2).shape).toEqual([0, 2]);
  });
});

describe('no tensor leaks', () => {
  it('stays flat across a long sampling loop', () => {
    const start = tf.memory().numTensors;
    let k = PRNGKey(0);
    for (let i = 0; i < 200; i++) {
      const [next, a] = split(k);
      k = next!;
      const t = tf.tidy(() => tf.add(random.normal(a!, [8]), random.uniform(a!, [8])));
      t.dispose();
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  it('never disposes or keeps the caller tensors', () => {
    const logits = tf.tensor([0.5, 1.5, -1]);
    const t = random.categorical(PRNGKey(0), logits, { shape: [10] });
    t.dispose();
    expect(logits.isDisposed).toBe(false);
    logits.dispose();
  });
});
