import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { bitsInto, mapKeys } from './bits.js';
import { fma32, ftz32 } from './f32.js';
import type { Key } from './key.js';
import { checkFinite, checkKey, checkShape, sizeOf } from './validate.js';

export interface UniformOptions {
  /** Inclusive lower bound (default 0). */
  minval?: number;
  /** Exclusive upper bound (default 1). */
  maxval?: number;
}

/**
 * Turn raw uint32 words, stored in place in `out[offset .. offset + n)` (through a Uint32Array view
 * of the same memory), into uniform float32 samples in [lo, hi), as jax's `_uniform` does: the top
 * 23 bits become a float in [1, 2), minus 1, then `max(lo, u * (hi - lo) + lo)` with the
 * multiply-add fused, as in XLA's CPU code. `lo` and `hi` must be float32 values.
 */
export function wordsToUniform(out: Float32Array, offset: number, n: number, lo: number, hi: number): void {
  const words = new Uint32Array(out.buffer, out.byteOffset + 4 * offset, n);
  const span = Math.fround(hi - lo);
  for (let i = 0; i < n; i++) {
    // Write the [1, 2) float's bits into the slot, read them back as a float, overwrite with the result.
    words[i] = (words[i]! >>> 9) | 0x3f800000;
    const u = out[offset + i]! - 1;
    const v = ftz32(fma32(u, span, lo));
    out[offset + i] = v > lo ? v : lo;
  }
}

/** `n` uniform float32 samples in [lo, hi) from key `(k0, k1)` into `out[offset ..)`. */
export function uniformInto(k0: number, k1: number, n: number, out: Float32Array, offset: number, lo: number, hi: number): void {
  bitsInto(k0, k1, n, new Uint32Array(out.buffer, out.byteOffset + 4 * offset, n), 0);
  wordsToUniform(out, offset, n, lo, hi);
}

export function uniformBounds(fn: string, opts: UniformOptions): [number, number] {
  const minval = checkFinite(fn, 'minval', opts.minval ?? 0);
  const maxval = checkFinite(fn, 'maxval', opts.maxval ?? 1);
  const lo = Math.fround(minval);
  const hi = Math.fround(maxval);
  if (!(lo < hi)) {
    throw new Error(`${fn}: minval must be less than maxval (as float32), got minval=${minval}, maxval=${maxval}`);
  }
  return [lo, hi];
}

/** Uniform float32 samples in [minval, maxval), like `jax.random.uniform`, as a Float32Array. */
export function uniformArray(key: Key, shape: readonly number[] = [], opts: UniformOptions = {}): Float32Array {
  checkKey('uniformArray', key);
  checkNoVmapAxes('uniformArray', key);
  const n = sizeOf(checkShape('uniformArray', shape));
  const [lo, hi] = uniformBounds('uniformArray', opts);
  return mapKeys(key, n, Float32Array, (k0, k1, out, off) => uniformInto(k0, k1, n, out, off, lo, hi));
}

/** Uniform float32 samples in [minval, maxval), like `jax.random.uniform`; shape `[...key.shape, ...shape]`. */
export function uniform(key: Key, shape: readonly number[] = [], opts: UniformOptions = {}): tf.Tensor {
  checkKey('uniform', key);
  const s = checkShape('uniform', shape);
  const [lo, hi] = uniformBounds('uniform', opts);
  const n = sizeOf(s);
  return sampleTensor(key, (k) => tf.tensor(mapKeys(k, n, Float32Array, (k0, k1, o, off) => uniformInto(k0, k1, n, o, off, lo, hi)), [...k.shape, ...s], 'float32'));
}
