import * as tf from '@tensorflow/tfjs';
import { where } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientTransformation, ScheduleLike } from '../base.js';
import { flatLike, flatTensors, increment, zeroCount } from '../internal.js';
import { checkPositiveInt } from '../validate.js';

/** State of {@link multiSteps}. */
export interface MultiStepsState<S, T = any> {
  /** Mini-steps accumulated since the last real update (int32). */
  miniStep: tf.Scalar;
  /** Real updates made so far (int32). */
  gradientStep: tf.Scalar;
  innerOptState: S;
  /** Running mean (or sum) of the accumulated gradients. */
  accGrads: T;
}

export interface MultiStepsOptions {
  /** Average the accumulated gradients (default) rather than sum them. */
  useGradMean?: boolean;
}

/** A {@link multiSteps} transformation, with optax's `has_updated`. */
export interface MultiStepsTransformation<S> extends GradientTransformation<MultiStepsState<S>> {
  /** True (bool scalar) when the last update was a real one. */
  hasUpdated(state: MultiStepsState<S>): tf.Scalar;
}

/**
 * Gradient accumulation (optax.MultiSteps): accumulates `everyK` mini-steps (a running mean,
 * Welford style, or a sum), then applies `inner` to the accumulated gradient; the updates are
 * zero in between. `everyK` is a positive integer or a schedule of the gradient step.
 *
 * Like optax under jit, the inner update is computed on every call and selected with `where`,
 * so the whole thing works under grad and vmap without reading values back to JS.
 */
export function multiSteps<S>(
  inner: GradientTransformation<S>,
  everyK: number | ScheduleLike,
  opts: MultiStepsOptions = {},
): MultiStepsTransformation<S> {
  const fname = 'multiSteps';
  if (typeof everyK !== 'function') checkPositiveInt(fname, 'everyK', everyK);
  const useMean = opts.useGradMean ?? true;
  return {
    init: (params) =>
      scope(() => {
        const p = flatTensors(fname, 'params', params);
        return {
          miniStep: zeroCount(),
          gradientStep: zeroCount(),
          innerOptState: inner.init(params),
          accGrads: p.def.unflatten(p.leaves.map((x) => tf.zerosLike(x))),
        };
      }),
    update<U>(updates: U, state: MultiStepsState<S>, params?: unknown): [U, MultiStepsState<S>] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const acc0 = flatLike(fname, g, 'updates', state.accGrads, 'state.accGrads');
        const k = typeof everyK === 'number' ? tf.scalar(everyK, 'int32') : tf.cast(everyK(state.gradientStep), 'int32');
        const n = tf.cast(state.miniStep, 'float32');
        const acc = g.leaves.map((x, i) =>
          useMean ? tf.add(acc0[i]!, tf.div(tf.sub(x, acc0[i]!), tf.add(n, 1))) : tf.add(x, acc0[i]!),
        );
        const [innerUpdates, newInner] = inner.update(g.def.unflatten<U>(acc), state.innerOptState, params);
        const emit = tf.equal(state.miniStep, tf.sub(k, tf.scalar(1, 'int32')));
        const keep = tf.cast(tf.logicalNot(emit), 'float32');
        const emitF = tf.cast(emit, 'float32');
        const out = flatTensors(fname, 'inner updates', innerUpdates);
        return [
          out.def.unflatten<U>(out.leaves.map((x) => tf.mul(emitF, x))),
          {
            miniStep: tf.mod(increment(state.miniStep), k) as tf.Scalar,
            gradientStep: tf.where(emit, increment(state.gradientStep), state.gradientStep) as tf.Scalar,
            innerOptState: where(emit, newInner, state.innerOptState),
            accGrads: g.def.unflatten(acc.map((a) => tf.mul(keep, a))),
          },
        ];
      });
    },
    hasUpdated: (state) => scope(() => tf.logicalAnd(tf.equal(state.miniStep, 0), tf.greater(state.gradientStep, 0)) as tf.Scalar),
  };
}
