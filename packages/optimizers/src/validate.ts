import type * as tf from '@tensorflow/tfjs';
import { describe, isTensor } from '@lopt/tree';
import { isTraced } from '@lopt/transforms';

/**
 * Hyperparameter checks, shared by every factory. A number is checked against the range. A
 * tensor must be a float32 scalar, and its value is read (one sync, once per factory call) and
 * checked like a number, except:
 * - inside `vmap` or a `jit` trace, where such a tensor has no value to read (`isTraced`): only
 *   its dtype and shape are checked;
 * - when injectHyperparams rebuilds the transformation on each update from its state (see
 *   {@link withoutValueReads}): reading there would sync on every step.
 */
const show = (v: unknown) => (typeof v === 'number' ? String(v) : describe(v));

let readValues = true;

/**
 * Runs `f` with tensor values unread (dtype and shape are still checked). injectHyperparams
 * builds its transformation this way on every update: the values were checked at construction,
 * and the ones replaced in the state between steps are usually outputs of a meta-learner.
 */
export function withoutValueReads<T>(f: () => T): T {
  const saved = readValues;
  readValues = false;
  try {
    return f();
  } finally {
    readValues = saved;
  }
}

/** The value to range-check, or undefined when there is none to read; type, dtype and shape errors throw. */
function valueOf(fname: string, name: string, v: unknown, schedule: boolean): number | undefined {
  if (typeof v === 'number') return v;
  if (isTensor(v)) {
    const t = v as tf.Tensor;
    if (t.dtype !== 'float32') throw new Error(`${fname}: ${name} must be a float32 scalar tensor, got dtype ${t.dtype}`);
    if (t.rank !== 0) throw new Error(`${fname}: ${name} must be a scalar tensor, got shape [${t.shape.join(',')}]`);
    if (!readValues || isTraced(t)) return undefined;
    return t.dataSync()[0]!;
  }
  if (schedule && typeof v === 'function') return undefined;
  throw new Error(`${fname}: ${name} must be a number${schedule ? ', a scalar tensor or a schedule' : ' or a scalar tensor'}, got ${show(v)}`);
}

function check(fname: string, name: string, v: unknown, schedule: boolean, ok: (x: number) => boolean, what: string): void {
  const x = valueOf(fname, name, v, schedule);
  if (x !== undefined && !ok(x)) throw new Error(`${fname}: ${name} must be ${what}, got ${x}${typeof v === 'number' ? '' : ' (in a scalar tensor)'}`);
}

/** In [0, 1): decay rates (b1, b2, decay, momentum). */
export function checkUnit(fname: string, name: string, v: unknown): void {
  check(fname, name, v, false, (x) => x >= 0 && x < 1, 'in [0, 1)');
}

/** >= 0 and finite: eps, learning rates, weight decay, clipping thresholds. Schedules pass when allowed. */
export function checkNonNegative(fname: string, name: string, v: unknown, schedule = false): void {
  check(fname, name, v, schedule, (x) => x >= 0 && Number.isFinite(x), 'a finite number >= 0');
}

/** > 0 and finite. */
export function checkPositive(fname: string, name: string, v: unknown): void {
  check(fname, name, v, false, (x) => x > 0 && Number.isFinite(x), 'a finite number > 0');
}

/** A finite number or tensor (no sign restriction). */
export function checkFinite(fname: string, name: string, v: unknown): void {
  check(fname, name, v, false, Number.isFinite, 'a finite number');
}

/** A positive integer (JS number). */
export function checkPositiveInt(fname: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${fname}: ${name} must be a positive integer, got ${show(v)}`);
}

/** A non-negative integer (JS number). */
export function checkNonNegativeInt(fname: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${fname}: ${name} must be a non-negative integer, got ${show(v)}`);
}
