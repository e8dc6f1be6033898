import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, expect } from 'vitest';
import { flatten, isTensor } from '@lopt/tree';

const tensorsOf = (t: unknown) => flatten(t)[0].filter(isTensor) as tf.Tensor[];

/**
 * Runs `fn` and asserts that the only new tensors are the (distinct) tensors of its result.
 * Returns the result.
 */
export function noLeak<R>(fn: () => R): R {
  const before = tf.memory().numTensors;
  const r = fn();
  const returned = new Set(tensorsOf(r)).size;
  expect(tf.memory().numTensors - before, 'tensors other than the returned ones were left').toBe(returned);
  return r;
}

/**
 * The memory contract of init/update functions: the only new tensors are the ones returned, every
 * returned tensor is new (none of `inputs`), no tensor is returned twice, and no input was disposed.
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

/** Checks after every test of the file that it left no tensors behind. */
export function useLeakCheck(): void {
  let before = 0;
  beforeEach(() => {
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors, 'tensors leaked by this test').toBe(before);
  });
}
