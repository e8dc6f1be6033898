import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import type { Key } from '@lopt/random';
import { flatten, isTensor } from '@lopt/tree';
import type { LearnedOptimizer } from './base.js';
import { checkDecays, checkNumber, checkPositiveInt, checkTheta, stateLeaves, type FlatParams, type ThetaLayout } from './common/checks.js';
import { factoredDims, initFactored, updateFactored, type FactoredLeaf } from './common/factored.js';
import { concatColumns, rollingMoment, secondMomentNormalizer, splitLeaves, tanhEmbedding, TANH_FEATURES } from './common/features.js';
import { increment } from './common/finite.js';
import { prngSequence, truncatedNormalInit } from './common/haiku.js';
import { columnMLP, directionMagnitudeStep } from './common/mlp.js';
import { perParamOptimizer, type LOptState } from './common/optimizer.js';

export interface AdafacMLPLOptOptions {
  /** Multiplier of the magnitude output inside the exp (default 1e-3). */
  readonly expMult?: number;
  /** Multiplier of the step (default 1e-3). */
  readonly stepMult?: number;
  /** Width of each hidden layer (default 4). */
  readonly hiddenSize?: number;
  /** Number of hidden layers (default 2). */
  readonly hiddenLayers?: number;
  /** Initial momentum decays (default [0.9, 0.99, 0.999]); theta learns offsets to them. */
  readonly initialMomentumDecays?: readonly number[];
  /** Initial second-moment decays (default [0.999]). */
  readonly initialRmsDecays?: readonly number[];
  /** Initial Adafactor row/column decays (default [0.9, 0.99, 0.999]). */
  readonly initialAdafactorDecays?: readonly number[];
}

/**
 * theta as learned_optimization stores it: the learned decay offsets and haiku's parameter dict
 * of the MLP, whose parameters live in the module-less scope `~`.
 */
export interface AdafacMLPLOptTheta {
  momentum_decays: tf.Tensor;
  rms_decays: tf.Tensor;
  adafactor_decays: tf.Tensor;
  nn: { '~': Record<string, tf.Tensor> };
}

export interface AdafacMLPLOptState<P = any> extends LOptState<P> {
  /** Rolling momenta, leaves [Km, ...param shape]. */
  momentum: P;
  /** Rolling second moments, leaves [Kr, ...param shape]. */
  rms: P;
  /** Adafactor accumulators per leaf: {vRow, vCol} (rank ≥ 2, decays first) or {vDiag}. */
  factored: unknown;
}

// common.py's reparameterization of decays: theta holds offsets in log(1 − d) / 10 space.
const decayToParam = (x: tf.Tensor) => tf.div(tf.log(tf.sub(1, x)), 10);
const paramToDecay = (x: tf.Tensor) => tf.sub(1, tf.exp(tf.mul(x, 10)));

/**
 * learned_optimization's `AdafacMLPLOpt` (learned_optimization/learned_optimizers/adafac_mlp_lopt.py),
 * the "small_fc_lopt" of "Practical tradeoffs between memory, compute, and performance in learned
 * optimizers", feature for feature. Per coordinate, 39 inputs with the default decays: gradient,
 * parameter, 3 momenta, the second moment, momenta · rsqrt(rms + 1e-6), that rsqrt, 3
 * Adafactor-preconditioned gradients, and for matrices the Adafactor row and column statistics
 * (raw and rsqrt) and the factored momentum (vectors and scalars get the diagonal accumulator in
 * their place, as the file does), all normalized per tensor by rsqrt(1e-5 + mean(x²)); then the 11
 * step features tanh(t/τ − 1). An MLP 39 → 4 → 4 → 2 (relu) gives the step
 * `−d · exp(m · expMult) · stepMult`. The momentum, second-moment and Adafactor decays are
 * learned too: theta holds offsets in `log(1 − d)/10` space, zero at init.
 *
 * Differences from the file, none of which changes the function: the accumulators are stored
 * decays-first ([K, ...shape]); `init` does not require `numSteps` (the file requires it and
 * stores it but never reads it); only the file's default `concat_weights` parameterization is
 * provided. The per-tensor features run leaf by leaf; the MLP then runs once over every
 * coordinate of every leaf, with the step features applied as a column (see `columnMLP`).
 * PyLO's pretrained small_fc_lopt uses `hiddenSize: 32, hiddenLayers: 1, stepMult: 0.01`.
 */
export class AdafacMLPLOpt implements LearnedOptimizer<AdafacMLPLOptTheta> {
  readonly name = 'AdafacMLPLOpt';
  readonly config: {
    readonly expMult: number;
    readonly stepMult: number;
    readonly hiddenSize: number;
    readonly hiddenLayers: number;
    readonly initialMomentumDecays: readonly number[];
    readonly initialRmsDecays: readonly number[];
    readonly initialAdafactorDecays: readonly number[];
  };

  constructor(opts: AdafacMLPLOptOptions = {}) {
    const f = 'AdafacMLPLOpt';
    const km = checkDecays(`${f}: initialMomentumDecays`, opts.initialMomentumDecays ?? [0.9, 0.99, 0.999]);
    const kr = checkDecays(`${f}: initialRmsDecays`, opts.initialRmsDecays ?? [0.999]);
    const kf = checkDecays(`${f}: initialAdafactorDecays`, opts.initialAdafactorDecays ?? [0.9, 0.99, 0.999]);
    // The file multiplies momenta by per-decay rms and Adafactor factors elementwise.
    const fits = (a: number, b: number) => a === b || a === 1 || b === 1;
    if (!fits(km.length, kr.length)) throw new Error(`${f}: initialRmsDecays must have 1 entry or as many as initialMomentumDecays (${km.length}), got ${kr.length}`);
    if (!fits(km.length, kf.length)) throw new Error(`${f}: initialAdafactorDecays must have 1 entry or as many as initialMomentumDecays (${km.length}), got ${kf.length}`);
    this.config = Object.freeze({
      expMult: checkNumber(`${f}: expMult`, opts.expMult ?? 1e-3),
      stepMult: checkNumber(`${f}: stepMult`, opts.stepMult ?? 1e-3),
      hiddenSize: checkPositiveInt(`${f}: hiddenSize`, opts.hiddenSize ?? 4),
      hiddenLayers: checkPositiveInt(`${f}: hiddenLayers`, opts.hiddenLayers ?? 2),
      initialMomentumDecays: Object.freeze(km),
      initialRmsDecays: Object.freeze(kr),
      initialAdafactorDecays: Object.freeze(kf),
    });
  }

  /** MLP inputs per coordinate (39 with the default decays). */
  get numInputs(): number {
    const km = this.config.initialMomentumDecays.length;
    const kr = this.config.initialRmsDecays.length;
    const kf = this.config.initialAdafactorDecays.length;
    return 2 + km + kr + Math.max(km, kr) + kr + kf + 4 * kf + Math.max(km, kf) + TANH_FEATURES;
  }

  private get sizes(): number[] {
    return [this.numInputs, ...Array<number>(this.config.hiddenLayers).fill(this.config.hiddenSize), 2];
  }

  get thetaLayout(): ThetaLayout {
    const s = this.sizes;
    const c = this.config;
    return [
      [['adafactor_decays'], [c.initialAdafactorDecays.length]],
      [['momentum_decays'], [c.initialMomentumDecays.length]],
      ...s.slice(1).flatMap((out, i) => [
        [['nn', '~', `b${i}`], [out]] as const,
        [['nn', '~', `w${i}`], [s[i]!, out]] as const,
      ]),
      [['rms_decays'], [c.initialRmsDecays.length]],
    ];
  }

  init = (key: Key): AdafacMLPLOptTheta =>
    tf.tidy(() => {
      // haiku's get_parameter order: w0, b0, w1, b1, ...; only the weights draw keys.
      const next = prngSequence(key);
      const s = this.sizes;
      const nn: Record<string, tf.Tensor> = {};
      for (let i = 0; i + 1 < s.length; i++) {
        nn[`w${i}`] = truncatedNormalInit(next(), [s[i]!, s[i + 1]!]);
        nn[`b${i}`] = tf.zeros([s[i + 1]!]);
      }
      const c = this.config;
      return {
        momentum_decays: tf.zeros([c.initialMomentumDecays.length]),
        rms_decays: tf.zeros([c.initialRmsDecays.length]),
        adafactor_decays: tf.zeros([c.initialAdafactorDecays.length]),
        nn: { '~': nn },
      };
    });

  optFn = (theta: AdafacMLPLOptTheta, _isTraining = false): Optimizer<AdafacMLPLOptState> => {
    checkTheta(`${this.name}.optFn`, this.thetaLayout, theta);
    const c = this.config;
    const [Km, Kr, Kf] = [c.initialMomentumDecays.length, c.initialRmsDecays.length, c.initialAdafactorDecays.length];
    const nLayers = this.sizes.length - 1;
    const decays = () => ({
      mom: paramToDecay(tf.add(decayToParam(tf.tensor1d([...c.initialMomentumDecays])), theta.momentum_decays)),
      rms: paramToDecay(tf.add(decayToParam(tf.tensor1d([...c.initialRmsDecays])), theta.rms_decays)),
      fac: paramToDecay(tf.add(decayToParam(tf.tensor1d([...c.initialAdafactorDecays])), theta.adafactor_decays)),
    });
    const fname = `${this.name}.update`;
    return perParamOptimizer<AdafacMLPLOptState>(this.name, {
      init: (p) => ({
        momentum: p.def.unflatten(p.leaves.map((l) => tf.zeros([Km, ...l.shape]))),
        rms: p.def.unflatten(p.leaves.map((l) => tf.zeros([Kr, ...l.shape]))),
        factored: p.def.unflatten(p.leaves.map((l) => initFactored(l.shape, Kf))),
      }),
      step: (state, p, g) => {
        const d = decays();
        const rmsDecay = tf.clipByValue(d.rms, 0, 1);
        const m = stateLeaves(fname, 'state.momentum', state.momentum, p, [Km]).map((mi, i) => rollingMoment(mi, g[i]!, d.mom, tf.sub(1, d.mom)));
        const rms = stateLeaves(fname, 'state.rms', state.rms, p, [Kr]).map((ri, i) => rollingMoment(ri, tf.mul(g[i]!, g[i]!), rmsDecay, tf.sub(1, rmsDecay)));
        const fac = factoredLeaves(fname, state.factored, p, Kf).map((fi, i) => updateFactored(fi, g[i]!, d.fac));
        const x = concatColumns(
          p.leaves.map((pi, i) => secondMomentNormalizer(tf.reshape(tf.concat(leafFeatures(pi, g[i]!, m[i]!, rms[i]!, fac[i]!), 0), [this.numInputs - TANH_FEATURES, -1]))),
          this.numInputs - TANH_FEATURES,
        );
        const nn = theta.nn['~'];
        const layers = Array.from({ length: nLayers }, (_, i) => ({ w: nn[`w${i}`]!, b: nn[`b${i}`]! }));
        const step = directionMagnitudeStep(columnMLP(layers, x, tanhEmbedding(state.iteration)), c.expMult, c.stepMult);
        const steps = splitLeaves(step, p.leaves.map((l) => l.shape));
        return {
          params: p.def.unflatten(p.leaves.map((pi, i) => tf.sub(pi, steps[i]!))),
          momentum: p.def.unflatten(m),
          rms: p.def.unflatten(rms),
          factored: p.def.unflatten(fac.map((f) => f.next)),
          iteration: increment(state.iteration),
        };
      },
    });
  };
}

/** The file's `_mod` inputs for one leaf, in its order, as [rows, ...shape] tensors (scalars as [rows, 1]). */
function leafFeatures(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, rms: tf.Tensor, fac: ReturnType<typeof updateFactored>): tf.Tensor[] {
  const shape = p.shape.length === 0 ? [1] : p.shape;
  const rows = (t: tf.Tensor) => tf.reshape(t, [-1, ...shape]);
  const [P, G, M, R] = [rows(p), rows(g), rows(m), rows(rms)];
  const rsqrt = tf.rsqrt(tf.add(R, 1e-6));
  const out = [G, P, M, R, tf.mul(M, rsqrt), rsqrt, rows(fac.y)];
  const f = factoredDims(p.shape);
  if (f !== null) {
    const [d1, d0] = f;
    const { vRow, vCol } = fac.next as { vRow: tf.Tensor; vCol: tf.Tensor };
    const tileAt = (t: tf.Tensor, axis: number) => tf.tile(tf.expandDims(t, axis + 1), [1, ...shape.map((n, i) => (i === axis ? n : 1))]);
    out.push(tileAt(vRow, d0), tileAt(vCol, d1), tileAt(tf.rsqrt(tf.add(vRow, 1e-8)), d0), tileAt(tf.rsqrt(tf.add(vCol, 1e-8)), d1));
    out.push(tf.mul(tf.mul(M, fac.rowFactor!), fac.colFactor!));
  } else {
    // Not factored: the file feeds the diagonal accumulator where the row/column statistics go.
    const v = rows((fac.next as { vDiag: tf.Tensor }).vDiag);
    const r = tf.rsqrt(tf.add(v, 1e-8));
    out.push(v, v, r, r, tf.mul(M, tf.rsqrt(tf.add(v, 1e-6))));
  }
  return out;
}

/** The per-leaf Adafactor accumulators of the state, checked against the params. */
function factoredLeaves(fname: string, tree: unknown, p: FlatParams, k: number): FactoredLeaf[] {
  let ls: unknown[];
  try {
    ls = flatten(tree)[0];
  } catch {
    ls = [];
  }
  const out: FactoredLeaf[] = [];
  let j = 0;
  p.leaves.forEach((l) => {
    const want = initShapes(l.shape, k);
    const got = ls.slice(j, j + want.length) as tf.Tensor[];
    j += want.length;
    if (got.length !== want.length || got.some((t, i) => !isTensor(t) || t.shape.join() !== want[i]!.join())) {
      throw new Error(`${fname}: state.factored does not match the params; pass the state returned by this optimizer's init/update`);
    }
    out.push(factoredDims(l.shape) === null ? { vDiag: got[0]! } : { vCol: got[0]!, vRow: got[1]! });
  });
  if (j !== ls.length) throw new Error(`${fname}: state.factored does not match the params; pass the state returned by this optimizer's init/update`);
  return out;
}

/** Shapes of a leaf's accumulators in flatten order (sorted keys: vCol, vRow; or vDiag). */
function initShapes(shape: readonly number[], k: number): number[][] {
  const f = factoredDims(shape);
  if (f === null) return [[k, ...shape]];
  const [d1, d0] = f;
  return [
    [k, ...shape.filter((_, i) => i !== d1)],
    [k, ...shape.filter((_, i) => i !== d0)],
  ];
}
