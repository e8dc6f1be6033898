import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { scope } from '@lopt/transforms';
import type { GradientEstimate, GradientEstimator } from './base.js';
import { checkStd, vectorSamplePerturbations, weightedMean } from './common.js';
import { concatStates, numTasksOf, sliceState, type TruncatedStep, type TruncatedUnrollState } from './truncated-step.js';

export interface TruncatedESOptions {
  readonly truncatedStep: TruncatedStep;
  /** Standard deviation of the perturbations (default 0.01, learned_optimization's). */
  readonly std?: number;
}

/**
 * Truncated antithetic ES (learned_optimization outer_trainers/truncated_es.py): each call draws
 * one perturbation per task, unrolls θ + eps and θ − eps from the same inner state for
 * `unrollLength` steps (all 2T as one batch), and estimates the gradient of that segment's mean
 * loss. The positive trajectory is carried on. Biased: it ignores how theta shaped the state
 * the segment starts from (see {@link TruncatedPES}).
 */
export class TruncatedES<T = any> implements GradientEstimator<T, TruncatedUnrollState> {
  readonly name = 'TruncatedES';
  readonly truncatedStep: TruncatedStep;
  readonly std: number;

  constructor(opts: TruncatedESOptions) {
    if (!opts?.truncatedStep) throw new Error('TruncatedES: truncatedStep is required');
    this.truncatedStep = opts.truncatedStep;
    this.std = checkStd('TruncatedES', opts.std ?? 0.01);
  }

  initWorkerState(theta: T, key: Key): TruncatedUnrollState {
    return this.truncatedStep.initStepState(theta, key);
  }

  computeGradientEstimate(theta: T, key: Key, state: TruncatedUnrollState): GradientEstimate<T, TruncatedUnrollState> {
    const N = numTasksOf(state);
    return scope(() => {
      const { eps, thetas } = vectorSamplePerturbations(theta, key, this.std, N);
      const out = this.truncatedStep.unrollStep(thetas, concatStates([state, state]), { vectorizedTheta: true });
      const perTask = tf.mean(out.losses, 0);
      const [pos, neg] = tf.split(perTask, 2) as [tf.Tensor1D, tf.Tensor1D];
      const coef = tf.div(tf.sub(pos, neg), 2 * this.std ** 2) as tf.Tensor1D;
      return { grad: weightedMean(eps, coef), metaLoss: tf.mean(out.losses) as tf.Scalar, state: sliceState(out.state, 0, N) };
    });
  }
}
