import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import type { Key } from './key.js';
import { hashIotaInto } from './threefry.js';
import { checkKey, checkShape, sizeOf } from './validate.js';

/** jax hashes at most 2^32 - 1 counters under one key; longer draws are split into blocks. */
const MAX_COUNT = 0xffffffff;

/**
 * `n` random uint32 words from key `(k0, k1)` into `out[offset ..)`: jax's classic
 * `_threefry_random_bits_original` for 32-bit width, i.e. `threefry_2x32(key, iota(n))`; past
 * 2^32 - 1 words, the key is split into one subkey per block (`maxCount` is a parameter only so
 * the block layout can be tested at small sizes).
 */
export function bitsInto(k0: number, k1: number, n: number, out: Uint32Array, offset: number, maxCount = MAX_COUNT): void {
  const nblocks = Math.floor(n / maxCount);
  const rem = n - nblocks * maxCount;
  if (nblocks === 0) {
    hashIotaInto(k0, k1, rem, out, offset);
    return;
  }
  const keys = new Uint32Array(2 * (nblocks + 1));
  hashIotaInto(k0, k1, keys.length, keys, 0);
  for (let b = 0; b < nblocks; b++) hashIotaInto(keys[2 * b]!, keys[2 * b + 1]!, maxCount, out, offset + b * maxCount);
  hashIotaInto(keys[2 * nblocks]!, keys[2 * nblocks + 1]!, rem, out, offset + nblocks * maxCount);
}

type TypedArrayCtor<T> = new (length: number) => T;

/**
 * vmap over a key batch: `fill(k0, k1, out, offset)` writes the `size` values of one key; the
 * result holds them key after key, i.e. shape `[...key.shape, ...sample shape]`.
 */
export function mapKeys<T>(
  key: Key,
  size: number,
  ctor: TypedArrayCtor<T>,
  fill: (k0: number, k1: number, out: T, offset: number) => void,
): T {
  const out = new ctor(key.size * size);
  for (let i = 0; i < key.size; i++) fill(key.data[2 * i]!, key.data[2 * i + 1]!, out, i * size);
  return out;
}

/** Random uint32 words of the given shape, like `jax.random.bits(key, shape)` (dtype uint32). */
export function bitsArray(key: Key, shape: readonly number[] = []): Uint32Array {
  checkKey('bitsArray', key);
  checkNoVmapAxes('bitsArray', key);
  const n = sizeOf(checkShape('bitsArray', shape));
  return mapKeys(key, n, Uint32Array, (k0, k1, out, off) => bitsInto(k0, k1, n, out, off));
}

/**
 * `jax.random.bits(key, shape)` as an int32 tensor (tfjs has no uint32) holding the same bit
 * patterns: reinterpret with `new Uint32Array(await t.data())` or `x >>> 0`.
 */
export function bits(key: Key, shape: readonly number[] = []): tf.Tensor {
  checkKey('bits', key);
  const s = checkShape('bits', shape);
  return sampleTensor(key, (k) => {
    const words = mapKeys(k, sizeOf(s), Uint32Array, (k0, k1, out, off) => bitsInto(k0, k1, sizeOf(s), out, off));
    return tf.tensor(new Int32Array(words.buffer), [...k.shape, ...s], 'int32');
  });
}
