import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { GradientTransformation, Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { adamStep, addMaybe, ema, flatLike, flatTensors, muHat, oneMinus, zeroCount } from '../internal.js';
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
);

/** New moments and updates from flat leaves (one step of an Adam-family transformation). */
export type AdamFamilyStep = (
  g: readonly tf.Tensor[],
  mu0: readonly tf.Tensor[],
  nu0: readonly tf.Tensor[],
  count: tf.Scalar,
) => { out: tf.Tensor[]; mu: tf.Tensor[]; nu: tf.Tensor[]; count: tf.Scalar };

/**
 * The skeleton of the transformations with Adam's state `{count, mu, nu}` (adam, belief, adamax):
 * option checks, init, and an update that checks and flattens updates and moments once.
 */
export function adamFamily(
  fname: string,
  o: { b1: Numeric; b2: Numeric; eps: Numeric; epsRoot?: Numeric },
  step: AdamFamilyStep,
): GradientTransformation<ScaleByAdamState> {
  checkUnit(fname, 'b1', o.b1);
  checkUnit(fname, 'b2', o.b2);
  checkNonNegative(fname, 'eps', o.eps);
  if (o.epsRoot !== undefined) checkNonNegative(fname, 'epsRoot', o.epsRoot);
  return {
    init: (params: unknown) => adamInit(fname, params),
    update<U>(updates: U, state: ScaleByAdamState): [U, ScaleByAdamState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const mu0 = flatLike(fname, g, 'updates', state.mu, 'state.mu');
        const nu0 = flatLike(fname, g, 'updates', state.nu, 'state.nu');
        const r = step(g.leaves, mu0, nu0, state.count);
        return [g.def.unflatten<U>(r.out), { count: r.count, mu: g.def.unflatten(r.mu), nu: g.def.unflatten(r.nu) }];
      });
    },
  };
}

export function adamTransform(fname: string, o: Required<ScaleByAdamOptions>): GradientTransformation<ScaleByAdamState> {
  const { b1, b2, eps, epsRoot, nesterov } = o;
  return adamFamily(fname, o, (g, mu0, nu0, count) => {
    const s = adamStep(count, b1, b2, nesterov);
    const c1 = oneMinus(b1);
    const mu = ema(g, mu0, b1, undefined, c1);
    const nu = ema(g, nu0, b2, tf.square);
    const out = g.map((x, i) => tf.div(muHat(mu[i]!, x, b1, c1, s, nesterov), addMaybe(tf.sqrt(addMaybe(tf.div(nu[i]!, s.bc2), epsRoot)), eps)));
    return { out, mu, nu, count: s.count };
  });
}
