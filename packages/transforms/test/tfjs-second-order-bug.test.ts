import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

// Documents the tfjs behaviour lopt fixes (tfjs issue 3252), with lopt's fixes NOT installed:
// this file never calls initBackend or a lopt transform. If tfjs ever fixes it, this test fails
// and the workaround can be revisited.
describe('raw tfjs second derivatives (without lopt)', () => {
  beforeAll(async () => {
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
  });

  it('gets d²/dx² [x tanh(x)] wrong because the saved output is treated as a constant', () => {
    const x = 0.8;
    const f = (t: tf.Tensor) => tf.mul(t, tf.tanh(t));
    const d2 = tf.grad(tf.grad(f) as (t: tf.Tensor) => tf.Tensor)(tf.scalar(x));
    const th = Math.tanh(x);
    const exact = 2 * (1 - th ** 2) - 2 * x * th * (1 - th ** 2);
    // tfjs drops the term that flows through tanh's saved output and returns 2(1 - tanh²x).
    expect(d2.dataSync()[0]).toBeCloseTo(2 * (1 - th ** 2), 5);
    expect(Math.abs(d2.dataSync()[0]! - exact) / exact).toBeGreaterThan(1);
    d2.dispose();
  });

  it('cannot differentiate max twice (Equal has no gradient)', () => {
    const f = (t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.mul(tf.max(u), tf.max(u)) as tf.Scalar)(t);
    expect(() => tf.grad((t: tf.Tensor) => tf.sum(f(t)) as tf.Scalar)(tf.tensor1d([1, 3, 2]))).toThrow(/gradient function not found for Equal/);
  });
});
