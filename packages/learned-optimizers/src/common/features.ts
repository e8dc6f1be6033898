import * as tf from '@tensorflow/tfjs';

const TIMESCALES = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000];

/**
 * learned_optimization's training-step features (mlp_lopt.py `_tanh_embedding`,
 * adafac_mlp_lopt.py `tanh_embedding`): `tanh(t / τ − 1)` for τ in 1, 3, 10, ..., 100000.
 */
export function tanhEmbedding(iteration: tf.Tensor): tf.Tensor {
  return tf.tanh(tf.sub(tf.div(tf.cast(iteration, 'float32'), tf.tensor1d(TIMESCALES)), 1));
}

export const TANH_FEATURES = TIMESCALES.length;

/**
 * `x · rsqrt(1e-5 + mean(x²))` over the coordinates of one tensor, for each feature row of
 * x [F, n] (learned_optimization `_second_moment_normalizer` over the tensor's axes).
 */
export function secondMomentNormalizer(x: tf.Tensor, eps = 1e-5): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(eps, tf.mean(tf.square(x), 1, true))));
}

/**
 * Rolling averages `d·m + (1 − d)·x` for K decays; `m` is [K, ...shape], `x` [...shape].
 * `decays` and `oneMinus` are [K] tensors: pass `1 − d` computed as the reference does (in
 * float32 from a float32 decay for learned_optimization, in double for plain Python floats).
 */
export function rollingMoment(m: tf.Tensor, x: tf.Tensor, decays: tf.Tensor, oneMinus: tf.Tensor): tf.Tensor {
  const lead = [-1, ...x.shape.map(() => 1)];
  return tf.add(tf.mul(m, tf.reshape(decays, lead)), tf.mul(x, tf.reshape(oneMinus, lead)));
}

/** Flattens each [rows, ...shape] tensor to [rows, n_i] and concatenates the leaves: [rows, Σn_i]. */
export function concatColumns(parts: readonly tf.Tensor[], rows: number): tf.Tensor {
  const flat = parts.map((p) => tf.reshape(p, [rows, -1]));
  return flat.length === 1 ? flat[0]! : tf.concat(flat, 1);
}

/** Splits a [Σn_i] vector back into tensors of the given shapes. */
export function splitLeaves(v: tf.Tensor, shapes: ReadonlyArray<readonly number[]>): tf.Tensor[] {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const parts = sizes.length === 1 ? [v] : tf.split(v, sizes, 0);
  return parts.map((p, i) => tf.reshape(p, [...shapes[i]!]));
}
