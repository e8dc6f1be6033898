import * as tf from '@tensorflow/tfjs';
import { split, uniform, type Key } from '@lopt/random';
import { vmap } from '@lopt/transforms';
import type { BatchStream, VectorizedTaskFamily } from '../base.js';
import { checkBatch, stackedBatchSpec, type BatchSpec } from '../batch-spec.js';
import { defineTaskFamily, type DefinedTask } from '../define.js';
import { mlpApply, mlpInit, type MLPParams } from '../nets.js';
import { clipNormalizer } from '../normalizer.js';
import { functionStream } from '../streams.js';

/** A sinusoid y = amplitude · sin(x + phase); scalars, or [T] for a batch of tasks. */
export interface SinusoidConfig {
  readonly amplitude: tf.Tensor;
  readonly phase: tf.Tensor;
}

/** K points of one task: x, y of shape [K, 1] (or [T, K, 1] for a batch of tasks). */
export interface SinusoidBatch {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
}

export interface SinusoidOptions {
  /** Amplitude range (the MAML sinusoid tutorial: [0.1, 0.5]; the MAML paper: [0.1, 5.0]). */
  readonly amplitude?: readonly [number, number];
  /** Phase range (both: [0, π]). */
  readonly phase?: readonly [number, number];
  /** x range (both: [-5, 5]). */
  readonly xRange?: readonly [number, number];
  /** Points per support / query set (the tutorial: K = 20). */
  readonly k?: number;
  /** Hidden layer sizes of the regressor (the tutorial and the MAML paper: [40, 40], relu). */
  readonly hidden?: readonly number[];
}

const range = (r: readonly [number, number], what: string): readonly [number, number] => {
  if (!(r[0] < r[1])) throw new Error(`sinusoidFamily: ${what} range must have min < max, got [${r.join(', ')}]`);
  return r;
};

/**
 * The sinusoid regression family of the "MAML in JAX" tutorial (after Finn et al. 2017).
 * `sample(key)` draws amplitude and phase; each task regresses the sinusoid with an MLP 1-40-40-1
 * (relu; glorot-normal weights, N(0, 0.01²) biases as stax's Dense) under MSE on batches
 * `{ x: [K, 1], y: [K, 1] }`. `supportQuery(cfg, key)` gives the K-shot support and query sets.
 */
export function sinusoidFamily(opts: SinusoidOptions = {}): VectorizedTaskFamily<SinusoidConfig, MLPParams, SinusoidBatch> & {
  taskFn(cfg: SinusoidConfig): DefinedTask<MLPParams, SinusoidBatch>;
  sampleBatch(cfg: SinusoidConfig, key: Key, k?: number): SinusoidBatch;
  supportQuery(cfg: SinusoidConfig, key: Key): { support: SinusoidBatch; query: SinusoidBatch };
} {
  const amp = range(opts.amplitude ?? [0.1, 0.5], 'amplitude');
  const ph = range(opts.phase ?? [0, Math.PI], 'phase');
  const xr = range(opts.xRange ?? [-5, 5], 'x');
  const k = opts.k ?? 20;
  if (!Number.isInteger(k) || k < 1) throw new Error(`sinusoidFamily: k must be a positive integer, got ${k}`);
  const sizes = [1, ...(opts.hidden ?? [40, 40]), 1];
  const normalizer = clipNormalizer(10 * amp[1] ** 2 + 1);

  /** Points for one config (scalars) or for a batch of configs ([T] leaves, key batch [T]). */
  const sampleBatch = (cfg: SinusoidConfig, key: Key, n = k): SinusoidBatch =>
    tf.tidy(() => {
      const x = uniform(key, [n, 1], { minval: xr[0], maxval: xr[1] }); // [n,1] or [T,n,1]
      const lift = (t: tf.Tensor) => tf.reshape(t, [...t.shape, 1, 1]);
      const y = tf.mul(lift(cfg.amplitude), tf.sin(tf.add(x, lift(cfg.phase))));
      return { x, y: cfg.amplitude.rank === 0 ? tf.reshape(y, [n, 1]) : y };
    });
  const mse = (params: MLPParams, batch: SinusoidBatch) =>
    tf.tidy(() => tf.mean(tf.square(tf.sub(batch.y, mlpApply(params, batch.x, 'relu')))) as tf.Scalar);
  const init = (key: Key) => mlpInit(key, sizes, { weightInit: { kind: 'glorot' }, hiddenBias: { std: 0.01 }, outputBias: { std: 0.01 } });
  const name = `Sinusoid_amp${amp[0]}-${amp[1]}_k${k}`;
  const batchSpec: BatchSpec = { x: ['K', 1], y: ['K', 1] };
  const stackedSpec = stackedBatchSpec(batchSpec);

  return defineTaskFamily({
    name,
    sample: (key: Key) => {
      const s = split(key);
      const [ka, kp] = [s.at(0), s.at(1)];
      return { amplitude: uniform(ka, [], { minval: amp[0], maxval: amp[1] }), phase: uniform(kp, [], { minval: ph[0], maxval: ph[1] }) };
    },
    taskFn: (cfg: SinusoidConfig) => {
      const stream: BatchStream<SinusoidBatch> = functionStream(k, (key) => sampleBatch(cfg, key));
      return {
        name,
        init,
        loss: (params: MLPParams, _key: Key, batch: SinusoidBatch) => mse(params, batch),
        datasets: { train: stream, innerValid: stream, outerValid: stream, test: functionStream(100, (key) => sampleBatch(cfg, key, 100)) },
        batchSpec,
        normalizer,
      };
    },
    sampleBatch,
    supportQuery: (cfg: SinusoidConfig, key: Key) => {
      const s = split(key);
      const [ks, kq] = [s.at(0), s.at(1)];
      return { support: sampleBatch(cfg, ks), query: sampleBatch(cfg, kq) };
    },
    vectorizedInit: (_cfgs: SinusoidConfig, keys: Key) => vmap(init)(keys) as MLPParams,
    vectorizedLoss: (_cfgs: SinusoidConfig, params: MLPParams, _keys: Key, batches: SinusoidBatch) => {
      checkBatch(`${name} vectorizedLoss`, stackedSpec, batches);
      return vmap(mse)(params, batches) as tf.Tensor1D;
    },
  });
}
