import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { mapKeys } from './bits.js';
import type { Key } from './key.js';
import { uniformInto } from './uniform.js';
import { checkKey, checkShape, show, sizeOf } from './validate.js';

function sample(fn: string, key: Key, p: number, shape: readonly number[]): [Uint8Array, number[]] {
  checkKey(fn, key);
  const s = checkShape(fn, shape);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`${fn}: p must be a number in [0, 1], got ${show(p)}`);
  const pf = Math.fround(p);
  const n = sizeOf(s);
  const u = new Float32Array(n);
  const out = mapKeys(key, n, Uint8Array, (k0, k1, o, off) => {
    uniformInto(k0, k1, n, u, 0, 0, 1);
    for (let i = 0; i < n; i++) o[off + i] = u[i]! < pf ? 1 : 0;
  });
  return [out, s];
}

/** Bernoulli(p) samples as 0/1 bytes, like `jax.random.bernoulli` (mode "low": `uniform < p` in float32). */
export function bernoulliArray(key: Key, p = 0.5, shape: readonly number[] = []): Uint8Array {
  checkNoVmapAxes('bernoulliArray', key);
  return sample('bernoulliArray', key, p, shape)[0];
}

/** Bernoulli(p) samples as a bool tensor, like `jax.random.bernoulli`; shape `[...key.shape, ...shape]`. */
export function bernoulli(key: Key, p = 0.5, shape: readonly number[] = []): tf.Tensor {
  return sampleTensor(key, (k) => {
    const [out, s] = sample('bernoulli', k, p, shape);
    return tf.tensor(out, [...k.shape, ...s], 'bool');
  });
}
