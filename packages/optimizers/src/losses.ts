import * as tf from '@tensorflow/tfjs';
import { describe, isTensor } from '@lopt/tree';
import { stopGradient } from '@lopt/transforms';

/**
 * optax's losses, elementwise (no reduction: take the mean or sum yourself), in numerically
 * stable forms that lopt differentiates correctly to second order. (log-softmax is not a loss:
 * it is jax.nn.log_softmax, i.e. `tf.logSoftmax`, whose gradients @lopt/transforms fixes.)
 */

const shapeStr = (t: tf.Tensor) => `[${t.shape.join(',')}]`;

function checkFloat(fname: string, name: string, x: unknown): asserts x is tf.Tensor {
  if (!isTensor(x)) throw new Error(`${fname}: ${name} must be a tensor, got ${describe(x)}`);
  if (x.dtype !== 'float32') throw new Error(`${fname}: ${name} must be float32, got ${x.dtype}`);
}

function checkSameShape(fname: string, a: tf.Tensor, an: string, b: tf.Tensor, bn: string): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${fname}: ${an} shape ${shapeStr(a)} and ${bn} shape ${shapeStr(b)} differ`);
  }
}

/** `predictions - targets` after the checks both regression losses make (targets default to 0). */
function residual(fname: string, predictions: tf.Tensor, targets?: tf.Tensor): tf.Tensor {
  checkFloat(fname, 'predictions', predictions);
  if (targets === undefined) return predictions;
  checkFloat(fname, 'targets', targets);
  checkSameShape(fname, predictions, 'predictions', targets, 'targets');
  return tf.sub(predictions, targets);
}

/** `(predictions - targets)²` elementwise; targets default to 0 (optax.squared_error). */
export function squaredError(predictions: tf.Tensor, targets?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.square(residual('squaredError', predictions, targets)));
}

/** `0.5 (predictions - targets)²` elementwise (optax.l2_loss). */
export function l2Loss(predictions: tf.Tensor, targets?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(0.5, tf.square(residual('l2Loss', predictions, targets))));
}

/**
 * `log(sum(exp(x)))` over the last axis, keeping it: the max is subtracted under stopGradient
 * (the result does not depend on it), so first and second derivatives are those of the formula.
 */
function logSumExpLast(x: tf.Tensor): tf.Tensor {
  const m = stopGradient(tf.max(x, -1, true));
  return tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(x, m)), -1, true)));
}

/**
 * `-sum(labels * log_softmax(logits), -1)` (optax.softmax_cross_entropy): labels are
 * probabilities (e.g. one-hot) over the last axis; the result drops that axis.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const f = 'softmaxCrossEntropy';
  checkFloat(f, 'logits', logits);
  checkFloat(f, 'labels', labels);
  checkSameShape(f, logits, 'logits', labels, 'labels');
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(labels, tf.sub(logits, logSumExpLast(logits))), -1)));
}

/**
 * `logsumexp(logits) - logits[label]` over the last axis (optax.softmax_cross_entropy_with_integer_labels).
 * `labels` are int32 class indices with the shape of logits minus its last axis. The label's logit
 * is picked with a one-hot product, not a gather, so the gradient needs no UnsortedSegmentSum
 * (missing on wasm) and works to second order.
 */
export function softmaxCrossEntropyWithIntegerLabels(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const f = 'softmaxCrossEntropyWithIntegerLabels';
  checkFloat(f, 'logits', logits);
  if (!isTensor(labels)) throw new Error(`${f}: labels must be an int32 tensor, got ${describe(labels)}`);
  if (labels.dtype !== 'int32') throw new Error(`${f}: labels must be int32, got ${labels.dtype}`);
  const lead = logits.shape.slice(0, -1);
  if (logits.rank < 1 || labels.rank !== lead.length || labels.shape.some((d, i) => d !== lead[i])) {
    throw new Error(`${f}: labels shape ${shapeStr(labels)} must be logits shape ${shapeStr(logits)} without its last axis`);
  }
  const k = logits.shape[logits.rank - 1]!;
  return tf.tidy(() => {
    const lse = tf.reshape(logSumExpLast(logits), lead);
    const picked = tf.sum(tf.mul(tf.oneHot(labels, k), logits), -1);
    return tf.sub(lse, picked);
  });
}

/**
 * `-labels log(sigmoid(x)) - (1 - labels) log(1 - sigmoid(x))` (optax.sigmoid_binary_cross_entropy),
 * computed as `labels softplus(-x) + (1 - labels) softplus(x)`, which is the same and stable.
 */
export function sigmoidBinaryCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const f = 'sigmoidBinaryCrossEntropy';
  checkFloat(f, 'logits', logits);
  if (!isTensor(labels)) throw new Error(`${f}: labels must be a tensor, got ${describe(labels)}`);
  checkSameShape(f, logits, 'logits', labels, 'labels');
  return tf.tidy(() => {
    const y = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
    return tf.add(tf.mul(y, tf.softplus(tf.neg(logits))), tf.mul(tf.sub(1, y), tf.softplus(logits)));
  });
}
