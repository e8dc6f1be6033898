import * as tf from '@tensorflow/tfjs';
import { isKey, type Key } from '@lopt/random';

/** A pytree leaf: a tensor, a plain number, or a PRNG key (batch) from @lopt/random. */
export type Leaf = tf.Tensor | number | Key;

/**
 * A pytree: nested plain objects and arrays whose leaves are {@link Leaf}s. `null` (and
 * `undefined`) is an empty subtree with no leaves, like `None` in JAX.
 */
export type PyTree = Leaf | null | undefined | readonly PyTree[] | { readonly [key: string]: PyTree };

/** True for a tf.Tensor, also one made by another copy of tfjs-core (duck-typed fallback). */
export function isTensor(x: unknown): x is tf.Tensor {
  if (x instanceof tf.Tensor) return true;
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Partial<tf.Tensor>;
  return typeof t.dataId === 'object' && Array.isArray(t.shape) && typeof t.dtype === 'string' && typeof t.dispose === 'function';
}

export function isLeaf(x: unknown): x is Leaf {
  return typeof x === 'number' || isTensor(x) || isKey(x);
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Short description of a value for error messages: `Tensor float32 [2,3]`, `string`, `Map`, ... */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (isTensor(x)) return `Tensor ${x.dtype} [${x.shape.join(',')}]`;
  if (isKey(x)) return `Key [${x.shape.join(',')}]`;
  if (typeof x === 'number') return `number ${x}`;
  if (Array.isArray(x)) return `array of length ${x.length}`;
  if (isPlainObject(x)) return `object with keys [${Object.keys(x).sort().join(',')}]`;
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/** Shape of a leaf: tensors and key batches have one, numbers are scalars. */
export function leafShape(x: Leaf): readonly number[] {
  if (typeof x === 'number') return [];
  return x.shape;
}
