import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Numeric } from '../base.js';
import { defineFactory, type Factory } from '../factory.js';
import { addMaybe, biasCorrection, countF, flatLike, flatTensors, increment, oneMinus } from '../internal.js';
import { checkNonNegative, checkUnit } from '../validate.js';
import { adamInit, type ScaleByAdamState } from './adam.js';

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
) as Factory<ScaleByBeliefOptions, ScaleByAdamState>;

export function beliefTransform(fname: string, { b1, b2, eps, epsRoot, nesterov }: Required<ScaleByBeliefOptions>) {
  checkUnit(fname, 'b1', b1);
  checkUnit(fname, 'b2', b2);
  checkNonNegative(fname, 'eps', eps);
  checkNonNegative(fname, 'epsRoot', epsRoot);
  return {
    init: (params: unknown) => adamInit(fname, params),
    update<U>(updates: U, state: ScaleByAdamState): [U, ScaleByAdamState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const mu0 = flatLike(fname, g, 'updates', state.mu, 'state.mu');
        const nu0 = flatLike(fname, g, 'updates', state.nu, 'state.nu');
        const count = increment(state.count);
        const c1 = oneMinus(b1);
        const c2 = oneMinus(b2);
        const t = countF(count);
        const bc1 = biasCorrection(b1, t);
        const bc2 = biasCorrection(b2, t);
        const bc1Next = nesterov ? biasCorrection(b1, tf.add(t, 1)) : bc1;
        const mu = g.leaves.map((x, i) => tf.add(tf.mul(c1, x), tf.mul(b1, mu0[i]!)));
        const nu = g.leaves.map((x, i) =>
          addMaybe(tf.add(tf.mul(c2, tf.square(tf.sub(x, mu[i]!))), tf.mul(b2, nu0[i]!)), epsRoot),
        );
        const out = g.leaves.map((x, i) => {
          const muHat = nesterov
            ? tf.add(tf.mul(b1, tf.div(mu[i]!, bc1Next)), tf.mul(c1, tf.div(x, bc1)))
            : tf.div(mu[i]!, bc1);
          return tf.div(muHat, addMaybe(tf.sqrt(tf.div(nu[i]!, bc2)), eps));
        });
        return [g.def.unflatten<U>(out), { count, mu: g.def.unflatten(mu), nu: g.def.unflatten(nu) }];
      });
    },
  };
}
