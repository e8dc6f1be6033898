/**
 * @lopt/gradient-estimators: learned_optimization's outer trainers for TensorFlow.js:
 * meta-gradients by backprop and by evolution strategies, truncated unrolls, and a meta-trainer.
 */
export type { GradientEstimator, GradientEstimate } from './base.js';
