import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import type { BatchSpec } from './batch-spec.js';

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

/** Named auxiliary values a loss reports beside itself (accuracy, logits norm, ...). */
export type TaskAux = Record<string, tf.Tensor>;

/**
 * A problem to optimise (learned_optimization's `Task`). Holds configuration only: parameters
 * (and model state, if any) are created by `init` / `initWithState` and passed in; nothing in a
 * task changes. Build tasks with {@link defineTask}, which fills in every optional method with
 * learned_optimization's default and checks batches against `batchSpec`.
 *
 * `S` is the type of the model state (batch-norm statistics and the like) for tasks that have one;
 * stateless tasks use `null`, as learned_optimization uses `None`.
 */
export interface Task<P = any, B = any, S = null> {
  readonly name: string;
  /** Initial parameters (a pytree of float32 tensors). */
  init(key: Key): P;
  /** Scalar training loss of `params` on `batch` (`key` for stochastic losses, e.g. dropout). */
  loss(params: P, key: Key, batch: B): tf.Scalar;
  /**
   * Maps a loss to a comparable scale for meta-training. Always present: the identity (a new
   * tensor equal to the loss) unless the task sets one; the built-in tasks clip to a task range and
   * send NaN to the top of it ({@link clipNormalizer}). Elementwise, so it works on batches.
   */
  normalizer(loss: tf.Tensor): tf.Tensor;
  /** Where batches come from; absent for tasks without data (e.g. quadratics). */
  readonly datasets?: Datasets<B>;
  /** The fields and shapes `loss` expects of a batch; `defineTask` checks every batch against it. */
  readonly batchSpec?: BatchSpec;
  /** learned_optimization's `loss_and_aux`: the loss and named auxiliary values. Default: `[loss, {}]`. */
  lossWithAux?(params: P, key: Key, batch: B): [tf.Scalar, TaskAux];
  /** learned_optimization's `init_with_state`: params and the initial model state. Default: `[init(key), null]`. */
  initWithState?(key: Key): [P, S];
  /** learned_optimization's `loss_with_state`: the loss and the new model state. */
  lossWithState?(params: P, state: S, key: Key, batch: B): [tf.Scalar, S];
  /** learned_optimization's `loss_with_state_and_aux`: loss, new model state and auxiliary values. */
  lossWithStateAndAux?(params: P, state: S, key: Key, batch: B): [tf.Scalar, S, TaskAux];
}

/**
 * A distribution over tasks (learned_optimization's `TaskFamily`): `sample` draws a config,
 * `taskFn` builds the task. Configs are pytrees (tensors and numbers) so that a batch of them can
 * be stacked; see {@link VectorizedTaskFamily} for evaluating many tasks with batched ops.
 * Build families with {@link defineTaskFamily}, which passes every task through `defineTask`.
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
