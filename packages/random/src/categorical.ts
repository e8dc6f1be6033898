import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { mapKeys } from './bits.js';
import { gumbelInto } from './gumbel.js';
import type { Key } from './key.js';
import { readInput, stridesOf, type ArrayInputLike } from './tensor-input.js';
import { checkAxis, checkKey, checkShape, sizeOf } from './validate.js';

export interface CategoricalOptions {
  /** Axis of `logits` that indexes the categories (default -1). */
  axis?: number;
  /**
   * Result shape (default: logits.shape without `axis`). Its trailing dims must broadcast against
   * the batch shape; leading extra dims draw independent samples.
   */
  shape?: readonly number[];
  /** Sample with replacement (default true); without, the leading dims count distinct categories (Gumbel top-k). */
  replace?: boolean;
}

/** Broadcast `a` and `b` (numpy rules) or undefined if they do not broadcast. */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** First index of the maximum (NaN counts as the maximum), like jnp.argmax. */
function argmaxStrided(v: Float32Array, start: number, stride: number, count: number): number {
  let best = 0;
  let bestV = v[start]!;
  for (let k = 1; k < count && !Number.isNaN(bestV); k++) {
    const x = v[start + k * stride]!;
    if (x > bestV || Number.isNaN(x)) {
      best = k;
      bestV = x;
    }
  }
  return best;
}

function sample(fn: string, key: Key, logits: unknown, opts: CategoricalOptions): [Int32Array, number[]] {
  checkKey(fn, key);
  const input = readInput(fn, 'logits', logits);
  const lshape = input.shape;
  if (lshape.length === 0) throw new Error(`${fn}: logits must have rank >= 1, got a scalar`);
  const axis = checkAxis(fn, opts.axis ?? -1, lshape.length);
  const K = lshape[axis]!;
  if (K < 1) throw new Error(`${fn}: logits must have at least one category along axis ${axis}`);
  const batch = lshape.filter((_, i) => i !== axis);
  const shape = opts.shape === undefined ? batch : checkShape(fn, opts.shape);
  const replace = opts.replace ?? true;
  const b = broadcastShapes(shape, batch);
  if (shape.length < batch.length || b === undefined || b.some((d, i) => d !== shape[i])) {
    throw new Error(`${fn}: shape [${shape.join(',')}] must be broadcast-compatible with, and at least as large as, the logits batch shape [${batch.join(',')}]`);
  }
  const lvals = Float32Array.from(input.values);
  const prefix = shape.slice(0, shape.length - batch.length);
  const size = sizeOf(shape);

  if (replace) {
    // Gumbel-max: argmax over the categories of gumbel(prefix + logits-shaped) + logits (broadcast).
    const trailing = shape.slice(prefix.length);
    const gshape = [...prefix, ...trailing.slice(0, axis), K, ...trailing.slice(axis)];
    const gsize = sizeOf(gshape);
    const gstrides = stridesOf(gshape);
    const lstrides = stridesOf(lshape);
    const kStride = gstrides[prefix.length + axis]!;
    const out = mapKeys(key, size, Int32Array, (k0, k1, o, off) => {
      const g = new Float32Array(gsize);
      gumbelInto(k0, k1, gsize, g, 0);
      for (let gi = 0; gi < gsize; gi++) {
        // Add the logit this element broadcasts against.
        let li = 0;
        let rest = gi;
        for (let d = 0; d < gshape.length; d++) {
          const coord = Math.floor(rest / gstrides[d]!);
          rest -= coord * gstrides[d]!;
          const ld = d - prefix.length; // logits dim
          if (ld >= 0 && lshape[ld] !== 1) li += coord * lstrides[ld]!;
        }
        g[gi] = g[gi]! + lvals[li]!;
      }
      for (let oi = 0; oi < size; oi++) {
        // Output index -> the first gumbel element of its category fiber.
        const outer = Math.floor(oi / Math.max(1, sizeOf(shape.slice(prefix.length + axis))));
        const inner = oi % Math.max(1, sizeOf(shape.slice(prefix.length + axis)));
        o[off + oi] = argmaxStrided(g, outer * K * kStride + inner, kStride, K);
      }
    });
    return [out, shape];
  }

  // Without replacement: top-k of logits + gumbel(logits.shape) along the axis, k = prod(prefix).
  const k = sizeOf(prefix);
  if (batch.some((d, i) => d !== shape[prefix.length + i])) {
    throw new Error(`${fn}: without replacement, shape must end with the logits batch shape [${batch.join(',')}], got [${shape.join(',')}]`);
  }
  if (k > K) throw new Error(`${fn}: number of samples without replacement (${k}) cannot exceed number of categories (${K})`);
  const lsize = lvals.length;
  const kStride = stridesOf(lshape)[axis]!;
  const bsize = sizeOf(batch);
  const out = mapKeys(key, size, Int32Array, (k0, k1, o, off) => {
    const g = new Float32Array(lsize);
    gumbelInto(k0, k1, lsize, g, 0);
    for (let i = 0; i < lsize; i++) g[i] = lvals[i]! + g[i]!;
    for (let bi = 0; bi < bsize; bi++) {
      const outer = Math.floor(bi / kStride);
      const start = outer * K * kStride + (bi % kStride);
      const order = Array.from({ length: K }, (_, j) => j);
      const val = (j: number) => g[start + j * kStride]!;
      order.sort((i, j) => (val(j) > val(i) ? 1 : val(j) < val(i) ? -1 : i - j));
      for (let j = 0; j < k; j++) o[off + j * bsize + bi] = order[j]!;
    }
  });
  return [out, shape];
}

/** Like `jax.random.categorical`: category indices (int32) sampled from unnormalised log-probabilities, as an Int32Array. */
export function categoricalArray(key: Key, logits: ArrayInputLike, opts: CategoricalOptions = {}): Int32Array {
  checkNoVmapAxes('categoricalArray', key);
  return sample('categoricalArray', key, logits, opts)[0];
}

/**
 * Like `jax.random.categorical` (Gumbel-max with replacement, Gumbel top-k without): int32
 * category indices; shape `[...key.shape, ...shape]`. Logits are read to JS with dataSync().
 */
export function categorical(key: Key, logits: ArrayInputLike, opts: CategoricalOptions = {}): tf.Tensor {
  return sampleTensor(key, (k) => {
    const [out, shape] = sample('categorical', k, logits, opts);
    return tf.tensor(out, [...k.shape, ...shape], 'int32');
  });
}
