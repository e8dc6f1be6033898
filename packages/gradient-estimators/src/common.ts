import * as tf from '@tensorflow/tfjs';
import { normal, split, type Key } from '@lopt/random';
import { flatten, map as treeMap } from '@lopt/tree';

/** Loss types of FullES (learned_optimization full_es.py: avg, last_recompute, min). */
export type MetaLossType = 'average' | 'last' | 'min';

export function checkStd(where: string, std: unknown): number {
  if (typeof std !== 'number' || !(std > 0) || !Number.isFinite(std)) throw new Error(`${where}: std must be a positive number, got ${String(std)}`);
  return std;
}

export function checkLossType(where: string, t: unknown): MetaLossType {
  if (t !== 'average' && t !== 'last' && t !== 'min') throw new Error(`${where}: lossType must be 'average', 'last' or 'min', got ${String(t)}`);
  return t;
}

/**
 * n antithetic perturbations of theta (learned_optimization common.vector_sample_perturbations):
 * eps ~ N(0, std²) with leaves [n, ...leaf], drawn per leaf in one call, and the stacked thetas
 * [θ + eps_1..n, θ − eps_1..n] (leaves [2n, ...]).
 */
export function vectorSamplePerturbations<T>(theta: T, key: Key, std: number, n: number): { eps: T; thetas: T } {
  const [leaves] = flatten(theta);
  const keys = split(key, Math.max(1, leaves.length));
  let i = 0;
  const eps = treeMap((x: tf.Tensor) => tf.mul(normal(keys.at(i++), [n, ...x.shape]), std), theta) as T;
  const thetas = treeMap((x: tf.Tensor, e: tf.Tensor) => tf.concat([tf.add(x, e), tf.sub(x, e)], 0), theta, eps) as T;
  return { eps, thetas };
}

/** mean_i coef_i · v_i over the leading axis of every leaf of v (coef [n]). */
export function weightedMean<T>(v: T, coef: tf.Tensor1D): T {
  const n = coef.shape[0];
  return treeMap((x: tf.Tensor) => tf.div(tf.sum(tf.mul(x, tf.reshape(coef, [n, ...x.shape.slice(1).map(() => 1)])), 0), n), v) as T;
}

/** Per-particle meta-losses [n] from per-step losses [K, n]. */
export function reduceLosses(losses: tf.Tensor2D, type: MetaLossType, last?: tf.Tensor1D): tf.Tensor1D {
  if (type === 'average') return tf.mean(losses, 0);
  if (type === 'min') return tf.min(losses, 0);
  if (!last) throw new Error("reduceLosses: lossType 'last' needs the final loss");
  return last;
}

/** The antithetic ES estimate mean_i (L⁺_i − L⁻_i) / (2σ²) · eps_i from per-particle losses [2n] (the n positive, then the n negative). */
export function antitheticGradient<T>(eps: T, losses: tf.Tensor1D, std: number): T {
  const [pos, neg] = tf.split(losses, 2) as [tf.Tensor1D, tf.Tensor1D];
  return weightedMean(eps, tf.div(tf.sub(pos, neg), 2 * std ** 2) as tf.Tensor1D);
}
