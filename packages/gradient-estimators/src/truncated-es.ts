import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { scope } from '@lopt/transforms';
import type { GradientEstimate } from './base.js';
import { antitheticGradient, vectorSamplePerturbations } from './common.js';
import { concatStates, numTasksOf, sliceState, type TruncatedUnrollState } from './truncated-step.js';
import { PerturbedTruncatedEstimator, type TruncatedESOptions } from './unroll-estimator.js';

export type { TruncatedESOptions };

/**
 * Truncated antithetic ES (learned_optimization outer_trainers/truncated_es.py): each call draws
 * one perturbation per task, unrolls θ + eps and θ − eps from the same inner state for
 * `unrollLength` steps (all 2T as one batch), and estimates the gradient of that segment's mean
 * loss. The positive trajectory is carried on. Biased: it ignores how theta shaped the state
 * the segment starts from (see {@link TruncatedPES}).
 */
export class TruncatedES<T = any> extends PerturbedTruncatedEstimator<T> {
  readonly name = 'TruncatedES';

  constructor(opts: TruncatedESOptions) {
    super('TruncatedES', opts);
  }

  private readonly estimate = this.compile((config, theta: T, key: Key, optState: unknown, inputs: unknown) => {
    const { eps, thetas } = vectorSamplePerturbations(theta, key, this.std, config.numTasks / 2);
    const out = this.truncatedStep.runUnroll(thetas, optState, inputs, config);
    const grad = antitheticGradient(eps, tf.mean(out.losses, 0) as tf.Tensor1D, this.std);
    return { grad, metaLoss: tf.mean(out.losses) as tf.Scalar, optState: out.optState };
  });

  computeGradientEstimate(theta: T, key: Key, state: TruncatedUnrollState): GradientEstimate<T, TruncatedUnrollState> {
    const N = numTasksOf(state);
    return scope(() => {
      const both = concatStates([state, state]);
      const plan = this.truncatedStep.planUnroll(both, { vectorizedTheta: true });
      const { grad, metaLoss, optState } = this.estimate(plan, theta, key, both.optState, plan.inputs);
      return { grad, metaLoss, state: sliceState(plan.finish(optState), 0, N) };
    });
  }
}
