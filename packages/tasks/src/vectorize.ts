import * as tf from '@tensorflow/tfjs';
import { PRNGKey, type Key } from '@lopt/random';
import { vmap } from '@lopt/transforms';
import type { Task } from './base.js';

export interface VectorizedTask<P, B> {
  /** Params for each key of a key batch [T], stacked ([T, ...] leaves): `vmap(task.init)(keys)`. */
  init(keys: Key): P;
  /** Losses [T] of stacked params on stacked batches, with batched ops (vmap). */
  loss(params: P, batches: B, key?: Key): tf.Tensor1D;
}

/**
 * Evaluates many copies of one task at once, with batched ops: `init` is `vmap(task.init)` over a
 * key batch, `loss` is `vmap(task.loss)` over a leading task axis of params and batches (one loss
 * key for all). The task's init must draw with tensor samplers (typed-array ones cannot be vmapped).
 */
export function vectorizeTask<P, B>(task: Task<P, B>): VectorizedTask<P, B> {
  return {
    init(keys) {
      if (keys.shape.length !== 1) throw new Error(`vectorizeTask(${task.name}).init: expected a key batch [T], got [${keys.shape.join(',')}]`);
      return vmap((k: Key) => task.init(k))(keys) as P;
    },
    loss(params, batches, key = PRNGKey(0)) {
      return vmap((p: P, b: B) => task.loss(p, key, b))(params, batches) as tf.Tensor1D;
    },
  };
}
