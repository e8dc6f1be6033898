/**
 * Where gradient estimates are computed: in this thread ({@link inProcessPool}) or in
 * worker_threads (`workerPool` in `@lopt/gradient-estimators/node`). The MetaTrainer hands a pool
 * theta, one key and one worker state per estimator, and gets the estimates back in estimator
 * order, so averaging (in the learner's thread) does not depend on where or when they ran.
 */
import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { flatten, isTensor } from '@lopt/tree';
import type { GradientEstimate, GradientEstimator } from '../base.js';
import { disposeReplaced } from './gradient-learner.js';

export interface EstimatorPool<T = any, W = any> {
  /** The estimators' names, in order (known once the pool is ready). */
  readonly estimatorNames: readonly string[];
  /** `initWorkerState(theta, keys[i])` for every estimator i. */
  initWorkerStates(theta: T, keys: readonly Key[]): Promise<W[]>;
  /**
   * `computeGradientEstimate(theta, keys[i], states[i])` for every estimator i, results in
   * estimator order, their tensors in the caller's engine. The pool owns `states` afterwards
   * (their tensors not in the returned states are disposed).
   */
  computeEstimates(theta: T, keys: readonly Key[], states: readonly W[]): Promise<GradientEstimate<T, W>[]>;
  /** Frees the pool's resources (workers); idempotent. */
  close(): Promise<void>;
}

/** A pool that runs the estimators one after the other in this thread. */
export function inProcessPool<T, W>(gradientEstimators: readonly GradientEstimator<T, W>[]): EstimatorPool<T, W> {
  if (!Array.isArray(gradientEstimators) || gradientEstimators.length === 0) throw new Error('inProcessPool: gradientEstimators must be a non-empty array of GradientEstimators');
  gradientEstimators.forEach((g, i) => {
    if (typeof g?.computeGradientEstimate !== 'function' || typeof g?.initWorkerState !== 'function') {
      throw new Error(`inProcessPool: gradientEstimators[${i}] is not a GradientEstimator (needs initWorkerState and computeGradientEstimate)`);
    }
  });
  const check = (fname: string, n: number) => {
    if (n !== gradientEstimators.length) throw new Error(`${fname}: ${gradientEstimators.length} estimators, got ${n} keys/states`);
  };
  return {
    estimatorNames: gradientEstimators.map((g) => g.name),
    async initWorkerStates(theta, keys) {
      check('initWorkerStates', keys.length);
      const out: W[] = [];
      for (let i = 0; i < keys.length; i++) out.push(await gradientEstimators[i]!.initWorkerState(theta, keys[i]!));
      return out;
    },
    async computeEstimates(theta, keys, states) {
      check('computeEstimates', keys.length);
      check('computeEstimates', states.length);
      const out: GradientEstimate<T, W>[] = [];
      try {
        for (let i = 0; i < keys.length; i++) {
          const e = await gradientEstimators[i]!.computeGradientEstimate(theta, keys[i]!, states[i]!);
          disposeReplaced(states[i], e.state);
          out.push(e);
        }
      } catch (e) {
        // The estimates made before the failure are freed (the worker states stay with the caller).
        for (const x of out) tf.dispose([...(flatten(x.grad)[0].filter(isTensor) as tf.Tensor[]), x.metaLoss]);
        throw e;
      }
      return out;
    },
    async close() {},
  };
}
