import * as tf from '@tensorflow/tfjs';

/** One dense layer as haiku stores it: `w` [in, out], `b` [out]; `y = x·w + b`. */
export interface DenseLayer {
  readonly w: tf.Tensor;
  readonly b: tf.Tensor;
}

/**
 * A relu MLP applied to every column of `x` [in, n] (one column per coordinate), giving
 * [out, n]: the per-parameter MLP of learned optimizers over all coordinates of all leaves in
 * one call.
 *
 * Why this layout: meta-training differentiates through the update, and there it is the faster
 * one on tfjs-wasm. Features as rows make building `x` a concat of contiguous rows. Each layer
 * computes `wᵀ·h`; lopt's wasm matMul transposes a transposed operand explicitly and the
 * gradient of a matMul transposes one operand again, so each layer is written to make the
 * transposed operand the small one: `transpose(w)·h` when the layer widens (its gradient then
 * transposes the input rows), `matMul(w, h, transposeA)` when it narrows (its gradient
 * transposes the few output rows). Measured (scripts/bench-layout.ts, 3 → 64 → 2 MLP):
 * forward + gradient 1.1–2× faster than [n, in] rows; forward alone about 2× slower at ≥ 10⁴
 * coordinates since @lopt/transforms' fast Pack/Unpack kernels, because XNNPACK packs the right
 * operand of every matMul, here the activations.
 *
 * `constFeatures` [c] are inputs that are the same for every coordinate (e.g. the training-step
 * embedding): the last c rows of the first weight act on them once, as a column added to the
 * first pre-activation, instead of being tiled into c·n inputs. Same function, c·n less work.
 */
export function columnMLP(layers: readonly DenseLayer[], x: tf.Tensor, constFeatures?: tf.Tensor): tf.Tensor {
  let h = x;
  layers.forEach(({ w, b }, i) => {
    let bias = tf.reshape(b, [-1, 1]);
    let wx = w;
    if (i === 0 && constFeatures !== undefined) {
      const c = constFeatures.shape[0]!;
      const nVar = w.shape[0]! - c;
      wx = tf.slice(w, [0, 0], [nVar, -1]);
      const wc = tf.slice(w, [nVar, 0], [c, -1]);
      bias = tf.add(tf.matMul(wc, tf.reshape(constFeatures, [c, 1]), true, false), bias);
    }
    const [fin, fout] = wx.shape as [number, number];
    const z = fout < fin ? tf.matMul(wx, h, true, false) : tf.matMul(tf.transpose(wx), h);
    h = tf.add(z, bias);
    if (i < layers.length - 1) h = tf.relu(h);
  });
  return h;
}

/** The learned step `direction · exp(magnitude · expMult) · stepMult` from the MLP's two output rows [2, n]. */
export function directionMagnitudeStep(out: tf.Tensor, expMult: number, stepMult: number): tf.Tensor {
  const [direction, magnitude] = tf.split(out, 2, 0) as [tf.Tensor, tf.Tensor];
  return tf.mul(tf.mul(tf.reshape(direction, [-1]), tf.exp(tf.mul(tf.reshape(magnitude, [-1]), expMult))), stepMult);
}
