import type * as tf from '@tensorflow/tfjs';
import { isKey, type Key } from '@lopt/random';
import { describe } from '@lopt/tree';
import { vmap } from '@lopt/transforms';
import type { Task } from './base.js';
import { notAPromise } from './promise-guard.js';

export interface VectorizedTask<P, B> {
  readonly name: string;
  /** Params for each key of a key batch [T], stacked ([T, ...] leaves): `vmap(task.init)(keys)`. */
  init(keys: Key): P;
  /**
   * Losses [T] of stacked params on stacked batches, with batched ops (vmap). Same argument order
   * as `Task.loss`: `key` is one key shared by every task, or a key batch [T] with one key per task.
   */
  loss(params: P, key: Key, batches: B): tf.Tensor1D;
  /** The task's normalizer; elementwise, so it maps the [T] losses at once. */
  normalizer(losses: tf.Tensor): tf.Tensor;
}

/**
 * Evaluates many copies of one task at once, with batched ops: `init` is `vmap(task.init)` over a
 * key batch, `loss` is `vmap(task.loss)` over a leading task axis of params and batches (and of the
 * key, when it is a key batch). The task's init must draw with tensor samplers (typed-array ones
 * cannot be vmapped).
 */
export function vectorizeTask<P, B>(task: Task<P, B>): VectorizedTask<P, B> {
  notAPromise('vectorizeTask', task);
  const t = task;
  const where = `vectorizeTask(${t.name})`;
  return {
    name: t.name,
    init(keys) {
      if (!isKey(keys) || keys.shape.length !== 1) throw new Error(`${where}.init: expected a key batch [T], got ${describe(keys)}`);
      return vmap((k: Key) => t.init(k))(keys) as P;
    },
    loss(params, key, batches) {
      if (!isKey(key) || key.shape.length > 1) {
        throw new Error(`${where}.loss(params, key, batches): key must be one PRNG key or a key batch [T], got ${describe(key)}`);
      }
      if (key.shape.length === 0) return vmap((p: P, b: B) => t.loss(p, key, b))(params, batches) as tf.Tensor1D;
      return vmap((p: P, k: Key, b: B) => t.loss(p, k, b))(params, key, batches) as tf.Tensor1D;
    },
    normalizer: (losses) => t.normalizer(losses),
  };
}
