import * as tf from '@tensorflow/tfjs';
import { isKey, Key } from '@lopt/random';
import { describe, isTensor, type Leaf } from './leaf.js';
import { formatPath } from './path.js';
import { assertSameStructure } from './structure.js';
import { flatten } from './treedef.js';

type Bin = (x: tf.Tensor | number, y: tf.Tensor | number) => tf.Tensor;

function noKeys(op: string, tree: unknown): void {
  const [ls, def] = flatten(tree);
  const i = ls.findIndex(isKey);
  if (i >= 0) throw new Error(`${op}: PRNG keys have no arithmetic (at ${formatPath(def.paths()[i]!)})`);
}

/** Leafwise binary op on two trees of the same structure and leaf shapes. */
function binary(op: string, a: unknown, b: unknown, tfOp: Bin, jsOp: (x: number, y: number) => number): any {
  assertSameStructure(a, b, { shapes: true, context: op });
  noKeys(op, a);
  const [la, def] = flatten(a);
  const lb = flatten(b)[0];
  return def.unflatten(
    la.map((x, i) => {
      const y = lb[i]!;
      return typeof x === 'number' && typeof y === 'number' ? jsOp(x, y) : tfOp(x as tf.Tensor | number, y as tf.Tensor | number);
    }),
  );
}

function unary(op: string, tree: unknown, tfOp: (x: tf.Tensor) => tf.Tensor, jsOp: (x: number) => number): any {
  const [ls, def] = flatten(tree);
  return def.unflatten(
    ls.map((x, i) => {
      if (typeof x === 'number') return jsOp(x);
      if (isKey(x)) throw new Error(`${op}: PRNG keys have no arithmetic (at ${formatPath(def.paths()[i]!)})`);
      return tfOp(x);
    }),
  );
}

export const add = <T>(a: T, b: T): T => binary('add', a, b, tf.add, (x, y) => x + y);
export const sub = <T>(a: T, b: T): T => binary('sub', a, b, tf.sub, (x, y) => x - y);
export const mul = <T>(a: T, b: T): T => binary('mul', a, b, tf.mul, (x, y) => x * y);
export const div = <T>(a: T, b: T): T => binary('div', a, b, tf.div, (x, y) => x / y);
export const neg = <T>(a: T): T => unary('neg', a, tf.neg, (x) => -x);

/** Multiplies every leaf by `s` (a number or a scalar tensor). */
export function scale<T>(s: number | tf.Tensor, tree: T): T {
  if (isTensor(s) && s.rank !== 0) throw new Error(`scale: the factor must be a scalar, got ${describe(s)}`);
  return unary('scale', tree, (x) => tf.mul(x, s), (x) => (typeof s === 'number' ? x * s : x)) as T;
}

/** A tree of zeros with the structure, shapes and dtypes of `tree` (keys are kept as they are). */
export function zerosLike<T>(tree: T): T {
  const [ls, def] = flatten(tree);
  return def.unflatten(ls.map((x) => (typeof x === 'number' ? 0 : isKey(x) ? x : tf.zerosLike(x))));
}

export function onesLike<T>(tree: T): T {
  const [ls, def] = flatten(tree);
  return def.unflatten(ls.map((x) => (typeof x === 'number' ? 1 : isKey(x) ? x : tf.onesLike(x))));
}

/** `sum_i <a_i, b_i>` over all leaves, as a float32 scalar. */
export function vdot(a: unknown, b: unknown): tf.Scalar {
  assertSameStructure(a, b, { shapes: true, context: 'vdot' });
  noKeys('vdot', a);
  return tf.tidy(() => {
    const la = flatten(a)[0] as Array<tf.Tensor | number>;
    const lb = flatten(b)[0] as Array<tf.Tensor | number>;
    const terms = la.map((x, i) => tf.sum(tf.mul(x, lb[i]!)));
    return (terms.length === 0 ? tf.scalar(0) : terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
  });
}

/** Sum of squares of all leaves. */
export function squaredNorm(tree: unknown): tf.Scalar {
  noKeys('squaredNorm', tree);
  return tf.tidy(() => {
    const terms = (flatten(tree)[0] as Array<tf.Tensor | number>).map((x) => tf.sum(tf.square(x)));
    return (terms.length === 0 ? tf.scalar(0) : terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
  });
}

/** `sqrt(sum of squares of all leaves)` (optax.global_norm). */
export function globalNorm(tree: unknown): tf.Scalar {
  return tf.tidy(() => tf.sqrt(squaredNorm(tree)));
}

/** Casts every tensor leaf to `dtype` (numbers and keys are unchanged). Always returns new tensors. */
export function cast<T>(tree: T, dtype: tf.DataType): T {
  const [ls, def] = flatten(tree);
  return def.unflatten(ls.map((x) => (isTensor(x) ? tf.cast(x, dtype) : x)));
}

/** New tensors with the same values (keys and numbers are immutable and shared). */
export function clone<T>(tree: T): T {
  const [ls, def] = flatten(tree);
  return def.unflatten(ls.map((x) => (isTensor(x) ? tf.clone(x) : x)));
}

/** Disposes every tensor leaf. Safe on trees with numbers, keys and nulls. */
export function dispose(tree: unknown): void {
  for (const x of flatten(tree)[0]) if (isTensor(x)) x.dispose();
}

/** Marks every tensor leaf with tf.keep (survives enclosing tf.tidy scopes). Returns the tree. */
export function keep<T>(tree: T): T {
  for (const x of flatten(tree)[0]) if (isTensor(x)) tf.keep(x);
  return tree;
}

/**
 * `where(cond, a, b)` leaf by leaf. `cond` is a JS boolean, a bool tensor broadcastable to
 * every leaf (numpy rules), or a tree of those with the structure of `a`.
 * Key leaves need a boolean or scalar condition.
 */
export function where<T>(cond: boolean | tf.Tensor | unknown, a: T, b: T): T {
  assertSameStructure(a, b, { shapes: true, context: 'where' });
  const [la, def] = flatten(a);
  const lb = flatten(b)[0];
  const paths = def.paths();
  let conds: Array<boolean | tf.Tensor>;
  if (typeof cond === 'boolean' || isTensor(cond)) conds = la.map(() => cond as boolean | tf.Tensor);
  else {
    assertSameStructure(a, cond, { context: 'where', names: ['a', 'cond'] });
    conds = flatten(cond)[0] as unknown as Array<boolean | tf.Tensor>;
  }
  return def.unflatten(
    la.map((x, i) => {
      const y = lb[i]!;
      const c = conds[i]!;
      if (typeof c === 'boolean') return selectStatic(c ? x : y);
      if (isKey(x) || typeof x === 'number') {
        if (c.size !== 1) {
          throw new Error(`where: ${formatPath(paths[i]!)} is a ${describe(x)} and needs a scalar condition, got ${describe(c)}`);
        }
        return selectStatic(c.dataSync()[0] ? x : y);
      }
      if (c.dtype !== 'bool') throw new Error(`where: condition for ${formatPath(paths[i]!)} must be bool, got ${c.dtype}`);
      return tf.where(c, x, y as tf.Tensor);
    }),
  );
}

function selectStatic(x: Leaf): Leaf {
  return isTensor(x) ? tf.clone(x) : x;
}

/** Stacks trees of equal structure and shapes along a new leading axis (keys become key batches). */
export function stack<T>(trees: readonly T[]): T {
  if (trees.length === 0) throw new Error('stack: needs at least one tree');
  const first = trees[0]!;
  trees.forEach((t, i) => assertSameStructure(first, t, { shapes: true, dtypes: true, context: 'stack', names: ['trees[0]', `trees[${i}]`] }));
  const [l0, def] = flatten(first);
  const all = trees.map((t) => flatten(t)[0]);
  return def.unflatten(
    l0.map((x, j) => {
      const col = all.map((ls) => ls[j]!);
      if (typeof x === 'number') return tf.tensor1d(col as number[], 'float32');
      if (isKey(x)) {
        const keys = col as Key[];
        const data = new Uint32Array(keys.reduce((s, k) => s + k.data.length, 0));
        let o = 0;
        for (const k of keys) {
          data.set(k.data, o);
          o += k.data.length;
        }
        return new Key(data, [keys.length, ...x.shape]);
      }
      return tf.stack(col as tf.Tensor[]);
    }),
  );
}

/** Inverse of {@link stack}: splits every leaf along its leading axis. */
export function unstack<T>(tree: T): T[] {
  const [ls, def] = flatten(tree);
  const paths = def.paths();
  let n: number | undefined;
  ls.forEach((x, i) => {
    if (typeof x === 'number' || x.shape.length === 0) {
      throw new Error(`unstack: ${formatPath(paths[i]!)} is a ${describe(x)} without a leading axis`);
    }
    const d = x.shape[0]!;
    if (n === undefined) n = d;
    else if (d !== n) {
      throw new Error(`unstack: leading axis ${d} at ${formatPath(paths[i]!)} vs ${n} at ${formatPath(paths[0]!)}`);
    }
  });
  if (n === undefined) throw new Error('unstack: the tree has no leaves');
  const cols = ls.map((x) => (isKey(x) ? Array.from({ length: n! }, (_, i) => x.at(i)) : tf.unstack(x as tf.Tensor)));
  return Array.from({ length: n }, (_, i) => def.unflatten<T>(cols.map((c) => c[i])));
}
