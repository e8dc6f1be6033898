/**
 * @lopt/gradient-estimators: learned_optimization's outer trainers for TensorFlow.js:
 * meta-gradients by backprop and by evolution strategies, truncated unrolls, and a meta-trainer.
 */
export type { GradientEstimator, GradientEstimate } from './base.js';
export {
  ConstantTruncationSchedule,
  LogUniformLengthSchedule,
  NeverEndingTruncationSchedule,
  NEVER_ENDING_LENGTH,
  type TruncationSchedule,
} from './truncation-schedule.js';
export {
  concatStates,
  sliceState,
  cloneState,
  stateTensors,
  numTasksOf,
  type TruncatedStep,
  type TruncatedUnrollState,
  type UnrollOutput,
  type UnrollOptions,
  type InitStepStateOptions,
  type UnrollConfig,
  type UnrollPlan,
  type RunOutput,
} from './truncated-step.js';
export {
  UnrollEstimator,
  WholeTrainingEstimator,
  TruncatedEstimator,
  PerturbedTruncatedEstimator,
  type UnrollEstimatorOptions,
  type WholeTrainingOptions,
} from './unroll-estimator.js';
export { VectorizedLOptTruncatedStep, clipLoss, type LossTransform, type VectorizedLOptTruncatedStepOptions } from './lopt-truncated-step.js';
export { vectorSamplePerturbations, type MetaLossType } from './common.js';
export { FullGrad, type FullGradOptions } from './full-grad.js';
export { TruncatedGrad, type TruncatedGradOptions } from './truncated-grad.js';
export { FullES, type FullESOptions } from './full-es.js';
export { TruncatedES, type TruncatedESOptions } from './truncated-es.js';
export { TruncatedPES, type TruncatedPESOptions, type PESWorkerState } from './truncated-pes.js';
export * from './trainer/index.js';
