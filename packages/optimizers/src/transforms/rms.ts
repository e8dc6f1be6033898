import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { biasCorrection, countF, ema, flatLike, flatTensors, fullLike, increment, oneMinus, zeroCount } from '../internal.js';
import { checkNonNegative, checkUnit } from '../validate.js';

export interface ScaleByRmsOptions {
  /** Decay of the moving average of squared updates (default 0.9), in [0, 1). */
  decay?: Numeric;
  /** Stabilizer (default 1e-8), inside the square root unless `epsInSqrt` is false. */
  eps?: Numeric;
  /** Initial value of the second moment (default 0). */
  initialScale?: Numeric;
  /** `g * rsqrt(nu + eps)` (default, as optax) or `g / (sqrt(nu) + eps)`. */
  epsInSqrt?: boolean;
  /** Divide the moments by `1 - decay^t` (default false). */
  biasCorrection?: boolean;
}

/** State of {@link scaleByRms}; `count` only with `biasCorrection`. */
export interface ScaleByRmsState<T = any> {
  count?: tf.Scalar;
  nu: T;
}

/** State of {@link scaleByStddev}; `count` only with `biasCorrection`. */
export interface ScaleByStddevState<T = any> {
  count?: tf.Scalar;
  mu: T;
  nu: T;
}

function check(fname: string, o: Required<ScaleByRmsOptions>): void {
  checkUnit(fname, 'decay', o.decay);
  checkNonNegative(fname, 'eps', o.eps);
  checkNonNegative(fname, 'initialScale', o.initialScale);
}

/** `scaling * g` with eps inside (rsqrt) or outside the square root. */
function rescale(x: tf.Tensor, nuHat: tf.Tensor, eps: Numeric, epsInSqrt: boolean): tf.Tensor {
  return epsInSqrt ? tf.mul(tf.rsqrt(tf.add(nuHat, eps)), x) : tf.div(x, tf.add(tf.sqrt(nuHat), eps));
}

/**
 * RMSProp's rescaling (optax.scale_by_rms): `nu = decay nu + (1-decay) g²`,
 * `update = g * rsqrt(nu + eps)` (eps inside the square root, as optax).
 */
export const scaleByRms = defineFactory<ScaleByRmsOptions, ScaleByRmsState>(
  'scaleByRms',
  { defaults: { decay: 0.9, eps: 1e-8, initialScale: 0, epsInSqrt: true, biasCorrection: false } },
  (o) => rmsTransform('scaleByRms', o),
);

export function rmsTransform(fname: string, o: Required<ScaleByRmsOptions>) {
  check(fname, o);
  const { decay, eps, initialScale, epsInSqrt, biasCorrection: bc } = o;
  return {
    init: (params: unknown): ScaleByRmsState =>
      scope(() => {
        const p = flatTensors(fname, 'params', params);
        const nu = p.def.unflatten(p.leaves.map((x) => fullLike(x, initialScale)));
        return bc ? { count: zeroCount(), nu } : { nu };
      }),
    update<U>(updates: U, state: ScaleByRmsState): [U, ScaleByRmsState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const nu0 = flatLike(fname, g, 'updates', state.nu, 'state.nu');
        const nu = ema(g.leaves, nu0, decay, tf.square);
        let count: tf.Scalar | undefined;
        let corr: tf.Tensor | undefined;
        if (bc) {
          count = increment(countOf(fname, state.count));
          corr = biasCorrection(decay, countF(count));
        }
        const out = g.leaves.map((x, i) => rescale(x, corr ? tf.div(nu[i]!, corr) : nu[i]!, eps, epsInSqrt));
        const nuTree = g.def.unflatten(nu);
        return [g.def.unflatten<U>(out), count ? { count, nu: nuTree } : { nu: nuTree }];
      });
    },
  };
}

/**
 * Centered RMSProp's rescaling (optax.scale_by_stddev): `mu = decay mu + (1-decay) g`,
 * `nu = decay nu + (1-decay) g²`, `update = g * rsqrt(nu - mu² + eps)`.
 */
export const scaleByStddev = defineFactory<ScaleByRmsOptions, ScaleByStddevState>(
  'scaleByStddev',
  { defaults: { decay: 0.9, eps: 1e-8, initialScale: 0, epsInSqrt: true, biasCorrection: false } },
  (o) => stddevTransform('scaleByStddev', o),
);

export function stddevTransform(fname: string, o: Required<ScaleByRmsOptions>) {
  check(fname, o);
  const { decay, eps, initialScale, epsInSqrt, biasCorrection: bc } = o;
  return {
    init: (params: unknown): ScaleByStddevState =>
      scope(() => {
        const p = flatTensors(fname, 'params', params);
        const mu = p.def.unflatten(p.leaves.map((x) => tf.zerosLike(x)));
        const nu = p.def.unflatten(p.leaves.map((x) => fullLike(x, initialScale)));
        return bc ? { count: zeroCount(), mu, nu } : { mu, nu };
      }),
    update<U>(updates: U, state: ScaleByStddevState): [U, ScaleByStddevState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const mu0 = flatLike(fname, g, 'updates', state.mu, 'state.mu');
        const nu0 = flatLike(fname, g, 'updates', state.nu, 'state.nu');
        const c = oneMinus(decay);
        const mu = ema(g.leaves, mu0, decay, undefined, c);
        const nu = ema(g.leaves, nu0, decay, tf.square, c);
        let count: tf.Scalar | undefined;
        let corr: tf.Tensor | undefined;
        if (bc) {
          count = increment(countOf(fname, state.count));
          corr = biasCorrection(decay, countF(count));
        }
        const out = g.leaves.map((x, i) => {
          const m = corr ? tf.div(mu[i]!, corr) : mu[i]!;
          const v = corr ? tf.div(nu[i]!, corr) : nu[i]!;
          return rescale(x, tf.sub(v, tf.square(m)), eps, epsInSqrt);
        });
        const muTree = g.def.unflatten(mu);
        const nuTree = g.def.unflatten(nu);
        return [g.def.unflatten<U>(out), count ? { count, mu: muTree, nu: nuTree } : { mu: muTree, nu: nuTree }];
      });
    },
  };
}

function countOf(fname: string, count: tf.Scalar | undefined): tf.Scalar {
  if (count === undefined) throw new Error(`${fname}: state has no count; make it with init of a transformation built with biasCorrection: true`);
  return count;
}
