import type { Key } from '@lopt/random';
import type { Optimizer } from '@lopt/optimizers';

/**
 * learned_optimization's `LearnedOptimizer` (learned_optimizers/base.py): a function of
 * meta-parameters `theta` (a pytree of float32 tensors) that returns an {@link Optimizer}.
 * Holds configuration only; theta is created by `init` and passed in.
 */
export interface LearnedOptimizer<T = any> {
  /** Stable name, stored in saved theta files (e.g. `MLPLOpt`). */
  readonly name: string;
  /** JSON-serializable configuration, stored beside theta in saved files. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Initial meta-parameters. */
  init(key: Key): T;
  /** The optimizer these meta-parameters define (differentiable in theta). */
  optFn(theta: T, isTraining?: boolean): Optimizer;
}
