import type * as tf from '@tensorflow/tfjs';

/** A hyperparameter value: a JS number, or a scalar tensor (e.g. a meta-learned one, so gradients flow). */
export type Numeric = number | tf.Tensor;

/**
 * A step-size schedule: a function of the step count. lopt's schedules return a number for a JS
 * number count and a float32 scalar tensor for a tensor count.
 */
export interface Schedule {
  (count: number): number;
  (count: tf.Tensor): tf.Scalar;
}

/**
 * What transformations accept as a schedule: they call it with their int32 scalar step-count
 * tensor. It may return a number or a scalar tensor.
 */
export type ScheduleLike = (count: tf.Scalar) => Numeric;

/** A constant hyperparameter or a schedule of the step count (optax `ScalarOrSchedule`). */
export type ScalarOrSchedule = Numeric | ScheduleLike;

/** The state of a stateless transformation (optax `EmptyState`): a pytree with no leaves. */
export type EmptyState = Record<string, never>;

/**
 * optax's GradientTransformation over pytrees of tensors.
 *
 * - `init(params)` returns the initial state, a pytree of tensors (counts are int32 scalars), so
 *   states can be stacked, vmapped and serialized with @lopt/tree.
 * - `update(updates, state, params?)` returns `[newUpdates, newState]`.
 *
 * Both are tidy and functional: they return new tensors only (never one of their inputs, and no
 * tensor twice), never dispose their inputs, and leave nothing else behind. Dispose what you no
 * longer need yourself (e.g. `dispose([grads, oldState])`).
 */
export interface GradientTransformation<S = unknown> {
  init(params: unknown): S;
  update<U>(updates: U, state: S, params?: unknown): [U, S];
}

/** The state type of a transformation. */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never;
