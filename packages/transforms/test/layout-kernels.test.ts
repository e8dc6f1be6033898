import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, relErr, useBackend } from '@lopt/test-utils';
import { runtime } from '../src/runtime.js';

/** Runs `fn` with tfjs' own kernels for the layout ops on `backend`, then puts lopt's back. */
function withTfjsKernels<T>(backend: string, fn: () => T): T {
  const originals = runtime().tfjsKernels.get(backend)!;
  const mine = new Map<string, unknown>();
  for (const [name, k] of originals) {
    mine.set(name, tf.getKernel(name, backend)!.kernelFunc);
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ kernelName: name, backendName: backend, kernelFunc: k as never });
  }
  try {
    return fn();
  } finally {
    for (const [name, k] of mine) {
      tf.unregisterKernel(name, backend);
      tf.registerKernel({ kernelName: name, backendName: backend, kernelFunc: k as never });
    }
  }
}

const data = (shape: number[], seed: number, dtype: 'float32' | 'int32' | 'bool' = 'float32') => {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 5);
  return dtype === 'float32' ? tf.tensor(v, shape) : dtype === 'int32' ? tf.tensor(Int32Array.from(v, Math.round), shape, 'int32') : tf.greater(tf.tensor(v, shape), 0);
};

type Case = [string, () => tf.Tensor | tf.Tensor[]];
const CASES: Case[] = [
  ['slice one axis (rows)', () => tf.slice(data([5, 4, 3], 1), [1, 0, 0], [3, -1, -1])],
  ['slice one axis (last, width 1)', () => tf.slice(data([6, 5, 3], 2), [0, 0, 2], [-1, -1, 1])],
  ['slice one axis (middle, wide rows)', () => tf.slice(data([2, 50, 40], 3), [0, 10, 0], [-1, 30, -1])],
  ['slice several axes', () => tf.slice(data([5, 4, 3], 4), [1, 1, 1], [2, 2, 2])],
  ['slice int32', () => tf.slice(data([4, 4], 5, 'int32'), [1, 1], [2, 3])],
  ['slice bool', () => tf.slice(data([4, 4], 6, 'bool'), [0, 2], [4, 2])],
  ['slice nothing cut', () => tf.slice(data([3, 2], 7), [0, 0], [-1, -1])],
  ['unstack axis 0', () => tf.unstack(data([3, 4, 2], 8))],
  ['unstack last axis of width 3', () => tf.unstack(data([8, 97, 3], 9), 2)],
  ['unstack middle axis', () => tf.unstack(data([3, 4, 2], 10), 1)],
  ['split last axis [1, 2]', () => tf.split(data([7, 3], 11), [1, 2], 1)],
  ['split even axis 0', () => tf.split(data([6, 2], 12), 3, 0)],
  ['split middle axis', () => tf.split(data([2, 9, 40], 13), [2, 3, 4], 1)],
  ['concat last axis (narrow)', () => tf.concat([data([50, 3], 14), data([50, 1], 15), data([50, 2], 16)], 1)],
  ['concat axis 0', () => tf.concat([data([2, 3], 17), data([4, 3], 18)], 0)],
  ['concat middle axis (wide)', () => tf.concat([data([2, 3, 40], 19), data([2, 5, 40], 20)], 1)],
  ['concat int32 with an empty part', () => tf.concat([data([3, 2], 21, 'int32'), tf.zeros([3, 0], 'int32'), data([3, 1], 22, 'int32')], 1)],
  ['stack on a new last axis', () => tf.stack([data([4, 5], 23), data([4, 5], 24), data([4, 5], 25)], 2)],
  ['stack on axis 0', () => tf.stack([data([4, 5], 26), data([4, 5], 27)], 0)],
  ['stack bool in the middle', () => tf.stack([data([3, 2], 28, 'bool'), data([3, 2], 29, 'bool')], 1)],
  ['tile leading', () => tf.tile(data([1, 40, 40], 30), [4, 1, 1])],
  ['tile inner and outer', () => tf.tile(data([2, 3], 31), [3, 2])],
  ['tile int32, one axis only inner', () => tf.tile(data([2, 3, 1], 32, 'int32'), [1, 1, 5])],
  ['transpose last two', () => tf.transpose(data([3, 17, 4], 33), [0, 2, 1])],
  ['transpose rank 4', () => tf.transpose(data([2, 3, 4, 5], 34), [3, 1, 0, 2])],
  ['transpose int32', () => tf.transpose(data([5, 6], 35, 'int32'))],
  ['sum middle axis', () => tf.sum(data([8, 97, 3], 36), 1)],
  ['sum middle axes keepDims', () => tf.sum(data([2, 5, 6, 3], 37), [1, 2], true)],
  ['sum leading axis', () => tf.sum(data([8, 40], 38), 0)],
  ['sum innermost (tfjs kernel)', () => tf.sum(data([8, 40], 39), 1)],
  ['sum all', () => tf.sum(data([3, 4], 40))],
];

describe.each(BACKENDS.filter((b) => b === 'cpu' || b === 'wasm'))('layout kernels on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('replaced tfjs kernels are kept for comparison', () => {
    const kept = [...runtime().tfjsKernels.get(backend)!.keys()].sort();
    expect(kept).toEqual(backend === 'cpu' ? ['Concat', 'Pack', 'Slice', 'SplitV', 'Sum', 'Tile', 'Transpose', 'Unpack'] : ['Concat', 'Pack', 'Slice', 'SplitV', 'Sum', 'Tile', 'Unpack']);
  });

  it.each(CASES)('%s: same values, shapes and dtypes as tfjs', (_name, f) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const mine = [f()].flat();
      const theirs = withTfjsKernels(backend, () => [f()].flat());
      expect(mine.length).toBe(theirs.length);
      mine.forEach((m, i) => {
        expect(m.shape).toEqual(theirs[i]!.shape);
        expect(m.dtype).toBe(theirs[i]!.dtype);
        const a = Array.from(m.dataSync() as ArrayLike<number>);
        const b = Array.from(theirs[i]!.dataSync() as ArrayLike<number>);
        // Sums accumulate in float64 here, in float32 in wasm's C++ kernel: a rounding-level difference.
        if (_name.startsWith('sum')) expect(relErr(a, b)).toBeLessThan(1e-5);
        else expect(a).toEqual(b);
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
