import * as tf from '@tensorflow/tfjs';
import { describe, isTensor } from '@lopt/tree';
import type { Schedule } from './base.js';

/**
 * optax's schedules. Each returns a number for a JS number count (computed in float64) and a
 * float32 scalar tensor for a tensor count (as transformations pass their int32 step count),
 * computed tidily. The two paths use the same formula.
 */
function makeSchedule(fname: string, num: (c: number) => number, ten: (c: tf.Tensor) => tf.Tensor): Schedule {
  return ((count: number | tf.Tensor) => {
    if (typeof count === 'number') return num(count);
    if (!isTensor(count)) throw new Error(`${fname}: count must be a number or a scalar tensor, got ${describe(count)}`);
    return tf.tidy(() => ten(tf.cast(count, 'float32')));
  }) as Schedule;
}

const checkNumber = (fname: string, name: string, v: unknown) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${fname}: ${name} must be a finite number, got ${typeof v === 'number' ? v : describe(v)}`);
};
const checkInt = (fname: string, name: string, v: unknown) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${fname}: ${name} must be an integer, got ${typeof v === 'number' ? v : describe(v)}`);
};

/** Always `value` (optax.constant_schedule). */
export function constantSchedule(value: number): Schedule {
  checkNumber('constantSchedule', 'value', value);
  return makeSchedule('constantSchedule', () => value, () => tf.scalar(value));
}

export interface PolynomialScheduleOptions {
  initValue: number;
  endValue: number;
  power: number;
  /** Steps from init to end value; <= 0 gives a constant schedule at initValue (as optax). */
  transitionSteps: number;
  /** Steps at initValue before the transition (default 0; negative counts as 0). */
  transitionBegin?: number;
}

/**
 * `(init - end) * (1 - t / T)^power + end` with `t = clip(count - begin, 0, T)`
 * (optax.polynomial_schedule).
 */
export function polynomialSchedule(o: PolynomialScheduleOptions): Schedule {
  const f = 'polynomialSchedule';
  const { initValue: a, endValue: b, power, transitionSteps: T } = o;
  checkNumber(f, 'initValue', a);
  checkNumber(f, 'endValue', b);
  checkNumber(f, 'power', power);
  checkInt(f, 'transitionSteps', T);
  const begin = Math.max(0, o.transitionBegin ?? 0);
  checkInt(f, 'transitionBegin', begin);
  if (T <= 0) return constantSchedule(a);
  return makeSchedule(
    f,
    (c) => (a - b) * (1 - Math.min(Math.max(c - begin, 0), T) / T) ** power + b,
    (c) => {
      const frac = tf.sub(1, tf.div(tf.clipByValue(tf.sub(c, begin), 0, T), T));
      return tf.add(tf.mul(a - b, power === 1 ? frac : tf.pow(frac, power)), b);
    },
  );
}

export interface LinearScheduleOptions {
  initValue: number;
  endValue: number;
  transitionSteps: number;
  transitionBegin?: number;
}

/** Linear from initValue to endValue over transitionSteps (optax.linear_schedule: polynomial, power 1). */
export function linearSchedule(o: LinearScheduleOptions): Schedule {
  return polynomialSchedule({ ...o, power: 1 });
}

export interface CosineDecayScheduleOptions {
  initValue: number;
  /** Steps over which to decay (> 0). */
  decaySteps: number;
  /** Final value as a fraction of initValue (default 0). */
  alpha?: number;
  /** Power of the cosine factor (default 1). */
  exponent?: number;
}

/**
 * `init * ((1 - alpha) * (0.5 (1 + cos(pi t / T)))^exponent + alpha)` with `t = min(count, T)`
 * (optax.cosine_decay_schedule).
 */
export function cosineDecaySchedule(o: CosineDecayScheduleOptions): Schedule {
  const f = 'cosineDecaySchedule';
  const { initValue: a, decaySteps: T } = o;
  const alpha = o.alpha ?? 0;
  const exponent = o.exponent ?? 1;
  checkNumber(f, 'initValue', a);
  if (typeof T !== 'number' || !(T > 0)) throw new Error(`${f}: decaySteps must be > 0, got ${T}`);
  checkNumber(f, 'alpha', alpha);
  checkNumber(f, 'exponent', exponent);
  return makeSchedule(
    f,
    (c) => a * ((1 - alpha) * (0.5 * (1 + Math.cos((Math.PI * Math.min(c, T)) / T))) ** exponent + alpha),
    (c) => {
      const cos = tf.mul(0.5, tf.add(1, tf.cos(tf.div(tf.mul(Math.PI, tf.minimum(c, T)), T))));
      return tf.mul(a, tf.add(tf.mul(1 - alpha, exponent === 1 ? cos : tf.pow(cos, exponent)), alpha));
    },
  );
}

export interface ExponentialDecayOptions {
  initValue: number;
  /** Steps per decay by `decayRate`; <= 0 gives a constant schedule (as optax). */
  transitionSteps: number;
  decayRate: number;
  /** Steps at initValue before decaying (default 0). */
  transitionBegin?: number;
  /** Decay in whole steps of transitionSteps (default false). */
  staircase?: boolean;
  /** A floor (decayRate < 1) or ceiling (decayRate > 1) for the value. */
  endValue?: number;
}

/**
 * `init * decayRate^((count - begin) / transitionSteps)` (floored with staircase), `init` before
 * `begin`, bounded by endValue (optax.exponential_decay).
 */
export function exponentialDecay(o: ExponentialDecayOptions): Schedule {
  const f = 'exponentialDecay';
  const { initValue: a, transitionSteps: T, decayRate: r } = o;
  checkNumber(f, 'initValue', a);
  checkInt(f, 'transitionSteps', T);
  checkNumber(f, 'decayRate', r);
  if (T <= 0 || r === 0) return constantSchedule(a);
  const begin = Math.max(0, o.transitionBegin ?? 0);
  checkInt(f, 'transitionBegin', begin);
  const staircase = o.staircase ?? false;
  const end = o.endValue;
  if (end !== undefined) checkNumber(f, 'endValue', end);
  const bound = r < 1 ? Math.max : Math.min;
  const tbound = r < 1 ? tf.maximum : tf.minimum;
  return makeSchedule(
    f,
    (c) => {
      const d = c - begin;
      const p = staircase ? Math.floor(d / T) : d / T;
      const v = d <= 0 ? a : a * r ** p;
      return end === undefined ? v : bound(v, end);
    },
    (c) => {
      const d = tf.sub(c, begin);
      let p = tf.div(d, T);
      if (staircase) p = tf.floor(p);
      const v = tf.where(tf.lessEqual(d, 0), tf.fill([], a), tf.mul(a, tf.pow(tf.scalar(r), p)));
      return end === undefined ? v : tbound(v, end);
    },
  );
}

/**
 * Multiplies initValue by `scale` from each boundary step on (optax.piecewise_constant_schedule):
 * `{ 100: 0.1, 200: 0.1 }` gives init until step 99, init/10 from 100, init/100 from 200.
 */
export function piecewiseConstantSchedule(initValue: number, boundariesAndScales: Readonly<Record<number, number>> = {}): Schedule {
  const f = 'piecewiseConstantSchedule';
  checkNumber(f, 'initValue', initValue);
  const steps = Object.entries(boundariesAndScales)
    .map(([k, s]) => [Number(k), s] as const)
    .sort((x, y) => x[0] - y[0]);
  for (const [b, s] of steps) {
    checkInt(f, 'boundary', b);
    if (typeof s !== 'number' || !(s >= 0)) throw new Error(`${f}: scales must be >= 0, got ${s} at boundary ${b}`);
  }
  return makeSchedule(
    f,
    (c) => steps.reduce((v, [b, s]) => (c >= b ? v * s : v), initValue),
    (c) => steps.reduce<tf.Tensor>((v, [b, s]) => tf.where(tf.greaterEqual(c, b), tf.mul(v, s), v), tf.fill([], initValue)),
  );
}

/**
 * `schedules[i](count - boundaries[i-1])` on `[boundaries[i-1], boundaries[i])` (optax.join_schedules).
 */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const f = 'joinSchedules';
  if (schedules.length === 0) throw new Error(`${f}: needs at least one schedule`);
  if (boundaries.length !== schedules.length - 1) {
    throw new Error(`${f}: needs one boundary fewer than schedules, got ${schedules.length} schedules and ${boundaries.length} boundaries`);
  }
  boundaries.forEach((b) => checkInt(f, 'boundary', b));
  return makeSchedule(
    f,
    (c) => {
      let v = schedules[0]!(c);
      boundaries.forEach((b, i) => {
        if (c >= b) v = schedules[i + 1]!(c - b);
      });
      return v;
    },
    (c) => {
      let v: tf.Tensor = schedules[0]!(c);
      boundaries.forEach((b, i) => {
        v = tf.where(tf.less(c, b), v, schedules[i + 1]!(tf.sub(c, b)));
      });
      return v;
    },
  );
}

export interface WarmupCosineDecayScheduleOptions {
  initValue: number;
  peakValue: number;
  /** Linear warmup from initValue to peakValue. */
  warmupSteps: number;
  /** Total steps, warmup included (> warmupSteps). */
  decaySteps: number;
  endValue?: number;
  exponent?: number;
}

/** Linear warmup then cosine decay to endValue (optax.warmup_cosine_decay_schedule). */
export function warmupCosineDecaySchedule(o: WarmupCosineDecayScheduleOptions): Schedule {
  const { initValue, peakValue, warmupSteps, decaySteps } = o;
  const endValue = o.endValue ?? 0;
  const alpha = peakValue === 0 ? 0 : endValue / peakValue;
  return joinSchedules(
    [
      linearSchedule({ initValue, endValue: peakValue, transitionSteps: warmupSteps }),
      cosineDecaySchedule({ initValue: peakValue, decaySteps: decaySteps - warmupSteps, alpha, exponent: o.exponent ?? 1 }),
    ],
    [warmupSteps],
  );
}

export interface WarmupExponentialDecayScheduleOptions extends Omit<ExponentialDecayOptions, 'initValue'> {
  initValue: number;
  peakValue: number;
  warmupSteps: number;
}

/** Linear warmup then exponential decay (optax.warmup_exponential_decay_schedule). */
export function warmupExponentialDecaySchedule(o: WarmupExponentialDecayScheduleOptions): Schedule {
  const { initValue, peakValue, warmupSteps, ...rest } = o;
  return joinSchedules(
    [linearSchedule({ initValue, endValue: peakValue, transitionSteps: warmupSteps }), exponentialDecay({ ...rest, initValue: peakValue })],
    [warmupSteps],
  );
}
