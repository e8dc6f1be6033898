import * as tf from '@tensorflow/tfjs';
import { normal, normalArray, PRNGKey, split, uniformArray, type Key } from '@lopt/random';
import type { BatchStream, Datasets } from '../base.js';
import { defineTask, type DefinedTask } from '../define.js';
import { clipNormalizer } from '../normalizer.js';

export interface LinearRegressionOptions {
  /** True slope of y = slope·x + noise (optax's meta-learning notebook: 10). */
  readonly slope?: number;
  /** x ~ U(xMin, xMax) (the notebook: [0, 10]). */
  readonly xRange?: readonly [number, number];
  /** Samples per batch (the notebook uses 7 per outer step: 6 inner + 1 outer). */
  readonly batchSize?: number;
}

export interface LinearRegressionBatch {
  readonly x: tf.Tensor1D;
  readonly y: tf.Tensor1D;
}

/**
 * The sample stream of optax's meta-learning notebook as plain float32 numbers, exactly as jax
 * computes it:
 * `rng, k1, k2 = split(rng, 3); x = uniform(k1, minval, maxval); y = slope·x + normal(k2)`.
 */
export function* linearRegressionSamples(key: Key, opts: LinearRegressionOptions = {}): Generator<{ x: number; y: number }> {
  const slope = opts.slope ?? 10;
  const [lo, hi] = opts.xRange ?? [0, 10];
  let rng = key;
  for (;;) {
    const keys = split(rng, 3);
    rng = keys.at(0);
    const x = uniformArray(keys.at(1), [], { minval: lo, maxval: hi })[0]!;
    const n = normalArray(keys.at(2))[0]!;
    yield { x, y: Math.fround(Math.fround(slope * x) + n) };
  }
}

function stream(opts: LinearRegressionOptions): BatchStream<LinearRegressionBatch> {
  const batchSize = opts.batchSize ?? 7;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`linearRegressionTask: batchSize must be a positive integer, got ${batchSize}`);
  const take = (gen: Generator<{ x: number; y: number }>): LinearRegressionBatch => {
    const x = new Float32Array(batchSize);
    const y = new Float32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const s = gen.next().value as { x: number; y: number };
      x[i] = s.x;
      y[i] = s.y;
    }
    return { x: tf.tensor1d(x), y: tf.tensor1d(y) };
  };
  return {
    batchSize,
    sample: (key) => take(linearRegressionSamples(key, opts)),
    // One continuous stream, cut into batches: the notebook's generator, N samples per step.
    iterate(key) {
      const gen = linearRegressionSamples(key, opts);
      return { next: () => ({ value: take(gen), done: false }) };
    },
  };
}

/**
 * The problem of optax's meta-learning notebook: fit y = 10x + N(0,1) with f(θ, x) = x·θ and
 * optax's l2 loss (½ err², averaged over the batch). θ is a scalar; `init(PRNGKey(42))` is the
 * notebook's starting value. Batches are `{ x: [B], y: [B] }`.
 */
export function linearRegressionTask(opts: LinearRegressionOptions = {}): DefinedTask<tf.Scalar, LinearRegressionBatch> {
  const s = stream(opts);
  const datasets: Datasets<LinearRegressionBatch> = { train: s, innerValid: s, outerValid: s, test: s };
  const slope = opts.slope ?? 10;
  const xMax = Math.max(...(opts.xRange ?? [0, 10]).map(Math.abs));
  return defineTask({
    name: `LinearRegression_slope${slope}`,
    init: (key) => normal(key) as tf.Scalar,
    loss: (theta, _key, batch) => tf.tidy(() => tf.mean(tf.mul(0.5, tf.square(tf.sub(batch.y, tf.mul(batch.x, theta))))) as tf.Scalar),
    datasets,
    batchSpec: { x: ['B'], y: ['B'] },
    // Loss at θ = 0 is about ½ (slope·x)²; allow 10x that before clipping.
    normalizer: clipNormalizer(5 * (slope * xMax) ** 2),
  });
}

/** The keys of optax's meta-learning notebook: the data stream's and the initial θ's. */
export const OPTAX_META_LEARNING_KEYS = { data: () => PRNGKey(0), theta: () => PRNGKey(42) };
