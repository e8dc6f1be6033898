import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, hvpVsFiniteDifference, relErr, useBackend } from './helpers.js';

// Every op here has a gradient that tfjs computes from the op's saved output, from an op with no
// gradient (Equal, Greater, ...), through customGrad, or is simply one lopt uses. For each, the
// Hessian-vector product must match central finite differences of the gradient.
const w3 = () => tf.tensor1d([0.7, -1.3, 2.1]);
const OPS: Array<[string, (x: tf.Tensor) => tf.Scalar]> = [
  ['tanh', (x) => tf.sum(tf.mul(tf.tanh(x), w3()))],
  ['sigmoid', (x) => tf.sum(tf.mul(tf.sigmoid(tf.mul(x, 2)), w3()))],
  ['exp', (x) => tf.sum(tf.mul(tf.exp(x), w3()))],
  ['log', (x) => tf.sum(tf.mul(tf.log(tf.add(tf.square(x), 1)), w3()))],
  ['log1p', (x) => tf.sum(tf.log1p(tf.square(x)))],
  ['expm1', (x) => tf.sum(tf.mul(tf.expm1(x), w3()))],
  ['sqrt', (x) => tf.sum(tf.mul(tf.sqrt(tf.add(tf.square(x), 0.5)), w3()))],
  ['rsqrt', (x) => tf.sum(tf.mul(tf.rsqrt(tf.add(tf.square(x), 0.5)), w3()))],
  ['reciprocal', (x) => tf.sum(tf.reciprocal(tf.add(tf.square(x), 1)))],
  ['square', (x) => tf.sum(tf.mul(tf.square(tf.square(x)), w3()))],
  ['pow(x, 2.5)', (x) => tf.sum(tf.mul(tf.pow(tf.add(tf.square(x), 0.3), 2.5), w3()))],
  ['pow(2, x)', (x) => tf.sum(tf.pow(tf.scalar(2), x))],
  ['div', (x) => tf.sum(tf.div(tf.mul(x, w3()), tf.add(tf.square(x), 1)))],
  ['softmax', (x) => tf.sum(tf.mul(tf.softmax(x), w3()))],
  ['logSoftmax', (x) => tf.sum(tf.mul(tf.logSoftmax(x), w3()))],
  ['logSumExp', (x) => tf.mul(tf.logSumExp(x), tf.logSumExp(tf.mul(x, w3()))) as tf.Scalar],
  ['softplus', (x) => tf.sum(tf.mul(tf.softplus(tf.mul(x, 2)), w3()))],
  ['logSigmoid', (x) => tf.sum(tf.mul(tf.logSigmoid(x), w3()))],
  ['elu', (x) => tf.sum(tf.mul(tf.elu(x), tf.exp(x)))],
  ['selu', (x) => tf.sum(tf.mul(tf.selu(x), x))],
  ['relu', (x) => tf.sum(tf.mul(tf.relu(x), tf.exp(x)))],
  ['relu6', (x) => tf.sum(tf.square(tf.relu6(tf.mul(x, 4))))],
  ['leakyRelu', (x) => tf.sum(tf.mul(tf.leakyRelu(x, 0.2), tf.tanh(x)))],
  ['prelu', (x) => tf.sum(tf.mul(tf.prelu(x, tf.scalar(0.3)), tf.sin(x)))],
  ['abs', (x) => tf.sum(tf.mul(tf.abs(x), tf.exp(x)))],
  ['max', (x) => tf.mul(tf.max(tf.mul(x, w3())), tf.max(tf.mul(x, w3()))) as tf.Scalar],
  ['min', (x) => tf.square(tf.min(x)) as tf.Scalar],
  ['maximum', (x) => tf.sum(tf.square(tf.maximum(x, tf.mul(x, 0.5))))],
  ['minimum', (x) => tf.sum(tf.square(tf.minimum(x, tf.scalar(0.5))))],
  ['clipByValue', (x) => tf.sum(tf.mul(tf.square(tf.clipByValue(x, -1, 1)), w3()))],
  ['where', (x) => tf.sum(tf.where(tf.greater(x, 0), tf.square(x), tf.mul(tf.exp(x), 3)))],
  ['sin/cos', (x) => tf.sum(tf.mul(tf.sin(x), tf.cos(tf.mul(x, 2))))],
  ['atan', (x) => tf.sum(tf.mul(tf.atan(tf.mul(x, 2)), w3()))],
  ['erf', (x) => tf.sum(tf.mul(tf.erf(x), w3()))],
  ['prod', (x) => tf.prod(tf.add(x, 3)) as tf.Scalar],
  ['mean/squaredDifference', (x) => tf.mean(tf.squaredDifference(tf.square(x), w3())) as tf.Scalar],
  ['cumsum', (x) => tf.sum(tf.square(tf.cumsum(tf.mul(x, w3()))))],
  ['matMul', (x) => {
    const a = tf.reshape(x, [1, 3]);
    const m = tf.tensor2d([[1, 0.5, -1], [0.2, 2, 0.3], [-0.4, 0.1, 1.5]]);
    return tf.sum(tf.tanh(tf.matMul(tf.matMul(a, m), tf.transpose(a)))) as tf.Scalar;
  }],
  ['concat/slice/stack', (x) => {
    const c = tf.concat([x, tf.square(x)]);
    return tf.sum(tf.mul(tf.stack([tf.slice(c, [1], [3]), tf.exp(tf.slice(c, [0], [3]))]), 0.5)) as tf.Scalar;
  }],
  ['tile/pad/reverse', (x) => tf.sum(tf.square(tf.reverse(tf.pad(tf.tile(tf.tanh(x), [2]), [[1, 1]])))) as tf.Scalar],
  ['gather', (x) => tf.sum(tf.exp(tf.gather(x, tf.tensor1d([2, 0, 2], 'int32'))))],
  ['softmaxCrossEntropy', (x) => tf.losses.softmaxCrossEntropy(tf.tensor1d([0, 1, 0]), tf.mul(x, 2)) as tf.Scalar],
  ['sigmoidCrossEntropy', (x) => tf.losses.sigmoidCrossEntropy(tf.tensor1d([0, 1, 1]), x) as tf.Scalar],
];

describe.each(BACKENDS)('Hessian-vector products vs finite differences (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(OPS)('%s', (_name, f) => {
    const before = tf.memory().numTensors;
    const x = tf.tensor1d([0.31, -0.72, 1.13]);
    const v = tf.tensor1d([0.5, 1.0, -0.25]);
    const { hvp, fd } = hvpVsFiniteDifference(f, x, v);
    expect(relErr(hvp, fd)).toBeLessThan(2e-3);
    tf.dispose([x, v]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an MLP with tanh, sigmoid and softmax cross-entropy (Hessian-vector product of the loss in all weights)', () => {
    const before = tf.memory().numTensors;
    const xs = tf.tensor2d([[0.2, -0.4, 0.9, 0.1], [-0.6, 0.3, 0.05, 0.8], [0.7, 0.7, -0.2, -0.5]]);
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([2, 0, 1], 'int32'), 3));
    // Flat parameter vector so the generic helper applies: W1 [4,5], b1 [5], W2 [5,3], b2 [3].
    const n = 20 + 5 + 15 + 3;
    const theta = tf.tensor1d(Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 0.6));
    const v = tf.tensor1d(Array.from({ length: n }, (_, i) => Math.cos(i * 0.9)));
    const loss = (t: tf.Tensor) => {
      const w1 = tf.reshape(tf.slice(t, [0], [20]), [4, 5]);
      const b1 = tf.slice(t, [20], [5]);
      const w2 = tf.reshape(tf.slice(t, [25], [15]), [5, 3]);
      const b2 = tf.slice(t, [40], [3]);
      const h = tf.mul(tf.tanh(tf.add(tf.matMul(xs, w1), b1)), tf.sigmoid(tf.matMul(xs, tf.ones([4, 5]))));
      const logits = tf.add(tf.matMul(h, w2), b2);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    };
    const { hvp, fd } = hvpVsFiniteDifference(loss, theta, v);
    expect(relErr(hvp, fd)).toBeLessThan(2e-3);
    tf.dispose([xs, labels, theta, v]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a relu + logSoftmax MLP (the case where raw tfjs was off by 63%)', () => {
    const xs = tf.tensor2d([[0.5, -1.2], [1.1, 0.4], [-0.3, 0.8], [0.9, 0.9]]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3));
    const theta = tf.tensor1d(Array.from({ length: 2 * 6 + 6 * 3 }, (_, i) => Math.cos(i * 2.3) * 0.8));
    const v = tf.tensor1d(Array.from({ length: 30 }, (_, i) => Math.sin(i + 0.5)));
    const loss = (t: tf.Tensor) => {
      const w1 = tf.reshape(tf.slice(t, [0], [12]), [2, 6]);
      const w2 = tf.reshape(tf.slice(t, [12], [18]), [6, 3]);
      const logits = tf.matMul(tf.relu(tf.matMul(xs, w1)), w2);
      return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    };
    const { hvp, fd } = hvpVsFiniteDifference(loss, theta, v);
    expect(relErr(hvp, fd)).toBeLessThan(2e-3);
    tf.dispose([xs, y, theta, v]);
  });
});

afterAll(() => tf.disposeVariables());
