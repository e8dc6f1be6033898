import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { bitsInto, mapKeys } from './bits.js';
import type { Key } from './key.js';
import { hashIotaInto } from './threefry.js';
import { checkInt, checkKey, checkShape, INT32_MAX, INT32_MIN, show, sizeOf } from './validate.js';

/**
 * `n` int32 samples in [minval, maxval) into `out[offset ..)`, with jax's `_randint` algorithm:
 * split the key in two, draw 32 bits from each, and reduce the 64-bit number modulo the span in
 * uint32 arithmetic (`(hi % span) * (2^32 % span) + lo % span`, with jax's wrapping multiplier).
 */
export function randintInto(
  k0: number,
  k1: number,
  n: number,
  out: Int32Array,
  offset: number,
  minval: number,
  maxval: number,
): void {
  const keys = new Uint32Array(4);
  hashIotaInto(k0, k1, 4, keys, 0);
  const higher = new Uint32Array(n);
  const lower = new Uint32Array(n);
  bitsInto(keys[0]!, keys[1]!, n, higher, 0);
  bitsInto(keys[2]!, keys[3]!, n, lower, 0);
  const span = maxval <= minval ? 1 : (maxval - minval) >>> 0;
  // 2^16 % span, squared mod 2^32 (it wraps to 0 once span > 2^16, as in jax), mod span.
  let multiplier = 65536 % span;
  multiplier = (Math.imul(multiplier, multiplier) >>> 0) % span;
  for (let i = 0; i < n; i++) {
    const offsetHi = Math.imul(higher[i]! % span, multiplier) >>> 0;
    const r = ((offsetHi + (lower[i]! % span)) >>> 0) % span;
    out[offset + i] = (minval + r) | 0;
  }
}

function sample(fn: string, key: Key, shape: readonly number[], minval: number, maxval: number): [Int32Array, number[]] {
  checkKey(fn, key);
  const s = checkShape(fn, shape);
  checkInt(fn, 'minval', minval, INT32_MIN, INT32_MAX);
  checkInt(fn, 'maxval', maxval, INT32_MIN, INT32_MAX);
  if (!(minval < maxval)) throw new Error(`${fn}: minval must be less than maxval, got minval=${show(minval)}, maxval=${show(maxval)}`);
  const n = sizeOf(s);
  return [mapKeys(key, n, Int32Array, (k0, k1, o, off) => randintInto(k0, k1, n, o, off, minval, maxval)), s];
}

/** Uniform int32 samples in [minval, maxval), like `jax.random.randint`, as an Int32Array. */
export function randintArray(key: Key, shape: readonly number[], minval: number, maxval: number): Int32Array {
  checkNoVmapAxes('randintArray', key);
  return sample('randintArray', key, shape, minval, maxval)[0];
}

/**
 * Uniform int32 samples in [minval, maxval), like `jax.random.randint` (int32 bounds, as jax
 * with 64-bit types disabled); shape `[...key.shape, ...shape]`.
 */
export function randint(key: Key, shape: readonly number[], minval: number, maxval: number): tf.Tensor {
  return sampleTensor(key, (k) => {
    const [out, s] = sample('randint', k, shape, minval, maxval);
    return tf.tensor(out, [...k.shape, ...s], 'int32');
  });
}
