import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { EmptyState, GradientTransformation, Numeric, ScalarOrSchedule, ScheduleLike } from '../base.js';
import { identity } from '../combine.js';
import { defineFactory } from '../factory.js';
import { flatTensors, increment, negate, zeroCount } from '../internal.js';
import { checkFinite, checkNonNegative } from '../validate.js';

/** Multiplies every update by `s` (one scalar, applied per leaf). */
export function scaleLeaves<U>(fname: string, updates: U, s: Numeric): U {
  const g = flatTensors(fname, 'updates', updates);
  return g.def.unflatten<U>(g.leaves.map((x) => tf.mul(s, x)));
}

export interface ScaleOptions {
  /** The factor: a number or a scalar tensor. */
  stepSize: Numeric;
}

/** `updates * stepSize` (optax.scale). Stateless. */
export const scale = defineFactory<ScaleOptions, EmptyState, 'stepSize'>(
  'scale',
  { defaults: { stepSize: undefined }, positional: 'stepSize' },
  ({ stepSize }) => {
    checkFinite('scale', 'stepSize', stepSize);
    return {
      init: () => ({}),
      update: (updates, _state) => scope(() => [scaleLeaves('scale', updates, stepSize), {}]),
    };
  },
);

/** State of {@link scaleBySchedule}: the int32 step count. */
export interface ScaleByScheduleState {
  count: tf.Scalar;
}

/**
 * `updates * stepSizeFn(count)` with a step count in the state (optax.scale_by_schedule).
 * The schedule is called with the int32 count tensor (0 on the first update).
 */
export function scaleBySchedule(stepSizeFn: ScheduleLike): GradientTransformation<ScaleByScheduleState> {
  if (typeof stepSizeFn !== 'function') throw new Error(`scaleBySchedule: stepSizeFn must be a function of the step count, got ${typeof stepSizeFn}`);
  return {
    init: () => scope(() => ({ count: zeroCount() })),
    update: (updates, state) =>
      scope(() => [scaleLeaves('scaleBySchedule', updates, stepSizeFn(state.count)), { count: increment(state.count) }]),
  };
}

export interface ScaleByLearningRateOptions {
  /** A non-negative number, a scalar tensor or a schedule; `null` (the default, as optax) scales nothing. */
  learningRate?: ScalarOrSchedule | null;
  /** Multiply by `-learningRate` (default), i.e. descend. */
  flipSign?: boolean;
}

/** The state: `{}` for a constant learning rate, `{ count }` for a schedule. */
export type ScaleByLearningRateState = EmptyState | ScaleByScheduleState;

/**
 * `updates * -learningRate` (optax.scale_by_learning_rate). A schedule is evaluated at the step
 * count; a tensor learning rate (e.g. `sigmoid(eta)`) keeps its gradient; `null` gives
 * `identity()`, as optax's `None`.
 */
export const scaleByLearningRate = defineFactory<ScaleByLearningRateOptions, ScaleByLearningRateState, 'learningRate'>(
  'scaleByLearningRate',
  { defaults: { learningRate: null, flipSign: true }, positional: 'learningRate' },
  ({ learningRate, flipSign }) => (learningRate === null ? identity() : learningRateScaling('scaleByLearningRate', learningRate, flipSign)),
);

/** scaleByLearningRate's body; aliases call it with their own name so errors name the alias. */
export function learningRateScaling(fname: string, lr: ScalarOrSchedule, flipSign = true): GradientTransformation<ScaleByLearningRateState> {
  if (typeof lr === 'function') {
    return scaleBySchedule((count) => (flipSign ? negate(lr(count)) : lr(count))) as GradientTransformation<ScaleByLearningRateState>;
  }
  if (flipSign) checkNonNegative(fname, 'learningRate', lr, true);
  else checkFinite(fname, 'learningRate', lr);
  return {
    init: () => ({}),
    update: (updates, _state) => scope(() => [scaleLeaves(fname, updates, flipSign ? negate(lr) : lr), {}]),
  };
}
