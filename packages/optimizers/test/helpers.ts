import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { flatten, isTensor } from '@lopt/tree';
import { initBackend } from '@lopt/transforms';

export const BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  tf.env().set('IS_TEST', true);
  await initBackend(name);
}

export const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Leaves of a tree of tensors as number arrays, in flatten order. */
export const treeValues = (tree: unknown): number[][] => (flatten(tree)[0] as tf.Tensor[]).map(values);

/** Asserts |a - b| <= rtol * |b| + atol elementwise. */
export function expectClose(actual: number[] | tf.Tensor, expected: number[], rtol = 1e-6, atol = 1e-7): void {
  const a = Array.isArray(actual) ? actual : values(actual);
  expect(a.length).toBe(expected.length);
  a.forEach((x, i) => {
    const e = expected[i]!;
    if (!(Math.abs(x - e) <= rtol * Math.abs(e) + atol)) {
      throw new Error(`element ${i}: got ${x}, expected ${e} (rtol ${rtol}, atol ${atol}); all: [${a.join(', ')}] vs [${expected.join(', ')}]`);
    }
  });
}

const tensorsOf = (t: unknown) => flatten(t)[0].filter(isTensor) as tf.Tensor[];

/**
 * Runs `fn` and checks the memory contract of init/update: the only new tensors are the ones
 * returned, every returned tensor is new (none of `inputs`), no tensor is returned twice, and no
 * input was disposed.
 */
export function fresh<R>(inputs: unknown, fn: () => R): R {
  const ins = tensorsOf(inputs);
  const before = tf.memory().numTensors;
  const r = fn();
  const outs = tensorsOf(r);
  const set = new Set(outs);
  expect(set.size, 'a tensor is returned twice').toBe(outs.length);
  for (const t of ins) {
    expect(set.has(t), 'an input tensor was returned').toBe(false);
    expect(t.isDisposed, 'an input tensor was disposed').toBe(false);
  }
  expect(tf.memory().numTensors - before, 'tensors other than the returned ones were left').toBe(outs.length);
  return r;
}
