import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { map as treeMap } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientEstimate, GradientEstimator } from './base.js';
import { checkStd, vectorSamplePerturbations, weightedMean } from './common.js';
import { cloneState, concatStates, numTasksOf, sliceState, type TruncatedStep, type TruncatedUnrollState } from './truncated-step.js';

export interface TruncatedPESOptions {
  readonly truncatedStep: TruncatedStep;
  /** Standard deviation of the perturbations (default 0.01, learned_optimization's). */
  readonly std?: number;
}

/** PES worker state (learned_optimization PESWorkerState): both trajectories and the summed perturbations. */
export interface PESWorkerState<T = any> {
  posState: TruncatedUnrollState;
  negState: TruncatedUnrollState;
  /** Sum of the perturbations of each task's current inner training (leaves [T, ...theta leaf]). */
  accumulator: T;
}

/**
 * Persistent evolution strategies (Vicol et al. 2021; learned_optimization
 * outer_trainers/truncated_pes.py): the positive and negative trajectories are carried
 * separately, and every task keeps the sum A of the perturbations its inner training has seen, so
 * the estimate (L⁺ − L⁻)/(2σ²) · (A + eps) is unbiased for the gradient of the whole training's
 * loss. Resets inside a segment are handled step by step: a step after its task's reset only
 * credits the current perturbation, and the accumulator restarts from it.
 */
export class TruncatedPES<T = any> implements GradientEstimator<T, PESWorkerState<T>> {
  readonly name = 'TruncatedPES';
  readonly truncatedStep: TruncatedStep;
  readonly std: number;

  constructor(opts: TruncatedPESOptions) {
    if (!opts?.truncatedStep) throw new Error('TruncatedPES: truncatedStep is required');
    this.truncatedStep = opts.truncatedStep;
    this.std = checkStd('TruncatedPES', opts.std ?? 0.01);
  }

  initWorkerState(theta: T, key: Key): PESWorkerState<T> {
    return scope(() => {
      const posState = this.truncatedStep.initStepState(theta, key);
      const N = numTasksOf(posState);
      return { posState, negState: cloneState(posState), accumulator: treeMap((x: tf.Tensor) => tf.zeros([N, ...x.shape]), theta) as T };
    });
  }

  computeGradientEstimate(theta: T, key: Key, state: PESWorkerState<T>): GradientEstimate<T, PESWorkerState<T>> {
    const N = numTasksOf(state.posState);
    return scope(() => {
      const { eps, thetas } = vectorSamplePerturbations(theta, key, this.std, N);
      const out = this.truncatedStep.unrollStep(thetas, concatStates([state.posState, state.negState]), { vectorizedTheta: true });
      const K = out.losses.shape[0];
      // has[s, t]: task t's current training started within this segment at or before step s.
      const has = new Float32Array(K * N);
      const anyReset = new Array<boolean>(N).fill(false);
      for (let s = 0; s < K; s++) {
        for (let t = 0; t < N; t++) {
          if (out.resets[s * 2 * N + t]) anyReset[t] = true;
          has[s * N + t] = anyReset[t] ? 1 : 0;
        }
      }
      const [pos, neg] = tf.split(out.losses, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      const contrib = tf.div(tf.sub(pos, neg), 2 * this.std ** 2 * K); // [K, N]
      const h = tf.tensor2d(has, [K, N]);
      const cNew = tf.sum(tf.mul(contrib, h), 0) as tf.Tensor1D;
      const cOld = tf.sum(tf.mul(contrib, tf.sub(1, h)), 0) as tf.Tensor1D;
      const accumulated = treeMap((a: tf.Tensor, e: tf.Tensor) => tf.add(a, e), state.accumulator, eps) as T;
      const grad = treeMap((a: tf.Tensor, b: tf.Tensor) => tf.add(a, b), weightedMean(accumulated, cOld), weightedMean(eps, cNew)) as T;
      const reset = tf.tensor1d(anyReset, 'bool');
      const accumulator = treeMap(
        (a: tf.Tensor, e: tf.Tensor) => tf.where(tf.reshape(reset, [N, ...a.shape.slice(1).map(() => 1)]).broadcastTo(a.shape), e, a),
        accumulated,
        eps,
      ) as T;
      return {
        grad,
        metaLoss: tf.mean(out.losses) as tf.Scalar,
        state: { posState: sliceState(out.state, 0, N), negState: sliceState(out.state, N, N), accumulator },
      };
    });
  }
}
