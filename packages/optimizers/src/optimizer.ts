import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { describe, isPlainObject } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientTransformation } from './base.js';
import { cloneTree, increment, zeroCount } from './internal.js';
import { applyUpdates } from './update.js';

export interface OptimizerInitOptions {
  /** Length of the planned inner training run (learned optimizers may condition on it). */
  readonly numSteps?: number;
  readonly key?: Key;
}

export interface OptimizerUpdateOptions {
  /** The loss at the current params (learned optimizers may use it). */
  readonly loss?: tf.Tensor | number;
  readonly key?: Key;
}

/**
 * learned_optimization's Optimizer: the state holds the params (and usually an iteration count),
 * `update` takes the gradient and returns the next state. Hand-designed optimizers
 * ({@link optaxOptimizer}) and learned ones implement it, so they are interchangeable.
 * Implementations are functional and tidy, like GradientTransformation.
 */
export interface Optimizer<S = any, P = any> {
  /** Serialization-friendly name, e.g. `Adam_lr0.001`. */
  readonly name: string;
  init(params: P, opts?: OptimizerInitOptions): S;
  update(state: S, grad: P, opts?: OptimizerUpdateOptions): S;
  /** The params held by the state (the state's own tensors, not copies). */
  getParams(state: S): P;
}

/** State of {@link optaxOptimizer} (learned_optimization OptaxState). */
export interface OptaxOptimizerState<S, P = any> {
  params: P;
  optState: S;
  /** Updates taken so far (int32). */
  iteration: tf.Scalar;
}

/**
 * Wraps a GradientTransformation as an {@link Optimizer} (learned_optimization OptaxOptimizer):
 * `update` runs `tx.update(grad, optState, params)` and applies the updates.
 */
export function optaxOptimizer<S, P = any>(tx: GradientTransformation<S>, name = 'OptaxOptimizer'): Optimizer<OptaxOptimizerState<S, P>, P> {
  return {
    name,
    init: (params) =>
      scope(() => ({ params: cloneTree(params), optState: tx.init(params), iteration: zeroCount() })),
    update: (state, grad) => {
      if (!isPlainObject(state) || !('params' in state) || !('optState' in state)) {
        throw new Error(`optaxOptimizer(${name}).update: state must be {params, optState, iteration} from init, got ${describe(state)}`);
      }
      return scope(() => {
        const [updates, optState] = tx.update(grad, state.optState, state.params);
        return { params: applyUpdates(state.params, updates), optState, iteration: increment(state.iteration) };
      });
    },
    getParams: (state) => state.params,
  };
}
