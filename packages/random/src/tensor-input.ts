import * as tf from '@tensorflow/tfjs';
import { show } from './validate.js';

export type Values = Float32Array | Int32Array | Uint8Array;

/** Numbers nested to any depth: `[1, 2]`, `[[1, 2], [3, 4]]`, ... */
export type NestedNumbers = number[] | NestedNumbers[];

/** What array arguments accept: a tensor (read with dataSync), a typed array or nested numbers. */
export type ArrayInputLike = tf.Tensor | Float32Array | Int32Array | NestedNumbers;
export type NumericDType = 'float32' | 'int32' | 'bool';

export interface ArrayInput {
  values: Values;
  shape: number[];
  dtype: NumericDType;
}

/** Nested JS arrays of numbers: their shape, or an error if ragged. */
function nestedShape(fn: string, name: string, x: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const check = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new Error(`${fn}: ${name} must hold numbers, got ${show(v)}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new Error(`${fn}: ${name} is a ragged nested array`);
    for (const e of v) check(e, depth + 1);
  };
  check(x, 0);
  return shape;
}

/**
 * Read a tensor, typed array or (nested) JS array into JS memory. Tensors are read with
 * `dataSync()` (sampling happens in JS so that results do not depend on the backend); nothing is
 * disposed, the caller keeps ownership of its tensors.
 */
export function readInput(fn: string, name: string, x: unknown): ArrayInput {
  if (x instanceof tf.Tensor) {
    const dtype = x.dtype;
    if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
      throw new Error(`${fn}: ${name} must be a float32, int32 or bool tensor, got dtype ${dtype}`);
    }
    return { values: x.dataSync() as Values, shape: [...x.shape], dtype };
  }
  if (x instanceof Float32Array) return { values: x, shape: [x.length], dtype: 'float32' };
  if (x instanceof Int32Array) return { values: x, shape: [x.length], dtype: 'int32' };
  if (Array.isArray(x)) {
    const shape = nestedShape(fn, name, x);
    return { values: Float32Array.from((x as unknown[]).flat(Infinity) as number[]), shape, dtype: 'float32' };
  }
  throw new Error(`${fn}: ${name} must be a tf.Tensor, Float32Array, Int32Array or array of numbers, got ${show(x)}`);
}

/** Strides of a row-major shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Gather `index[j]` along `axis` of `input` into a new array of shape input.shape[:axis] + [index.length] + input.shape[axis+1:]. */
export function takeAlong(input: ArrayInput, index: ArrayLike<number>, axis: number): Values {
  const outer = input.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = input.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = input.shape[axis]!;
  const m = index.length;
  const ctor = input.values.constructor as new (len: number) => Values;
  const out = new ctor(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = (o * n + index[j]!) * inner;
      const dst = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] = input.values[src + i]!;
    }
  }
  return out;
}
