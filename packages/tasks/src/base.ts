import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';

/**
 * A stream of batches. Deterministic: the same key gives the same batch, and the same key gives
 * the same sequence from `iterate`. Batches are pytrees of tensors (e.g. `{image, label}`), owned
 * by the caller (dispose them, or create them inside a scope).
 */
export interface BatchStream<B> {
  /** Batch size (leading dimension of every leaf). */
  readonly batchSize: number;
  /** Number of examples in the split, when finite. */
  readonly size?: number;
  /** One batch for this key. */
  sample(key: Key): B;
  /** An endless sequence of batches: `next()` gives batch i of the sequence for this key. */
  iterate(key: Key): Iterator<B>;
}

/** The four splits learned_optimization uses: inner training, inner/outer validation, test. */
export interface Datasets<B> {
  readonly train: BatchStream<B>;
  readonly innerValid: BatchStream<B>;
  readonly outerValid: BatchStream<B>;
  readonly test: BatchStream<B>;
}

/**
 * A problem to optimise (learned_optimization's `Task`). Holds configuration only: parameters
 * are created by `init` and passed in; nothing in a task changes.
 */
export interface Task<P = any, B = any> {
  readonly name: string;
  /** Initial parameters (a pytree of float32 tensors). */
  init(key: Key): P;
  /** Scalar training loss of `params` on `batch` (`key` for stochastic losses, e.g. dropout). */
  loss(params: P, key: Key, batch: B): tf.Scalar;
  /** Where batches come from; absent for tasks without data (e.g. quadratics). */
  readonly datasets?: Datasets<B>;
  /**
   * Maps a loss to a comparable scale for meta-training (learned_optimization clips it to a
   * task-specific range and sends NaN to the top of it). Elementwise, so it works on batches.
   */
  normalizer?(loss: tf.Tensor): tf.Tensor;
}

/**
 * A distribution over tasks (learned_optimization's `TaskFamily`): `sample` draws a config,
 * `taskFn` builds the task. Configs are pytrees (tensors and numbers) so that a batch of them can
 * be stacked; see {@link VectorizedTaskFamily} for evaluating many tasks with batched ops.
 */
export interface TaskFamily<C = any, P = any, B = any> {
  readonly name: string;
  sample(key: Key): C;
  taskFn(cfg: C): Task<P, B>;
  /** Datasets shared by all tasks of the family, if any (per-task data comes from the config). */
  readonly datasets?: Datasets<B>;
}

/** A family whose tasks can be evaluated together: configs/params/batches carry a leading task axis. */
export interface VectorizedTaskFamily<C = any, P = any, B = any> extends TaskFamily<C, P, B> {
  /** Params for each config, stacked: leaf shapes [T, ...]. `keys` is a key batch of shape [T]. */
  vectorizedInit(cfgs: C, keys: Key): P;
  /** Per-task losses [T] for stacked configs, params and batches (batch leaves [T, ...]). */
  vectorizedLoss(cfgs: C, params: P, keys: Key, batches: B): tf.Tensor1D;
}
