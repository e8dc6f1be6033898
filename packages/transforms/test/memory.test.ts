import * as tf from '@tensorflow/tfjs';
import { PRNGKey } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { countLeaks, customGradient, expectNoLeaks, grad, hvp, scope, stopGradient, vmap } from '../src/index.js';
import { BACKENDS, useBackend, values } from './helpers.js';

describe.each(BACKENDS)('memory scopes (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it('scope keeps the returned pytree and frees the rest', () => {
    const before = tf.memory().numTensors;
    const key = PRNGKey(0);
    const out = scope(() => {
      const a = tf.ones([2]);
      const b = tf.add(a, 1);
      return { b, n: 3, key, nothing: null, list: [tf.mul(b, 2)] };
    });
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(values(out.list[0]!)).toEqual([4, 4]);
    expect(out.key).toBe(key);
    tf.dispose([out.b, out.list[0]!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('expectNoLeaks reports leaks with counts', () => {
    let leaked: tf.Tensor | undefined;
    expect(() => expectNoLeaks(() => {
      leaked = tf.ones([1]);
      return tf.zeros([1]);
    }, { label: 'my update' })).toThrow(/my update: 1 tensor leaked \(numTensors \d+ before, \d+ after, result excluded\)/);
    leaked!.dispose();
    const { report } = countLeaks(() => tf.tidy(() => tf.ones([3])));
    expect(report.leaked).toBe(0);
  });
});

describe.each(BACKENDS)('stopGradient and customGradient (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it('stopGradient blocks gradients leaf by leaf, also at second order and under vmap', () => {
    const x = tf.scalar(3);
    const f = (t: tf.Tensor) => tf.mul(t, stopGradient({ a: t }).a) as tf.Scalar; // d/dt = stop(t) = 3
    expect(values(grad(f)(x) as tf.Tensor)).toEqual([3]);
    expect(values(grad((t: tf.Tensor) => grad(f)(t) as tf.Scalar)(x) as tf.Tensor)).toEqual([0]);
    const xs = tf.tensor1d([1, 2]);
    expect(values(vmap((t: tf.Tensor) => grad(f)(t))(xs) as tf.Tensor)).toEqual([1, 2]);
    tf.dispose([x, xs]);
  });

  it('customGradient over pytrees: value, custom vjp, and a differentiable backward', () => {
    // y = {s: a + b, p: a * b} with an (intentionally scaled) custom rule: da = 2 (ds + b dp), db = 2 (ds + a dp).
    const op = customGradient((a: tf.Tensor, b: tf.Tensor) => ({
      value: { s: tf.add(a, b), p: tf.mul(a, b) },
      grad: (d: { s: tf.Tensor; p: tf.Tensor }) => [tf.mul(2, tf.add(d.s, tf.mul(b, d.p))), tf.mul(2, tf.add(d.s, tf.mul(a, d.p)))] as [tf.Tensor, tf.Tensor],
    }));
    const a = tf.scalar(2);
    const b = tf.scalar(5);
    const out = op(a, b);
    expect(values(out.s)).toEqual([7]);
    expect(values(out.p)).toEqual([10]);
    const f = (x: tf.Tensor, y: tf.Tensor) => {
      const o = op(x, y);
      return tf.add(o.s, tf.mul(o.p, 3)) as tf.Scalar;
    };
    const [ga, gb] = expectNoLeaks(() => grad(f, { argnums: [0, 1] })(a, b), { keepResult: true }) as tf.Tensor[];
    expect(values(ga!)).toEqual([2 * (1 + 5 * 3)]);
    expect(values(gb!)).toEqual([2 * (1 + 2 * 3)]);
    // Second order goes through the custom backward: d/da [2 (1 + 3 b)] = 0, d/db = 6.
    const gg = grad((y: tf.Tensor) => grad(f, { argnums: 0 })(a, y) as tf.Scalar)(b) as tf.Tensor;
    expect(values(gg)).toEqual([6]);
    tf.dispose([a, b, out, ga!, gb!, gg]);
  });

  it('hvp of a quadratic form is A v', () => {
    const A = tf.tensor2d([[2, 1], [1, 3]]);
    const f = (x: tf.Tensor) => tf.mul(0.5, tf.sum(tf.mul(x, tf.squeeze(tf.matMul(A, tf.reshape(x, [2, 1])))))) as tf.Scalar;
    const h = hvp(f, tf.tensor1d([0.3, -0.2]), tf.tensor1d([1, 2]));
    expect(values(h)).toEqual([4, 7]);
    tf.dispose([A, h]);
  });
});
