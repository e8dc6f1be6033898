import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import { split, type Key } from '@lopt/random';
import { scope } from '@lopt/transforms';
import type { LearnedOptimizer } from '../base.js';
import { checkNumber, checkPositiveInt, checkTheta, stateLeaves, type ThetaLayout } from '../common/checks.js';
import { factoredDims, initFactored, updateFactored } from '../common/factored.js';
import { concatColumns, rollingMoment, secondMomentNormalizer, splitLeaves } from '../common/features.js';
import { prngSequence, truncatedNormalInit } from '../common/haiku.js';
import { columnMLP } from '../common/mlp.js';
import { celoOptimizer, type CeloBaseState } from './optimizer.js';
import { factoredLeaves } from './factored-state.js';
import { initScheduler, schedulerLayout, type CeloSchedulerTheta, type Linear } from './scheduler.js';

export interface CeloOptions {
  /** LSTM width (default 64, the published checkpoint's). */
  readonly lstmHiddenSize?: number;
  /** Per-parameter MLP hidden width (default 4). */
  readonly ffHiddenSize?: number;
  /** Per-parameter MLP hidden layers (default 2). */
  readonly ffHiddenLayers?: number;
  /** Multiplier of the magnitude output inside the exp (default 1e-3). */
  readonly expMult?: number;
  /** Multiplier of the step (default 1e-3). */
  readonly stepMult?: number;
}

/** theta as the published checkpoint stores it (flax msgpack of haiku's parameter dicts). */
export interface CeloTheta extends CeloSchedulerTheta {
  rnn_params: CeloSchedulerTheta['rnn_params'] & { rnn_to_controls: Linear };
  /** The per-parameter MLP, stacked over `param_inits` = 1: `w0__0..w0__13` [1, k, hidden], `b0`, `w1`, `b1`, `w2` [1, hidden, 3], `b2`. */
  ff_mod_stack: { '~': Record<string, tf.Tensor> };
}

export interface CeloState<P = any> extends CeloBaseState<P> {
  /** Rolling momenta (decays 0.9, 0.99, 0.999), leaves [3, ...param shape]. */
  momentum: P;
  /** Rolling second moment (decay 0.999), leaves [1, ...param shape]. */
  rms: P;
  /** Adafactor accumulators (decays 0.9, 0.99, 0.999) per leaf: {vCol, vRow} or {vDiag}, decays first. */
  factored: unknown;
}

const MOM = [0.9, 0.99, 0.999];
const RMS = [0.999];
const FAC = [0.9, 0.99, 0.999];
/** Widths of the 14 input groups of `_ff_mod` (lines 362–449), in its order. */
const INPUT_WIDTHS = [1, 1, 1, 3, 1, 3, 1, 3, 1, 3, 3, 3, 3, 3];
const NUM_INPUTS = INPUT_WIDTHS.reduce((a, b) => a + b, 0);

/**
 * Celo ("Celo: Training Versatile Learned Optimizers on a Compute Diet", Moudgil et al., TMLR
 * 2025): `celo/optimizers/celo.py` of amoudgl/celo (commit 66d9761) with the configuration its
 * `factory.get_optimizer("celo")` uses for the published checkpoint: `lstm_hidden_size=64`,
 * `param_inits=1`, `train_phase=2`, decays as above, every feature flag at its default.
 *
 * Per update (line numbers of celo.py):
 * - loss buffer update and its 9 features (lines 701–702, 98–134); gradients clipped to ±1000 (704);
 * - the per-tensor LSTM scheduler on 18 inputs, fraction trained `iteration / numSteps` embedded as
 *   tanh(10(x − τ)) plus the loss features (706–734, 546–577, 315–331), all leaves in one batch;
 *   its output `lr_mult = exp(step_size(h))·0.1` per tensor;
 * - accumulators (752–755, learned_optimization `common.vec_rolling_mom/rms`,
 *   `vec_factored_rolling`);
 * - per coordinate 30 inputs (lines 362–449): g, clip(g, ±0.1), p, 3 momenta, rms, m·rsqrt(rms + 1e-6),
 *   that rsqrt, 3 Adafactor-preconditioned gradients, g·rsqrt, and for rank ≥ 2 the row and column
 *   statistics tiled, their rsqrt(· + 1e-8) and m·row_factor·col_factor (vectors and scalars: v, v,
 *   rsqrt(v + 1e-8) twice, m·v^−½); each normalized per tensor by rsqrt(1e-5 + mean(x²)) (485);
 * - the MLP 30 → 4 → 4 → 3 (relu), `direction = o[0]`, `magnitude = o[1]` (489–504);
 * - `step = lr_mult · direction · param_scale · exp(magnitude·expMult) · stepMult` with
 *   `param_scale = sqrt(mean(p²) + 1e-9)` per tensor (506–524), `p − step` (540).
 *
 * Not carried over because they cannot change a step with this configuration: with
 * `param_inits = 1` the control softmax (742) is exactly 1, so the interpolated MLP (776–782) is
 * `ff_mod_stack[0]` and `rnn_to_controls` is loaded and checked but not evaluated; the first mix
 * layer `linear` (317) is overwritten on line 319 and not evaluated either. Differences of layout
 * only: accumulators are stored decays-first ([K, ...shape]); the per-tensor features run leaf by
 * leaf (they depend on each tensor's shape), the MLP runs once over every coordinate of every leaf.
 */
export class Celo implements LearnedOptimizer<CeloTheta> {
  readonly name: string = 'Celo';
  readonly config: {
    readonly lstmHiddenSize: number;
    readonly ffHiddenSize: number;
    readonly ffHiddenLayers: number;
    readonly expMult: number;
    readonly stepMult: number;
  };

  constructor(opts: CeloOptions = {}) {
    const f = 'Celo';
    this.config = Object.freeze({
      lstmHiddenSize: checkPositiveInt(`${f}: lstmHiddenSize`, opts.lstmHiddenSize ?? 64),
      ffHiddenSize: checkPositiveInt(`${f}: ffHiddenSize`, opts.ffHiddenSize ?? 4),
      ffHiddenLayers: checkPositiveInt(`${f}: ffHiddenLayers`, opts.ffHiddenLayers ?? 2),
      expMult: checkNumber(`${f}: expMult`, opts.expMult ?? 1e-3),
      stepMult: checkNumber(`${f}: stepMult`, opts.stepMult ?? 1e-3),
    });
  }

  private get sizes(): number[] {
    return [NUM_INPUTS, ...Array<number>(this.config.ffHiddenLayers).fill(this.config.ffHiddenSize), 3];
  }

  get thetaLayout(): ThetaLayout {
    const s = this.sizes;
    return [
      ...INPUT_WIDTHS.map((k, i) => [['ff_mod_stack', '~', `w0__${i}`], [1, k, s[1]!]] as const),
      ...s.slice(1).flatMap((out, i) => [
        [['ff_mod_stack', '~', `b${i}`], [1, out]] as const,
        ...(i > 0 ? [[['ff_mod_stack', '~', `w${i}`], [1, s[i]!, out]] as const] : []),
      ]),
      ...schedulerLayout(this.config.lstmHiddenSize, true),
    ];
  }

  /** Fresh meta-parameters, initialized as haiku does (truncated normal 1/√fan_in; the first layer's fan-in is all 30 inputs). */
  init = (key: Key): CeloTheta =>
    scope(() => {
      const ks = split(key, 2);
      const next = prngSequence(ks.at(0));
      const s = this.sizes;
      const ff: Record<string, tf.Tensor> = {};
      const lead = (t: tf.Tensor) => tf.expandDims(t, 0);
      INPUT_WIDTHS.forEach((k, i) => (ff[`w0__${i}`] = lead(truncatedNormalInit(next(), [k, s[1]!], 1 / Math.sqrt(NUM_INPUTS)))));
      for (let i = 0; i + 1 < s.length; i++) {
        if (i > 0) ff[`w${i}`] = lead(truncatedNormalInit(next(), [s[i]!, s[i + 1]!]));
        ff[`b${i}`] = tf.zeros([1, s[i + 1]!]);
      }
      const sched = initScheduler(ks.at(1), this.config.lstmHiddenSize, true);
      return { ...sched, ff_mod_stack: { '~': ff } } as CeloTheta;
    });

  optFn = (theta: CeloTheta, _isTraining = false): Optimizer<CeloState> => {
    checkTheta(`${this.name}.optFn`, this.thetaLayout, theta);
    const c = this.config;
    const nLayers = this.sizes.length - 1;
    const fname = `${this.name}.update`;
    return celoOptimizer<CeloState>(this.name, theta, {
      init: (p) => ({
        momentum: p.def.unflatten(p.leaves.map((l) => tf.zeros([MOM.length, ...l.shape]))),
        rms: p.def.unflatten(p.leaves.map((l) => tf.zeros([RMS.length, ...l.shape]))),
        factored: p.def.unflatten(p.leaves.map((l) => initFactored(l.shape, FAC.length))),
      }),
      step: (state, p, { lrMult, grads: g }) => {
        const mom = tf.tensor1d(MOM);
        const rmsD = tf.tensor1d(RMS);
        const m = stateLeaves(fname, 'state.momentum', state.momentum, p, [MOM.length]).map((mi, i) => rollingMoment(mi, g[i]!, mom, tf.sub(1, mom)));
        const rms = stateLeaves(fname, 'state.rms', state.rms, p, [RMS.length]).map((ri, i) => rollingMoment(ri, tf.mul(g[i]!, g[i]!), rmsD, tf.sub(1, rmsD)));
        const fac = factoredLeaves(fname, state.factored, p, FAC.length).map((fi, i) => updateFactored(fi, g[i]!, tf.tensor1d(FAC)));
        const x = concatColumns(
          p.leaves.map((pi, i) => secondMomentNormalizer(tf.reshape(tf.concat(leafFeatures(pi, g[i]!, m[i]!, rms[i]!, fac[i]!), 0), [NUM_INPUTS, -1]))),
          NUM_INPUTS,
        );
        const out = columnMLP(mlpLayers(theta, nLayers), x);
        const direction = tf.reshape(tf.slice(out, [0, 0], [1, -1]), [-1]);
        const magnitude = tf.reshape(tf.slice(out, [1, 0], [1, -1]), [-1]);
        const raw = splitLeaves(tf.mul(direction, tf.exp(tf.mul(magnitude, c.expMult))), p.leaves.map((l) => l.shape));
        // Per tensor: param_scale · stepMult · lr_mult (lines 507, 519, 524), one [L] vector.
        const scales = tf.mul(tf.mul(tf.stack(p.leaves.map((l) => paramScale(l))), c.stepMult), lrMult);
        const perLeaf = tf.unstack(scales);
        return {
          params: p.def.unflatten(p.leaves.map((pi, i) => tf.sub(pi, tf.mul(raw[i]!, perLeaf[i]!)))),
          momentum: p.def.unflatten(m),
          rms: p.def.unflatten(rms),
          factored: p.def.unflatten(fac.map((f) => f.next)),
        };
      },
    });
  };
}

/** `param_scale = sqrt(mean(p²) + 1e-9)` (line 507). */
const paramScale = (p: tf.Tensor) => tf.sqrt(tf.add(tf.mean(tf.square(p)), 1e-9));

/** The MLP's layers with `param_inits = 1` (lines 776–782 reduce to the single stacked copy); w0 is the 14 groups' weights stacked in input order. */
function mlpLayers(theta: CeloTheta, nLayers: number): { w: tf.Tensor; b: tf.Tensor }[] {
  const ff = theta.ff_mod_stack['~'];
  const squeeze = (t: tf.Tensor) => tf.reshape(t, t.shape.slice(1));
  const w0 = tf.concat(INPUT_WIDTHS.map((_, i) => squeeze(ff[`w0__${i}`]!)), 0);
  return Array.from({ length: nLayers }, (_, i) => ({ w: i === 0 ? w0 : squeeze(ff[`w${i}`]!), b: squeeze(ff[`b${i}`]!) }));
}

/** `_ff_mod`'s 14 input groups for one leaf (lines 347–449), each [k, ...shape] (scalars as [k, 1]). */
function leafFeatures(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, rms: tf.Tensor, fac: ReturnType<typeof updateFactored>): tf.Tensor[] {
  const shape = p.shape.length === 0 ? [1] : p.shape;
  const rows = (t: tf.Tensor) => tf.reshape(t, [-1, ...shape]);
  const [P, G, M, R] = [rows(p), rows(g), rows(m), rows(rms)];
  const rsqrt = tf.rsqrt(tf.add(R, 1e-6));
  const out = [G, tf.clipByValue(G, -0.1, 0.1), P, M, R, tf.mul(M, rsqrt), rsqrt, rows(fac.y), tf.mul(G, rsqrt)];
  const f = factoredDims(p.shape);
  if (f !== null) {
    const [d1, d0] = f;
    const { vRow, vCol } = fac.next as { vRow: tf.Tensor; vCol: tf.Tensor };
    const tileAt = (t: tf.Tensor, axis: number) => tf.tile(tf.expandDims(t, axis + 1), [1, ...shape.map((n, i) => (i === axis ? n : 1))]);
    const rowFeat = tileAt(vRow, d0);
    const colFeat = tileAt(vCol, d1);
    out.push(rowFeat, colFeat, tf.rsqrt(tf.add(rowFeat, 1e-8)), tf.rsqrt(tf.add(colFeat, 1e-8)));
    out.push(tf.mul(tf.mul(M, fac.rowFactor!), fac.colFactor!));
  } else {
    const v = rows((fac.next as { vDiag: tf.Tensor }).vDiag);
    const r = tf.rsqrt(tf.add(v, 1e-8));
    // Line 448: m · v^−½, without an epsilon.
    out.push(v, v, r, r, tf.mul(M, tf.rsqrt(v)));
  }
  return out;
}
