import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { mapKeys } from './bits.js';
import { erf32, erfinv32, ftz32, nextAfter32 } from './f32.js';
import type { Key } from './key.js';
import { SQRT2_F32 } from './normal.js';
import { uniformInto } from './uniform.js';
import { checkKey, checkShape, show, sizeOf } from './validate.js';

// XLA rewrites jax's `lower / sqrt(2)` into a multiply by the float32 reciprocal.
const INV_SQRT2_F32 = Math.fround(1 / SQRT2_F32);

/** The uniform range [erf(lower/√2), erf(upper/√2)) that jax's `_truncated_normal` draws from. */
export function truncatedUniformRange(lower: number, upper: number): [number, number] {
  return [erf32(Math.fround(lower * INV_SQRT2_F32)), erf32(Math.fround(upper * INV_SQRT2_F32))];
}

/** `u -> √2 * erfinv(u)` clipped to the open interval (lower, upper), in place. */
export function uniformToTruncated(out: Float32Array, offset: number, n: number, lower: number, upper: number): void {
  const lo = ftz32(nextAfter32(lower, Infinity));
  const hi = ftz32(nextAfter32(upper, -Infinity));
  for (let i = offset; i < offset + n; i++) {
    const z = Math.fround(SQRT2_F32 * erfinv32(out[i]!));
    out[i] = Math.min(Math.max(z, lo), hi);
  }
}

/** Truncated standard normal samples into `out[offset ..)`, as jax's `_truncated_normal` computes them. */
export function truncatedNormalInto(
  k0: number,
  k1: number,
  n: number,
  out: Float32Array,
  offset: number,
  lower: number,
  upper: number,
): void {
  const [a, b] = truncatedUniformRange(lower, upper);
  uniformInto(k0, k1, n, out, offset, a, b);
  uniformToTruncated(out, offset, n, lower, upper);
}

function sample(fn: string, key: Key, lower: number, upper: number, shape: readonly number[]): [Float32Array, number[]] {
  checkKey(fn, key);
  const s = checkShape(fn, shape);
  for (const [name, v] of [['lower', lower], ['upper', upper]] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`${fn}: ${name} must be a number (±Infinity allowed), got ${show(v)}`);
  }
  const lo = Math.fround(lower);
  const hi = Math.fround(upper);
  if (!(lo < hi)) throw new Error(`${fn}: lower must be less than upper, got lower=${lower}, upper=${upper}`);
  const n = sizeOf(s);
  return [mapKeys(key, n, Float32Array, (k0, k1, o, off) => truncatedNormalInto(k0, k1, n, o, off, lo, hi)), s];
}

/** Standard normal samples truncated to (lower, upper), like `jax.random.truncated_normal`, as a Float32Array. */
export function truncatedNormalArray(key: Key, lower: number, upper: number, shape: readonly number[] = []): Float32Array {
  checkNoVmapAxes('truncatedNormalArray', key);
  return sample('truncatedNormalArray', key, lower, upper, shape)[0];
}

/** Standard normal samples truncated to (lower, upper), like `jax.random.truncated_normal`. */
export function truncatedNormal(key: Key, lower: number, upper: number, shape: readonly number[] = []): tf.Tensor {
  return sampleTensor(key, (k) => {
    const [out, s] = sample('truncatedNormal', k, lower, upper, shape);
    return tf.tensor(out, [...k.shape, ...s], 'float32');
  });
}
