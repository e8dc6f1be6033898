import type { Numeric, ScalarOrSchedule } from './base.js';
import { chain, identity, type ChainState } from './combine.js';
import { defineFactory } from './factory.js';
import { adamTransform } from './transforms/adam.js';
import { adamaxTransform } from './transforms/adamax.js';
import { beliefTransform } from './transforms/belief.js';
import { decayedWeights, type AddDecayedWeightsState } from './transforms/decayed-weights.js';
import { lionTransform } from './transforms/lion.js';
import { rmsTransform, stddevTransform } from './transforms/rms.js';
import { rssTransform } from './transforms/rss.js';
import { learningRateScaling, type ScaleByLearningRateState } from './transforms/scale.js';
import { traceTransform } from './transforms/trace.js';
import { trustRatioTransform } from './transforms/trust-ratio.js';
import type { EmptyState, GradientTransformation } from './base.js';
import { checkUnit } from './validate.js';
import type { Mask } from './wrappers/masked.js';
import type { ScaleByAdamState } from './transforms/adam.js';
import type { ScaleByLionState } from './transforms/lion.js';
import type { ScaleByRmsState, ScaleByStddevState } from './transforms/rms.js';
import type { ScaleByRssState } from './transforms/rss.js';
import type { TraceState } from './transforms/trace.js';

/**
 * optax's optimizers with optax's defaults: chains of the scale_by_* building blocks ending in
 * `scaleByLearningRate`. Call as `adam(1e-3, { b1: 0.8 })` or `adam({ learningRate: 1e-3, b1: 0.8 })`.
 * `learningRate` is a non-negative number, a scalar tensor or a schedule.
 */

type LrState = ScaleByLearningRateState;
type Tx<S> = GradientTransformation<S>;
const lrScale = learningRateScaling;

// ---- SGD ----
export interface SgdOptions {
  learningRate: ScalarOrSchedule;
  /** Momentum decay (default none). */
  momentum?: Numeric | null;
  nesterov?: boolean;
}
export type SgdState = [TraceState | EmptyState, LrState];

/** Gradient descent, optionally with (Nesterov) momentum (optax.sgd). */
export const sgd = defineFactory<SgdOptions, SgdState, 'learningRate'>(
  'sgd',
  { defaults: { learningRate: undefined, momentum: null, nesterov: false }, positional: 'learningRate' },
  ({ learningRate, momentum, nesterov }) => {
    if (momentum !== null) checkUnit('sgd', 'momentum', momentum);
    const lr = lrScale('sgd', learningRate);
    const m: Tx<TraceState | EmptyState> = momentum === null ? identity() : traceTransform('sgd', { decay: momentum, nesterov });
    return chain(m, lr);
  },
);

// ---- RMSProp ----
export interface RmspropOptions {
  learningRate: ScalarOrSchedule;
  /** Decay of the moving average of squared gradients (default 0.9). */
  decay?: Numeric;
  /** Inside the square root by default (default 1e-8). */
  eps?: Numeric;
  initialScale?: Numeric;
  epsInSqrt?: boolean;
  /** Centered RMSProp: divide by the standard deviation (default false). */
  centered?: boolean;
  /** Momentum decay applied after the learning rate (default none). */
  momentum?: Numeric | null;
  nesterov?: boolean;
  biasCorrection?: boolean;
}
export type RmspropState = [ScaleByRmsState | ScaleByStddevState, LrState, TraceState | EmptyState];

/**
 * RMSProp (optax.rmsprop): `scaleByRms` (or `scaleByStddev` when centered), the learning rate,
 * then optional momentum, in that order as optax.
 */
export const rmsprop = defineFactory<RmspropOptions, RmspropState, 'learningRate'>(
  'rmsprop',
  {
    defaults: {
      learningRate: undefined,
      decay: 0.9,
      eps: 1e-8,
      initialScale: 0,
      epsInSqrt: true,
      centered: false,
      momentum: null,
      nesterov: false,
      biasCorrection: false,
    },
    positional: 'learningRate',
  },
  ({ learningRate, decay, eps, initialScale, epsInSqrt, centered, momentum, nesterov, biasCorrection }) => {
    if (momentum !== null) checkUnit('rmsprop', 'momentum', momentum);
    const o = { decay, eps, initialScale, epsInSqrt, biasCorrection };
    const pre: Tx<ScaleByRmsState | ScaleByStddevState> = centered ? stddevTransform('rmsprop', o) : rmsTransform('rmsprop', o);
    const lr = lrScale('rmsprop', learningRate);
    const m: Tx<TraceState | EmptyState> = momentum === null ? identity() : traceTransform('rmsprop', { decay: momentum, nesterov });
    return chain(pre, lr, m);
  },
);

// ---- Adam family ----
export interface AdamOptions {
  learningRate: ScalarOrSchedule;
  b1?: Numeric;
  b2?: Numeric;
  eps?: Numeric;
  /** Inside the square root (default 0); > 0 to meta-learn through Adam. */
  epsRoot?: Numeric;
  nesterov?: boolean;
}
export type AdamState = [ScaleByAdamState, LrState];
const adamDefaults = { learningRate: undefined, b1: 0.9, b2: 0.999, eps: 1e-8, epsRoot: 0, nesterov: false } as const;

/** Adam (optax.adam). */
export const adam = defineFactory<AdamOptions, AdamState, 'learningRate'>(
  'adam',
  { defaults: adamDefaults, positional: 'learningRate' },
  ({ learningRate, ...o }) => chain(adamTransform('adam', o), lrScale('adam', learningRate)),
);

/** NAdam: Adam with Nesterov momentum (optax.nadam). */
export const nadam = defineFactory<AdamOptions, AdamState, 'learningRate'>(
  'nadam',
  { defaults: { ...adamDefaults, nesterov: true }, positional: 'learningRate' },
  ({ learningRate, ...o }) => chain(adamTransform('nadam', o), lrScale('nadam', learningRate)),
);

export interface AdamwOptions extends AdamOptions {
  /** Decoupled weight decay (default 1e-4); a number, tensor or schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which leaves get weight decay (default all). */
  mask?: Mask | null;
}
export type AdamwState = [ScaleByAdamState, AddDecayedWeightsState, LrState];

/** AdamW: Adam with decoupled weight decay (optax.adamw). */
export const adamw = defineFactory<AdamwOptions, AdamwState, 'learningRate'>(
  'adamw',
  { defaults: { ...adamDefaults, weightDecay: 1e-4, mask: null }, positional: 'learningRate', staticArgs: ['mask'] },
  ({ learningRate, weightDecay, mask, ...o }) =>
    chain(adamTransform('adamw', o), decayedWeights('adamw', weightDecay, mask), lrScale('adamw', learningRate)),
);

export interface AdamaxOptions {
  learningRate: ScalarOrSchedule;
  b1?: Numeric;
  b2?: Numeric;
  eps?: Numeric;
}
export type AdamaxState = [ScaleByAdamState, LrState];

/** Adamax, Adam with the infinity norm (optax.adamax). */
export const adamax = defineFactory<AdamaxOptions, AdamaxState, 'learningRate'>(
  'adamax',
  { defaults: { learningRate: undefined, b1: 0.9, b2: 0.999, eps: 1e-8 }, positional: 'learningRate' },
  ({ learningRate, ...o }) => chain(adamaxTransform('adamax', o), lrScale('adamax', learningRate)),
);

// ---- Adagrad ----
export interface AdagradOptions {
  learningRate: ScalarOrSchedule;
  initialAccumulatorValue?: Numeric;
  eps?: Numeric;
}
export type AdagradState = [ScaleByRssState, LrState];

/** Adagrad (optax.adagrad). */
export const adagrad = defineFactory<AdagradOptions, AdagradState, 'learningRate'>(
  'adagrad',
  { defaults: { learningRate: undefined, initialAccumulatorValue: 0.1, eps: 1e-7 }, positional: 'learningRate' },
  ({ learningRate, ...o }) => chain(rssTransform('adagrad', o), lrScale('adagrad', learningRate)),
);

// ---- LAMB ----
export interface LambOptions {
  learningRate: ScalarOrSchedule;
  b1?: Numeric;
  b2?: Numeric;
  eps?: Numeric;
  epsRoot?: Numeric;
  weightDecay?: ScalarOrSchedule;
  mask?: Mask | null;
}
export type LambState = [ScaleByAdamState, AddDecayedWeightsState, EmptyState, LrState];

/** LAMB: Adam, weight decay, then a per-leaf trust ratio (optax.lamb). Needs params. */
export const lamb = defineFactory<LambOptions, LambState, 'learningRate'>(
  'lamb',
  {
    defaults: { learningRate: undefined, b1: 0.9, b2: 0.999, eps: 1e-6, epsRoot: 0, weightDecay: 0, mask: null },
    positional: 'learningRate',
    staticArgs: ['mask'],
  },
  ({ learningRate, weightDecay, mask, b1, b2, eps, epsRoot }) =>
    chain(
      adamTransform('lamb', { b1, b2, eps, epsRoot, nesterov: false }),
      decayedWeights('lamb', weightDecay, mask),
      trustRatioTransform('lamb', { minNorm: 0, trustCoefficient: 1, eps: 0 }),
      lrScale('lamb', learningRate),
    ),
);

// ---- Lion ----
export interface LionOptions {
  learningRate: ScalarOrSchedule;
  b1?: Numeric;
  b2?: Numeric;
  /** Decoupled weight decay (default 1e-3). */
  weightDecay?: ScalarOrSchedule;
  mask?: Mask | null;
}
export type LionState = [ScaleByLionState, AddDecayedWeightsState, LrState];

/** Lion (optax.lion). */
export const lion = defineFactory<LionOptions, LionState, 'learningRate'>(
  'lion',
  { defaults: { learningRate: undefined, b1: 0.9, b2: 0.99, weightDecay: 1e-3, mask: null }, positional: 'learningRate', staticArgs: ['mask'] },
  ({ learningRate, weightDecay, mask, b1, b2 }) =>
    chain(lionTransform('lion', { b1, b2 }), decayedWeights('lion', weightDecay, mask), lrScale('lion', learningRate)),
);

// ---- AdaBelief ----
export interface AdabeliefOptions {
  learningRate: ScalarOrSchedule;
  b1?: Numeric;
  b2?: Numeric;
  eps?: Numeric;
  epsRoot?: Numeric;
  /** Optional decoupled weight decay (default none). */
  weightDecay?: ScalarOrSchedule | null;
  mask?: Mask | null;
  nesterov?: boolean;
}
export type AdabeliefState = [ScaleByAdamState, LrState] | [ScaleByAdamState, AddDecayedWeightsState, LrState];

/** AdaBelief (optax.adabelief). */
export const adabelief = defineFactory<AdabeliefOptions, AdabeliefState, 'learningRate'>(
  'adabelief',
  {
    defaults: { learningRate: undefined, b1: 0.9, b2: 0.999, eps: 1e-16, epsRoot: 1e-16, weightDecay: null, mask: null, nesterov: false },
    positional: 'learningRate',
    staticArgs: ['mask'],
  },
  ({ learningRate, weightDecay, mask, ...o }) =>
    (weightDecay === null
      ? chain(beliefTransform('adabelief', o), lrScale('adabelief', learningRate))
      : chain(beliefTransform('adabelief', o), decayedWeights('adabelief', weightDecay, mask), lrScale('adabelief', learningRate))) as Tx<AdabeliefState>,
);

export type { ChainState };
