import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { mapKeys } from './bits.js';
import { erfinv32, f32FromBits } from './f32.js';
import type { Key } from './key.js';
import { uniformInto } from './uniform.js';
import { checkFinite, checkKey, checkShape, sizeOf, show } from './validate.js';

export interface NormalOptions {
  /** Added after scaling (default 0); not a jax argument: `mean + stddev * z` in float32. */
  mean?: number;
  /** Scale (default 1), >= 0. */
  stddev?: number;
}

/** float32 sqrt(2) and nextafter(-1, 0), the constants of jax's `_normal_real`. */
export const SQRT2_F32 = Math.fround(Math.SQRT2);
export const NORMAL_UNIFORM_LO = f32FromBits(0xbf7fffff);

/**
 * `n` standard normal float32 samples into `out[offset ..)`, as jax's `_normal_real` computes them:
 * `sqrt(2) * erfinv(u)` with u uniform in (nextafter(-1, 0), 1), all in XLA's float32 arithmetic.
 */
export function normalInto(k0: number, k1: number, n: number, out: Float32Array, offset: number): void {
  uniformInto(k0, k1, n, out, offset, NORMAL_UNIFORM_LO, 1);
  uniformToNormal(out, offset, n);
}

/** `u -> sqrt(2) * erfinv(u)` in place. */
export function uniformToNormal(out: Float32Array, offset: number, n: number): void {
  for (let i = offset; i < offset + n; i++) out[i] = SQRT2_F32 * erfinv32(out[i]!);
}

function affine(fn: string, opts: NormalOptions): [number, number] {
  const mean = Math.fround(checkFinite(fn, 'mean', opts.mean ?? 0));
  const stddev = Math.fround(checkFinite(fn, 'stddev', opts.stddev ?? 1));
  if (stddev < 0) throw new Error(`${fn}: stddev must be >= 0, got ${show(opts.stddev)}`);
  return [mean, stddev];
}

function sample(fn: string, key: Key, shape: readonly number[], opts: NormalOptions): [Float32Array, number[]] {
  checkKey(fn, key);
  const s = checkShape(fn, shape);
  const [mean, stddev] = affine(fn, opts);
  const n = sizeOf(s);
  const out = mapKeys(key, n, Float32Array, (k0, k1, o, off) => normalInto(k0, k1, n, o, off));
  if (mean !== 0 || stddev !== 1) {
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]! * stddev) + mean;
  }
  return [out, s];
}

/** Normal float32 samples, like `jax.random.normal` (then `* stddev + mean`), as a Float32Array. */
export function normalArray(key: Key, shape: readonly number[] = [], opts: NormalOptions = {}): Float32Array {
  checkNoVmapAxes('normalArray', key);
  return sample('normalArray', key, shape, opts)[0];
}

/** Normal float32 samples, like `jax.random.normal` (then `* stddev + mean`); shape `[...key.shape, ...shape]`. */
export function normal(key: Key, shape: readonly number[] = [], opts: NormalOptions = {}): tf.Tensor {
  return sampleTensor(key, (k) => {
    const [out, s] = sample('normal', k, shape, opts);
    return tf.tensor(out, [...k.shape, ...s], 'float32');
  });
}
