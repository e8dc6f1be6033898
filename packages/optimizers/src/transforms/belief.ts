import * as tf from '@tensorflow/tfjs';
import type { Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { adamStep, addMaybe, ema, muHat, oneMinus } from '../internal.js';
import { adamFamily, type ScaleByAdamState } from './adam.js';

export interface ScaleByBeliefOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: Numeric;
  /** Decay of the variance of the prediction error (default 0.999). */
  b2?: Numeric;
  /** Added to the denominator (default 1e-16). */
  eps?: Numeric;
  /** Added to the second moment (default 1e-16); must be > 0 to backpropagate through the update. */
  epsRoot?: Numeric;
  nesterov?: boolean;
}

/**
 * AdaBelief (optax.scale_by_belief): `mu = b1 mu + (1-b1) g`, `nu = b2 nu + (1-b2) (g - mu)² + epsRoot`,
 * `update = mu_hat / (sqrt(nu_hat) + eps)`.
 */
export const scaleByBelief = defineFactory<ScaleByBeliefOptions, ScaleByAdamState>(
  'scaleByBelief',
  { defaults: { b1: 0.9, b2: 0.999, eps: 1e-16, epsRoot: 1e-16, nesterov: false } },
  (o) => beliefTransform('scaleByBelief', o),
);

export function beliefTransform(fname: string, o: Required<ScaleByBeliefOptions>) {
  const { b1, b2, eps, epsRoot, nesterov } = o;
  return adamFamily(fname, o, (g, mu0, nu0, count) => {
    const s = adamStep(count, b1, b2, nesterov);
    const c1 = oneMinus(b1);
    const mu = ema(g, mu0, b1, undefined, c1);
    const nu = ema(g, nu0, b2, (x, i) => tf.square(tf.sub(x, mu[i]!))).map((v) => addMaybe(v, epsRoot));
    const out = g.map((x, i) => tf.div(muHat(mu[i]!, x, b1, c1, s, nesterov), addMaybe(tf.sqrt(tf.div(nu[i]!, s.bc2)), eps)));
    return { out, mu, nu, count: s.count };
  });
}
