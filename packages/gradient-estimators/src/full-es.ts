import * as tf from '@tensorflow/tfjs';
import { split, type Key } from '@lopt/random';
import { map as treeMap } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientEstimate } from './base.js';
import { antitheticGradient, checkStd, reduceLosses, vectorSamplePerturbations } from './common.js';
import { concatStates, sliceState } from './truncated-step.js';
import { WholeTrainingEstimator, type WholeTrainingOptions } from './unroll-estimator.js';

export interface FullESOptions extends WholeTrainingOptions {
  /** Standard deviation of the perturbations (default 0.01; the no-dependency notebook uses 0.001). */
  readonly std?: number;
  /** Antithetic pairs P, one task each (default the step's `numTasks`). */
  readonly numPairs?: number;
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
export class FullES<T = any> extends WholeTrainingEstimator<T> {
  readonly name = 'FullES';
  readonly std: number;
  readonly numPairs: number;
  readonly batched: boolean;

  constructor(opts: FullESOptions) {
    super('FullES', opts);
    this.std = checkStd('FullES', opts.std ?? 0.01);
    this.numPairs = opts.numPairs ?? opts.truncatedStep.numTasks;
    if (!Number.isInteger(this.numPairs) || this.numPairs < 1) throw new Error(`FullES: numPairs must be a positive integer, got ${String(opts.numPairs)}`);
    this.batched = opts.batched ?? true;
  }

  /** Meta-losses of the particles (theta leaves [n, ...]) of a planned unroll of n tasks. */
  private readonly particleLosses = this.compile((config, thetas: T, optState: unknown, inputs: unknown) => {
    const out = this.truncatedStep.runUnroll(thetas, optState, inputs, config);
    return reduceLosses(out.losses, this.lossType, out.lastLoss);
  });

  /** The whole batched estimate: perturbations from `key`, 2P trainings as one batch, the ES gradient. */
  private readonly batchedEstimate = this.compile((config, theta: T, key: Key, optState: unknown, inputs: unknown) => {
    const { eps, thetas } = vectorSamplePerturbations(theta, key, this.std, this.numPairs);
    const out = this.truncatedStep.runUnroll(thetas, optState, inputs, config);
    const losses = reduceLosses(out.losses, this.lossType, out.lastLoss);
    return { grad: antitheticGradient(eps, losses, this.std), metaLoss: tf.mean(losses) as tf.Scalar };
  });

  computeGradientEstimate(theta: T, key: Key, _state: null = null): GradientEstimate<T, null> {
    const P = this.numPairs;
    return scope(() => {
      const ks = split(key, 2);
      const state = this.truncatedStep.initStepState(theta, ks.at(1), { numTasks: P, randomInitialIterationOffset: 0 });
      if (this.batched) {
        const both = concatStates([state, state]);
        const plan = this.truncatedStep.planUnroll(both, { ...this.unrollOptions, vectorizedTheta: true });
        const { grad, metaLoss } = this.batchedEstimate(plan, theta, ks.at(0), both.optState, plan.inputs);
        return { grad, metaLoss, state: null };
      }
      const { eps, thetas } = vectorSamplePerturbations(theta, ks.at(0), this.std, P);
      const one = Array.from({ length: 2 * P }, (_, i) =>
        scope(() => {
          const th = treeMap((x: tf.Tensor) => tf.slice(x, i, 1), thetas) as T;
          const st = sliceState(state, i % P, 1);
          const plan = this.truncatedStep.planUnroll(st, { ...this.unrollOptions, vectorizedTheta: true });
          return this.particleLosses(plan, th, st.optState, plan.inputs);
        }),
      );
      const losses = tf.concat(one) as tf.Tensor1D;
      return { grad: antitheticGradient(eps, losses, this.std), metaLoss: tf.mean(losses) as tf.Scalar, state: null };
    });
  }
}
