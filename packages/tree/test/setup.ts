import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { isTensor, leaves } from '../src/index.js';

export async function useCpu(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Runs fn and asserts that the only new tensors are the (distinct) tensor leaves it returned. */
export function noLeak<R>(fn: () => R): R {
  const before = tf.memory().numTensors;
  const r = fn();
  const returned = new Set(leaves(r).filter(isTensor)).size;
  expect(tf.memory().numTensors - before).toBe(returned);
  return r;
}
