import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { mapKeys } from './bits.js';
import { f32FromBits, log32 } from './f32.js';
import type { Key } from './key.js';
import { uniformInto } from './uniform.js';
import { checkKey, checkShape, sizeOf } from './validate.js';

/** Smallest normal float32 (jax's `finfo.tiny`), the lower end of gumbel's uniform draw. */
export const GUMBEL_UNIFORM_LO = f32FromBits(0x00800000);

/** Standard Gumbel samples into `out[offset ..)`: jax's "low" mode, `-log(-log(u))`, u uniform in [tiny, 1). */
export function gumbelInto(k0: number, k1: number, n: number, out: Float32Array, offset: number): void {
  uniformInto(k0, k1, n, out, offset, GUMBEL_UNIFORM_LO, 1);
  uniformToGumbel(out, offset, n);
}

/** `u -> -log(-log(u))` in place. */
export function uniformToGumbel(out: Float32Array, offset: number, n: number): void {
  for (let i = offset; i < offset + n; i++) out[i] = -log32(-log32(out[i]!));
}

/** Standard Gumbel float32 samples, like `jax.random.gumbel` (mode "low"), as a Float32Array. */
export function gumbelArray(key: Key, shape: readonly number[] = []): Float32Array {
  checkKey('gumbelArray', key);
  checkNoVmapAxes('gumbelArray', key);
  const n = sizeOf(checkShape('gumbelArray', shape));
  return mapKeys(key, n, Float32Array, (k0, k1, o, off) => gumbelInto(k0, k1, n, o, off));
}

/** Standard Gumbel float32 samples, like `jax.random.gumbel` (mode "low"); shape `[...key.shape, ...shape]`. */
export function gumbel(key: Key, shape: readonly number[] = []): tf.Tensor {
  checkKey('gumbel', key);
  const s = checkShape('gumbel', shape);
  const n = sizeOf(s);
  return sampleTensor(key, (k) => tf.tensor(mapKeys(k, n, Float32Array, (k0, k1, o, off) => gumbelInto(k0, k1, n, o, off)), [...k.shape, ...s], 'float32'));
}
