import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { grad, hvp, initBackend } from '../src/index.js';

export const BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  tf.env().set('IS_TEST', true);
  await initBackend(name);
}

export const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** max |a - b| / max(1, |b|) */
export function relErr(a: tf.Tensor | number[], b: tf.Tensor | number[]): number {
  const av = Array.isArray(a) ? a : values(a);
  const bv = Array.isArray(b) ? b : values(b);
  expect(av.length).toBe(bv.length);
  const scale = Math.max(1, ...bv.map(Math.abs));
  return Math.max(0, ...av.map((x, i) => Math.abs(x - bv[i]!))) / scale;
}

/**
 * Hessian-vector product vs central finite differences of the gradient, with Richardson
 * extrapolation (h and h/2) to keep float32 truncation error small. Returns both.
 */
export function hvpVsFiniteDifference(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, v: tf.Tensor, h = 1e-2): { hvp: number[]; fd: number[] } {
  const g = (y: tf.Tensor) => grad(f)(y) as tf.Tensor;
  const central = (e: number) =>
    tf.tidy(() => {
      const gp = g(tf.add(x, tf.mul(v, e)));
      const gm = g(tf.sub(x, tf.mul(v, e)));
      return values(tf.div(tf.sub(gp, gm), 2 * e));
    });
  const d1 = central(h);
  const d2 = central(h / 2);
  const fd = d2.map((b, i) => (4 * b - d1[i]!) / 3);
  const hv = hvp(f, x, v) as tf.Tensor;
  const out = values(hv);
  hv.dispose();
  return { hvp: out, fd };
}
