import * as tf from '@tensorflow/tfjs';
import { where } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientTransformation } from '../base.js';
import { flatTensors, increment, zeroCount } from '../internal.js';
import { checkNonNegativeInt } from '../validate.js';

/** State of {@link applyIfFinite}. */
export interface ApplyIfFiniteState<S> {
  /** Consecutive non-finite updates so far (int32). */
  notfiniteCount: tf.Scalar;
  /** Whether the last updates were all finite (bool). */
  lastFinite: tf.Scalar;
  /** Non-finite updates seen in total (int32). */
  totalNotfinite: tf.Scalar;
  innerState: S;
}

/**
 * Skips updates that contain NaN or ±Inf (optax.apply_if_finite): the updates become zeros and
 * the inner state is kept, unless more than `maxConsecutiveErrors` non-finite updates came in a
 * row, in which case the update goes through. The counts are in the state.
 *
 * Both branches are computed and selected with `where` (no read-back to JS, works under vmap).
 */
export function applyIfFinite<S>(inner: GradientTransformation<S>, maxConsecutiveErrors: number): GradientTransformation<ApplyIfFiniteState<S>> {
  const fname = 'applyIfFinite';
  checkNonNegativeInt(fname, 'maxConsecutiveErrors', maxConsecutiveErrors);
  return {
    init: (params) =>
      scope(() => ({
        notfiniteCount: zeroCount(),
        lastFinite: tf.scalar(true, 'bool') as tf.Scalar,
        totalNotfinite: zeroCount(),
        innerState: inner.init(params),
      })),
    update<U>(updates: U, state: ApplyIfFiniteState<S>, params?: unknown): [U, ApplyIfFiniteState<S>] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const finite = g.leaves.reduce<tf.Tensor>((ok, x) => tf.logicalAnd(ok, tf.all(tf.isFinite(x))), tf.scalar(true, 'bool'));
        const notfiniteCount = tf.where(finite, zeroCount(), increment(state.notfiniteCount)) as tf.Scalar;
        const apply = tf.logicalOr(finite, tf.greater(notfiniteCount, tf.scalar(maxConsecutiveErrors, 'int32')));
        const [u, innerState] = inner.update(updates, state.innerState, params);
        const out = flatTensors(fname, 'inner updates', u);
        return [
          out.def.unflatten<U>(out.leaves.map((x) => tf.where(apply, x, tf.zerosLike(x)))),
          {
            notfiniteCount,
            lastFinite: tf.clone(finite) as tf.Scalar,
            totalNotfinite: tf.where(finite, state.totalNotfinite, increment(state.totalNotfinite)) as tf.Scalar,
            innerState: where(apply, innerState, state.innerState),
          },
        ];
      });
    },
  };
}
