import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { Numeric } from '../base.js';
import { defineFactory } from '../factory.js';
import { flatLike, flatTensors } from '../internal.js';
import { checkUnit } from '../validate.js';

export interface TraceOptions {
  /** Momentum decay, in [0, 1). */
  decay: Numeric;
  /** Nesterov momentum: `g + decay * trace` instead of `trace`. */
  nesterov?: boolean;
}

/** State of {@link trace}: the momentum buffer. */
export interface TraceState<T = any> {
  trace: T;
}

/**
 * Momentum (optax.trace): `t = g + decay t`; the update is `t`, or `g + decay t` with nesterov.
 */
export const trace = defineFactory<TraceOptions, TraceState, 'decay'>(
  'trace',
  { defaults: { decay: undefined, nesterov: false }, positional: 'decay' },
  (o) => traceTransform('trace', o),
);

export function traceTransform(fname: string, { decay, nesterov }: Required<TraceOptions>) {
  checkUnit(fname, 'decay', decay);
  return {
    init: (params: unknown): TraceState =>
      scope(() => {
        const p = flatTensors(fname, 'params', params);
        return { trace: p.def.unflatten(p.leaves.map((x) => tf.zerosLike(x))) };
      }),
    update<U>(updates: U, state: TraceState): [U, TraceState] {
      return scope(() => {
        const g = flatTensors(fname, 'updates', updates);
        const t0 = flatLike(fname, g, 'updates', state.trace, 'state.trace');
        const t = g.leaves.map((x, i) => tf.add(x, tf.mul(decay, t0[i]!)));
        // Without nesterov the update equals the new trace: a clone, so that the two never share a tensor.
        const out = nesterov ? g.leaves.map((x, i) => tf.add(x, tf.mul(decay, t[i]!))) : t.map((x) => tf.clone(x));
        return [g.def.unflatten<U>(out), { trace: g.def.unflatten(t) }];
      });
    },
  };
}
