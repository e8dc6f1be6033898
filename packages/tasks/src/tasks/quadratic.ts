import * as tf from '@tensorflow/tfjs';
import { normal, split, type Key } from '@lopt/random';
import { vmap } from '@lopt/transforms';
import type { VectorizedTaskFamily } from '../base.js';
import { defineTaskFamily, type DefinedTask } from '../define.js';
import { clipNormalizer } from '../normalizer.js';

/** One quadratic problem f(θ) = ‖Wθ − y‖²; with a leading batch axis, a batch of them. */
export interface QuadraticConfig {
  readonly W: tf.Tensor;
  readonly y: tf.Tensor;
}

export interface QuadraticOptions {
  /** Dimension of θ ("Learning to learn by gradient descent by gradient descent": 10). */
  readonly dim?: number;
}

function check(cfg: QuadraticConfig, theta: tf.Tensor, dim: number, what: string): void {
  const lead = cfg.W.shape.slice(0, -2);
  const want = [...lead, dim];
  if (cfg.W.rank < 2 || cfg.W.shape.at(-1) !== dim || cfg.W.shape.at(-2) !== dim) {
    throw new Error(`${what}: W must have shape [..., ${dim}, ${dim}], got [${cfg.W.shape.join(',')}]`);
  }
  if (!tf.util.arraysEqual(cfg.y.shape, want)) throw new Error(`${what}: y must have shape [${want.join(',')}], got [${cfg.y.shape.join(',')}]`);
  if (!tf.util.arraysEqual(theta.shape, want)) throw new Error(`${what}: θ must have shape [${want.join(',')}], got [${theta.shape.join(',')}]`);
}

/** ‖Wθ − y‖² for one problem, or one value per problem with leading batch axes. */
export function quadraticLoss(cfg: QuadraticConfig, theta: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const r = tf.sub(tf.squeeze(tf.matMul(cfg.W, tf.expandDims(theta, -1)), [-1]), cfg.y);
    return tf.sum(tf.square(r), -1);
  });
}

/**
 * Quadratics from "Learning to learn by gradient descent by gradient descent" (Andrychowicz et
 * al. 2016): W ∈ R^{d×d}, y ∈ R^d and θ0 all N(0, 1). `sample(key)` draws W with split(key, 3)[0]
 * and y with [1]; `init(key)` draws θ0 with [2], so one key gives one problem and its start.
 * The tasks take no data: pass `null` as the batch.
 */
export function quadraticFamily(opts: QuadraticOptions = {}): VectorizedTaskFamily<QuadraticConfig, tf.Tensor, null> & {
  taskFn(cfg: QuadraticConfig): DefinedTask<tf.Tensor, null>;
} {
  const dim = opts.dim ?? 10;
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`quadraticFamily: dim must be a positive integer, got ${dim}`);
  const normalizer = clipNormalizer(20 * (dim * dim + dim));
  return defineTaskFamily({
    name: `Quadratic_d${dim}`,
    sample: (key: Key) => {
      const k = split(key, 3);
      return { W: normal(k.at(0), [dim, dim]), y: normal(k.at(1), [dim]) };
    },
    taskFn: (cfg: QuadraticConfig) => ({
      name: `Quadratic_d${dim}`,
      init: (key) => normal(split(key, 3).at(2), [dim]),
      loss: (theta: tf.Tensor, _key: Key, _batch: null) => {
        check(cfg, theta, dim, 'quadratic loss');
        return quadraticLoss(cfg, theta) as tf.Scalar;
      },
      normalizer,
    }),
    // Keys carry the task axis: a key batch [T] gives [T, d] (random functions take key batches).
    vectorizedInit: (_cfgs: QuadraticConfig, keys: Key) => vmap((k: Key) => normal(split(k, 3).at(2), [dim]))(keys) as tf.Tensor,
    vectorizedLoss: (cfgs: QuadraticConfig, params: tf.Tensor, _keys: Key, _batches: null) => {
      check(cfgs, params, dim, 'quadratic vectorizedLoss');
      return quadraticLoss(cfgs, params) as tf.Tensor1D;
    },
  });
}


export interface QuadraticBatchOptions extends QuadraticOptions {
  /** Problems per task (the paper's experiments: 128). */
  readonly batchSize?: number;
}

/**
 * The training problem of "Learning to learn by gradient descent by gradient descent" as the
 * "Learning JAX by Learning to Learn" walkthrough sets it up (128 problems): a batch of quadratics
 * optimised together, loss = mean over the batch of ‖W_b θ_b − y_b‖². From one key:
 * W = normal(k0, [B, d, d]), y = normal(k1, [B, d]), θ0 = normal(k2, [B, d]) with
 * [k0, k1, k2] = split(key, 3).
 */
export function quadraticBatchFamily(opts: QuadraticBatchOptions = {}): VectorizedTaskFamily<QuadraticConfig, tf.Tensor, null> & {
  taskFn(cfg: QuadraticConfig): DefinedTask<tf.Tensor, null>;
} {
  const dim = opts.dim ?? 10;
  const B = opts.batchSize ?? 128;
  if (!Number.isInteger(B) || B < 1) throw new Error(`quadraticBatchFamily: batchSize must be a positive integer, got ${B}`);
  const single = quadraticFamily({ dim });
  const normalizer = clipNormalizer(20 * (dim * dim + dim));
  return defineTaskFamily({
    name: `QuadraticBatch_b${B}_d${dim}`,
    sample: (key: Key) => {
      const k = split(key, 3);
      return { W: normal(k.at(0), [B, dim, dim]), y: normal(k.at(1), [B, dim]) };
    },
    taskFn: (cfg: QuadraticConfig) => ({
      name: `QuadraticBatch_b${B}_d${dim}`,
      init: (key: Key) => normal(split(key, 3).at(2), [B, dim]),
      loss: (theta: tf.Tensor, _key: Key, _batch: null) => {
        check(cfg, theta, dim, 'quadratic batch loss');
        return tf.tidy(() => tf.mean(quadraticLoss(cfg, theta)) as tf.Scalar);
      },
      normalizer,
    }),
    vectorizedInit: (_cfgs: QuadraticConfig, keys: Key) => vmap((k: Key) => normal(split(k, 3).at(2), [B, dim]))(keys) as tf.Tensor,
    vectorizedLoss: (cfgs: QuadraticConfig, params: tf.Tensor, keys: Key, _batches: null) =>
      tf.tidy(() => tf.mean(single.vectorizedLoss(cfgs, params, keys, null), -1) as tf.Tensor1D),
  });
}
