import { describe } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { EmptyState, GradientTransformation, StateOf } from './base.js';
import { cloneTree } from './internal.js';

const IDENTITY = Symbol('lopt.identity');

/** The transformation that changes nothing (optax.identity); its updates are fresh copies. */
export function identity(): GradientTransformation<EmptyState> {
  const tx: GradientTransformation<EmptyState> = {
    init: () => ({}),
    update: (updates, _state) => scope(() => [cloneTree(updates), {}]),
  };
  // chain skips it instead of copying (e.g. rmsprop without momentum).
  Object.defineProperty(tx, IDENTITY, { value: true });
  return tx;
}

const isIdentity = (t: GradientTransformation<any>) => (t as unknown as Record<symbol, unknown>)[IDENTITY] === true;

/** The state of `chain(...txs)`: one state per transformation, in order. */
export type ChainState<T extends readonly GradientTransformation<any>[]> = { -readonly [K in keyof T]: StateOf<T[K]> };

/**
 * Applies transformations one after the other (optax.chain). The state is an array with one
 * state per transformation.
 */
export function chain<T extends readonly GradientTransformation<any>[]>(...txs: T): GradientTransformation<ChainState<T>> {
  txs.forEach((t, i) => {
    if (t === null || typeof t !== 'object' || typeof t.init !== 'function' || typeof t.update !== 'function') {
      throw new Error(`chain: argument ${i} is not a GradientTransformation ({init, update}), got ${describe(t)}`);
    }
  });
  return {
    init: (params) => scope(() => txs.map((t) => t.init(params)) as ChainState<T>),
    update: (updates, state, params) => {
      if (!Array.isArray(state) || state.length !== txs.length) {
        throw new Error(
          `chain: expected a state with ${txs.length} entr${txs.length === 1 ? 'y' : 'ies'} (one per transformation), ` +
            `got ${describe(state)}; make the state with this chain's init`,
        );
      }
      return scope(() => {
        let u = updates;
        const next = txs.map((t, i) => {
          if (isIdentity(t)) return {};
          const [u2, s2] = t.update(u, state[i], params);
          u = u2;
          return s2;
        });
        return [u === updates ? cloneTree(u) : u, next as ChainState<T>];
      });
    },
  };
}
