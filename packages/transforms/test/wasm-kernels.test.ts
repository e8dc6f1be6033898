import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.js';
import { relErr } from './helpers.js';

type Case = [string, () => tf.Tensor | tf.Tensor[]];

const data = (shape: number[], seed: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 2), shape);
};

// lopt replaces wasm's Slice/Unpack/SplitV (whole-input copies) and BatchMatMul (naive loop
// outside XNNPACK's one case). Each case runs on cpu and on wasm and must give the same numbers.
const CASES: Case[] = [
  ['slice 1-D', () => tf.slice(data([10], 1), [3], [4])],
  ['slice rows (contiguous)', () => tf.slice(data([5, 4, 3], 2), [1, 0, 0], [3, -1, -1])],
  ['slice inner (strided)', () => tf.slice(data([5, 4, 3], 3), [1, 1, 1], [2, 2, 2])],
  ['slice rank 5', () => tf.slice(data([2, 3, 2, 3, 2], 4), [1, 0, 1, 1, 0], [1, 3, 1, 2, 2])],
  ['slice int32', () => tf.slice(tf.cast(tf.mul(data([4, 4], 5), 10), 'int32'), [1, 1], [2, 3])],
  ['slice bool', () => tf.slice(tf.greater(data([4, 4], 6), 0), [0, 2], [4, 2])],
  ['unstack axis 0', () => tf.unstack(data([3, 4, 2], 7))],
  ['unstack axis 1', () => tf.unstack(data([3, 4, 2], 8), 1)],
  ['unstack axis 2', () => tf.unstack(data([3, 4, 2], 9), 2)],
  ['split sizes', () => tf.split(data([3, 7], 10), [2, 4, 1], 1)],
  ['split even axis 0', () => tf.split(data([6, 2], 11), 3, 0)],
  ['equal broadcast', () => tf.equal(tf.round(data([3, 4, 5], 32)), tf.round(data([3, 4, 1], 33)))],
  ['greater broadcast (rank differs)', () => tf.greater(data([2, 3, 4], 34), data([4], 35))],
  ['lessEqual broadcast both ways', () => tf.lessEqual(data([3, 1], 36), data([1, 4], 37))],
  ['notEqual int32 broadcast', () => tf.notEqual(tf.cast(tf.round(data([4, 3], 38)), 'int32'), tf.cast(tf.round(data([3], 39)), 'int32'))],
  ['matMul plain', () => tf.matMul(data([5, 4], 12), data([4, 3], 13))],
  ['matMul A^T', () => tf.matMul(data([4, 5], 14), data([4, 3], 15), true, false)],
  ['matMul B^T', () => tf.matMul(data([5, 4], 16), data([3, 4], 17), false, true)],
  ['matMul A^T B^T', () => tf.matMul(data([4, 5], 18), data([3, 4], 19), true, true)],
  ['matMul batched x shared', () => tf.matMul(data([3, 5, 4], 20), data([4, 2], 21))],
  ['matMul shared x batched', () => tf.matMul(data([5, 4], 22), data([3, 4, 2], 23))],
  ['matMul batched x batched', () => tf.matMul(data([3, 5, 4], 24), data([3, 4, 2], 25))],
  ['matMul batched transposed', () => tf.matMul(data([3, 4, 5], 26), data([3, 2, 4], 27), true, true)],
  ['matMul [1,B] batch dims', () => tf.matMul(data([1, 3, 5, 4], 30), data([4, 6], 31))],
];

describe('lopt wasm kernels match cpu', () => {
  it.each(CASES)('%s', async (_name, make) => {
    await initBackend('cpu');
    const ref = tf.tidy(make);
    const refs = (Array.isArray(ref) ? ref : [ref]).map((t) => ({ shape: t.shape, dtype: t.dtype, v: Array.from(t.dataSync()) }));
    tf.dispose(ref);
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    const got = tf.tidy(make);
    const gots = Array.isArray(got) ? got : [got];
    expect(gots.length).toBe(refs.length);
    gots.forEach((g, i) => {
      expect(g.shape).toEqual(refs[i]!.shape);
      expect(g.dtype).toBe(refs[i]!.dtype);
      expect(relErr(Array.from(g.dataSync()), refs[i]!.v)).toBeLessThan(1e-6);
    });
    tf.dispose(got);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('lopt wasm BatchMatMul broadcasting', () => {
  it('broadcasts batch dims on both sides ([2,1] x [1,3]), which tfjs cpu does not', async () => {
    await initBackend('wasm');
    const a = data([2, 1, 5, 4], 28);
    const b = data([1, 3, 4, 2], 29);
    const got = tf.matMul(a, b);
    const ref = tf.matMul(tf.broadcastTo(a, [2, 3, 5, 4]), tf.broadcastTo(b, [2, 3, 4, 2]));
    expect(got.shape).toEqual([2, 3, 5, 2]);
    expect(relErr(got, ref)).toBeLessThan(1e-6);
    tf.dispose([a, b, got, ref]);
  });
});
