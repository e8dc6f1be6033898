import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cond, expectNoLeaks, grad, scan, vmap } from '../src/index.js';
import { BACKENDS, relErr, useBackend, values } from './helpers.js';

describe.each(BACKENDS)('scan (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it('carries a pytree and stacks outputs (cumulative sum and product)', () => {
    const xs = tf.tensor1d([1, 2, 3, 4]);
    const init = { s: tf.scalar(0), p: tf.scalar(1) };
    const [carry, ys] = expectNoLeaks(
      () => scan((c: { s: tf.Tensor; p: tf.Tensor }, x: tf.Tensor) => {
        const s = tf.add(c.s, x);
        const p = tf.mul(c.p, x);
        return [{ s, p }, { s, twice: tf.mul(s, 2) }] as const;
      }, init, xs),
      { keepResult: true },
    );
    expect(values(carry.s)).toEqual([10]);
    expect(values(carry.p)).toEqual([24]);
    expect(values(ys.s)).toEqual([1, 3, 6, 10]);
    expect(values(ys.twice)).toEqual([2, 6, 12, 20]);
    tf.dispose([xs, carry, ys, init]);
  });

  it('runs with length and no xs, in reverse, and leaves the init alone', () => {
    const init = tf.scalar(1);
    const [c, ys] = scan((k: tf.Tensor, _x: null) => [tf.mul(k, 3), k] as const, init, null, { length: 3 });
    expect(values(c)).toEqual([27]);
    expect(values(ys)).toEqual([1, 3, 9]);
    expect(init.isDisposed).toBe(false);
    const xs = tf.tensor1d([1, 2, 3]);
    const [c2, ys2] = scan((k: tf.Tensor, x: tf.Tensor) => [tf.add(tf.mul(k, 10), x), k] as const, tf.scalar(0), xs, { reverse: true });
    expect(values(c2)).toEqual([321]);
    expect(values(ys2)).toEqual([32, 3, 0]); // stacked in xs order, as jax.lax.scan does
    tf.dispose([init, c, ys, xs, c2, ys2]);
  });

  it('is differentiable end to end (gradient of an unrolled recurrence)', () => {
    // h_{t+1} = tanh(w h_t + x_t), loss = sum_t h_t²; check dL/dw against finite differences.
    const xs = tf.tensor1d([0.5, -0.2, 0.8, 0.1, -0.4]);
    const loss = (w: tf.Tensor) => {
      const [, hs] = scan((h: tf.Tensor, x: tf.Tensor) => {
        const n = tf.tanh(tf.add(tf.mul(w, h), x));
        return [n, n] as const;
      }, tf.scalar(0.3), xs);
      return tf.sum(tf.square(hs)) as tf.Scalar;
    };
    const w = tf.scalar(0.7);
    const g = expectNoLeaks(() => grad(loss)(w), { keepResult: true }) as tf.Tensor;
    const e = 1e-2;
    const fd = tf.tidy(() => (loss(tf.scalar(0.7 + e)).dataSync()[0]! - loss(tf.scalar(0.7 - e)).dataSync()[0]!) / (2 * e));
    expect(values(g)[0]).toBeCloseTo(fd, 3);
    // And second order through the whole scan.
    const g2 = grad((u: tf.Tensor) => grad(loss)(u) as tf.Scalar)(w) as tf.Tensor;
    const fd2 = tf.tidy(() => ((grad(loss)(tf.scalar(0.7 + e)) as tf.Tensor).dataSync()[0]! - (grad(loss)(tf.scalar(0.7 - e)) as tf.Tensor).dataSync()[0]!) / (2 * e));
    expect(values(g2)[0]).toBeCloseTo(fd2, 2);
    tf.dispose([xs, w, g, g2]);
  });

  it('stays flat over 1000 steps and works inside vmap', () => {
    const before = tf.memory().numTensors;
    const zero = tf.scalar(0);
    const [c, ys] = scan((k: tf.Tensor, _x: null) => [tf.add(tf.mul(k, 0.999), 0.001), tf.scalar(0)] as const, zero, null, { length: 1000 });
    expect(values(c)[0]).toBeCloseTo(1 - 0.999 ** 1000, 4);
    tf.dispose([c, ys, zero]);
    expect(tf.memory().numTensors).toBe(before);
    const xs = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const sums = vmap((row: tf.Tensor) => scan((s: tf.Tensor, x: tf.Tensor) => [tf.add(s, x), s] as const, tf.scalar(0), row)[0])(xs);
    expect(values(sums)).toEqual([6, 15]);
    tf.dispose([xs, sums]);
  });

  it('rejects mismatched xs', () => {
    const a = tf.zeros([3]);
    const b = tf.zeros([4]);
    expect(() => scan((c: tf.Tensor, x: { a: tf.Tensor; b: tf.Tensor }) => [c, x.a] as const, tf.scalar(0), { a, b })).toThrow(
      'scan: xs at b has leading axis 4, expected 3',
    );
    expect(() => scan((c: tf.Tensor) => [c, c] as const, tf.scalar(0), null)).toThrow('scan: give xs or opts.length');
    tf.dispose([a, b]);
  });
});

describe.each(BACKENDS)('cond (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it('picks a branch statically, and selects under grad and vmap', () => {
    const x = tf.scalar(2);
    const sq = (t: tf.Tensor) => tf.square(t);
    const cube = (t: tf.Tensor) => tf.pow(t, 3);
    expect(values(cond(true, sq, cube, x))).toEqual([4]);
    const f = (t: tf.Tensor) => cond(tf.greater(t, 1), sq, cube, t) as tf.Scalar;
    expect(values(grad(f)(x) as tf.Tensor)).toEqual([4]);
    expect(values(grad(f)(tf.scalar(0.5)) as tf.Tensor)[0]).toBeCloseTo(0.75, 6);
    const xs = tf.tensor1d([0.5, 2, -1]);
    const out = vmap((t: tf.Tensor) => cond(tf.greater(t, 1), sq, cube, t))(xs);
    expect(relErr(out, [0.125, 4, -1])).toBeLessThan(1e-7);
    tf.dispose([x, xs, out]);
  });
});
