import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';

/** What one gradient estimate returns (learned_optimization GradientEstimatorOut). */
export interface GradientEstimate<T, W> {
  /** The meta-gradient estimate, same structure as theta. */
  readonly grad: T;
  /** The meta-loss the estimate was computed at (mean over tasks / particles). */
  readonly metaLoss: tf.Scalar;
  /** The worker state to pass to the next call (truncated estimators carry inner training here). */
  readonly state: W;
  /** Scalars for logging. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/**
 * learned_optimization's `GradientEstimator` (outer_trainers/gradient_learner.py): holds
 * configuration only; everything that changes is in the worker state.
 */
export interface GradientEstimator<T = any, W = any> {
  readonly name: string;
  initWorkerState(theta: T, key: Key): W;
  computeGradientEstimate(theta: T, key: Key, state: W): GradientEstimate<T, W>;
}
