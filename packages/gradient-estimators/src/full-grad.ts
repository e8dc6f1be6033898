import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { scope, valueAndGrad } from '@lopt/transforms';
import type { GradientEstimate } from './base.js';
import { reduceLosses } from './common.js';
import { WholeTrainingEstimator, type WholeTrainingOptions } from './unroll-estimator.js';

export type FullGradOptions = WholeTrainingOptions;

/**
 * Backprop through a whole inner training (learned_optimization outer_trainers/full_grad.py; the
 * no-dependency notebook's `meta_loss` and `vectorized_meta_loss`): every call starts
 * `numTasks` fresh tasks, trains them `numSteps` steps with theta, and returns the gradient of the
 * mean (over tasks) meta-loss. Nothing is carried between calls (worker state null).
 */
export class FullGrad<T = any> extends WholeTrainingEstimator<T> {
  readonly name = 'FullGrad';

  constructor(opts: FullGradOptions) {
    super('FullGrad', opts);
  }

  private readonly estimate = this.compile((config, theta: T, optState: unknown, inputs: unknown) => {
    const [metaLoss, grad] = valueAndGrad((th: T) => {
      const out = this.truncatedStep.runUnroll(th, optState, inputs, config);
      return reduceLosses(out.losses, this.lossType, out.lastLoss).mean() as tf.Scalar;
    })(theta);
    return { metaLoss, grad };
  });

  computeGradientEstimate(theta: T, key: Key, _state: null = null): GradientEstimate<T, null> {
    return scope(() => {
      const state = this.truncatedStep.initStepState(theta, key, { randomInitialIterationOffset: 0 });
      const plan = this.truncatedStep.planUnroll(state, this.unrollOptions);
      const { metaLoss, grad } = this.estimate(plan, theta, state.optState, plan.inputs);
      return { grad, metaLoss, state: null };
    });
  }
}
