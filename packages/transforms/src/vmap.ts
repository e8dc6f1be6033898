import * as tf from '@tensorflow/tfjs';
import { describe as describeValue, flatten, formatPath, isTensor, isPlainObject, type Path } from '@lopt/tree';
import { isKey, Key } from '@lopt/random';
import { keyToLogical, keyToParent, keyVmapDims, toLogical, toParent, withLevel } from './batching.js';
import { ensureInstalled } from './install.js';
import { underVerify } from './jit/verify.js';

/** Batch axis of an argument or output: a number, `null` (not batched), or a tree of those matching it. */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [k: string]: AxisSpec };

/**
 * What a per-example value is once vmap has stacked it: tensors stay tensors (with the batch axis
 * added, so their rank type is dropped), keys become key batches, and containers map leaf by leaf.
 */
export type Batched<T> = T extends tf.Tensor
  ? tf.Tensor
  : T extends Key
    ? Key
    : T extends (...a: never[]) => unknown
      ? T
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Batched<T[K]> }
        : T extends object
          ? { [K in keyof T]: Batched<T[K]> }
          : T;

export interface VmapOptions {
  /** Batch size when no input is batched (all inAxes null). */
  readonly axisSize?: number;
}

/** Expands an axis spec (number/null broadcast over a subtree, or a matching tree) to one entry per leaf. */
function axesPerLeaf(spec: AxisSpec, tree: unknown, what: string): Array<number | null> {
  const [ls, def] = flatten(tree);
  if (spec === null || typeof spec === 'number') return ls.map(() => spec);
  const out: Array<number | null> = [];
  const walk = (s: AxisSpec, t: unknown, path: Path): void => {
    if (s === null || typeof s === 'number') {
      for (const _ of flatten(t)[0]) out.push(s);
      return;
    }
    if (Array.isArray(s) && Array.isArray(t) && s.length === t.length) {
      s.forEach((c, i) => walk(c, t[i], [...path, i]));
      return;
    }
    if (isPlainObject(s) && isPlainObject(t)) {
      const keys = Object.keys(t).sort();
      const sk = Object.keys(s).sort();
      if (keys.length === sk.length && keys.every((k, i) => k === sk[i])) {
        for (const k of keys) walk((s as Record<string, AxisSpec>)[k]!, t[k], [...path, k]);
        return;
      }
    }
    throw new Error(`vmap: ${what} at ${formatPath(path)}: axis spec ${describeValue(s)} does not match ${describeValue(t)}`);
  };
  walk(spec, tree, []);
  if (out.length !== def.numLeaves) throw new Error(`vmap: ${what}: axis spec does not cover every leaf`);
  return out;
}

/**
 * `vmap(f, inAxes, outAxes)(...args)`: maps `f` over a batch axis of its pytree arguments, like
 * `jax.vmap`. The function body runs batched tensor ops, not a loop: every tfjs kernel it calls
 * with batched inputs is rewritten as one kernel over the whole batch (matMul becomes a batched
 * matMul, reductions shift their axes, ...). Kernels without a batching rule run once per example
 * and are stacked, with identical numbers (see README for the list).
 *
 * `inAxes` is a number/null for every argument, or a list with one spec per argument; each spec is
 * a number/null or a pytree of those. `outAxes` likewise for the output. Composes with grad both
 * ways and with itself.
 */
export function vmap<A extends unknown[], R>(
  f: (...args: A) => R,
  inAxes: AxisSpec | readonly AxisSpec[] = 0,
  outAxes: AxisSpec = 0,
  opts: VmapOptions = {},
): (...args: A) => Batched<R> {
  return ((...args: unknown[]) =>
    underVerify('vmap', args, () => {
      ensureInstalled();
      const specs: AxisSpec[] = Array.isArray(inAxes) ? [...(inAxes as AxisSpec[])] : args.map(() => inAxes as AxisSpec);
      if (specs.length !== args.length) {
        throw new Error(`vmap: inAxes has ${specs.length} entries but the function was called with ${args.length} arguments`);
      }
      // Work out the batch size and check every batched leaf agrees.
      let size = opts.axisSize;
      let sizeFrom = opts.axisSize !== undefined ? 'axisSize' : '';
      const perArg = args.map((a, i) => {
        const [ls, def] = flatten(a);
        const axes = axesPerLeaf(specs[i]!, a, `inAxes[${i}]`);
        const paths = def.paths();
        ls.forEach((l, j) => {
          const ax = axes[j];
          if (ax == null) return;
          const where = `argument ${i} at ${formatPath(paths[j]!)}`;
          let n: number;
          if (isKey(l)) {
            // Key batches are mapped over their leading axis (after any outer vmap axes).
            const h = keyVmapDims(l);
            if (ax !== 0) throw new Error(`vmap: ${where} is a key batch; keys can only be mapped over axis 0, got ${ax}`);
            if (l.shape.length <= h) throw new Error(`vmap: ${where} is a single key; give it inAxes null or pass a key batch (split(key, n))`);
            n = l.shape[h]!;
          } else {
            if (!isTensor(l)) throw new Error(`vmap: ${where} is a ${describeValue(l)}; only tensors and key batches can have a batch axis (use null)`);
            const a2 = ax < 0 ? ax + l.rank : ax;
            if (a2 < 0 || a2 >= l.rank) throw new Error(`vmap: ${where}: axis ${ax} out of range for shape [${l.shape.join(',')}]`);
            n = l.shape[a2]!;
          }
          if (size === undefined) {
            size = n;
            sizeFrom = where;
          } else if (n !== size) {
            throw new Error(`vmap: inconsistent batch sizes: ${where} has size ${n} along axis ${ax}, but ${sizeFrom} has ${size}`);
          }
        });
        return { ls, def, axes };
      });
      if (size === undefined) throw new Error('vmap: no argument has a batch axis; pass opts.axisSize to set the batch size');
      const B = size;
      return withLevel(B, (level) =>
        tf.tidy(() => {
          const inner = perArg.map(({ ls, def, axes }) =>
            def.unflatten(
              ls.map((l, j) => {
                const ax = axes[j];
                if (ax == null) return l;
                if (isKey(l)) return keyToLogical(l, level, B);
                if (!isTensor(l)) return l;
                const a2 = ax < 0 ? ax + l.rank : ax;
                const moved = a2 === 0 ? l : tf.transpose(l, [a2, ...l.shape.map((_, d) => d).filter((d) => d !== a2)]);
                return toLogical(moved, level, B);
              }),
            ),
          );
          const out = f(...(inner as A));
          return finishOutputs(out, outAxes, level, B);
        }),
      );
    })) as unknown as (...args: A) => Batched<R>;
}

function finishOutputs(out: unknown, outAxes: AxisSpec, level: number, size: number): tf.TensorContainer {
  const [ls, def] = flatten(out);
  const axes = axesPerLeaf(outAxes, out, 'outAxes');
  const paths = def.paths();
  return def.unflatten(
    ls.map((l, j) => {
      const ax = axes[j];
      const where = `output at ${formatPath(paths[j]!)}`;
      if (isKey(l)) {
        const parent = keyToParent(l, level);
        if (ax == null) {
          if (parent) throw new Error(`vmap: ${where} is a key that depends on the batch, but its outAxes is null`);
          return l;
        }
        if (ax !== 0) throw new Error(`vmap: ${where} is a key; keys can only be stacked on axis 0, got ${ax}`);
        if (parent) return parent;
        if (keyVmapDims(l) > 0) throw new Error(`vmap: ${where}: broadcasting a key batched only by an outer vmap is not supported`);
        const tiled = new Uint32Array(size * l.data.length);
        for (let b = 0; b < size; b++) tiled.set(l.data, b * l.data.length);
        return new Key(tiled, [size, ...l.shape]);
      }
      if (!isTensor(l)) {
        if (ax == null) return l;
        throw new Error(`vmap: ${where} is a ${describeValue(l)}; give it outAxes null or return a tensor`);
      }
      const parent = toParent(l, level);
      if (ax == null) {
        if (parent) {
          parent.dispose();
          throw new Error(`vmap: ${where} depends on the batch, but its outAxes is null`);
        }
        return tf.clone(l);
      }
      // A fresh (taped) tensor, so the result has its own id and the tidy can free the views.
      let phys = parent ? tf.clone(parent) : tf.tile(tf.expandDims(l, 0), [size, ...l.shape.map(() => 1)]);
      parent?.dispose();
      const rank = phys.rank;
      const a2 = ax < 0 ? ax + rank : ax;
      if (a2 < 0 || a2 >= rank) throw new Error(`vmap: ${where}: out axis ${ax} out of range for rank ${rank}`);
      if (a2 !== 0) {
        const perm = Array.from({ length: rank }, (_, d) => d).filter((d) => d !== 0);
        perm.splice(a2, 0, 0);
        phys = tf.transpose(phys, perm);
      }
      return phys;
    }),
  );
}
