import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Numeric } from '../base.js';
import { defineFactory, type Factory } from '../factory.js';
import { biasCorrection, countF, flatLike, flatTensors, increment, oneMinus } from '../internal.js';
import { checkNonNegative, checkUnit } from '../validate.js';
import { adamInit, type ScaleByAdamState } from './adam.js';

export interface ScaleByAdamaxOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: Numeric;
  /** Decay of the infinity norm (default 0.999). */
  b2?: Numeric;
  /** Added to |g| (default 1e-8). */
  eps?: Numeric;
}

/**
 * Adamax (optax.scale_by_adamax): `mu = b1 mu + (1-b1) g`, `nu = max(|g| + eps, b2 nu)`,
 * `update = (mu / (1 - b1^t)) / nu`. The state is {@link ScaleByAdamState} (nu holds the norm).
 */
export const scaleByAdamax = defineFactory<ScaleByAdamaxOptions, ScaleByAdamState>(
  'scaleByAdamax',
  { defaults: { b1: 0.9, b2: 0.999, eps: 1e-8 } },
  (o) => adamaxTransform('scaleByAdamax', o),
) as Factory<ScaleByAdamaxOptions, ScaleByAdamState>;

export function adamaxTransform(fname: string, { b1, b2, eps }: Required<ScaleByAdamaxOptions>) {
  checkUnit(fname, 'b1', b1);
  checkUnit(fname, 'b2', b2);
  checkNonNegative(fname, 'eps', eps);
  return {
    init: (params: unknown) => adamInit(fname, params),
    update<U>(updates: U, state: ScaleByAdamState): [U, ScaleByAdamState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const mu0 = flatLike(fname, g, 'updates', state.mu, 'state.mu');
        const nu0 = flatLike(fname, g, 'updates', state.nu, 'state.nu');
        const count = increment(state.count);
        const c1 = oneMinus(b1);
        const bc1 = biasCorrection(b1, countF(count));
        const mu = g.leaves.map((x, i) => tf.add(tf.mul(c1, x), tf.mul(b1, mu0[i]!)));
        const nu = g.leaves.map((x, i) => tf.maximum(tf.add(tf.abs(x), eps), tf.mul(b2, nu0[i]!)));
        const out = mu.map((m, i) => tf.div(tf.div(m, bc1), nu[i]!));
        return [g.def.unflatten<U>(out), { count, mu: g.def.unflatten(mu), nu: g.def.unflatten(nu) }];
      });
    },
  };
}
