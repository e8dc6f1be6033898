import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { scope, stopGradient, valueAndGrad } from '@lopt/transforms';
import type { GradientEstimate, GradientEstimator } from './base.js';
import type { TruncatedStep, TruncatedUnrollState, UnrollOutput } from './truncated-step.js';

export interface TruncatedGradOptions {
  readonly truncatedStep: TruncatedStep;
}

/**
 * Truncated backprop through time (learned_optimization outer_trainers/truncated_grad.py; the
 * notebook's `short_segment_unroll` gradient): each call advances the worker's tasks by
 * `unrollLength` steps and returns the gradient of the mean loss of that segment; the inner state
 * is carried to the next call, with no gradient flowing across truncations.
 */
export class TruncatedGrad<T = any> implements GradientEstimator<T, TruncatedUnrollState> {
  readonly name = 'TruncatedGrad';
  readonly truncatedStep: TruncatedStep;

  constructor(opts: TruncatedGradOptions) {
    if (!opts?.truncatedStep) throw new Error('TruncatedGrad: truncatedStep is required');
    this.truncatedStep = opts.truncatedStep;
  }

  initWorkerState(theta: T, key: Key): TruncatedUnrollState {
    return this.truncatedStep.initStepState(theta, key);
  }

  computeGradientEstimate(theta: T, _key: Key, state: TruncatedUnrollState): GradientEstimate<T, TruncatedUnrollState> {
    return scope(() => {
      const [[metaLoss, next], grad] = valueAndGrad(
        (th: T) => {
          const o = this.truncatedStep.unrollStep(th, state);
          return [o.losses.mean() as tf.Scalar, o.state] as [tf.Scalar, UnrollOutput['state']];
        },
        { hasAux: true },
      )(theta);
      return { grad, metaLoss, state: { ...next, optState: stopGradient(next.optState) } };
    });
  }
}
