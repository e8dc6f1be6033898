import * as tf from '@tensorflow/tfjs';
import { normal, normalArray, PRNGKey, split, uniformArray, type Key } from '@lopt/random';
import type { BatchStream, Datasets, Task } from '../base.js';
import { clipNormalizer } from '../normalizer.js';

export interface LinearRegressionOptions {
  /** True slope of y = slope·x + noise (seed 000: 10). */
  readonly slope?: number;
  /** x ~ U(xMin, xMax) (seed 000: [0, 10]). */
  readonly xRange?: readonly [number, number];
  /** Samples per batch (seed 000 uses 7 per outer step: 6 inner + 1 outer). */
  readonly batchSize?: number;
}

export interface LinearRegressionBatch {
  readonly x: tf.Tensor1D;
  readonly y: tf.Tensor1D;
}

/**
 * Seed 000's sample stream as plain float32 numbers, exactly as jax computes it:
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
    // One continuous stream, cut into batches: the seed's generator, N samples per step.
    iterate(key) {
      const gen = linearRegressionSamples(key, opts);
      return { next: () => ({ value: take(gen), done: false }) };
    },
  };
}

/**
 * Seed 000: fit y = 10x + N(0,1) with f(θ, x) = x·θ and optax's l2 loss (½ err², averaged over
 * the batch). θ is a scalar; `init(PRNGKey(42))` is the seed's starting value.
 */
export function linearRegressionTask(opts: LinearRegressionOptions = {}): Task<tf.Scalar, LinearRegressionBatch> {
  const s = stream(opts);
  const datasets: Datasets<LinearRegressionBatch> = { train: s, innerValid: s, outerValid: s, test: s };
  const slope = opts.slope ?? 10;
  const xMax = Math.max(...(opts.xRange ?? [0, 10]).map(Math.abs));
  return {
    name: `LinearRegression_slope${slope}`,
    init: (key) => normal(key) as tf.Scalar,
    loss: (theta, _key, batch) => tf.tidy(() => tf.mean(tf.mul(0.5, tf.square(tf.sub(batch.y, tf.mul(batch.x, theta))))) as tf.Scalar),
    datasets,
    // Loss at θ = 0 is about ½ (slope·x)²; allow 10x that before clipping.
    normalizer: clipNormalizer(5 * (slope * xMax) ** 2),
  };
}

/** The seed's data key and initial-θ key. */
export const SEED000_KEYS = { data: () => PRNGKey(0), theta: () => PRNGKey(42) };
