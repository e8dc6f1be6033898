import { describe, formatPath, isLeaf, isPlainObject, type PathEntry } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientTransformation } from '../base.js';
import { cloneTree } from '../internal.js';

/**
 * A mask: booleans in a tree that is a prefix of the params tree (`true` = transform this
 * subtree), or a function from params (or updates) to such a tree, as in optax.masked.
 */
export type Mask = MaskTree | ((tree: any) => MaskTree);
export type MaskTree = boolean | readonly MaskTree[] | { readonly [key: string]: MaskTree };

/** State of {@link masked}: the inner state, over the masked-in leaves only. */
export interface MaskedState<S> {
  innerState: S;
}

/** Walks `mask` over `tree`, calling `at(subtree, flag)` at every boolean. */
function walk(fname: string, what: string, mask: MaskTree, tree: unknown, at: (sub: unknown, keep: boolean) => unknown): unknown {
  const go = (m: unknown, t: unknown, path: PathEntry[]): unknown => {
    if (typeof m === 'boolean') return at(t, m);
    const here = formatPath(path);
    if (t === null || t === undefined) return t; // an empty subtree stays empty whatever the mask says
    if (isLeaf(t)) throw new Error(`${fname}: mask at ${here} is ${describe(m)} but ${what} there is a ${describe(t)}; put a boolean there`);
    if (Array.isArray(m)) {
      if (!Array.isArray(t) || t.length !== m.length) throw new Error(`${fname}: mask at ${here} is ${describe(m)} but ${what} there is ${describe(t)}`);
      return m.map((mi, i) => go(mi, t[i], [...path, i]));
    }
    if (isPlainObject(m)) {
      if (!isPlainObject(t)) throw new Error(`${fname}: mask at ${here} is ${describe(m)} but ${what} there is ${describe(t)}`);
      const mk = Object.keys(m).sort();
      const tk = Object.keys(t).sort();
      if (mk.length !== tk.length || mk.some((k, i) => k !== tk[i])) {
        throw new Error(`${fname}: mask at ${here} has keys [${mk.join(',')}] but ${what} there has keys [${tk.join(',')}]`);
      }
      const out: Record<string, unknown> = {};
      for (const k of mk) out[k] = go(m[k], t[k], [...path, k]);
      return out;
    }
    throw new Error(`${fname}: mask at ${here} must be a boolean, array or object, got ${describe(m)}`);
  };
  return go(mask, tree, []);
}

/**
 * Applies `inner` only to the leaves where the mask is true (optax.masked); the other updates pass
 * through unchanged (as fresh copies). The inner transformation sees the masked-out subtrees as
 * `null` (empty), so its state covers only the masked-in leaves.
 */
export function masked<S>(inner: GradientTransformation<S>, mask: Mask): GradientTransformation<MaskedState<S>> {
  const fname = 'masked';
  const maskOf = (tree: unknown): MaskTree => (typeof mask === 'function' ? mask(tree) : mask);
  const hide = (what: string, m: MaskTree, tree: unknown) => walk(fname, what, m, tree, (t, keep) => (keep ? t : null));
  return {
    init: (params) => scope(() => ({ innerState: inner.init(hide('params', maskOf(params), params)) })),
    update<U>(updates: U, state: MaskedState<S>, params?: unknown): [U, MaskedState<S>] {
      return scope(() => {
        const m = maskOf(updates);
        const [u, innerState] = inner.update(hide('updates', m, updates), state.innerState, params === undefined ? undefined : hide('params', m, params));
        // The inner results where the mask is true, copies of the original updates elsewhere.
        return [mergeByMask(m, u, updates) as U, { innerState }];
      });
    },
  };
}

/** Walks a mask already checked against `orig` (by hide), taking `inner` where it is true. */
function mergeByMask(m: MaskTree, inner: unknown, orig: unknown): unknown {
  if (typeof m === 'boolean') return m ? inner : cloneTree(orig);
  if (orig === null || orig === undefined) return orig;
  if (Array.isArray(m)) return m.map((mi, i) => mergeByMask(mi, (inner as unknown[])[i], (orig as unknown[])[i]));
  const mo = m as Record<string, MaskTree>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(mo)) out[k] = mergeByMask(mo[k]!, (inner as Record<string, unknown>)[k], (orig as Record<string, unknown>)[k]);
  return out;
}
