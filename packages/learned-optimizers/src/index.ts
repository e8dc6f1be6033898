/**
 * @lopt/learned-optimizers: learned_optimization's LearnedOptimizer for TensorFlow.js, the
 * standard learned optimizers, and learned initializations (MAML family).
 */
export type { LearnedOptimizer } from './base.js';
