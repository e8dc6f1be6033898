import type * as tf from '@tensorflow/tfjs';
import { describe, isPlainObject, isTensor } from '@lopt/tree';

/**
 * A dimension of a batch field: a number is exact; a name (`'B'`, `'K'`, ...) is any size, the same
 * in every field that uses that name.
 */
export type BatchDim = number | string;

/** One field of a batch: its shape, or its shape and dtype. */
export type FieldSpec = readonly BatchDim[] | { readonly shape: readonly BatchDim[]; readonly dtype?: tf.DataType };

/**
 * The fields a task's loss expects of a batch, e.g. `{ image: ['B', 64], label: { shape: ['B'],
 * dtype: 'int32' } }`. Batches may carry more fields; the ones named here must be tensors of these
 * shapes. Inside `vmap` shapes are per-example, so a vectorized task checks the same spec.
 */
export type BatchSpec = { readonly [field: string]: FieldSpec };

const fieldList = (names: readonly string[]): string => `{${names.join(', ')}}`;
const shapeOf = (dims: readonly BatchDim[]): string => `[${dims.join(',')}]`;

/**
 * Throws unless `batch` has every field of `spec` with the shape and dtype given there. `where`
 * (e.g. `'LinearRegression_slope10 loss'`) starts the message, so it names the task and the call.
 */
export function checkBatch(where: string, spec: BatchSpec, batch: unknown): void {
  const expected = Object.keys(spec);
  if (!isPlainObject(batch)) {
    throw new Error(`${where}: batch must be an object with fields ${fieldList(expected)}, got ${describe(batch)}`);
  }
  const given = Object.keys(batch);
  const missing = expected.filter((f) => !(f in batch));
  if (missing.length > 0) {
    throw new Error(`${where}: batch has fields ${fieldList(given)}, expected ${fieldList(expected)} (missing ${missing.join(', ')})`);
  }
  const bound = new Map<string, { size: number; from: string }>();
  for (const field of expected) {
    const fs = spec[field]!;
    const dims = Array.isArray(fs) ? (fs as readonly BatchDim[]) : (fs as { shape: readonly BatchDim[] }).shape;
    const dtype = Array.isArray(fs) ? undefined : (fs as { dtype?: tf.DataType }).dtype;
    const value = batch[field];
    if (!isTensor(value)) throw new Error(`${where}: batch.${field} must be a tensor of shape ${shapeOf(dims)}, got ${describe(value)}`);
    const shape = value.shape;
    const bad = (why = ''): never => {
      throw new Error(`${where}: batch.${field} has shape [${shape.join(',')}], expected ${shapeOf(dims)}${why}`);
    };
    if (shape.length !== dims.length) bad();
    dims.forEach((d, i) => {
      const n = shape[i]!;
      if (typeof d === 'number') {
        if (n !== d) bad();
        return;
      }
      const b = bound.get(d);
      if (b === undefined) bound.set(d, { size: n, from: `batch.${field}` });
      else if (b.size !== n) bad(` with ${d} = ${b.size} (from ${b.from})`);
    });
    if (dtype !== undefined && value.dtype !== dtype) {
      throw new Error(`${where}: batch.${field} has dtype ${value.dtype}, expected ${dtype}`);
    }
  }
}

/** The spec of a stack of batches: every field gets a leading task axis `axis`. */
export function stackedBatchSpec(spec: BatchSpec, axis = 'T'): BatchSpec {
  return Object.fromEntries(
    Object.entries(spec).map(([k, fs]) => [k, Array.isArray(fs) ? [axis, ...(fs as readonly BatchDim[])] : { ...(fs as object), shape: [axis, ...(fs as { shape: readonly BatchDim[] }).shape] }]),
  );
}
