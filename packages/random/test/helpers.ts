import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import { useLeakCheck, useRawCpu } from '@lopt/test-utils';
import { wrapKeyData, type Key } from '../src/index.js';

/** Plain tfjs cpu, quiet, and a tensor-leak check around every test. */
export function setupTf(): void {
  beforeAll(useRawCpu);
  useLeakCheck();
}

/** Run `f` (which returns one new tensor), check it made exactly that tensor, read it, dispose it. */
export function take<T extends tf.Tensor>(f: () => T): { values: number[]; shape: number[]; dtype: string } {
  const n0 = tf.memory().numTensors;
  const t = f();
  expect(tf.memory().numTensors).toBe(n0 + 1);
  const out = { values: Array.from(t.dataSync() as ArrayLike<number>), shape: [...t.shape], dtype: t.dtype };
  t.dispose();
  return out;
}

export const key = (words: readonly number[]): Key => wrapKeyData(words, words.length === 2 ? [] : [words.length / 2]);

export const sha256 = (view: ArrayBufferView): string =>
  createHash('sha256').update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest('hex');

/** A fixture output: the values, or (for long ones) the first 16 plus a SHA-256 of all of them. */
export type Expected = number[] | { head: number[]; length: number; sha256: string };

export function expectMatches(actual: Float32Array | Int32Array, expected: Expected): void {
  if (Array.isArray(expected)) {
    expect(Array.from(actual)).toEqual(expected);
  } else {
    expect(actual.length).toBe(expected.length);
    expect(Array.from(actual.subarray(0, 16))).toEqual(expected.head);
    expect(sha256(actual)).toBe(expected.sha256);
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Known answers from real jax (scripts/gen-jax-fixtures.py). */
export const fx: any = JSON.parse(readFileSync(new URL('./fixtures/jax-classic.json', import.meta.url), 'utf8'));
