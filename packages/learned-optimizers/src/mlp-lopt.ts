import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import type { Key } from '@lopt/random';
import type { LearnedOptimizer } from './base.js';
import { checkNumber, checkPositiveInt, checkTheta, stateLeaves, type ThetaLayout } from './common/checks.js';
import { concatColumns, rollingMoment, secondMomentNormalizer, splitLeaves, tanhEmbedding, TANH_FEATURES } from './common/features.js';
import { increment } from './common/finite.js';
import { prngSequence, truncatedNormalInit } from './common/haiku.js';
import { columnMLP, directionMagnitudeStep, type DenseLayer } from './common/mlp.js';
import { perParamOptimizer, type LOptState } from './common/optimizer.js';

export interface MLPLOptOptions {
  /** Multiplier of the magnitude output inside the exp (default 1e-3). */
  readonly expMult?: number;
  /** Multiplier of the step (default 1e-3). */
  readonly stepMult?: number;
  /** Width of each hidden layer (default 32). */
  readonly hiddenSize?: number;
  /** Number of hidden layers (default 2). */
  readonly hiddenLayers?: number;
}

/** haiku's parameter dict of `hk.nets.MLP`: `{"mlp/~/linear_0": {w, b}, ...}`. */
export type MLPLOptTheta = Record<string, { w: tf.Tensor; b: tf.Tensor }>;

export interface MLPLOptState<P = any> extends LOptState<P> {
  /** The 6 rolling momenta, leaves [6, ...param shape] (decays 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999). */
  momentum: P;
}

const DECAYS = [0.1, 0.5, 0.9, 0.99, 0.999, 0.9999];
/** Gradient, parameter and the 6 momenta, normalized per tensor, then the 11 step features. */
const NUM_INPUTS = 2 + DECAYS.length + TANH_FEATURES;

export const layerName = (i: number) => `mlp/~/linear_${i}`;

/**
 * learned_optimization's `MLPLOpt` (learned_optimization/learned_optimizers/mlp_lopt.py, "LOLv2",
 * from "Understanding and correcting pathologies in the training of learned optimizers"), feature
 * for feature. For every coordinate of a tensor the inputs are the gradient, the parameter and 6
 * momenta (decays 0.1 … 0.9999), each normalized over the tensor by `rsqrt(1e-5 + mean(x²))`,
 * followed by the 11 training-step features `tanh(t/τ − 1)` (τ = 1, 3, …, 100000); an MLP
 * 19 → 32 → 32 → 2 (relu) gives direction d and magnitude m, and the parameter moves by
 * `−d · exp(m · expMult) · stepMult`.
 *
 * theta is haiku's parameter dict for `hk.nets.MLP([32, 32, 2])` with its names
 * (`theta["mlp/~/linear_0"].w` [19, 32], ...) and init (truncated normal, stddev 1/√fan_in, keys
 * drawn in haiku's order), so learned_optimization checkpoints map one to one.
 *
 * The per-tensor normalization runs leaf by leaf; the MLP then runs once over every coordinate of
 * every leaf (features as rows; see `columnMLP`).
 */
export class MLPLOpt implements LearnedOptimizer<MLPLOptTheta> {
  readonly name = 'MLPLOpt';
  readonly config: { readonly expMult: number; readonly stepMult: number; readonly hiddenSize: number; readonly hiddenLayers: number };

  constructor(opts: MLPLOptOptions = {}) {
    this.config = Object.freeze({
      expMult: checkNumber('MLPLOpt: expMult', opts.expMult ?? 1e-3),
      stepMult: checkNumber('MLPLOpt: stepMult', opts.stepMult ?? 1e-3),
      hiddenSize: checkPositiveInt('MLPLOpt: hiddenSize', opts.hiddenSize ?? 32),
      hiddenLayers: checkPositiveInt('MLPLOpt: hiddenLayers', opts.hiddenLayers ?? 2),
    });
  }

  private get sizes(): number[] {
    return [NUM_INPUTS, ...Array<number>(this.config.hiddenLayers).fill(this.config.hiddenSize), 2];
  }

  get thetaLayout(): ThetaLayout {
    const s = this.sizes;
    return s.slice(1).flatMap((out, i) => [
      [[layerName(i), 'b'], [out]] as const,
      [[layerName(i), 'w'], [s[i]!, out]] as const,
    ]);
  }

  init = (key: Key): MLPLOptTheta =>
    tf.tidy(() => {
      const next = prngSequence(key);
      const s = this.sizes;
      const theta: MLPLOptTheta = {};
      for (let i = 0; i + 1 < s.length; i++) theta[layerName(i)] = { w: truncatedNormalInit(next(), [s[i]!, s[i + 1]!]), b: tf.zeros([s[i + 1]!]) };
      return theta;
    });

  optFn = (theta: MLPLOptTheta, _isTraining = false): Optimizer<MLPLOptState> => {
    checkTheta(`${this.name}.optFn`, this.thetaLayout, theta);
    const { expMult, stepMult } = this.config;
    const layers: DenseLayer[] = this.sizes.slice(1).map((_, i) => theta[layerName(i)]!);
    const K = DECAYS.length;
    return perParamOptimizer<MLPLOptState>(this.name, {
      init: (p) => ({ momentum: p.def.unflatten(p.leaves.map((l) => tf.zeros([K, ...l.shape]))) }),
      step: (state, p, g) => {
        // As learned_optimization: the decays are a float32 array, 1 − d in float32.
        const decays = tf.tensor1d(DECAYS);
        const m = stateLeaves(`${this.name}.update`, 'state.momentum', state.momentum, p, [K]).map((mi, i) => rollingMoment(mi, g[i]!, decays, tf.sub(1, decays)));
        const x = concatColumns(
          p.leaves.map((pi, i) => secondMomentNormalizer(tf.concat([tf.reshape(g[i]!, [1, -1]), tf.reshape(pi, [1, -1]), tf.reshape(m[i]!, [K, -1])], 0))),
          2 + K,
        );
        const step = directionMagnitudeStep(columnMLP(layers, x, tanhEmbedding(state.iteration)), expMult, stepMult);
        const steps = splitLeaves(step, p.leaves.map((l) => l.shape));
        return {
          params: p.def.unflatten(p.leaves.map((x, i) => tf.sub(x, steps[i]!))),
          momentum: p.def.unflatten(m),
          iteration: increment(state.iteration),
        };
      },
    });
  };
}
