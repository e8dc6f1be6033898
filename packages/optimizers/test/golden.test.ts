import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispose, isTensor, isPlainObject } from '@lopt/tree';
import {
  adabelief,
  adagrad,
  adam,
  adamax,
  adamw,
  addDecayedWeights,
  applyIfFinite,
  applyUpdates,
  chain,
  clip,
  clipByGlobalNorm,
  constantSchedule,
  cosineDecaySchedule,
  exponentialDecay,
  injectHyperparams,
  joinSchedules,
  lamb,
  linearSchedule,
  lion,
  masked,
  multiSteps,
  nadam,
  piecewiseConstantSchedule,
  polynomialSchedule,
  rmsprop,
  scale,
  scaleByAdam,
  scaleByAdamax,
  scaleByBelief,
  scaleByLearningRate,
  scaleByLion,
  scaleByRms,
  scaleByRss,
  scaleBySchedule,
  scaleByStddev,
  scaleByTrustRatio,
  sgd,
  trace,
  warmupCosineDecaySchedule,
  warmupExponentialDecaySchedule,
  type FactoryInfo,
  type GradientTransformation,
  type MaskTree,
  type Schedule,
} from '../src/index.js';
import { BACKENDS, fresh, useBackend } from '@lopt/test-utils';

/**
 * lopt against real optax 0.2.8 (golden/gen_optax_golden.py writes golden/optax-golden.json):
 * three updates of each optimizer, chain and wrapper from the same params and gradients, with
 * updates, state and params compared leaf by leaf after every step, and every schedule at
 * boundary counts. The case names are the lopt calls; every fixture case needs a builder here
 * and every builder a fixture case.
 */

interface Leaf {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: number[];
}
type Json = Leaf | null | Json[] | { [k: string]: Json };
interface Case {
  grads: Json[];
  init: Json;
  steps: { updates: Json; state: Json; params: Json }[];
}
interface Golden {
  versions: { jax: string; optax: string };
  params: Json;
  cases: Record<string, Case>;
  schedules: Record<string, { counts: number[]; values: number[] }>;
  /** Every option of each optax factory with its default, '<required>' when it has none. */
  defaults: Record<string, Record<string, unknown>>;
}

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const golden = JSON.parse(readFileSync(new URL('./golden/optax-golden.json', import.meta.url), 'utf8'), (_k, v) =>
  typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v,
) as Golden;

const isLeaf = (j: unknown): j is Leaf => isPlainObject(j) && 'dtype' in j && 'data' in j;

function toTree(j: Json): unknown {
  if (j === null) return null;
  if (isLeaf(j)) return tf.tensor(j.data, j.shape, j.dtype);
  if (Array.isArray(j)) return j.map(toTree);
  return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, toTree(v)]));
}

// float32 tolerance: optax (XLA) and tfjs order float32 operations differently.
const RTOL = 2e-5;
const ATOL = 1e-6;

/** NaN matches NaN, ±Inf matches itself; otherwise |a - e| <= RTOL |e| + ATOL. */
const near = (a: number, e: number) => (Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= RTOL * Math.abs(e) + ATOL);

/** Compares a lopt tree with a fixture tree; the error names the path. */
function compare(actual: unknown, expected: Json, path: string): void {
  if (expected === null) {
    if (actual !== null) throw new Error(`${path}: expected null (optax MaskedNode), got ${String(actual)}`);
  } else if (isLeaf(expected)) {
    if (!isTensor(actual)) throw new Error(`${path}: expected a tensor, got ${String(actual)}`);
    expect(actual.shape, `${path}: shape`).toEqual(expected.shape);
    expect(actual.dtype, `${path}: dtype`).toBe(expected.dtype);
    const a = Array.from(actual.dataSync());
    a.forEach((x, i) => {
      if (!near(x, expected.data[i]!)) throw new Error(`${path}[${i}]: got ${x}, optax ${expected.data[i]} (rtol ${RTOL}, atol ${ATOL}); all: [${a.join(', ')}] vs [${expected.data.join(', ')}]`);
    });
  } else if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) throw new Error(`${path}: expected an array of ${expected.length}, got ${String(actual)}`);
    expected.forEach((e, i) => compare(actual[i], e, `${path}[${i}]`));
  } else {
    if (!isPlainObject(actual)) throw new Error(`${path}: expected an object, got ${String(actual)}`);
    expect(Object.keys(actual).sort(), `${path}: keys`).toEqual(Object.keys(expected).sort());
    for (const [k, e] of Object.entries(expected)) compare(actual[k], e, path ? `${path}.${k}` : k);
  }
}

const MASK = { w: true, b: false };
/** Decay the matrices only (optax: `jax.tree.map(lambda x: x.ndim > 1, p)`). */
const matricesOnly = (p: { w: tf.Tensor; b: tf.Tensor }): MaskTree => ({ w: p.w.rank > 1, b: p.b.rank > 1 });

interface Builder {
  make: () => GradientTransformation<any>;
  /** Edits the state before step `i` (0-based), as the generator did. */
  between?: (i: number, state: any) => any;
}
const b = (make: () => GradientTransformation<any>, between?: Builder['between']): Builder => (between ? { make, between } : { make });

const BUILDERS: Record<string, Builder> = {
  'sgd(0.1)': b(() => sgd(0.1)),
  'sgd(0.1, { momentum: 0.9 })': b(() => sgd(0.1, { momentum: 0.9 })),
  'sgd(0.1, { momentum: 0.9, nesterov: true })': b(() => sgd(0.1, { momentum: 0.9, nesterov: true })),
  'rmsprop(0.1)': b(() => rmsprop(0.1)),
  'rmsprop(0.1, { centered: true })': b(() => rmsprop(0.1, { centered: true })),
  'rmsprop(0.1, { momentum: 0.9 })': b(() => rmsprop(0.1, { momentum: 0.9 })),
  'rmsprop(0.1, { momentum: 0.9, nesterov: true })': b(() => rmsprop(0.1, { momentum: 0.9, nesterov: true })),
  'rmsprop(0.1, { decay: 0.8, eps: 1e-3, initialScale: 0.1, epsInSqrt: false, biasCorrection: true })': b(() =>
    rmsprop(0.1, { decay: 0.8, eps: 1e-3, initialScale: 0.1, epsInSqrt: false, biasCorrection: true }),
  ),
  'rmsprop(0.1, { centered: true, biasCorrection: true, momentum: 0.5 })': b(() => rmsprop(0.1, { centered: true, biasCorrection: true, momentum: 0.5 })),
  'adam(0.1)': b(() => adam(0.1)),
  'adam(0.1, { nesterov: true })': b(() => adam(0.1, { nesterov: true })),
  'adam(0.1, { b1: 0.8, b2: 0.99, eps: 1e-6, epsRoot: 1e-8 })': b(() => adam(0.1, { b1: 0.8, b2: 0.99, eps: 1e-6, epsRoot: 1e-8 })),
  'nadam(0.1)': b(() => nadam(0.1)),
  'adamw(0.1)': b(() => adamw(0.1)),
  'adamw(0.1, { weightDecay: 0.1 })': b(() => adamw(0.1, { weightDecay: 0.1 })),
  'adamw(0.1, { weightDecay: 0.1, mask: { w: true, b: false } })': b(() => adamw(0.1, { weightDecay: 0.1, mask: MASK })),
  'adamw(0.1, { weightDecay: 0.1, mask: matricesOnly })': b(() => adamw(0.1, { weightDecay: 0.1, mask: matricesOnly })),
  'adamw(0.1, { weightDecay: 0.1, nesterov: true })': b(() => adamw(0.1, { weightDecay: 0.1, nesterov: true })),
  'adamax(0.1)': b(() => adamax(0.1)),
  'adagrad(0.1)': b(() => adagrad(0.1)),
  'adagrad(0.1, { initialAccumulatorValue: 0 })': b(() => adagrad(0.1, { initialAccumulatorValue: 0 })),
  'lamb(0.1)': b(() => lamb(0.1)),
  'lamb(0.1, { weightDecay: 0.1, mask: { w: true, b: false } })': b(() => lamb(0.1, { weightDecay: 0.1, mask: MASK })),
  'lion(0.1)': b(() => lion(0.1)),
  'lion(0.1, { b1: 0.5, weightDecay: 0.1, mask: { w: true, b: false } })': b(() => lion(0.1, { b1: 0.5, weightDecay: 0.1, mask: MASK })),
  'adabelief(0.1)': b(() => adabelief(0.1)),
  'adabelief(0.1, { nesterov: true })': b(() => adabelief(0.1, { nesterov: true })),
  'adabelief(0.1, { weightDecay: 0.1 })': b(() => adabelief(0.1, { weightDecay: 0.1 })),
  'adam(cosineDecaySchedule({ initValue: 0.1, decaySteps: 3 }))': b(() => adam(cosineDecaySchedule({ initValue: 0.1, decaySteps: 3 }))),
  'adamw(0.1, { weightDecay: linearSchedule({ initValue: 0.1, endValue: 0, transitionSteps: 2 }) })': b(() =>
    adamw(0.1, { weightDecay: linearSchedule({ initValue: 0.1, endValue: 0, transitionSteps: 2 }) }),
  ),
  'chain(clipByGlobalNorm(1), adam(0.1))': b(() => chain(clipByGlobalNorm(1), adam(0.1))),
  'chain(clip(0.5), sgd(0.1, { momentum: 0.9 }))': b(() => chain(clip(0.5), sgd(0.1, { momentum: 0.9 }))),
  'chain(scaleByStddev({ decay: 0.8 }), scaleByTrustRatio({ minNorm: 0.5, trustCoefficient: 0.5, eps: 1e-3 }), scale(-0.1))': b(() =>
    chain(scaleByStddev({ decay: 0.8 }), scaleByTrustRatio({ minNorm: 0.5, trustCoefficient: 0.5, eps: 1e-3 }), scale(-0.1)),
  ),
  'chain(scaleByAdam(), addDecayedWeights(0.1), scaleByLearningRate(0.1, { flipSign: false }))': b(() =>
    chain(scaleByAdam(), addDecayedWeights(0.1), scaleByLearningRate(0.1, { flipSign: false })),
  ),
  'chain(scaleByRss(), trace(0.5), scaleBySchedule(exponentialDecay({ initValue: -0.1, transitionSteps: 1, decayRate: 0.5 })))': b(() =>
    chain(scaleByRss(), trace(0.5), scaleBySchedule(exponentialDecay({ initValue: -0.1, transitionSteps: 1, decayRate: 0.5 }))),
  ),
  'chain(scaleByAdamax(), scaleByLion(), scaleByBelief(), scale(0.1))': b(() => chain(scaleByAdamax(), scaleByLion(), scaleByBelief(), scale(0.1))),
  'chain(scaleByAdam(), scaleByLearningRate())': b(() => chain(scaleByAdam(), scaleByLearningRate())),
  'masked(adam(0.1), { w: true, b: false })': b(() => masked(adam(0.1), MASK)),
  'masked(sgd(0.1, { momentum: 0.9 }), matricesOnly)': b(() => masked(sgd(0.1, { momentum: 0.9 }), matricesOnly)),
  'multiSteps(adam(0.1), 2)': b(() => multiSteps(adam(0.1), 2)),
  'multiSteps(sgd(0.1, { momentum: 0.9 }), 2, { useGradMean: false })': b(() => multiSteps(sgd(0.1, { momentum: 0.9 }), 2, { useGradMean: false })),
  'applyIfFinite(adam(0.1), 2) [g1, NaN, g3]': b(() => applyIfFinite(adam(0.1), 2)),
  'applyIfFinite(adam(0.1), 0) [g1, Inf, g3]': b(() => applyIfFinite(adam(0.1), 0)),
  'injectHyperparams(rmsprop)({ learningRate: 0.1 }) lr := 0.05 at step 2': b(
    () => injectHyperparams(rmsprop)({ learningRate: 0.1 }),
    (i, state) => {
      if (i !== 1) return state;
      const old = state.hyperparams.learningRate as tf.Tensor;
      const next = { ...state, hyperparams: { ...state.hyperparams, learningRate: tf.scalar(0.05) } };
      old.dispose();
      return next;
    },
  ),
  'injectHyperparams(adam)({ learningRate: linearSchedule({ initValue: 0.1, endValue: 0.01, transitionSteps: 2 }), b1: 0.8 })': b(() =>
    injectHyperparams(adam)({ learningRate: linearSchedule({ initValue: 0.1, endValue: 0.01, transitionSteps: 2 }), b1: 0.8 }),
  ),
  'injectHyperparams(adamw)({ learningRate: 0.1, weightDecay: 0.1, mask: { w: true, b: false } })': b(() =>
    injectHyperparams(adamw)({ learningRate: 0.1, weightDecay: 0.1, mask: MASK }),
  ),
};

const SCHEDULES: Record<string, () => Schedule> = {
  'constantSchedule(0.5)': () => constantSchedule(0.5),
  'linearSchedule({ initValue: 1, endValue: 0.1, transitionSteps: 10, transitionBegin: 5 })': () =>
    linearSchedule({ initValue: 1, endValue: 0.1, transitionSteps: 10, transitionBegin: 5 }),
  'polynomialSchedule({ initValue: 1, endValue: 0.01, power: 2, transitionSteps: 10 })': () =>
    polynomialSchedule({ initValue: 1, endValue: 0.01, power: 2, transitionSteps: 10 }),
  'polynomialSchedule({ initValue: 1, endValue: 0.5, power: 0.5, transitionSteps: 4, transitionBegin: 2 })': () =>
    polynomialSchedule({ initValue: 1, endValue: 0.5, power: 0.5, transitionSteps: 4, transitionBegin: 2 }),
  'polynomialSchedule({ initValue: 2, endValue: 1, power: 1, transitionSteps: 0 })': () => polynomialSchedule({ initValue: 2, endValue: 1, power: 1, transitionSteps: 0 }),
  'cosineDecaySchedule({ initValue: 1, decaySteps: 10, alpha: 0.1 })': () => cosineDecaySchedule({ initValue: 1, decaySteps: 10, alpha: 0.1 }),
  'cosineDecaySchedule({ initValue: 0.5, decaySteps: 8, exponent: 2 })': () => cosineDecaySchedule({ initValue: 0.5, decaySteps: 8, exponent: 2 }),
  'exponentialDecay({ initValue: 1, transitionSteps: 3, decayRate: 0.5 })': () => exponentialDecay({ initValue: 1, transitionSteps: 3, decayRate: 0.5 }),
  'exponentialDecay({ initValue: 1, transitionSteps: 3, decayRate: 0.5, transitionBegin: 2, staircase: true, endValue: 0.2 })': () =>
    exponentialDecay({ initValue: 1, transitionSteps: 3, decayRate: 0.5, transitionBegin: 2, staircase: true, endValue: 0.2 }),
  'exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 2, endValue: 0.5 })': () =>
    exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 2, endValue: 0.5 }),
  'piecewiseConstantSchedule(1, { 3: 0.5, 6: 0.1 })': () => piecewiseConstantSchedule(1, { 3: 0.5, 6: 0.1 }),
  'joinSchedules([constantSchedule(1), linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10 })], [5])': () =>
    joinSchedules([constantSchedule(1), linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10 })], [5]),
  'warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 3, decaySteps: 10, endValue: 0.1 })': () =>
    warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 3, decaySteps: 10, endValue: 0.1 }),
  'warmupCosineDecaySchedule({ initValue: 0.1, peakValue: 1, warmupSteps: 2, decaySteps: 6, exponent: 2 })': () =>
    warmupCosineDecaySchedule({ initValue: 0.1, peakValue: 1, warmupSteps: 2, decaySteps: 6, exponent: 2 }),
  'warmupExponentialDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 2, transitionSteps: 2, decayRate: 0.5, transitionBegin: 1, staircase: true, endValue: 0.1 })':
    () =>
      warmupExponentialDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 2, transitionSteps: 2, decayRate: 0.5, transitionBegin: 1, staircase: true, endValue: 0.1 }),
};

const FACTORIES: Record<string, FactoryInfo> = {
  sgd, rmsprop, adam, nadam, adamw, adamax, adagrad, lamb, lion, adabelief,
  scale, scaleByLearningRate, scaleByAdam, scaleByRms, scaleByStddev, scaleByRss, trace, scaleByAdamax,
  scaleByBelief, scaleByLion, scaleByTrustRatio, addDecayedWeights, clip, clipByGlobalNorm,
};
/** The deliberate differences, documented in the README. */
const ONLY_IN_LOPT: Record<string, string[]> = { adabelief: ['weightDecay', 'mask'] }; // optional decoupled weight decay
const ONLY_IN_OPTAX: Record<string, string[]> = { scaleByLion: ['mode', 'smoothBeta'] }; // mode 'hard' only

describe('the golden fixture', () => {
  it('was made by optax 0.2.8 and every case has a lopt builder (and back)', () => {
    expect(golden.versions.optax).toBe('0.2.8');
    expect(Object.keys(golden.cases).sort()).toEqual(Object.keys(BUILDERS).sort());
    expect(Object.keys(golden.schedules).sort()).toEqual(Object.keys(SCHEDULES).sort());
    expect(Object.keys(golden.defaults).sort()).toEqual(Object.keys(FACTORIES).sort());
  });

  it.each(Object.keys(FACTORIES))('%s has optax\'s options and defaults', (name) => {
    const drop = (o: Record<string, unknown>, keys: string[] = []) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
    const lopt = Object.fromEntries(Object.entries(FACTORIES[name]!.defaults).map(([k, v]) => [k, v === undefined ? '<required>' : v]));
    expect(drop(lopt, ONLY_IN_LOPT[name])).toEqual(drop(golden.defaults[name]!, ONLY_IN_OPTAX[name]));
  });
});

describe.each(BACKENDS)('lopt = optax 0.2.8, three steps, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(Object.keys(BUILDERS))('%s', (name) => {
    const c = golden.cases[name]!;
    const { make, between } = BUILDERS[name]!;
    const before = tf.memory().numTensors;
    const tx = make();
    let params = toTree(golden.params);
    let state = fresh(params, () => tx.init(params));
    compare(state, c.init, 'init');
    c.steps.forEach((step, i) => {
      if (between) state = between(i, state);
      const g = toTree(c.grads[i]!);
      const [updates, next] = fresh([g, state, params], () => tx.update(g, state, params));
      const nextParams = applyUpdates(params, updates);
      compare(updates, step.updates, `step ${i + 1} updates`);
      compare(next, step.state, `step ${i + 1} state`);
      compare(nextParams, step.params, `step ${i + 1} params`);
      dispose([g, updates, state, params]);
      state = next;
      params = nextParams;
    });
    dispose([state, params]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(Object.keys(SCHEDULES))('%s', (name) => {
    const { counts, values } = golden.schedules[name]!;
    const s = SCHEDULES[name]!();
    const before = tf.memory().numTensors;
    counts.forEach((c, i) => {
      const e = values[i]!;
      // As transformations call it (int32 count tensor → float32), and with a JS number (float64).
      const v = tf.tidy(() => s(tf.scalar(c, 'int32')).dataSync()[0]!);
      if (!near(v, e)) throw new Error(`count ${c} (tensor): got ${v}, optax ${e}`);
      const n = s(c);
      if (!near(n, e)) throw new Error(`count ${c} (number): got ${n}, optax ${e}`);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

});
