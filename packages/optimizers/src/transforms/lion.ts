import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { flatLike, flatTensors, increment, oneMinus, zeroCount } from '../internal.js';
import { checkUnit } from '../validate.js';

export interface ScaleByLionOptions {
  /** Interpolation between momentum and gradient for the update (default 0.9). */
  b1?: Numeric;
  /** Decay of the momentum (default 0.99). */
  b2?: Numeric;
}

/** State of {@link scaleByLion}. */
export interface ScaleByLionState<T = any> {
  count: tf.Scalar;
  mu: T;
}

/**
 * Lion (optax.scale_by_lion, mode 'hard'): `update = sign((1-b1) g + b1 mu)`,
 * `mu = b2 mu + (1-b2) g`. (sign has zero gradient.)
 */
export const scaleByLion = defineFactory<ScaleByLionOptions, ScaleByLionState>(
  'scaleByLion',
  { defaults: { b1: 0.9, b2: 0.99 } },
  (o) => lionTransform('scaleByLion', o),
);

export function lionTransform(fname: string, { b1, b2 }: Required<ScaleByLionOptions>) {
  checkUnit(fname, 'b1', b1);
  checkUnit(fname, 'b2', b2);
  return {
    init: (params: unknown): ScaleByLionState =>
      scope(() => {
        const p = flatTensors(fname, 'params', params);
        return { count: zeroCount(), mu: p.def.unflatten(p.leaves.map((x) => tf.zerosLike(x))) };
      }),
    update<U>(updates: U, state: ScaleByLionState): [U, ScaleByLionState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const mu0 = flatLike(fname, g, 'updates', state.mu, 'state.mu');
        const c1 = oneMinus(b1);
        const c2 = oneMinus(b2);
        const out = g.leaves.map((x, i) => tf.sign(tf.add(tf.mul(c1, x), tf.mul(b1, mu0[i]!))));
        const mu = g.leaves.map((x, i) => tf.add(tf.mul(c2, x), tf.mul(b2, mu0[i]!)));
        return [g.def.unflatten<U>(out), { count: increment(state.count), mu: g.def.unflatten(mu) }];
      });
    },
  };
}
