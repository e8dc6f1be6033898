import * as tf from '@tensorflow/tfjs';
import { leaves, where } from '@lopt/tree';
import { stopGradient } from '@lopt/transforms';

/**
 * What the built-in learned optimizers do with NaN and ±Inf, decided once for all of them:
 * a step whose gradient, or whose resulting params, are not all finite is **skipped and
 * reported**. The state comes back unchanged (params, accumulators, iteration) except
 * `nonFiniteSteps`, which counts the skipped steps. The step is computed on the gradient with
 * its non-finite entries set to 0, so that even the branch that is thrown away is finite and
 * meta-gradients through the selection stay finite. Everything is selected with `where`: no
 * values are read on the JS side, so it works under grad and vmap (each task skips on its own).
 */
export interface GuardedState {
  params: unknown;
  /** Steps skipped because the gradient or the new params had NaN or ±Inf (int32). */
  nonFiniteSteps: tf.Scalar;
}

// The checks are cut from the tape (stopGradient): they only select, and `All` has no gradient.
const allTrue = (masks: readonly tf.Tensor[]): tf.Tensor =>
  stopGradient(masks).reduce<tf.Tensor>((ok, m) => tf.logicalAnd(ok, tf.all(m)), tf.scalar(true, 'bool'));

/**
 * Runs `step` on the sanitized gradient leaves and selects its result, or the old state when the
 * gradient or the new params are not finite. Call inside a scope.
 */
export function guardedStep<S extends GuardedState>(state: S, grads: readonly tf.Tensor[], step: (safeGrads: tf.Tensor[]) => Omit<S, 'nonFiniteSteps'>): S {
  const masks = grads.map((g) => tf.isFinite(g));
  const safe = grads.map((g, i) => tf.where(masks[i]!, g, tf.zerosLike(g)));
  const next = step(safe);
  const ok = tf.logicalAnd(allTrue(masks), allTrue(stopGradient(leaves<tf.Tensor>(next.params)).map((p) => tf.isFinite(p))));
  const { nonFiniteSteps, ...old } = state;
  const chosen = where(ok, next, old as Omit<S, 'nonFiniteSteps'>);
  return { ...chosen, nonFiniteSteps: tf.where(ok, nonFiniteSteps, tf.add(nonFiniteSteps, tf.scalar(1, 'int32'))) } as unknown as S;
}

/** int32 zero, the initial `iteration` and `nonFiniteSteps`. */
export const zeroCount = (): tf.Scalar => tf.scalar(0, 'int32');

/** iteration + 1 (int32). */
export const increment = (t: tf.Scalar): tf.Scalar => tf.add(t, tf.scalar(1, 'int32'));
