import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { scope, valueAndGrad } from '@lopt/transforms';
import type { GradientEstimate, GradientEstimator } from './base.js';
import { checkLossType, reduceLosses, type MetaLossType } from './common.js';
import type { TruncatedStep } from './truncated-step.js';

export interface FullGradOptions {
  readonly truncatedStep: TruncatedStep;
  /** Inner steps of the whole training; default the step's `unrollLength`. */
  readonly numSteps?: number;
  /** 'average' (default): mean loss over the training, 'last': the loss at the final params, 'min'. */
  readonly lossType?: MetaLossType;
}

/**
 * Backprop through a whole inner training (learned_optimization outer_trainers/full_grad.py; the
 * no-dependency notebook's `meta_loss` and `vectorized_meta_loss`): every call starts
 * `numTasks` fresh tasks, trains them `numSteps` steps with theta, and returns the gradient of the
 * mean (over tasks) meta-loss. Nothing is carried between calls (worker state null).
 */
export class FullGrad<T = any> implements GradientEstimator<T, null> {
  readonly name = 'FullGrad';
  readonly truncatedStep: TruncatedStep;
  readonly numSteps: number;
  readonly lossType: MetaLossType;

  constructor(opts: FullGradOptions) {
    if (!opts?.truncatedStep) throw new Error('FullGrad: truncatedStep is required');
    this.truncatedStep = opts.truncatedStep;
    this.numSteps = opts.numSteps ?? opts.truncatedStep.unrollLength;
    this.lossType = checkLossType('FullGrad', opts.lossType ?? 'average');
  }

  initWorkerState(_theta: T, _key: Key): null {
    return null;
  }

  computeGradientEstimate(theta: T, key: Key, _state: null = null): GradientEstimate<T, null> {
    return scope(() => {
      const state = this.truncatedStep.initStepState(theta, key, { randomInitialIterationOffset: 0 });
      const [metaLoss, grad] = valueAndGrad((th: T) => {
        const out = this.truncatedStep.unrollStep(th, state, { numSteps: this.numSteps, evalLast: this.lossType === 'last' });
        return reduceLosses(out.losses, this.lossType, out.lastLoss).mean() as tf.Scalar;
      })(theta);
      return { grad, metaLoss, state: null };
    });
  }
}
