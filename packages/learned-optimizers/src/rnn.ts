import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import { normal, split, type Key } from '@lopt/random';
import { describe, isTensor } from '@lopt/tree';
import type { LearnedOptimizer } from './base.js';
import { checkDecays, checkNumber, checkPositiveInt, checkTheta, stateLeaves, type FlatParams, type ThetaLayout } from './common/checks.js';
import { rollingMoment, splitLeaves } from './common/features.js';
import { increment } from './common/finite.js';
import { perParamOptimizer, type LOptState } from './common/optimizer.js';
import { orthogonal } from './lstm-cell.js';

export interface PerParamRNNLOptOptions {
  /** Hidden units of the RNN cell (default 32). */
  readonly hiddenSize?: number;
  /** Momentum decays, one feature each (default [0.9], the notebook's). */
  readonly momentumDecays?: readonly number[];
  /** step = a · stepMult · exp(b · expMult) (defaults 0.01 and 0.01, as the notebook's MLP). */
  readonly stepMult?: number;
  readonly expMult?: number;
}

/**
 * Meta-parameters: input kernel `wx` [features, H], recurrent kernel `wh` [H, H], bias `b` [H],
 * output kernel `wo` [H, 2] and bias `bo` [2].
 */
export interface PerParamRNNTheta {
  wx: tf.Tensor;
  wh: tf.Tensor;
  b: tf.Tensor;
  wo: tf.Tensor;
  bo: tf.Tensor;
}

export interface PerParamRNNState<P = any> extends LOptState<P> {
  /** Rolling momenta, leaves [K, ...param shape]. */
  momentum: P;
  /** The RNN's hidden state over all N coordinates of all leaves (flatten order), [N, H]; zeros at init. */
  hidden: tf.Tensor;
}

/**
 * The per-parameter RNN optimizer that learned_optimization's "No dependency introduction to
 * learned optimizers in JAX" leaves as an exercise ("make the per parameter MLP a per parameter
 * RNN"): the notebook's MLP optimizer with its hidden layer made recurrent. For every coordinate,
 * the features [parameter, momentum_1..K, gradient] and the coordinate's hidden state h give
 * `h' = tanh(x·wx + h·wh + b)`, `[a, b] = h'·wo + bo`, and the parameter moves by
 * `−a · 0.01 · exp(b · 0.01)` as in the notebook. The momenta are updated before the features
 * are built (as the notebook does).
 *
 * init: wx ~ N(0, 1) and wo ~ N(0, 1) as the notebook's MLP weights, wh orthogonal (flax's
 * recurrent default), zero biases; keys split(key, 3) → wx, wh, wo. All coordinates of all leaves
 * run through one batched cell; the hidden state is kept concatenated ([N, H]).
 */
export class PerParamRNNLOpt implements LearnedOptimizer<PerParamRNNTheta> {
  readonly name = 'PerParamRNNLOpt';
  readonly config: { readonly hiddenSize: number; readonly momentumDecays: readonly number[]; readonly stepMult: number; readonly expMult: number };

  constructor(opts: PerParamRNNLOptOptions = {}) {
    const f = 'PerParamRNNLOpt';
    this.config = Object.freeze({
      hiddenSize: checkPositiveInt(`${f}: hiddenSize`, opts.hiddenSize ?? 32),
      momentumDecays: Object.freeze(checkDecays(`${f}: momentumDecays`, opts.momentumDecays ?? [0.9])),
      stepMult: checkNumber(`${f}: stepMult`, opts.stepMult ?? 0.01),
      expMult: checkNumber(`${f}: expMult`, opts.expMult ?? 0.01),
    });
  }

  /** Features per coordinate: parameter, K momenta, gradient. */
  get numFeatures(): number {
    return 2 + this.config.momentumDecays.length;
  }

  get thetaLayout(): ThetaLayout {
    const h = this.config.hiddenSize;
    return [
      [['b'], [h]],
      [['bo'], [2]],
      [['wh'], [h, h]],
      [['wo'], [h, 2]],
      [['wx'], [this.numFeatures, h]],
    ];
  }

  init = (key: Key): PerParamRNNTheta =>
    tf.tidy(() => {
      const ks = split(key, 3);
      const h = this.config.hiddenSize;
      return { wx: normal(ks.at(0), [this.numFeatures, h]), wh: orthogonal(ks.at(1), h), b: tf.zeros([h]), wo: normal(ks.at(2), [h, 2]), bo: tf.zeros([2]) };
    });

  optFn = (theta: PerParamRNNTheta, _isTraining = false): Optimizer<PerParamRNNState> => {
    checkTheta(`${this.name}.optFn`, this.thetaLayout, theta);
    const { hiddenSize, momentumDecays, stepMult, expMult } = this.config;
    const K = momentumDecays.length;
    const numCoords = (p: FlatParams) => p.leaves.reduce((n, l) => n + l.size, 0);
    return perParamOptimizer<PerParamRNNState>(this.name, {
      init: (p) => ({ momentum: p.def.unflatten(p.leaves.map((l) => tf.zeros([K, ...l.shape]))), hidden: tf.zeros([numCoords(p), hiddenSize]) }),
      step: (state, p, g) => {
        const fname = `${this.name}.update`;
        const n = numCoords(p);
        const h = state.hidden;
        if (!isTensor(h) || h.rank !== 2 || h.shape[0] !== n || h.shape[1] !== hiddenSize) {
          throw new Error(`${fname}: state.hidden: expected [${n},${hiddenSize}] (coordinates × hidden), got ${describe(h)}; pass the state this optimizer made for these params`);
        }
        // The notebook's decays are Python floats: 1 − d in double.
        const decays = tf.tensor1d([...momentumDecays]);
        const oneMinus = tf.tensor1d(momentumDecays.map((d) => 1 - d));
        const m = stateLeaves(fname, 'state.momentum', state.momentum, p, [K]).map((mi, i) => rollingMoment(mi, g[i]!, decays, oneMinus));
        // Features as columns [N, F]: parameter, momenta, gradient.
        const col = (ts: readonly tf.Tensor[], rows: number) => {
          const flat = ts.map((t) => tf.reshape(t, [rows, -1]));
          return tf.transpose(flat.length === 1 ? flat[0]! : tf.concat(flat, 1));
        };
        const x = tf.concat([col(p.leaves, 1), col(m, K), col(g, 1)], 1);
        const hidden = tf.tanh(tf.add(tf.add(tf.matMul(x, theta.wx), tf.matMul(h, theta.wh)), theta.b));
        const out = tf.add(tf.matMul(hidden, theta.wo), theta.bo);
        const [a, b] = tf.split(out, 2, 1) as [tf.Tensor, tf.Tensor];
        const steps = splitLeaves(tf.reshape(tf.mul(tf.mul(a, stepMult), tf.exp(tf.mul(b, expMult))), [-1]), p.leaves.map((l) => l.shape));
        return { params: p.def.unflatten(p.leaves.map((l, i) => tf.sub(l, steps[i]!))), momentum: p.def.unflatten(m), hidden, iteration: increment(state.iteration) };
      },
    });
  };
}
