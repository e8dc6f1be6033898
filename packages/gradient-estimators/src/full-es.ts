import * as tf from '@tensorflow/tfjs';
import { split, type Key } from '@lopt/random';
import { map as treeMap } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientEstimate, GradientEstimator } from './base.js';
import { checkLossType, checkStd, reduceLosses, vectorSamplePerturbations, weightedMean, type MetaLossType } from './common.js';
import { concatStates, sliceState, type TruncatedStep } from './truncated-step.js';

export interface FullESOptions {
  readonly truncatedStep: TruncatedStep;
  /** Standard deviation of the perturbations (default 0.01; the no-dependency notebook uses 0.001). */
  readonly std?: number;
  /** Antithetic pairs P, one task each (default the step's `numTasks`). */
  readonly numPairs?: number;
  /** Inner steps of the whole training; default the step's `unrollLength`. */
  readonly numSteps?: number;
  /** 'average' (default), 'last' (loss at the final params) or 'min' over the training. */
  readonly lossType?: MetaLossType;
  /**
   * true (default): all 2P perturbed trainings run as one batch of 2P tasks. false: one training
   * at a time (the same numbers, for speed comparisons).
   */
  readonly batched?: boolean;
}

/**
 * Antithetic evolution strategies over whole inner trainings (learned_optimization
 * outer_trainers/full_es.py; the notebook's `vec_antithetic_es_estimate`): P perturbations
 * eps ~ N(0, σ²) of theta, each pair trained on the same task (same init and batches) with θ + eps
 * and θ − eps, and grad = mean_i (L(θ + eps_i) − L(θ − eps_i)) / (2σ²) · eps_i.
 */
export class FullES<T = any> implements GradientEstimator<T, null> {
  readonly name = 'FullES';
  readonly truncatedStep: TruncatedStep;
  readonly std: number;
  readonly numPairs: number;
  readonly numSteps: number;
  readonly lossType: MetaLossType;
  readonly batched: boolean;

  constructor(opts: FullESOptions) {
    if (!opts?.truncatedStep) throw new Error('FullES: truncatedStep is required');
    this.truncatedStep = opts.truncatedStep;
    this.std = checkStd('FullES', opts.std ?? 0.01);
    this.numPairs = opts.numPairs ?? opts.truncatedStep.numTasks;
    if (!Number.isInteger(this.numPairs) || this.numPairs < 1) throw new Error(`FullES: numPairs must be a positive integer, got ${String(opts.numPairs)}`);
    this.numSteps = opts.numSteps ?? opts.truncatedStep.unrollLength;
    this.lossType = checkLossType('FullES', opts.lossType ?? 'average');
    this.batched = opts.batched ?? true;
  }

  initWorkerState(_theta: T, _key: Key): null {
    return null;
  }

  /** Per-particle meta-losses [2P] (positive then negative) of the stacked thetas. */
  private particleLosses(thetas: T, state: ReturnType<TruncatedStep['initStepState']>): tf.Tensor1D {
    const P = this.numPairs;
    const opts = { vectorizedTheta: true, numSteps: this.numSteps, evalLast: this.lossType === 'last' };
    if (this.batched) {
      const out = this.truncatedStep.unrollStep(thetas, concatStates([state, state]), opts);
      return reduceLosses(out.losses, this.lossType, out.lastLoss);
    }
    const one = Array.from({ length: 2 * P }, (_, i) =>
      scope(() => {
        const th = treeMap((x: tf.Tensor) => tf.slice(x, i, 1), thetas) as T;
        const out = this.truncatedStep.unrollStep(th, sliceState(state, i % P, 1), opts);
        return reduceLosses(out.losses, this.lossType, out.lastLoss);
      }),
    );
    return tf.concat(one) as tf.Tensor1D;
  }

  computeGradientEstimate(theta: T, key: Key, _state: null = null): GradientEstimate<T, null> {
    const P = this.numPairs;
    return scope(() => {
      const ks = split(key, 2);
      const { eps, thetas } = vectorSamplePerturbations(theta, ks.at(0), this.std, P);
      const state = this.truncatedStep.initStepState(theta, ks.at(1), { numTasks: P, randomInitialIterationOffset: 0 });
      const losses = this.particleLosses(thetas, state);
      const [pos, neg] = tf.split(losses, 2) as [tf.Tensor1D, tf.Tensor1D];
      const coef = tf.div(tf.sub(pos, neg), 2 * this.std ** 2) as tf.Tensor1D;
      return { grad: weightedMean(eps, coef), metaLoss: tf.mean(losses) as tf.Scalar, state: null };
    });
  }
}
