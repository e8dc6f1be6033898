import * as tf from '@tensorflow/tfjs';
import { flatten, isTensor } from '@lopt/tree';
import { ensureInstalled } from './install.js';

/**
 * `tf.tidy` for pytrees: runs `fn`, keeps the tensors of the returned pytree, disposes every other
 * tensor made inside. Numbers, keys and nulls in the result pass through.
 */
export function scope<T>(fn: () => T): T {
  ensureInstalled();
  let result!: T;
  tf.tidy(() => {
    result = fn();
    if (result instanceof Promise) throw new Error('scope: fn must be synchronous (tf.tidy cannot track async work)');
    return flatten(result)[0].filter(isTensor) as tf.Tensor[];
  });
  return result;
}

export interface LeakReport {
  /** Tensors alive after the call minus before, not counting the ones `fn` returned. */
  readonly leaked: number;
  readonly before: number;
  readonly after: number;
}

/** Counts tensors `fn` leaves behind, not counting the tensors in its returned pytree. */
export function countLeaks<T>(fn: () => T): { result: T; report: LeakReport } {
  const before = tf.memory().numTensors;
  const result = fn();
  const after = tf.memory().numTensors;
  const returned = new Set(flatten(result)[0].filter(isTensor).filter((t) => !t.isDisposed)).size;
  return { result, report: { leaked: after - before - returned, before, after } };
}

/**
 * Test helper for your own code: runs `fn` and throws if it left tensors behind (tensors in its
 * returned pytree are allowed and are disposed afterwards unless `keepResult` is set).
 *
 * ```ts
 * expectNoLeaks(() => opt.update(grads, state, params));
 * ```
 */
export function expectNoLeaks<T>(fn: () => T, opts: { keepResult?: boolean; label?: string } = {}): T {
  const { result, report } = countLeaks(fn);
  if (!opts.keepResult) for (const t of flatten(result)[0]) if (isTensor(t)) t.dispose();
  if (report.leaked !== 0) {
    throw new Error(
      `${opts.label ? `${opts.label}: ` : ''}${report.leaked} tensor${Math.abs(report.leaked) === 1 ? '' : 's'} ` +
        `${report.leaked > 0 ? 'leaked' : 'freed that were not made by the call'} ` +
        `(numTensors ${report.before} before, ${report.after} after, result excluded)`,
    );
  }
  return result;
}
