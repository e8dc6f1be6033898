import * as tf from '@tensorflow/tfjs';
import { normal, split, truncatedNormal, type Key } from '@lopt/random';

/** Parameters of a fully connected network: one `{w, b}` per layer. */
export type MLPParams = Array<{ w: tf.Tensor; b: tf.Tensor }>;

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'gelu' | 'softplus';

export const ACTIVATIONS: Record<Activation, (x: tf.Tensor) => tf.Tensor> = {
  relu: tf.relu,
  tanh: tf.tanh,
  sigmoid: tf.sigmoid,
  elu: tf.elu,
  softplus: tf.softplus,
  // tanh approximation, as jax.nn.gelu(approximate=True)
  gelu: (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
};

export type WeightInit =
  /** N(0, 1) · scale (learned_optimization's no-dependency notebook uses 0.02). */
  | { kind: 'normal'; scale: number }
  /** jax.nn.initializers.glorot_normal: truncated normal with variance 2 / (fan_in + fan_out). */
  | { kind: 'glorot' }
  /** lecun_normal: truncated normal with variance 1 / fan_in. */
  | { kind: 'lecun' };

export interface MLPInitOptions {
  readonly weightInit?: WeightInit;
  /** Bias of each layer: a constant, or N(0, std²) with `{ std }` (stax uses 1e-2... our default is 0). */
  readonly hiddenBias?: number | { std: number };
  readonly outputBias?: number | { std: number };
}

// jax's truncated normal for variance_scaling draws from [-2, 2] and rescales by this stddev.
const TRUNC_STD = 0.87962566103423978;

/** Initial parameters for layer sizes [in, h1, ..., out]: per layer, weight key then bias key. */
export function mlpInit(key: Key, sizes: readonly number[], opts: MLPInitOptions = {}): MLPParams {
  if (sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error(`mlpInit: sizes must be at least [in, out] positive integers, got [${sizes.join(',')}]`);
  }
  const init = opts.weightInit ?? { kind: 'glorot' };
  const keys = split(key, 2 * (sizes.length - 1));
  return tf.tidy(() =>
    sizes.slice(1).map((out, i) => {
      const fanIn = sizes[i]!;
      const wKey = keys.at(2 * i);
      const bKey = keys.at(2 * i + 1);
      let w: tf.Tensor;
      if (init.kind === 'normal') w = tf.mul(normal(wKey, [fanIn, out]), init.scale);
      else {
        const variance = init.kind === 'glorot' ? 2 / (fanIn + out) : 1 / fanIn;
        w = tf.mul(truncatedNormal(wKey, -2, 2, [fanIn, out]), Math.sqrt(variance) / TRUNC_STD);
      }
      const spec = i === sizes.length - 2 ? opts.outputBias ?? 0 : opts.hiddenBias ?? 0;
      const b = typeof spec === 'number' ? tf.fill([out], spec) : tf.mul(normal(bKey, [out]), spec.std);
      return { w, b };
    }),
  );
}

/** Applies the MLP to a batch [N, in] (activation between layers, none after the last). */
export function mlpApply(params: MLPParams, x: tf.Tensor, activation: Activation = 'relu'): tf.Tensor {
  const act = ACTIVATIONS[activation];
  if (!act) throw new Error(`mlpApply: unknown activation '${activation}' (known: ${Object.keys(ACTIVATIONS).join(', ')})`);
  let h = x;
  params.forEach((layer, i) => {
    h = tf.add(tf.matMul(h, layer.w), layer.b);
    if (i < params.length - 1) h = act(h);
  });
  return h;
}
