import * as tf from '@tensorflow/tfjs';
import { normal, normalArray, PRNGKey, split, truncatedNormal, uniform, type Key } from '@lopt/random';
import * as tree from '@lopt/tree';
import { beforeAll, describe, expect, it } from 'vitest';
import { grad, vmap } from '../src/index.js';
import { useBackend, values } from './helpers.js';

beforeAll(() => useBackend('cpu'));

const loop = <T>(keys: Key, f: (k: Key) => T): T[] => Array.from({ length: keys.shape[0]! }, (_, i) => f(keys.at(i)));

describe('vmap over PRNG keys', () => {
  it('samples per key, exactly as the loop over keys (and as jax.vmap)', () => {
    const keys = split(PRNGKey(0), 4);
    const before = tf.memory().numTensors;
    const v = vmap((k: Key) => normal(k, [3]))(keys);
    expect(tf.memory().numTensors).toBe(before + 1);
    const l = tf.stack(loop(keys, (k) => normal(k, [3])));
    expect(v.shape).toEqual([4, 3]);
    expect(values(v)).toEqual(values(l));
    tf.dispose([v, l]);
  });

  it('splits and indexes keys inside (split, at, destructuring) like the loop', () => {
    const keys = split(PRNGKey(1), 3);
    const f = (k: Key) => {
      const [a, b] = split(k);
      const c = split(k, 3).at(2);
      return tf.add(tf.mul(uniform(a!, [2]), normal(b!, [2])), truncatedNormal(c, -1, 1, [2]));
    };
    const v = vmap(f)(keys);
    const l = tf.stack(loop(keys, f));
    expect(values(v)).toEqual(values(l));
    tf.dispose([v, l]);
  });

  it('vmaps an init over keys (the vectorized-task pattern) and returns key batches', () => {
    const init = (k: Key) => {
      const [k1, k2] = split(k);
      return { w: normal(k1!, [2, 3]), b: tf.mul(normal(k2!, [3]), 0.1) };
    };
    const keys = split(PRNGKey(2), 5);
    const v = vmap(init)(keys);
    const l = tree.stack(loop(keys, init));
    tree.map((a: tf.Tensor, b: tf.Tensor) => expect(values(a)).toEqual(values(b)), v, l);
    const next = vmap((k: Key) => split(k).at(1))(keys) as Key;
    expect(next.shape).toEqual([5]);
    expect(Array.from(next.data)).toEqual(loop(keys, (k) => split(k).at(1)).flatMap((k) => Array.from(k.data)));
    tree.dispose([v, l]);
  });

  it('nests: vmap of vmap over a [2, 3] key batch', () => {
    const keys = split(split(PRNGKey(3), 2), 3); // [2, 3]
    const v = vmap(vmap((k: Key) => uniform(k, [4])))(keys);
    const direct = uniform(keys, [4]);
    expect(v.shape).toEqual([2, 3, 4]);
    expect(values(v)).toEqual(values(direct));
    tf.dispose([v, direct]);
  });

  it('composes with grad: per-example gradients with per-example noise', () => {
    const keys = split(PRNGKey(4), 3);
    const thetas = tf.tensor1d([0.5, -1, 2]);
    const f = (t: tf.Tensor, k: Key) => tf.sum(tf.mul(tf.square(t), normal(k, [2]))) as tf.Scalar;
    const v = vmap(grad(f))(thetas, keys);
    const l = tf.stack(tf.unstack(thetas).map((t, i) => grad(f)(t, keys.at(i)) as tf.Tensor));
    expect(values(v)).toEqual(values(l));
    tf.dispose([thetas, v, l]);
  });

  it('explains what does not work', () => {
    const keys = split(PRNGKey(5), 2);
    expect(() => vmap((k: Key) => tf.tensor(normalArray(k, [2])))(keys)).toThrow(
      'normalArray: this key carries a vmap axis; inside vmap use normal, which returns a tensor',
    );
    expect(() => vmap((k: Key) => normal(k))(PRNGKey(0))).toThrow('vmap: argument 0 at <root> is a single key; give it inAxes null or pass a key batch (split(key, n))');
    expect(() => vmap((k: Key) => normal(k), 1)(split(keys, 2))).toThrow('keys can only be mapped over axis 0, got 1');
    expect(() => vmap((k: Key, x: tf.Tensor) => x, [0, 0])(keys, tf.zeros([3]))).toThrow('inconsistent batch sizes');
  });
});
