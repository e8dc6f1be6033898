import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { grad, hvp } from '@lopt/transforms';
import { l2Loss, sigmoidBinaryCrossEntropy, softmaxCrossEntropy, softmaxCrossEntropyWithIntegerLabels, squaredError } from '../src/index.js';
import { BACKENDS, expectClose, values, useBackend } from '@lopt/test-utils';

const LOGITS = [
  [1, 2, 3],
  [0.5, -1, 0],
];
const lse = (r: number[]) => {
  const m = Math.max(...r);
  return m + Math.log(r.reduce((s, x) => s + Math.exp(x - m), 0));
};
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Hessian-vector product of a scalar function vs central differences of its gradient (Richardson). */
function expectHvp(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, v: tf.Tensor): void {
  const g = (y: tf.Tensor) => grad(f)(y) as tf.Tensor;
  const central = (h: number) => tf.tidy(() => values(tf.div(tf.sub(g(tf.add(x, tf.mul(v, h))), g(tf.sub(x, tf.mul(v, h)))), 2 * h)));
  const d1 = central(1e-2);
  const d2 = central(5e-3);
  const fd = d2.map((b, i) => (4 * b - d1[i]!) / 3);
  const hv = hvp(f, x, v) as tf.Tensor;
  expectClose(hv, fd, 2e-3, 2e-3);
  hv.dispose();
}

describe.each(BACKENDS)('losses on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('l2Loss and squaredError (elementwise, optax formulas)', () => {
    const p = tf.tensor1d([1, -2, 3]);
    const t = tf.tensor1d([0.5, 1, 3]);
    expectClose(l2Loss(p, t), [0.125, 4.5, 0]);
    expectClose(squaredError(p, t), [0.25, 9, 0]);
    expectClose(l2Loss(p), [0.5, 2, 4.5]);
    tf.dispose([p, t]);
  });

  it('softmax cross-entropy: one-hot and integer labels, -sum(labels log softmax)', () => {
    const logits = tf.tensor2d(LOGITS);
    const labels = tf.tensor2d([
      [0, 0, 1],
      [0.25, 0.25, 0.5],
    ]);
    const exp = [lse(LOGITS[0]!) - 3, lse(LOGITS[1]!) - (0.25 * 0.5 + 0.25 * -1 + 0.5 * 0)];
    expectClose(softmaxCrossEntropy(logits, labels), exp);
    const ints = tf.tensor1d([2, 0], 'int32');
    expectClose(softmaxCrossEntropyWithIntegerLabels(logits, ints), [lse(LOGITS[0]!) - 3, lse(LOGITS[1]!) - 0.5]);
    // optax's definition, with tf.logSoftmax (jax.nn.log_softmax) for the log-softmax.
    const viaLogSoftmax = tf.tidy(() => tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1)));
    expectClose(softmaxCrossEntropy(logits, labels), viaLogSoftmax);
    viaLogSoftmax.dispose();
    // Batched labels of rank 2.
    const l3 = tf.tensor3d([LOGITS, LOGITS]);
    const i2 = tf.tensor2d([[2, 0], [1, 1]], [2, 2], 'int32');
    expectClose(softmaxCrossEntropyWithIntegerLabels(l3, i2), [lse(LOGITS[0]!) - 3, lse(LOGITS[1]!) - 0.5, lse(LOGITS[0]!) - 2, lse(LOGITS[1]!) + 1]);
    tf.dispose([logits, labels, ints, l3, i2]);
  });

  it('stable for extreme logits', () => {
    const big = tf.tensor2d([[1000, 0, -1000]]);
    expectClose(softmaxCrossEntropyWithIntegerLabels(big, tf.tensor1d([1], 'int32')), [1000]);
    expectClose(softmaxCrossEntropy(big, tf.tensor2d([[1, 0, 0]])), [0]);
    const x = tf.tensor1d([-100, -1, 0, 2, 100]);
    const y = tf.tensor1d([1, 0, 1, 0.3, 0]);
    const yv = [1, 0, 1, 0.3, 0];
    expectClose(sigmoidBinaryCrossEntropy(x, y), [-100, -1, 0, 2, 100].map((v, i) => yv[i]! * softplus(-v) + (1 - yv[i]!) * softplus(v)), 1e-6, 1e-6);
    tf.dispose([big, x, y]);
  });

  it('gradients: softmax - labels; sigmoid - labels', () => {
    const logits = tf.tensor2d(LOGITS);
    const ints = tf.tensor1d([2, 0], 'int32');
    const g = grad((l: tf.Tensor) => tf.sum(softmaxCrossEntropyWithIntegerLabels(l, ints)) as tf.Scalar)(logits) as tf.Tensor;
    const sm = LOGITS.map((r) => r.map((x) => Math.exp(x - lse(r))));
    expectClose(g, [sm[0]![0]!, sm[0]![1]!, sm[0]![2]! - 1, sm[1]![0]! - 1, sm[1]![1]!, sm[1]![2]!]);
    const x = tf.tensor1d([-3, 0.5, 4]);
    const y = tf.tensor1d([1, 0, 0.5]);
    const gb = grad((z: tf.Tensor) => tf.sum(sigmoidBinaryCrossEntropy(z, y)) as tf.Scalar)(x) as tf.Tensor;
    expectClose(gb, [-3, 0.5, 4].map((v, i) => 1 / (1 + Math.exp(-v)) - [1, 0, 0.5][i]!));
    tf.dispose([logits, ints, g, x, y, gb]);
  });

  it('second order: Hessian-vector products match finite differences', () => {
    const logits = tf.tensor2d(LOGITS);
    const v = tf.tensor2d([
      [0.3, -1, 0.5],
      [1, 0.2, -0.7],
    ]);
    const ints = tf.tensor1d([2, 0], 'int32');
    const labels = tf.tensor2d([
      [0, 0, 1],
      [0.25, 0.25, 0.5],
    ]);
    expectHvp((l) => tf.sum(softmaxCrossEntropyWithIntegerLabels(l, ints)) as tf.Scalar, logits, v);
    expectHvp((l) => tf.sum(softmaxCrossEntropy(l, labels)) as tf.Scalar, logits, v);
    const y = tf.tensor2d([
      [1, 0, 0.5],
      [0, 1, 1],
    ]);
    expectHvp((l) => tf.sum(sigmoidBinaryCrossEntropy(l, y)) as tf.Scalar, logits, v);
    expectHvp((l) => tf.sum(tf.mul(l2Loss(tf.mul(l, l), y), 1)) as tf.Scalar, logits, v);
    tf.dispose([logits, v, ints, labels, y]);
  });

  it('leave nothing behind', () => {
    const a = tf.tensor2d(LOGITS);
    const b = tf.tensor1d([0, 1], 'int32');
    const before = tf.memory().numTensors;
    const outs = [softmaxCrossEntropyWithIntegerLabels(a, b), softmaxCrossEntropy(a, a), sigmoidBinaryCrossEntropy(a, a), l2Loss(a, a), squaredError(a)];
    expect(tf.memory().numTensors - before).toBe(outs.length);
    tf.dispose([a, b, ...outs]);
  });

  it('bad input', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([3, 2]);
    expect(() => l2Loss(a, b)).toThrow('l2Loss: predictions shape [2,3] and targets shape [3,2] differ');
    expect(() => softmaxCrossEntropy(a, b)).toThrow('softmaxCrossEntropy: logits shape [2,3] and labels shape [3,2] differ');
    expect(() => softmaxCrossEntropyWithIntegerLabels(a, tf.zeros([2]))).toThrow('softmaxCrossEntropyWithIntegerLabels: labels must be int32, got float32');
    expect(() => softmaxCrossEntropyWithIntegerLabels(a, tf.zeros([3], 'int32'))).toThrow(
      'softmaxCrossEntropyWithIntegerLabels: labels shape [3] must be logits shape [2,3] without its last axis',
    );
    expect(() => squaredError([1, 2] as never)).toThrow('squaredError: predictions must be a tensor, got array of length 2');
    tf.dispose([a, b]);
  });
});
