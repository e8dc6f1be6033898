import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { EmptyState, Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { flatLike, flatTensors, requireParams } from '../internal.js';
import { checkFinite, checkNonNegative } from '../validate.js';

export interface ScaleByTrustRatioOptions {
  /** Lower bound for the parameter and update norms (default 0). */
  minNorm?: Numeric;
  /** Multiplier of the trust ratio (default 1). */
  trustCoefficient?: Numeric;
  /** Added to the update norm (default 0). */
  eps?: Numeric;
}

/**
 * `max(||x||, minNorm)` whose gradient is 0 (not NaN) where the norm is clipped, e.g. at x = 0
 * (optax numerics.safe_norm).
 */
export function safeNorm(x: tf.Tensor, minNorm: Numeric): tf.Tensor {
  const norm = tf.sqrt(tf.sum(tf.square(x)));
  const clipped = tf.lessEqual(norm, minNorm);
  const masked = tf.sqrt(tf.sum(tf.square(tf.where(clipped, tf.onesLike(x), x))));
  return tf.where(clipped, typeof minNorm === 'number' ? tf.scalar(minNorm) : minNorm, masked);
}

/**
 * Scales each leaf's update by its trust ratio `trustCoefficient * ||p|| / (||u|| + eps)`, or 1
 * where either norm is 0 (optax.scale_by_trust_ratio, used by LAMB). Needs params.
 */
export const scaleByTrustRatio = defineFactory<ScaleByTrustRatioOptions, EmptyState>(
  'scaleByTrustRatio',
  { defaults: { minNorm: 0, trustCoefficient: 1, eps: 0 } },
  (o) => trustRatioTransform('scaleByTrustRatio', o),
);

export function trustRatioTransform(fname: string, { minNorm, trustCoefficient, eps }: Required<ScaleByTrustRatioOptions>) {
  checkNonNegative(fname, 'minNorm', minNorm);
  checkFinite(fname, 'trustCoefficient', trustCoefficient);
  checkNonNegative(fname, 'eps', eps);
  return {
    init: (): EmptyState => ({}),
    update<U>(updates: U, _state: EmptyState, params?: unknown): [U, EmptyState] {
      requireParams(fname, params);
      return scope(() => {
        const p = flatTensors(fname, 'params', params);
        const u = flatLike(fname, p, 'params', updates, 'updates');
        const out = u.map((x, i) => {
          const pn = safeNorm(p.leaves[i]!, minNorm);
          const un = safeNorm(x, minNorm);
          const ratio = tf.div(tf.mul(trustCoefficient, pn), eps === 0 ? un : tf.add(un, eps));
          const zero = tf.logicalOr(tf.equal(pn, 0), tf.equal(un, 0));
          return tf.mul(x, tf.where(zero, tf.onesLike(ratio), ratio));
        });
        return [p.def.unflatten<U>(out), {}];
      });
    },
  };
}
