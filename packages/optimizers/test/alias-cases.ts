import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { dispose } from '@lopt/tree';
import { adabelief, adagrad, adam, adamax, adamw, applyUpdates, lamb, lion, nadam, rmsprop, sgd, type GradientTransformation } from '../src/index.js';

/**
 * optax alias_test.py: every optimizer, with optax's learning rates, runs 10000 steps on a
 * parabola and on Rosenbrock (float32) and must end within rtol = atol = 3e-2 of the optimum.
 */
export const CASES: Array<[string, () => GradientTransformation<any>]> = [
  ['adabelief lr 1e-2', () => adabelief(1e-2)],
  ['adabelief lr 1e-2 weightDecay 1e-4', () => adabelief(1e-2, { weightDecay: 1e-4 })],
  ['adagrad lr 1', () => adagrad(1.0)],
  ['adam lr 1e-1', () => adam(1e-1)],
  ['adamax lr 1e-1', () => adamax(1e-1)],
  ['adamw lr 1e-1', () => adamw(1e-1)],
  ['lamb lr 1e-3', () => lamb(1e-3)],
  ['lion lr 1e-2 weightDecay 1e-4', () => lion(1e-2, { weightDecay: 1e-4 })],
  ['nadam lr 1e-2', () => nadam(1e-2)],
  ['rmsprop lr 5e-3', () => rmsprop(5e-3)],
  ['rmsprop lr 5e-3 momentum 0.9', () => rmsprop(5e-3, { momentum: 0.9 })],
  ['sgd lr 1e-3 momentum 0.9', () => sgd(1e-3, { momentum: 0.9 })],
];

export const STEPS = 10_000;

/** The full runs take about a minute: they run with `pnpm test:slow` (LOPT_SLOW=1). */
export const SLOW = process.env.LOPT_SLOW === '1';

export interface Problem {
  initial: number[];
  optimum: number[];
  /** The gradient of the objective, in tensor ops (analytic, to keep 10000 steps fast). */
  grad: (p: tf.Tensor1D) => tf.Tensor1D;
}

/** sum((p - [1, -1, 1])²) from [-1, 10, 1]. */
export const parabola: Problem = {
  initial: [-1, 10, 1],
  optimum: [1, -1, 1],
  grad: (p) => tf.mul(2, tf.sub(p, tf.tensor1d([1, -1, 1]))),
};

/** (a - x)² + b (y - x²)² with a = 1, b = 100, from [0, 0]. */
export const rosenbrock: Problem = {
  initial: [0, 0],
  optimum: [1, 1],
  grad: (p) => {
    const [x, y] = tf.unstack(p) as [tf.Scalar, tf.Scalar];
    const r = tf.sub(y, tf.square(x));
    const dx = tf.sub(tf.mul(-2, tf.sub(1, x)), tf.mul(400, tf.mul(x, r)));
    const dy = tf.mul(200, r);
    return tf.stack([dx, dy]) as tf.Tensor1D;
  },
};

export function runCase(make: () => GradientTransformation<any>, problem: Problem, steps = STEPS): number[] {
  const opt = make();
  let params = tf.tensor1d(problem.initial);
  let state = opt.init(params);
  const before = tf.memory().numTensors;
  for (let i = 0; i < steps; i++) {
    const g = tf.tidy(() => problem.grad(params));
    const [u, s] = opt.update(g, state, params);
    const p = applyUpdates(params, u);
    dispose([g, u, state, params]);
    params = p;
    state = s;
  }
  expect(tf.memory().numTensors).toBe(before);
  const out = Array.from(params.dataSync());
  dispose([params, state]);
  return out;
}

export function expectOptimum(got: number[], optimum: number[]): void {
  got.forEach((x, i) => {
    const o = optimum[i]!;
    if (!(Math.abs(x - o) <= 3e-2 + 3e-2 * Math.abs(o))) throw new Error(`param ${i}: ${x}, optimum ${o} (rtol = atol = 3e-2); all: [${got.join(', ')}]`);
  });
}
