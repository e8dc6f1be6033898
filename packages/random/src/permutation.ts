import * as tf from '@tensorflow/tfjs';
import { checkNoVmapAxes, sampleTensor } from './batching.js';
import { bitsInto, mapKeys } from './bits.js';
import type { Key } from './key.js';
import { readInput, stridesOf, takeAlong, type ArrayInputLike, type Values } from './tensor-input.js';
import { hashIotaInto } from './threefry.js';
import { checkAxis, checkInt, checkKey, show } from './validate.js';

const LOG_UINT32_MAX = Math.log(0xffffffff);

/**
 * Number of sort rounds jax's `_shuffle` uses for `size` elements: enough that 32-bit sort keys
 * are unlikely to collide in every round (tjablin's heuristic, exponent 3).
 */
export function shuffleRounds(size: number): number {
  return Math.ceil((3 * Math.log(Math.max(1, size))) / LOG_UINT32_MAX);
}

/**
 * jax's `_shuffle` on an array of `shape`, along `axis`: each round splits the key, draws one
 * uint32 sort key per element, and stably sorts every fiber along `axis` by its keys. Returns the
 * source flat index of each output element.
 */
export function shuffleIndices(k0: number, k1: number, shape: readonly number[], axis: number): Int32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const src = new Int32Array(size);
  for (let i = 0; i < size; i++) src[i] = i;
  if (size === 0) return src;
  const n = shape[axis]!;
  const stride = stridesOf(shape)[axis]!;
  const sortKeys = new Uint32Array(size);
  const keys = new Uint32Array(4);
  const order = new Array<number>(n);
  const fiber = new Int32Array(n);
  let ka = k0;
  let kb = k1;
  for (let round = shuffleRounds(size); round > 0; round--) {
    hashIotaInto(ka, kb, 4, keys, 0); // key, subkey = split(key)
    ka = keys[0]!;
    kb = keys[1]!;
    bitsInto(keys[2]!, keys[3]!, size, sortKeys, 0);
    for (let start = 0; start < size; start++) {
      // Visit each fiber once, from its first element (index along axis = 0).
      if (Math.floor(start / stride) % n !== 0) continue;
      for (let j = 0; j < n; j++) order[j] = j;
      order.sort((i, j) => sortKeys[start + i * stride]! - sortKeys[start + j * stride]! || i - j);
      for (let j = 0; j < n; j++) fiber[j] = src[start + order[j]! * stride]!;
      for (let j = 0; j < n; j++) src[start + j * stride] = fiber[j]!;
    }
  }
  return src;
}

/** A random permutation of 0..n-1, like `jax.random.permutation(key, n)`, as an Int32Array. */
export function permutationArray(key: Key, n: number): Int32Array {
  checkNoVmapAxes('permutationArray', key);
  return permutationValues(key, n);
}

function permutationValues(key: Key, n: number): Int32Array {
  checkKey('permutationArray', key);
  checkInt('permutationArray', 'n', n, 0, 0x7fffffff);
  return mapKeys(key, n, Int32Array, (k0, k1, out, off) => out.set(shuffleIndices(k0, k1, [n], 0), off));
}

export interface PermutationOptions {
  /** Axis to shuffle along (default 0). */
  axis?: number;
  /** Shuffle each fiber along `axis` independently (default false: one permutation of the slices). */
  independent?: boolean;
}

/**
 * Like `jax.random.permutation`: an integer `x` gives a shuffled `arange(x)` (int32); an array
 * (tf.Tensor, typed array or nested numbers) gives its elements shuffled along `axis`, same dtype.
 * Shape `[...key.shape, ...x.shape]`.
 */
export function permutation(key: Key, x: number | ArrayInputLike, opts: PermutationOptions = {}): tf.Tensor {
  checkKey('permutation', key);
  if (typeof x === 'number') {
    const n = checkInt('permutation', 'x', x, 0, 0x7fffffff);
    if ((opts.axis ?? 0) !== 0) throw new Error(`permutation: axis must be 0 for an integer x, got ${show(opts.axis)}`);
    return sampleTensor(key, (k) => tf.tensor(permutationValues(k, n), [...k.shape, n], 'int32'));
  }
  const input = readInput('permutation', 'x', x);
  if (input.shape.length === 0) throw new Error('permutation: x must be an integer or an array of rank >= 1, got a scalar tensor');
  const axis = checkAxis('permutation', opts.axis ?? 0, input.shape.length);
  const size = input.values.length;
  const ctor = input.values.constructor as new (len: number) => Values;
  return sampleTensor(key, (k) => {
  const out = new ctor(k.size * size);
  for (let b = 0; b < k.size; b++) {
    const k0 = k.data[2 * b]!;
    const k1 = k.data[2 * b + 1]!;
    if (opts.independent === true || input.shape.length === 1) {
      const src = shuffleIndices(k0, k1, input.shape, axis);
      for (let i = 0; i < size; i++) out[b * size + i] = input.values[src[i]!]!;
    } else {
      // One permutation of the slices along `axis`, shared by all of them (jax shuffles an arange).
      out.set(takeAlong(input, shuffleIndices(k0, k1, [input.shape[axis]!], 0), axis), b * size);
    }
  }
  return tf.tensor(out, [...k.shape, ...input.shape], input.dtype);
  });
}
