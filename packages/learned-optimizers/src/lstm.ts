import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import { split, type Key } from '@lopt/random';
import { scope, stopGradient } from '@lopt/transforms';
import { describe, isTensor } from '@lopt/tree';
import type { LearnedOptimizer } from './base.js';
import { checkNumber, checkPositiveInt, checkTheta, type FlatParams, type ThetaLayout } from './common/checks.js';
import { splitLeaves } from './common/features.js';
import { increment } from './common/finite.js';
import { perParamOptimizer, type LOptState } from './common/optimizer.js';
import { initLSTMLayer, lecunNormal, logSignPreprocess, lstmCell, type LSTMCarry, type LSTMLayer } from './lstm-cell.js';

export interface LSTMLOptOptions {
  /** Hidden units of each LSTM layer (default [20, 20]: the paper's two layers of 20). */
  readonly hiddenSizes?: readonly number[];
  /**
   * Gradient preprocessing: `'none'` feeds the raw gradient (one input per coordinate, as "Learning
   * JAX by Learning to Learn" does; the default); `'logSign'` the paper's (log|g|/p, sign g)
   * pair (two inputs; see `logSignPreprocess`).
   */
  readonly preprocess?: 'none' | 'logSign';
  /** The paper's p for `'logSign'` (default 10). */
  readonly preprocessP?: number;
  /** The update is `outputScale ·` the linear output (default 1: the walkthrough's plain Dense(1)). */
  readonly outputScale?: number;
  /**
   * Keep the second-order terms: differentiate through the gradient the optimizer is fed (default
   * false: it is fed under stopGradient, the dashed edges of the paper's figure 2). For studying
   * what dropping them costs; it needs the task's gradient to be differentiable (grad of grad).
   */
  readonly secondOrder?: boolean;
}

/** Meta-parameters: one {wi, wh, b} per LSTM layer (`lstm1`, `lstm2`, ...) and the output Dense `fc` {w [H, 1], b [1]}. */
export type LSTMLOptTheta = Record<string, LSTMLayer | { w: tf.Tensor; b: tf.Tensor }> & { fc: { w: tf.Tensor; b: tf.Tensor } };

export interface LSTMLOptState<P = any> extends LOptState<P> {
  /**
   * The LSTM's carries, one {c, h} per layer, each [N, H] over the N coordinates of all leaves
   * (in flatten order, leaves raveled row-major and concatenated). Zeros at init, as flax's
   * `initialize_carry`.
   */
  carry: LSTMCarry[];
}

export const lstmLayerName = (i: number) => `lstm${i + 1}`;

/**
 * The coordinatewise LSTM optimizer of "Learning to learn by gradient descent by gradient
 * descent" (Andrychowicz et al. 2016) as "Learning JAX by Learning to Learn" writes it in flax:
 * every coordinate of every parameter has its own carry through two LSTM layers of 20 (shared
 * weights), fed its gradient under stopGradient; a linear Dense(1) of the last hidden state is
 * the update, added to the parameter: `θ ← θ + outputScale · fc(h₂)`.
 *
 * Exactly the walkthrough's model: flax `LSTMCell` (sigmoid gates, tanh, one bias, no forget
 * bias), lecun-normal input kernels, orthogonal recurrent kernels (one [H, H] block per gate),
 * zero biases, a lecun-normal Dense(1) with zero bias, zero carries, no output scaling. Options
 * add the paper's log/sign preprocessing (p = 10) and an output scale.
 *
 * All coordinates of all leaves run through one batched LSTM: the gradient leaves are raveled
 * and concatenated once per update, the carries are kept concatenated ([N, H]).
 */
export class LSTMLOpt implements LearnedOptimizer<LSTMLOptTheta> {
  readonly name = 'LSTMLOpt';
  readonly config: {
    readonly hiddenSizes: readonly number[];
    readonly preprocess: 'none' | 'logSign';
    readonly preprocessP: number;
    readonly outputScale: number;
    readonly secondOrder: boolean;
  };

  constructor(opts: LSTMLOptOptions = {}) {
    const f = 'LSTMLOpt';
    const hs = opts.hiddenSizes ?? [20, 20];
    if (!Array.isArray(hs) || hs.length < 1) throw new Error(`${f}: hiddenSizes must be a non-empty list of positive integers, got ${JSON.stringify(hs)}`);
    const pre = opts.preprocess ?? 'none';
    if (pre !== 'none' && pre !== 'logSign') throw new Error(`${f}: preprocess must be 'none' or 'logSign', got ${JSON.stringify(pre)}`);
    const p = checkNumber(`${f}: preprocessP`, opts.preprocessP ?? 10);
    if (p <= 0) throw new Error(`${f}: preprocessP must be positive, got ${p}`);
    const so = opts.secondOrder ?? false;
    if (typeof so !== 'boolean') throw new Error(`${f}: secondOrder must be a boolean, got ${String(so)}`);
    this.config = Object.freeze({
      hiddenSizes: Object.freeze(hs.map((h, i) => checkPositiveInt(`${f}: hiddenSizes[${i}]`, h))),
      preprocess: pre,
      preprocessP: p,
      outputScale: checkNumber(`${f}: outputScale`, opts.outputScale ?? 1),
      secondOrder: so,
    });
  }

  /** Inputs per coordinate: 1 (the gradient) or 2 (log/sign). */
  get numInputs(): number {
    return this.config.preprocess === 'logSign' ? 2 : 1;
  }

  get thetaLayout(): ThetaLayout {
    const hs = this.config.hiddenSizes;
    const layout: Array<readonly [string[], number[]]> = [];
    hs.forEach((h, i) => {
      const inp = i === 0 ? this.numInputs : hs[i - 1]!;
      layout.push([[lstmLayerName(i), 'b'], [4 * h]], [[lstmLayerName(i), 'wh'], [h, 4 * h]], [[lstmLayerName(i), 'wi'], [inp, 4 * h]]);
    });
    layout.push([['fc', 'b'], [1]], [['fc', 'w'], [hs.at(-1)!, 1]]);
    return layout;
  }

  /** split(key, layers + 1): one key per LSTM layer (see `initLSTMLayer`), the last for fc. */
  init = (key: Key): LSTMLOptTheta =>
    scope(() => {
      const hs = this.config.hiddenSizes;
      const ks = split(key, hs.length + 1);
      const theta: Record<string, unknown> = {};
      hs.forEach((h, i) => {
        theta[lstmLayerName(i)] = initLSTMLayer(ks.at(i), i === 0 ? this.numInputs : hs[i - 1]!, h);
      });
      theta.fc = { w: lecunNormal(ks.at(hs.length), [hs.at(-1)!, 1]), b: tf.zeros([1]) };
      return theta as LSTMLOptTheta;
    });

  optFn = (theta: LSTMLOptTheta, _isTraining = false): Optimizer<LSTMLOptState> => {
    checkTheta(`${this.name}.optFn`, this.thetaLayout, theta);
    const { hiddenSizes, preprocess, preprocessP, outputScale, secondOrder } = this.config;
    const layers = hiddenSizes.map((_, i) => theta[lstmLayerName(i)] as LSTMLayer);
    const numCoords = (p: FlatParams) => p.leaves.reduce((n, l) => n + l.size, 0);
    return perParamOptimizer<LSTMLOptState>(this.name, {
      init: (p) => ({ carry: hiddenSizes.map((h) => ({ c: tf.zeros([numCoords(p), h]), h: tf.zeros([numCoords(p), h]) })) }),
      step: (state, p, g) => {
        const carry = checkCarry(`${this.name}.update`, state.carry, numCoords(p), hiddenSizes);
        const flat = g.length === 1 ? tf.reshape(g[0]!, [-1]) : tf.concat(g.map((x) => tf.reshape(x, [-1])), 0);
        // The optimizee's gradient does not depend on the optimizer (the paper's figure 2).
        const fed = secondOrder ? flat : stopGradient(flat);
        let x = preprocess === 'logSign' ? logSignPreprocess(fed, preprocessP) : tf.reshape(fed, [-1, 1]);
        const next = layers.map((layer, i) => {
          const c = lstmCell(layer, x, carry[i]!);
          x = c.h;
          return c;
        });
        let out = tf.add(tf.matMul(x, theta.fc.w), theta.fc.b);
        if (outputScale !== 1) out = tf.mul(out, outputScale);
        const steps = splitLeaves(tf.reshape(out, [-1]), p.leaves.map((l) => l.shape));
        return { params: p.def.unflatten(p.leaves.map((l, i) => tf.add(l, steps[i]!))), carry: next, iteration: increment(state.iteration) };
      },
    });
  };
}

/** The state's carries must be one {c, h} per layer, each [N, H]; a state for other params fails with the place. */
function checkCarry(fname: string, carry: unknown, n: number, hs: readonly number[]): LSTMCarry[] {
  if (!Array.isArray(carry) || carry.length !== hs.length) {
    throw new Error(`${fname}: state.carry must be ${hs.length} {c, h} carries (one per LSTM layer); pass the state returned by this optimizer's init/update`);
  }
  carry.forEach((cr: Record<string, unknown>, i) => {
    for (const k of ['c', 'h'] as const) {
      const t = cr?.[k];
      if (!isTensor(t) || t.rank !== 2 || t.shape[0] !== n || t.shape[1] !== hs[i]) {
        throw new Error(`${fname}: state.carry[${i}].${k}: expected [${n},${hs[i]}] (coordinates × hidden), got ${describe(t)}; pass the state this optimizer made for these params`);
      }
    }
  });
  return carry as LSTMCarry[];
}
