import * as tf from '@tensorflow/tfjs';
import type { Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { biasCorrection, countF, ema, increment } from '../internal.js';
import { adamFamily, type ScaleByAdamState } from './adam.js';

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
);

export function adamaxTransform(fname: string, o: Required<ScaleByAdamaxOptions>) {
  const { b1, b2, eps } = o;
  return adamFamily(fname, o, (g, mu0, nu0, stateCount) => {
    const count = increment(stateCount);
    const bc1 = biasCorrection(b1, countF(count));
    const mu = ema(g, mu0, b1);
    const nu = g.map((x, i) => tf.maximum(tf.add(tf.abs(x), eps), tf.mul(b2, nu0[i]!)));
    return { out: mu.map((m, i) => tf.div(tf.div(m, bc1), nu[i]!)), mu, nu, count };
  });
}
