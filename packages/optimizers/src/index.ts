/**
 * @lopt/optimizers: optax for TensorFlow.js (gradient transformations over pytrees, aliases,
 * schedules, wrappers, losses, inject_hyperparams) and learned_optimization's Optimizer interface.
 */
export type { GradientTransformation, EmptyState, Numeric, Schedule, ScheduleLike, ScalarOrSchedule, StateOf } from './base.js';
export { defineFactory, isFactory, type Factory, type PositionalFactory, type FactoryInfo, type Resolved } from './factory.js';
export { chain, identity, type ChainState } from './combine.js';
export { applyUpdates } from './update.js';

export { scale, scaleBySchedule, scaleByLearningRate, type ScaleOptions, type ScaleByScheduleState, type ScaleByLearningRateOptions, type ScaleByLearningRateState } from './transforms/scale.js';
export { scaleByAdam, type ScaleByAdamOptions, type ScaleByAdamState } from './transforms/adam.js';
export { scaleByRms, scaleByStddev, type ScaleByRmsOptions, type ScaleByRmsState, type ScaleByStddevState } from './transforms/rms.js';
export { scaleByRss, type ScaleByRssOptions, type ScaleByRssState } from './transforms/rss.js';
export { trace, type TraceOptions, type TraceState } from './transforms/trace.js';
export { scaleByAdamax, type ScaleByAdamaxOptions } from './transforms/adamax.js';
export { scaleByBelief, type ScaleByBeliefOptions } from './transforms/belief.js';
export { scaleByLion, type ScaleByLionOptions, type ScaleByLionState } from './transforms/lion.js';
export { scaleByTrustRatio, safeNorm, type ScaleByTrustRatioOptions } from './transforms/trust-ratio.js';
export { addDecayedWeights, type AddDecayedWeightsOptions, type AddDecayedWeightsState } from './transforms/decayed-weights.js';
export { clip, clipByGlobalNorm, type ClipOptions, type ClipByGlobalNormOptions } from './transforms/clipping.js';

export {
  sgd,
  rmsprop,
  adam,
  nadam,
  adamw,
  adamax,
  adagrad,
  lamb,
  lion,
  adabelief,
  type SgdOptions,
  type SgdState,
  type RmspropOptions,
  type RmspropState,
  type AdamOptions,
  type AdamState,
  type AdamwOptions,
  type AdamwState,
  type AdamaxOptions,
  type AdamaxState,
  type AdagradOptions,
  type AdagradState,
  type LambOptions,
  type LambState,
  type LionOptions,
  type LionState,
  type AdabeliefOptions,
  type AdabeliefState,
} from './alias.js';

export {
  constantSchedule,
  polynomialSchedule,
  linearSchedule,
  cosineDecaySchedule,
  exponentialDecay,
  piecewiseConstantSchedule,
  joinSchedules,
  warmupCosineDecaySchedule,
  warmupExponentialDecaySchedule,
  type PolynomialScheduleOptions,
  type LinearScheduleOptions,
  type CosineDecayScheduleOptions,
  type ExponentialDecayOptions,
  type WarmupCosineDecayScheduleOptions,
  type WarmupExponentialDecayScheduleOptions,
} from './schedules.js';

export { masked, type Mask, type MaskTree, type MaskedState } from './wrappers/masked.js';
export { multiSteps, type MultiStepsState, type MultiStepsOptions, type MultiStepsTransformation } from './wrappers/multi-steps.js';
export { applyIfFinite, type ApplyIfFiniteState } from './wrappers/apply-if-finite.js';
export {
  injectHyperparams,
  type InjectHyperparamsState,
  type InjectHyperparamsOptions,
  type InjectableOptions,
  type InjectedHyperparams,
  type NumericKeys,
  type OptionsOf,
} from './inject.js';

export { l2Loss, squaredError, softmaxCrossEntropy, softmaxCrossEntropyWithIntegerLabels, sigmoidBinaryCrossEntropy } from './losses.js';

export {
  optaxOptimizer,
  type Optimizer,
  type OptimizerInitOptions,
  type OptimizerUpdateOptions,
  type OptaxOptimizerState,
} from './optimizer.js';
