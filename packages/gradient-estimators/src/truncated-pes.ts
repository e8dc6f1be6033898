import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { map as treeMap } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientEstimate } from './base.js';
import { vectorSamplePerturbations, weightedMean } from './common.js';
import { cloneState, concatStates, numTasksOf, sliceState, type TruncatedUnrollState } from './truncated-step.js';
import { PerturbedTruncatedEstimator, type TruncatedESOptions } from './unroll-estimator.js';

export type TruncatedPESOptions = TruncatedESOptions;

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
export class TruncatedPES<T = any> extends PerturbedTruncatedEstimator<T, PESWorkerState<T>> {
  readonly name = 'TruncatedPES';

  constructor(opts: TruncatedPESOptions) {
    super('TruncatedPES', opts);
  }

  override initWorkerState(theta: T, key: Key): PESWorkerState<T> {
    return scope(() => {
      const posState = this.truncatedStep.initStepState(theta, key);
      const N = numTasksOf(posState);
      return { posState, negState: cloneState(posState), accumulator: treeMap((x: tf.Tensor) => tf.zeros([N, ...x.shape]), theta) as T };
    });
  }

  /**
   * has [K, N]: 1 where task n's current training started within this segment at or before the
   * step (those steps only credit the new perturbation); reset [N]: the task was reset in it.
   */
  private readonly estimate = this.compile(
    (config, theta: T, key: Key, optState: unknown, accumulator: T, inputs: unknown, has: tf.Tensor2D, reset: tf.Tensor1D) => {
      const N = config.numTasks / 2;
      const { eps, thetas } = vectorSamplePerturbations(theta, key, this.std, N);
      const out = this.truncatedStep.runUnroll(thetas, optState, inputs, config);
      const K = config.numSteps;
      const [pos, neg] = tf.split(out.losses, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      const contrib = tf.div(tf.sub(pos, neg), 2 * this.std ** 2 * K); // [K, N]
      const cNew = tf.sum(tf.mul(contrib, has), 0) as tf.Tensor1D;
      const cOld = tf.sum(tf.mul(contrib, tf.sub(1, has)), 0) as tf.Tensor1D;
      const accumulated = treeMap((a: tf.Tensor, e: tf.Tensor) => tf.add(a, e), accumulator, eps) as T;
      const grad = treeMap((a: tf.Tensor, b: tf.Tensor) => tf.add(a, b), weightedMean(accumulated, cOld), weightedMean(eps, cNew)) as T;
      const nextAccumulator = treeMap(
        (a: tf.Tensor, e: tf.Tensor) => tf.where(tf.reshape(reset, [N, ...a.shape.slice(1).map(() => 1)]).broadcastTo(a.shape), e, a),
        accumulated,
        eps,
      ) as T;
      return { grad, metaLoss: tf.mean(out.losses) as tf.Scalar, optState: out.optState, accumulator: nextAccumulator };
    },
  );

  computeGradientEstimate(theta: T, key: Key, state: PESWorkerState<T>): GradientEstimate<T, PESWorkerState<T>> {
    const N = numTasksOf(state.posState);
    return scope(() => {
      const both = concatStates([state.posState, state.negState]);
      const plan = this.truncatedStep.planUnroll(both, { vectorizedTheta: true });
      const K = plan.config.numSteps;
      // The positive trajectory's resets (the negative one's are the same: same counters and keys).
      const has = new Float32Array(K * N);
      const anyReset = new Array<boolean>(N).fill(false);
      for (let s = 0; s < K; s++) {
        for (let t = 0; t < N; t++) {
          if (plan.resets[s * 2 * N + t]) anyReset[t] = true;
          has[s * N + t] = anyReset[t] ? 1 : 0;
        }
      }
      const out = this.estimate(plan, theta, key, both.optState, state.accumulator, plan.inputs, tf.tensor2d(has, [K, N]), tf.tensor1d(anyReset, 'bool'));
      const next = plan.finish(out.optState);
      return {
        grad: out.grad,
        metaLoss: out.metaLoss,
        state: { posState: sliceState(next, 0, N), negState: sliceState(next, N, N), accumulator: out.accumulator },
      };
    });
  }
}
