import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { cumsum32, log32 } from './f32.js';
import { gumbelInto } from './gumbel.js';
import type { Key } from './key.js';
import { shuffleIndices } from './permutation.js';
import { randintInto } from './randint.js';
import { readInput, takeAlong, type ArrayInput, type ArrayInputLike, type Values } from './tensor-input.js';
import { uniformInto } from './uniform.js';
import { checkAxis, checkInt, checkKey, checkShape, show, sizeOf } from './validate.js';

export interface ChoiceOptions {
  /** Sample with replacement (default true). */
  replace?: boolean;
  /** Probabilities of the n entries (default uniform); non-negative, not necessarily normalised. */
  p?: ArrayInputLike;
  /** Axis of an array `a` to choose along (default 0). */
  axis?: number;
}

/** Top-k indices by value, descending, lower index first among equal values (XLA TopK). */
function topK(values: Float32Array, k: number): Int32Array {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((i, j) => (values[j]! > values[i]! ? 1 : values[j]! < values[i]! ? -1 : i - j));
  return Int32Array.from(order.slice(0, k));
}

/** The `draws` chosen indices into 0..n-1 for one key, with jax's `choice` algorithms. */
function chooseIndices(k0: number, k1: number, n: number, draws: number, replace: boolean, p: Float32Array | undefined): Int32Array {
  const ind = new Int32Array(draws);
  if (p === undefined) {
    if (replace) randintInto(k0, k1, draws, ind, 0, 0, n);
    else ind.set(shuffleIndices(k0, k1, [n], 0).subarray(0, draws));
    return ind;
  }
  if (replace) {
    // Inverse CDF: r = total * (1 - u), index = first i with cdf[i] >= r (searchsorted, side left).
    const cdf = cumsum32(p);
    const total = cdf[n - 1]!;
    const u = new Float32Array(draws);
    uniformInto(k0, k1, draws, u, 0, 0, 1);
    for (let d = 0; d < draws; d++) {
      const r = Math.fround(total * Math.fround(1 - u[d]!));
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! < r) lo = mid + 1;
        else hi = mid;
      }
      ind[d] = lo;
    }
    return ind;
  }
  // Gumbel top-k: the `draws` largest of gumbel + log(p).
  const g = new Float32Array(n);
  gumbelInto(k0, k1, n, g, 0);
  for (let i = 0; i < n; i++) g[i] = g[i]! + log32(p[i]!);
  return topK(g, draws);
}

function parse(fn: string, key: Key, a: unknown, shape: readonly number[], opts: ChoiceOptions) {
  checkKey(fn, key);
  const s = checkShape(fn, shape);
  let input: ArrayInput | undefined;
  let n: number;
  let axis = 0;
  if (typeof a === 'number') {
    n = checkInt(fn, 'a', a, 0, 0x7fffffff);
  } else {
    input = readInput(fn, 'a', a);
    if (input.shape.length === 0) throw new Error(`${fn}: a must be an integer or an array of rank >= 1, got a scalar tensor`);
    axis = checkAxis(fn, opts.axis ?? 0, input.shape.length);
    n = input.shape[axis]!;
  }
  const draws = sizeOf(s);
  const replace = opts.replace ?? true;
  if (typeof replace !== 'boolean') throw new Error(`${fn}: replace must be a boolean, got ${show(replace)}`);
  if (draws > 0 && n <= 0) throw new Error(`${fn}: a must be greater than 0 unless no samples are taken, got n=${n}`);
  if (!replace && draws > n) {
    throw new Error(`${fn}: cannot take a larger sample (size ${draws}) than the population (size ${n}) when replace is false`);
  }
  let p: Float32Array | undefined;
  if (opts.p !== undefined) {
    const pin = readInput(fn, 'p', opts.p);
    if (pin.shape.length !== 1 || pin.shape[0] !== n) {
      throw new Error(`${fn}: p must be a 1-D array with the same size as a (${n}), got shape [${pin.shape.join(',')}]`);
    }
    p = Float32Array.from(pin.values);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (!(p[i]! >= 0) || p[i] === Infinity) throw new Error(`${fn}: p must hold finite non-negative probabilities, got p[${i}]=${p[i]}`);
      sum += p[i]!;
    }
    if (draws > 0 && !(sum > 0)) throw new Error(`${fn}: p must have a positive sum`);
  }
  return { s, input, n, axis, draws, replace, p };
}

/** Like `jax.random.choice(key, n, shape, replace, p)` for an integer population: int32 indices. */
export function choiceArray(key: Key, n: number, shape: readonly number[] = [], opts: ChoiceOptions = {}): Int32Array {
  checkNoVmapAxes('choiceArray', key);
  if (typeof n !== 'number') throw new Error(`choiceArray: n must be an integer, got ${show(n)}`);
  const c = parse('choiceArray', key, n, shape, opts);
  const out = new Int32Array(key.size * c.draws);
  for (let b = 0; b < key.size; b++) {
    if (c.draws > 0) out.set(chooseIndices(key.data[2 * b]!, key.data[2 * b + 1]!, c.n, c.draws, c.replace, c.p), b * c.draws);
  }
  return out;
}

/**
 * Like `jax.random.choice`: samples from `arange(a)` (integer `a`, int32 result) or from the slices
 * of an array `a` along `axis` (result shape `a.shape[:axis] + shape + a.shape[axis+1:]`), with or
 * without replacement, optionally weighted by `p`. Shape `[...key.shape, ...result shape]`.
 */
export function choice(
  key: Key,
  a: number | ArrayInputLike,
  shape: readonly number[] = [],
  opts: ChoiceOptions = {},
): tf.Tensor {
  const c = parse('choice', key, a, shape, opts);
  const input = c.input;
  const resultShape = input ? [...input.shape.slice(0, c.axis), ...c.s, ...input.shape.slice(c.axis + 1)] : c.s;
  const size = sizeOf(resultShape);
  const ctor = (input ? input.values.constructor : Int32Array) as new (len: number) => Values;
  return sampleTensor(key, (k) => {
    const out = new ctor(k.size * size);
    for (let b = 0; b < k.size && size > 0; b++) {
      const ind = chooseIndices(k.data[2 * b]!, k.data[2 * b + 1]!, c.n, c.draws, c.replace, c.p);
      out.set(input ? takeAlong(input, ind, c.axis) : ind, b * size);
    }
    return tf.tensor(out, [...k.shape, ...resultShape], input ? input.dtype : 'int32');
  });
}
