import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Numeric } from '../base.js';
import { defineFactory, type Factory } from '../factory.js';
import { addMaybe, biasCorrection, countF, flatLike, flatTensors, increment, oneMinus, zeroCount } from '../internal.js';
import { checkNonNegative, checkUnit } from '../validate.js';

export interface ScaleByAdamOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: Numeric;
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: Numeric;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps?: Numeric;
  /** Added inside the square root (default 0); make it > 0 to backpropagate through the update. */
  epsRoot?: Numeric;
  /** Nesterov momentum (NAdam, Dozat 2016). */
  nesterov?: boolean;
}

/** State of Adam-like transformations: int32 step count and the two moments. */
export interface ScaleByAdamState<T = any> {
  count: tf.Scalar;
  mu: T;
  nu: T;
}

/** Zero moments for params, shared by the Adam family. */
export function adamInit(fname: string, params: unknown): ScaleByAdamState {
  return scope(() => {
    const p = flatTensors(fname, 'params', params);
    return { count: zeroCount(), mu: p.def.unflatten(p.leaves.map((x) => tf.zerosLike(x))), nu: p.def.unflatten(p.leaves.map((x) => tf.zerosLike(x))) };
  });
}

/**
 * Adam's rescaling (optax.scale_by_adam):
 * `mu = b1 mu + (1-b1) g`, `nu = b2 nu + (1-b2) g²`, `t = count + 1`,
 * `update = mu_hat / (sqrt(nu_hat + epsRoot) + eps)` with `mu_hat = mu / (1 - b1^t)`,
 * `nu_hat = nu / (1 - b2^t)`; with nesterov `mu_hat = b1 mu / (1 - b1^(t+1)) + (1-b1) g / (1 - b1^t)`.
 * The bias corrections are scalars computed once per update.
 */
export const scaleByAdam = defineFactory<ScaleByAdamOptions, ScaleByAdamState>(
  'scaleByAdam',
  { defaults: { b1: 0.9, b2: 0.999, eps: 1e-8, epsRoot: 0, nesterov: false } },
  (o) => adamTransform('scaleByAdam', o),
) as Factory<ScaleByAdamOptions, ScaleByAdamState>;

export function adamTransform(fname: string, o: Required<ScaleByAdamOptions>) {
  const { b1, b2, eps, epsRoot, nesterov } = o;
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
        const nu = g.leaves.map((x, i) => tf.add(tf.mul(c2, tf.square(x)), tf.mul(b2, nu0[i]!)));
        const out = g.leaves.map((x, i) => {
          const muHat = nesterov
            ? tf.add(tf.mul(b1, tf.div(mu[i]!, bc1Next)), tf.mul(c1, tf.div(x, bc1)))
            : tf.div(mu[i]!, bc1);
          const nuHat = tf.div(nu[i]!, bc2);
          return tf.div(muHat, addMaybe(tf.sqrt(addMaybe(nuHat, epsRoot)), eps));
        });
        return [g.def.unflatten<U>(out), { count, mu: g.def.unflatten(mu), nu: g.def.unflatten(nu) }];
      });
    },
  };
}
