import * as tf from '@tensorflow/tfjs';
import { normal, split, type Key } from '@lopt/random';
import { vmap } from '@lopt/transforms';
import type { Task, VectorizedTaskFamily } from '../base.js';
import { clipNormalizer } from '../normalizer.js';

/** One quadratic problem f(θ) = ‖Wθ − y‖²; with a leading batch axis, a batch of them. */
export interface QuadraticConfig {
  readonly W: tf.Tensor;
  readonly y: tf.Tensor;
}

export interface QuadraticOptions {
  /** Dimension of θ (seed 001: 10). */
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
 * Quadratics from "Learning to learn by gradient descent by gradient descent" (seed 001):
 * W ∈ R^{d×d}, y ∈ R^d and θ0 all N(0, 1). `sample(key)` draws W with split(key, 3)[0] and y
 * with [1]; `init(key)` draws θ0 with [2], so one key gives the seed's (W, y, θ0).
 */
export function quadraticFamily(opts: QuadraticOptions = {}): VectorizedTaskFamily<QuadraticConfig, tf.Tensor, null> {
  const dim = opts.dim ?? 10;
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`quadraticFamily: dim must be a positive integer, got ${dim}`);
  const normalizer = clipNormalizer(20 * (dim * dim + dim));
  return {
    name: `Quadratic_d${dim}`,
    sample: (key) => {
      const k = split(key, 3);
      return { W: normal(k.at(0), [dim, dim]), y: normal(k.at(1), [dim]) };
    },
    taskFn: (cfg): Task<tf.Tensor, null> => ({
      name: `Quadratic_d${dim}`,
      init: (key) => normal(split(key, 3).at(2), [dim]),
      loss: (theta, _key, _batch) => {
        check(cfg, theta, dim, 'quadratic loss');
        return quadraticLoss(cfg, theta) as tf.Scalar;
      },
      normalizer,
    }),
    // Keys carry the task axis: a key batch [T] gives [T, d] (random functions take key batches).
    vectorizedInit: (_cfgs, keys) => vmap((k: Key) => normal(split(k, 3).at(2), [dim]))(keys),
    vectorizedLoss: (cfgs, params) => {
      check(cfgs, params, dim, 'quadratic vectorizedLoss');
      return quadraticLoss(cfgs, params) as tf.Tensor1D;
    },
  };
}


export interface QuadraticBatchOptions extends QuadraticOptions {
  /** Problems per task (seed 001: 128). */
  readonly batchSize?: number;
}

/**
 * Seed 001's training problem: a batch of quadratics optimised together, loss = mean over the
 * batch of ‖W_b θ_b − y_b‖². From one key: W = normal(k0, [B, d, d]), y = normal(k1, [B, d]),
 * θ0 = normal(k2, [B, d]) with [k0, k1, k2] = split(key, 3), exactly as the seed samples them.
 */
export function quadraticBatchFamily(opts: QuadraticBatchOptions = {}): VectorizedTaskFamily<QuadraticConfig, tf.Tensor, null> {
  const dim = opts.dim ?? 10;
  const B = opts.batchSize ?? 128;
  if (!Number.isInteger(B) || B < 1) throw new Error(`quadraticBatchFamily: batchSize must be a positive integer, got ${B}`);
  const single = quadraticFamily({ dim });
  const normalizer = clipNormalizer(20 * (dim * dim + dim));
  return {
    name: `QuadraticBatch_b${B}_d${dim}`,
    sample: (key) => {
      const k = split(key, 3);
      return { W: normal(k.at(0), [B, dim, dim]), y: normal(k.at(1), [B, dim]) };
    },
    taskFn: (cfg) => ({
      name: `QuadraticBatch_b${B}_d${dim}`,
      init: (key) => normal(split(key, 3).at(2), [B, dim]),
      loss: (theta) => {
        check(cfg, theta, dim, 'quadratic batch loss');
        return tf.tidy(() => tf.mean(quadraticLoss(cfg, theta)) as tf.Scalar);
      },
      normalizer,
    }),
    vectorizedInit: (_cfgs, keys) => vmap((k: Key) => normal(split(k, 3).at(2), [B, dim]))(keys),
    vectorizedLoss: (cfgs, params) => tf.tidy(() => tf.mean(single.vectorizedLoss(cfgs, params, undefined as never, null), -1) as tf.Tensor1D),
  };
}
