import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { EmptyState, Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { flatTensors, negate } from '../internal.js';
import { checkNonNegative, checkPositive } from '../validate.js';

export interface ClipOptions {
  /** Updates are clipped to [-maxDelta, maxDelta]. */
  maxDelta: Numeric;
}

/** Clips every update to `[-maxDelta, maxDelta]` (optax.clip). */
export const clip = defineFactory<ClipOptions, EmptyState, 'maxDelta'>(
  'clip',
  { defaults: { maxDelta: undefined }, positional: 'maxDelta' },
  ({ maxDelta }) => {
    checkNonNegative('clip', 'maxDelta', maxDelta);
    return {
      init: () => ({}),
      update<U>(updates: U, _state: EmptyState): [U, EmptyState] {
        return scope(() => {
          const g = flatTensors('clip', 'updates', updates);
          const out = g.leaves.map((x) =>
            typeof maxDelta === 'number' ? tf.clipByValue(x, -maxDelta, maxDelta) : tf.minimum(tf.maximum(x, negate(maxDelta)), maxDelta),
          );
          return [g.def.unflatten<U>(out), {}];
        });
      },
    };
  },
);

export interface ClipByGlobalNormOptions {
  /** The largest allowed global norm of the updates. */
  maxNorm: Numeric;
}

/**
 * Rescales all updates by `maxNorm / ||updates||` when the global norm exceeds maxNorm
 * (optax.clip_by_global_norm). The factor is one scalar, `where(norm < maxNorm, 1, maxNorm / norm)`,
 * so there is one multiply per leaf; values and gradients are those of optax's select.
 */
export const clipByGlobalNorm = defineFactory<ClipByGlobalNormOptions, EmptyState, 'maxNorm'>(
  'clipByGlobalNorm',
  { defaults: { maxNorm: undefined }, positional: 'maxNorm' },
  ({ maxNorm }) => {
    checkPositive('clipByGlobalNorm', 'maxNorm', maxNorm);
    return {
      init: () => ({}),
      update<U>(updates: U, _state: EmptyState): [U, EmptyState] {
        return scope(() => {
          const g = flatTensors('clipByGlobalNorm', 'updates', updates);
          if (g.leaves.length === 0) return [updates, {}];
          const sq = g.leaves.map((x) => tf.sum(tf.square(x)));
          const norm = tf.sqrt(sq.length === 1 ? sq[0]! : tf.addN(sq));
          const factor = tf.where(tf.less(norm, maxNorm), tf.onesLike(norm), tf.div(maxNorm, norm));
          return [g.def.unflatten<U>(g.leaves.map((x) => tf.mul(x, factor))), {}];
        });
      },
    };
  },
);
