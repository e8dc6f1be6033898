import * as tf from '@tensorflow/tfjs';
import { PRNGKey, type Key } from '@lopt/random';
import * as tree from '@lopt/tree';
import { vmap } from '@lopt/transforms';
import type { Task } from './base.js';

export interface VectorizedTask<P, B> {
  /** Params for each key of a key batch [T], stacked ([T, ...] leaves). */
  init(keys: Key): P;
  /** Losses [T] of stacked params on stacked batches, with batched ops (vmap). */
  loss(params: P, batches: B, key?: Key): tf.Tensor1D;
}

/**
 * Evaluates many copies of one task at once: `loss` is `vmap(task.loss)` over a leading task axis
 * of params and batches (one key for all, since keys cannot carry a vmap axis).
 */
export function vectorizeTask<P, B>(task: Task<P, B>): VectorizedTask<P, B> {
  return {
    init(keys) {
      if (keys.shape.length !== 1) throw new Error(`vectorizeTask(${task.name}).init: expected a key batch [T], got [${keys.shape.join(',')}]`);
      const per = Array.from({ length: keys.shape[0]! }, (_, t) => task.init(keys.at(t)));
      const stacked = tree.stack(per);
      tree.dispose(per);
      return stacked;
    },
    loss(params, batches, key = PRNGKey(0)) {
      return vmap((p: P, b: B) => task.loss(p, key, b))(params, batches) as tf.Tensor1D;
    },
  };
}
