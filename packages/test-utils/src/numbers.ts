import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { flatten } from '@lopt/tree';

export const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Leaves of a tree of tensors as number arrays, in flatten order. */
export const treeValues = (tree: unknown): number[][] => (flatten(tree)[0] as tf.Tensor[]).map(values);

/** Asserts |a - b| <= rtol * |b| + atol elementwise, naming the first element that is off. */
export function expectClose(actual: number[] | tf.Tensor, expected: number[] | tf.Tensor, rtol = 1e-6, atol = 1e-7): void {
  const a = Array.isArray(actual) ? actual : values(actual);
  const e = Array.isArray(expected) ? expected : values(expected);
  expect(a.length).toBe(e.length);
  a.forEach((x, i) => {
    const y = e[i]!;
    if (!(Math.abs(x - y) <= rtol * Math.abs(y) + atol)) {
      throw new Error(`element ${i}: got ${x}, expected ${y} (rtol ${rtol}, atol ${atol}); all: [${a.join(', ')}] vs [${e.join(', ')}]`);
    }
  });
}

/** max |a - b| / max(1, max |b|) */
export function relErr(a: tf.Tensor | number[], b: tf.Tensor | number[]): number {
  const av = Array.isArray(a) ? a : values(a);
  const bv = Array.isArray(b) ? b : values(b);
  expect(av.length).toBe(bv.length);
  const scale = Math.max(1, ...bv.map(Math.abs));
  return Math.max(0, ...av.map((x, i) => Math.abs(x - bv[i]!))) / scale;
}
