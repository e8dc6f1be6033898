import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { map as treeMap } from '@lopt/tree';
import { scope, stopGradient, valueAndGrad } from '@lopt/transforms';
import type { GradientEstimate } from './base.js';
import { concatStates, numTasksOf, sliceState, type TruncatedUnrollState } from './truncated-step.js';
import { TruncatedEstimator, type UnrollEstimatorOptions } from './unroll-estimator.js';

export interface TruncatedGradOptions extends UnrollEstimatorOptions {
  /**
   * Backprop through at most this many tasks at once (default all): the gradient is the same
   * mean, computed chunk by chunk, so memory stays bounded (wasm has 4 GB).
   */
  readonly maxTasksPerBatch?: number;
}

/**
 * Truncated backprop through time (learned_optimization outer_trainers/truncated_grad.py; the
 * notebook's `short_segment_unroll` gradient): each call advances the worker's tasks by
 * `unrollLength` steps and returns the gradient of the mean loss of that segment; the inner state
 * is carried to the next call, with no gradient flowing across truncations.
 */
export class TruncatedGrad<T = any> extends TruncatedEstimator<T> {
  readonly name = 'TruncatedGrad';
  readonly maxTasksPerBatch: number;

  constructor(opts: TruncatedGradOptions) {
    super('TruncatedGrad', opts);
    const m = opts.maxTasksPerBatch ?? Infinity;
    if (!(m === Infinity || (Number.isInteger(m) && m >= 1))) throw new Error(`TruncatedGrad: maxTasksPerBatch must be a positive integer, got ${String(m)}`);
    this.maxTasksPerBatch = m;
  }

  private readonly segment = this.compile((config, theta: T, optState: unknown, inputs: unknown) => {
    const [[metaLoss, next], grad] = valueAndGrad(
      (th: T) => {
        const o = this.truncatedStep.runUnroll(th, optState, inputs, config);
        return [o.losses.mean() as tf.Scalar, o.optState] as [tf.Scalar, unknown];
      },
      { hasAux: true },
    )(theta);
    return { metaLoss, grad, optState: stopGradient(next) };
  });

  private chunk(theta: T, state: TruncatedUnrollState) {
    const plan = this.truncatedStep.planUnroll(state);
    const { metaLoss, grad, optState } = this.segment(plan, theta, state.optState, plan.inputs);
    return { metaLoss, grad, state: plan.finish(optState) };
  }

  computeGradientEstimate(theta: T, _key: Key, state: TruncatedUnrollState): GradientEstimate<T, TruncatedUnrollState> {
    const N = numTasksOf(state);
    const m = this.maxTasksPerBatch;
    if (N <= m) return scope(() => this.chunk(theta, state));
    return scope(() => {
      const parts: Array<ReturnType<TruncatedGrad<T>['chunk']> & { n: number }> = [];
      for (let b = 0; b < N; b += m) {
        const n = Math.min(m, N - b);
        parts.push({ ...scope(() => this.chunk(theta, sliceState(state, b, n))), n });
      }
      const w = (p: { n: number }) => p.n / N;
      const grad = treeMap((...gs: tf.Tensor[]) => tf.addN(gs.map((g, i) => tf.mul(g, w(parts[i]!)))), parts[0]!.grad, ...parts.slice(1).map((p) => p.grad)) as T;
      const metaLoss = tf.addN(parts.map((p) => tf.mul(p.metaLoss, w(p)))) as tf.Scalar;
      return { grad, metaLoss, state: concatStates(parts.map((p) => p.state)) };
    });
  }
}
