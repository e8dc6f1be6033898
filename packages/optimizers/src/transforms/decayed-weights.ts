import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import type { EmptyState, GradientTransformation, ScalarOrSchedule } from '../base.js';
import { defineFactory } from '../factory.js';
import { cloneTree, flatLike, flatTensors, increment, requireParams, zeroCount } from '../internal.js';
import { checkNonNegative } from '../validate.js';
import { masked, type Mask, type MaskedState } from '../wrappers/masked.js';
import type { ScaleByScheduleState } from './scale.js';

export interface AddDecayedWeightsOptions {
  /** A non-negative number, scalar tensor or schedule (default 0). */
  weightDecay?: ScalarOrSchedule;
  /** Which leaves get weight decay: a boolean tree (a prefix of params) or a function of params. */
  mask?: Mask | null;
}

/** `{}`, `{ count }` for a schedule, or a {@link MaskedState} around one of those with a mask. */
export type AddDecayedWeightsState = EmptyState | ScaleByScheduleState | MaskedState<EmptyState | ScaleByScheduleState>;

/**
 * `updates + weightDecay * params` (optax.add_decayed_weights): decoupled weight decay, as in
 * AdamW. Needs params. With `mask`, only the masked-in leaves are decayed.
 */
export const addDecayedWeights = defineFactory<AddDecayedWeightsOptions, AddDecayedWeightsState, 'weightDecay'>(
  'addDecayedWeights',
  { defaults: { weightDecay: 0, mask: null }, positional: 'weightDecay', staticArgs: ['mask'] },
  ({ weightDecay, mask }) => decayedWeights('addDecayedWeights', weightDecay, mask),
);

export function decayedWeights(fname: string, wd: ScalarOrSchedule, mask: Mask | null): GradientTransformation<AddDecayedWeightsState> {
  checkNonNegative(fname, 'weightDecay', wd, true);
  const scheduled = typeof wd === 'function';
  const inner: GradientTransformation<EmptyState | ScaleByScheduleState> = {
    init: () => (scheduled ? scope(() => ({ count: zeroCount() })) : {}),
    update<U>(updates: U, state: EmptyState | ScaleByScheduleState, params?: unknown): [U, EmptyState | ScaleByScheduleState] {
      requireParams(fname, params);
      return scope(() => {
        const count = scheduled ? (state as ScaleByScheduleState).count : undefined;
        const next = count ? { count: increment(count) } : {};
        const p = flatTensors(fname, 'params', params);
        const u = flatLike(fname, p, 'params', updates, 'updates');
        // A zero constant skips the arithmetic, as optax does.
        if (wd === 0) return [cloneTree(updates), next];
        const s = typeof wd === 'function' ? wd(count!) : wd;
        return [p.def.unflatten<U>(u.map((x, i) => tf.add(x, tf.mul(s, p.leaves[i]!)))), next];
      });
    },
  };
  return mask === null ? inner : (masked(inner, mask) as GradientTransformation<AddDecayedWeightsState>);
}
