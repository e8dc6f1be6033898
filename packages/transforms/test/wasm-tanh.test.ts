import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { grad, initBackend } from '../src/index.js';
import { hvpVsFiniteDifference, relErr } from './helpers.js';

/** The gap between |v| (as float32) and the next float32 up. */
const ulp = (v: number) => {
  const f = Float32Array.of(Math.abs(v));
  const a = f[0]!;
  new Uint32Array(f.buffer)[0]!++;
  return f[0]! - a;
};
const xs = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * (i % 7) * 1.5);

describe('wasm SIMD Tanh', () => {
  it.each([1, 3, 4, 5, 17, 129, 1000])("matches Math.tanh within 2 float32 ulps (%i elements)", async (n) => {
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    const x = xs(n);
    const got = tf.tidy(() => Array.from(tf.tanh(tf.tensor(x)).dataSync()));
    x.forEach((v, i) => expect(Math.abs(got[i]! - Math.tanh(v)) / ulp(Math.tanh(v))).toBeLessThan(2));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is within 2 float32 ulps over [-10, 10] (gradients use 1 - tanh², which magnifies errors near ±1)', async () => {
    await initBackend('wasm');
    const x = Float32Array.from({ length: 20001 }, (_, i) => (i - 10000) / 1000);
    const got = tf.tidy(() => tf.tanh(tf.tensor(x)).dataSync());
    let worst = 0;
    x.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - Math.tanh(v)) / ulp(Math.tanh(v)))));
    expect(worst).toBeLessThan(2);
  });

  it('keeps NaN, ±Infinity, -0 and tiny values', async () => {
    await initBackend('wasm');
    const got = tf.tidy(() => Array.from(tf.tanh(tf.tensor([NaN, Infinity, -Infinity, -0, 1e-30, -3e-4, 20, -9])).dataSync()));
    expect(got[0]).toBeNaN();
    expect(got.slice(1, 4)).toEqual([1, -1, -0]);
    expect(got.slice(4)).toEqual([1e-30, -3e-4, 20, -9].map((v) => Math.fround(Math.tanh(Math.fround(v)))));
  });

  it('gives cpu gradients, and second order that matches finite differences', async () => {
    const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.mul(x, 1.3)), tf.tanh(x))) as tf.Scalar;
    const run = () => tf.tidy(() => Array.from((grad(f)(tf.tensor(xs(9))) as tf.Tensor).dataSync()));
    await initBackend('cpu');
    const ref = run();
    await initBackend('wasm');
    expect(relErr(run(), ref)).toBeLessThan(1e-6);
    const { hvp, fd } = tf.tidy(() => hvpVsFiniteDifference(f, tf.tensor(xs(9)).mul(0.5), tf.tensor(xs(9).map((v) => Math.cos(v)))));
    expect(relErr(hvp, fd)).toBeLessThan(1e-3);
  });
});
