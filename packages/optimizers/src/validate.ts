import { describe, isTensor } from '@lopt/tree';

/**
 * Hyperparameter checks. Numbers are checked; tensors are not (reading them would force a sync,
 * and injected or meta-learned hyperparameters are tensors by design).
 */
const show = (v: unknown) => (typeof v === 'number' ? String(v) : describe(v));

function checkType(fname: string, name: string, v: unknown, schedule: boolean): void {
  if (typeof v === 'number' || isTensor(v) || (schedule && typeof v === 'function')) return;
  throw new Error(`${fname}: ${name} must be a number${schedule ? ', a scalar tensor or a schedule' : ' or a scalar tensor'}, got ${show(v)}`);
}

/** In [0, 1): decay rates (b1, b2, decay, momentum). */
export function checkUnit(fname: string, name: string, v: unknown): void {
  checkType(fname, name, v, false);
  if (typeof v === 'number' && !(v >= 0 && v < 1)) throw new Error(`${fname}: ${name} must be in [0, 1), got ${show(v)}`);
}

/** >= 0 and finite: eps, learning rates, weight decay, clipping thresholds. Schedules pass. */
export function checkNonNegative(fname: string, name: string, v: unknown, schedule = false): void {
  checkType(fname, name, v, schedule);
  if (typeof v === 'number' && !(v >= 0 && Number.isFinite(v))) throw new Error(`${fname}: ${name} must be >= 0, got ${show(v)}`);
}

/** > 0 and finite. */
export function checkPositive(fname: string, name: string, v: unknown): void {
  checkType(fname, name, v, false);
  if (typeof v === 'number' && !(v > 0 && Number.isFinite(v))) throw new Error(`${fname}: ${name} must be > 0, got ${show(v)}`);
}

/** A finite number or tensor (no sign restriction). */
export function checkFinite(fname: string, name: string, v: unknown): void {
  checkType(fname, name, v, false);
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${fname}: ${name} must be finite, got ${show(v)}`);
}

/** A positive integer (JS number). */
export function checkPositiveInt(fname: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${fname}: ${name} must be a positive integer, got ${show(v)}`);
}

/** A non-negative integer (JS number). */
export function checkNonNegativeInt(fname: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${fname}: ${name} must be a non-negative integer, got ${show(v)}`);
}
