import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Optimizer } from '@lopt/optimizers';
import type { Key } from '@lopt/random';
import type { LearnedOptimizer } from '../base.js';
import { checkNumber, checkPositiveInt, checkTheta, stateLeaves, type ThetaLayout } from '../common/checks.js';
import { concatColumns, rollingMoment, splitLeaves } from '../common/features.js';
import { celoOptimizer, type CeloBaseState } from './optimizer.js';
import { initScheduler, schedulerLayout, type CeloSchedulerTheta } from './scheduler.js';

export interface CeloAdamOptions {
  /** LSTM width (default 64, the published checkpoint's). */
  readonly lstmHiddenSize?: number;
  /** Multiplier of the scheduler's step size: lr = lr_mult · stepMult (default 1e-3). */
  readonly stepMult?: number;
  /** Adam's epsilon (default 1e-8). */
  readonly epsilon?: number;
  /** Adam's β1 (default 0.9). */
  readonly b1?: number;
  /** Adam's β2 (default 0.999). */
  readonly b2?: number;
}

/** theta as the published Celo-Adam checkpoint stores it: the scheduler only. */
export type CeloAdamTheta = CeloSchedulerTheta;

export interface CeloAdamState<P = any> extends CeloBaseState<P> {
  /** Adam's first moment, leaves [1, ...param shape]. */
  momentum: P;
  /** Adam's second moment, leaves [1, ...param shape]. */
  rms: P;
}

/**
 * Celo-Adam: Celo's learned LSTM scheduler driving Adam's update (`celo/optimizers/celo_adam.py`
 * of amoudgl/celo, commit 66d9761, as `factory.get_optimizer("celo_adam")` configures it:
 * `lstm_hidden_size=64, initial_epsilon=1e-8, initial_momentum_decays=(0.9,),
 * initial_rms_decays=(0.999,)`). Line numbers of celo_adam.py:
 * - the scheduler exactly as Celo's (loss buffer 486–487, gradient clip ±1000 489, the 18 inputs
 *   and the LSTM 491–514, `lr_mult = exp(step_size(h))·0.1` 300);
 * - accumulators `m = 0.9·m + 0.1·g`, `v = 0.999·v + 0.001·g²` (530–532, learned_optimization
 *   `common.vec_rolling_mom/rms`);
 * - `_ff_mod` (317–356): with `t = iteration + 1`, `m̂ = m/(1 − 0.9^t)`, `v̂ = v/(1 − 0.999^t)`,
 *   `step = m̂ · (lr_mult·stepMult / (ε + sqrt(v̂ + 1e-10)))`, `p − step` (`param_scale_mult` is off).
 *
 * Not carried over: the file also updates Adafactor accumulators (533) that `_ff_mod` never reads;
 * they are not kept. The Adam direction is computed once over every coordinate of every leaf.
 */
export class CeloAdam implements LearnedOptimizer<CeloAdamTheta> {
  readonly name: string = 'CeloAdam';
  readonly config: { readonly lstmHiddenSize: number; readonly stepMult: number; readonly epsilon: number; readonly b1: number; readonly b2: number };

  constructor(opts: CeloAdamOptions = {}) {
    const f = 'CeloAdam';
    const decay = (what: string, v: number) => {
      if (!(v >= 0 && v < 1)) throw new Error(`${f}: ${what} must be in [0, 1), got ${v}`);
      return v;
    };
    this.config = Object.freeze({
      lstmHiddenSize: checkPositiveInt(`${f}: lstmHiddenSize`, opts.lstmHiddenSize ?? 64),
      stepMult: checkNumber(`${f}: stepMult`, opts.stepMult ?? 1e-3),
      epsilon: checkNumber(`${f}: epsilon`, opts.epsilon ?? 1e-8),
      b1: decay('b1', checkNumber(`${f}: b1`, opts.b1 ?? 0.9)),
      b2: decay('b2', checkNumber(`${f}: b2`, opts.b2 ?? 0.999)),
    });
  }

  get thetaLayout(): ThetaLayout {
    return schedulerLayout(this.config.lstmHiddenSize, false);
  }

  init = (key: Key): CeloAdamTheta => scope(() => initScheduler(key, this.config.lstmHiddenSize, false));

  optFn = (theta: CeloAdamTheta, _isTraining = false): Optimizer<CeloAdamState> => {
    checkTheta(`${this.name}.optFn`, this.thetaLayout, theta);
    const c = this.config;
    const fname = `${this.name}.update`;
    return celoOptimizer<CeloAdamState>(this.name, theta, {
      init: (p) => ({
        momentum: p.def.unflatten(p.leaves.map((l) => tf.zeros([1, ...l.shape]))),
        rms: p.def.unflatten(p.leaves.map((l) => tf.zeros([1, ...l.shape]))),
      }),
      step: (state, p, { lrMult, grads: g }) => {
        const [b1, b2] = [tf.tensor1d([c.b1]), tf.tensor1d([c.b2])];
        const m = stateLeaves(fname, 'state.momentum', state.momentum, p, [1]).map((mi, i) => rollingMoment(mi, g[i]!, b1, tf.sub(1, b1)));
        const v = stateLeaves(fname, 'state.rms', state.rms, p, [1]).map((vi, i) => rollingMoment(vi, tf.mul(g[i]!, g[i]!), b2, tf.sub(1, b2)));
        const t = tf.cast(tf.add(state.iteration, 1), 'float32');
        const mHat = tf.div(concatColumns(m, 1), tf.sub(1, tf.pow(tf.scalar(c.b1), t)));
        const vHat = tf.div(concatColumns(v, 1), tf.sub(1, tf.pow(tf.scalar(c.b2), t)));
        // Line 329: m̂ · (lr / (ε + sqrt(v̂ + 1e-10))), lr per tensor; the direction for all coordinates at once.
        const dir = tf.div(mHat, tf.add(c.epsilon, tf.sqrt(tf.add(vHat, 1e-10))));
        const steps = splitLeaves(tf.reshape(dir, [-1]), p.leaves.map((l) => l.shape));
        const lr = tf.unstack(tf.mul(lrMult, c.stepMult));
        return {
          params: p.def.unflatten(p.leaves.map((pi, i) => tf.sub(pi, tf.mul(steps[i]!, lr[i]!)))),
          momentum: p.def.unflatten(m),
          rms: p.def.unflatten(v),
        };
      },
    });
  };
}
