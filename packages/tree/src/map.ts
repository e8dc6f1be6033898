import type { Leaf } from './leaf.js';
import { formatPath, type Path } from './path.js';
import { assertSameStructure } from './structure.js';
import { flatten, leaves as leavesOf } from './treedef.js';

/**
 * Applies `fn` leaf by leaf over one or more trees of the same structure and returns a tree of
 * that structure (like `jax.tree_util.tree_map`). `null` subtrees stay `null`.
 */
export function map<T, R = T>(fn: (leaf: any, ...rest: any[]) => unknown, tree: T, ...rest: readonly unknown[]): R {
  const [ls, def] = flatten(tree);
  const others = rest.map((r, i) => {
    assertSameStructure(tree, r, { context: 'map', names: ['tree', `rest[${i}]`] });
    return leavesOf(r);
  });
  const out = ls.map((l, j) => fn(l, ...others.map((o) => o[j])));
  return def.unflatten<R>(out);
}

/** Like {@link map} but `fn` also receives the leaf's path (first argument) and its formatted form. */
export function mapWithPath<T, R = T>(
  fn: (path: Path, leaf: any, ...rest: any[]) => unknown,
  tree: T,
  ...rest: readonly unknown[]
): R {
  const [ls, def] = flatten(tree);
  const paths = def.paths();
  const others = rest.map((r, i) => {
    assertSameStructure(tree, r, { context: 'mapWithPath', names: ['tree', `rest[${i}]`] });
    return leavesOf(r);
  });
  return def.unflatten<R>(ls.map((l, j) => fn(paths[j]!, l, ...others.map((o) => o[j]))));
}

/** Calls `fn(leaf, path)` for every leaf, in flatten order. */
export function forEach(tree: unknown, fn: (leaf: Leaf, path: string) => void): void {
  const [ls, def] = flatten(tree);
  const paths = def.paths();
  ls.forEach((l, i) => fn(l, formatPath(paths[i]!)));
}
