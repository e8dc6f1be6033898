import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import { normal, split, type Key } from '@lopt/random';
import type { LearnedOptimizer } from './base.js';
import { checkDecays, checkNumber, checkPositiveInt, checkTheta, stateLeaves, type ThetaLayout } from './common/checks.js';
import { concatColumns, rollingMoment, splitLeaves } from './common/features.js';
import { increment } from './common/finite.js';
import { perParamOptimizer, type LOptState } from './common/optimizer.js';
import { columnMLP } from './common/mlp.js';

export interface PerParamMLPLOptOptions {
  /** Hidden units of the one relu layer (default 64). */
  readonly hiddenSize?: number;
  /**
   * Momentum decays, one feature each (default [0.9], the notebook's). Several values give
   * momenta at several timescales, e.g. [0.5, 0.9, 0.99].
   */
  readonly momentumDecays?: readonly number[];
  /**
   * Adam-style features: with a decay (e.g. 0.999), a rolling second moment v of the gradient
   * is kept and fed as a feature, together with every momentum normalized by it,
   * `m / sqrt(v + epsilon)`. Default null (off).
   */
  readonly secondMomentDecay?: number | null;
  /** Inside the square root of the normalized momenta (default 1e-8): keeps them differentiable at v = 0. */
  readonly epsilon?: number;
  /** step = a · stepMult · exp(b · expMult) (defaults 0.01 and 0.01, as the notebook). */
  readonly stepMult?: number;
  readonly expMult?: number;
}

/** Meta-parameters: the MLP's weights, w0 [features, hidden], b0 [hidden], w1 [hidden, 2], b1 [2]. */
export interface PerParamMLPTheta {
  w0: tf.Tensor;
  b0: tf.Tensor;
  w1: tf.Tensor;
  b1: tf.Tensor;
}

export interface PerParamMLPState<P = any> extends LOptState<P> {
  /** Rolling momenta, leaves [K, ...param shape] for the K momentum decays. */
  momentum: P;
  /** Rolling second moment (leaves shaped like the params) when `secondMomentDecay` is set. */
  secondMoment?: P;
}

/**
 * The per-parameter MLP learned optimizer of learned_optimization's "No dependency introduction
 * to learned optimizers in JAX" (its `LOpt`), exactly: for every coordinate, the features
 * [parameter, momentum, gradient] go through an MLP 3 → 64 (relu) → 2 giving a, b, and the
 * parameter moves by `−a · 0.01 · exp(b · 0.01)`. The momentum (decay 0.9) is updated before the
 * features are built. `init(key)` draws w0 ~ N(0, 1) [3, 64] and w1 ~ N(0, 1) [64, 2] from
 * `split(key)` as the notebook does (zero biases), so the same key gives the same weights.
 *
 * Options add the notebook's suggested exercises: momenta at several timescales
 * (`momentumDecays`) and Adam-style features (`secondMomentDecay`). With options the features
 * are [parameter, momentum_1..K, gradient, (v, m_1/√(v+ε)..m_K/√(v+ε))] in that order.
 *
 * All coordinates of all leaves go through one MLP call (see `columnMLP`).
 */
export class PerParamMLPLOpt implements LearnedOptimizer<PerParamMLPTheta> {
  readonly name = 'PerParamMLPLOpt';
  readonly config: {
    readonly hiddenSize: number;
    readonly momentumDecays: readonly number[];
    readonly secondMomentDecay: number | null;
    readonly epsilon: number;
    readonly stepMult: number;
    readonly expMult: number;
  };

  constructor(opts: PerParamMLPLOptOptions = {}) {
    const f = 'PerParamMLPLOpt';
    const smd = opts.secondMomentDecay ?? null;
    if (smd !== null) checkDecays(`${f}: secondMomentDecay`, [smd]);
    this.config = Object.freeze({
      hiddenSize: checkPositiveInt(`${f}: hiddenSize`, opts.hiddenSize ?? 64),
      momentumDecays: Object.freeze(checkDecays(`${f}: momentumDecays`, opts.momentumDecays ?? [0.9])),
      secondMomentDecay: smd,
      epsilon: checkNumber(`${f}: epsilon`, opts.epsilon ?? 1e-8),
      stepMult: checkNumber(`${f}: stepMult`, opts.stepMult ?? 0.01),
      expMult: checkNumber(`${f}: expMult`, opts.expMult ?? 0.01),
    });
  }

  /** Features per coordinate: 3 for the notebook's optimizer. */
  get numFeatures(): number {
    const k = this.config.momentumDecays.length;
    return 2 + k + (this.config.secondMomentDecay === null ? 0 : 1 + k);
  }

  /** The shapes of theta's leaves. */
  get thetaLayout(): ThetaLayout {
    const h = this.config.hiddenSize;
    return [
      [['b0'], [h]],
      [['b1'], [2]],
      [['w0'], [this.numFeatures, h]],
      [['w1'], [h, 2]],
    ];
  }

  init = (key: Key): PerParamMLPTheta =>
    tf.tidy(() => {
      const ks = split(key, 2);
      const h = this.config.hiddenSize;
      return { w0: normal(ks.at(0), [this.numFeatures, h]), b0: tf.zeros([h]), w1: normal(ks.at(1), [h, 2]), b1: tf.zeros([2]) };
    });

  optFn = (theta: PerParamMLPTheta, _isTraining = false): Optimizer<PerParamMLPState> => {
    const fname = `${this.name}.optFn`;
    checkTheta(fname, this.thetaLayout, theta);
    const { momentumDecays, secondMomentDecay, epsilon, stepMult, expMult } = this.config;
    const K = momentumDecays.length;
    return perParamOptimizer<PerParamMLPState>(this.name, {
      init: (p) => ({
        momentum: p.def.unflatten(p.leaves.map((l) => tf.zeros([K, ...l.shape]))),
        ...(secondMomentDecay === null ? {} : { secondMoment: p.def.unflatten(p.leaves.map((l) => tf.zerosLike(l))) }),
      }),
      step: (state, p, g) => {
        const fname = `${this.name}.update`;
        // The notebook's decays are Python floats: 1 − d is computed in double.
        const decays = tf.tensor1d([...momentumDecays]);
        const oneMinus = tf.tensor1d(momentumDecays.map((d) => 1 - d));
        const m = stateLeaves(fname, 'state.momentum', state.momentum, p, [K]).map((mi, i) => rollingMoment(mi, g[i]!, decays, oneMinus));
        const rows: tf.Tensor[] = [concatColumns(p.leaves, 1), concatColumns(m, K), concatColumns(g, 1)];
        let v: tf.Tensor[] | undefined;
        if (secondMomentDecay !== null) {
          const d = secondMomentDecay;
          v = stateLeaves(fname, 'state.secondMoment', state.secondMoment, p, []).map((vi, i) => tf.add(tf.mul(vi, d), tf.mul(tf.square(g[i]!), 1 - d)));
          const V = concatColumns(v, 1);
          rows.push(V, tf.mul(rows[1]!, tf.rsqrt(tf.add(V, epsilon))));
        }
        const layers = [
          { w: theta.w0, b: theta.b0 },
          { w: theta.w1, b: theta.b1 },
        ];
        const [a, b] = tf.split(columnMLP(layers, tf.concat(rows, 0)), 2, 0) as [tf.Tensor, tf.Tensor];
        // The notebook's order of operations: scale * 0.01 * exp(mag * 0.01).
        const steps = splitLeaves(tf.reshape(tf.mul(tf.mul(a, stepMult), tf.exp(tf.mul(b, expMult))), [-1]), p.leaves.map((l) => l.shape));
        return {
          params: p.def.unflatten(p.leaves.map((x, i) => tf.sub(x, steps[i]!))),
          momentum: p.def.unflatten(m),
          ...(v ? { secondMoment: p.def.unflatten(v) } : {}),
          iteration: increment(state.iteration),
        };
      },
    });
  };
}
