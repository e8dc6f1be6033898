import * as tf from '@tensorflow/tfjs';
import { normal, type Key } from '@lopt/random';
import { defineTask } from '@lopt/tasks';
import { LearnableSGD } from '@lopt/learned-optimizers';
import { VectorizedLOptTruncatedStep, type VectorizedLOptTruncatedStepOptions } from '../src/index.js';

/** Curvatures of the test quadratic 0.5 Σ a_j x_j². */
export const A = [0.5, 1, 2, 3];

/** 0.5 Σ a_j x_j² with x ~ N(0, 1): SGD on it has a closed-form meta-gradient in log lr. */
export const quadTask = defineTask({
  name: 'Quad4',
  init: (key: Key) => normal(key, [A.length]),
  loss: (x: tf.Tensor) => tf.tidy(() => tf.mul(0.5, tf.sum(tf.mul(tf.tensor1d(A), tf.square(x))))) as tf.Scalar,
});

export const lsgd = new LearnableSGD({ initialLr: 0.1 });

export function quadStep(opts: Partial<VectorizedLOptTruncatedStepOptions> = {}) {
  return new VectorizedLOptTruncatedStep({ task: quadTask, learnedOpt: lsgd, numTasks: 4, unrollLength: 5, ...opts });
}

/**
 * Closed form, float64: x_k = (1 − lr a)^k x0 per coordinate, loss_k = 0.5 Σ a x_k². For each
 * task's x0 (rows of x0s), the losses of steps [k0, k1) and their derivative in log lr.
 */
export function quadLossAndGrad(x0s: number[][], lr: number, k0: number, k1: number): { loss: number; grad: number; perTaskGrad: number[] } {
  let loss = 0;
  const perTaskGrad: number[] = [];
  for (const x0 of x0s) {
    let g = 0;
    for (let k = k0; k < k1; k++) {
      for (let j = 0; j < A.length; j++) {
        const a = A[j]!;
        const r = 1 - lr * a;
        loss += (0.5 * a * x0[j]! ** 2 * r ** (2 * k)) / (k1 - k0) / x0s.length;
        // d/dlr r^{2k} = 2k r^{2k-1} (−a); d/dlog lr = lr · d/dlr.
        g += (lr * 0.5 * a * x0[j]! ** 2 * 2 * k * r ** (2 * k - 1) * -a) / (k1 - k0);
      }
    }
    perTaskGrad.push(g);
  }
  return { loss, grad: perTaskGrad.reduce((s, v) => s + v, 0) / perTaskGrad.length, perTaskGrad };
}
