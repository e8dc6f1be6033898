import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { flatLike, flatTensors, fullLike } from '../internal.js';
import { checkNonNegative } from '../validate.js';

export interface ScaleByRssOptions {
  /** Starting value of the accumulators (default 0.1), >= 0. */
  initialAccumulatorValue?: Numeric;
  /** Added inside the square root (default 1e-7). */
  eps?: Numeric;
}

/** State of {@link scaleByRss}: the running sum of squared updates. */
export interface ScaleByRssState<T = any> {
  sumOfSquares: T;
}

/**
 * Adagrad's rescaling (optax.scale_by_rss): `s = s + g²`,
 * `update = g * (s > 0 ? rsqrt(s + eps) : 0)`.
 */
export const scaleByRss = defineFactory<ScaleByRssOptions, ScaleByRssState>(
  'scaleByRss',
  { defaults: { initialAccumulatorValue: 0.1, eps: 1e-7 } },
  (o) => rssTransform('scaleByRss', o),
);

export function rssTransform(fname: string, { initialAccumulatorValue: init, eps }: Required<ScaleByRssOptions>) {
  checkNonNegative(fname, 'initialAccumulatorValue', init);
  checkNonNegative(fname, 'eps', eps);
  // With a positive number as initial value the sum is always > 0, so the guard is the identity.
  const guard = !(typeof init === 'number' && init > 0);
  return {
    init: (params: unknown): ScaleByRssState =>
      scope(() => {
        const p = flatTensors(fname, 'params', params);
        return { sumOfSquares: p.def.unflatten(p.leaves.map((x) => fullLike(x, init))) };
      }),
    update<U>(updates: U, state: ScaleByRssState): [U, ScaleByRssState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const s0 = flatLike(fname, g, 'updates', state.sumOfSquares, 'state.sumOfSquares');
        const s = g.leaves.map((x, i) => tf.add(tf.square(x), s0[i]!));
        const out = g.leaves.map((x, i) => {
          const r = tf.rsqrt(tf.add(s[i]!, eps));
          return tf.mul(guard ? tf.where(tf.greater(s[i]!, 0), r, tf.zerosLike(r)) : r, x);
        });
        return [g.def.unflatten<U>(out), { sumOfSquares: g.def.unflatten(s) }];
      });
    },
  };
}
