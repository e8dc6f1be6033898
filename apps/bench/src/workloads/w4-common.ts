import * as tf from '@tensorflow/tfjs';
import { PRNGKey, foldIn } from '@lopt/random';
import { scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { defineTask, fashionMnistMlpTask, type ImageBatch, type MLPParams, type Task } from '@lopt/tasks';
import { PerParamMLPLOpt, type PerParamMLPTheta } from '@lopt/learned-optimizers';
import { VectorizedLOptTruncatedStep, type UnrollEstimator } from '@lopt/gradient-estimators';
import type { Workload, WorkloadInstance } from '../workload.js';

/** Deterministic values scale · sin(offset + i), row-major (the peers build the same). */
export function sinTensor(shape: number[], scale = 1, offset = 0): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => scale * Math.sin(offset + i)), shape);
}

/**
 * The fixed input of W4's `check()`: theta, the MLP's initial params and one batch, from sines;
 * the value is the notebook's meta-loss (mean inner training loss over 10 steps) on that batch
 * repeated. w4-check.py computes the same with the PyTorch peer's functions.
 */
export function w4CheckInput() {
  return scope(() => ({
    theta: { w0: sinTensor([3, 64], 1, 0), b0: sinTensor([64], 0.1, 1), w1: sinTensor([64, 2], 1, 2), b1: sinTensor([2], 0.1, 3) } as PerParamMLPTheta,
    params: [
      { w: sinTensor([64, 128], 0.02, 4), b: tf.zeros([128]) },
      { w: sinTensor([128, 10], 0.02, 5), b: tf.ones([10]) },
    ] as MLPParams,
    batch: {
      image: tf.add(tf.mul(sinTensor([128, 64], 1, 6), 0.5), 0.5),
      label: tf.tensor1d(Int32Array.from({ length: 128 }, (_, i) => (i * 7) % 10), 'int32'),
    } as ImageBatch,
  }));
}

/**
 * The W4 setting: the notebook's Fashion-MNIST 8×8 MLP task (64-128-10, batch 128) and
 * per-parameter MLP learned optimizer. `quick` (CI smoke runs, every backend): the same code on
 * a 64-8-10 MLP, batch 8, 2 tasks, 2 steps.
 */
export async function w4Setting(numTasks: number, quick: boolean) {
  const task = await fashionMnistMlpTask(quick ? { hiddenSizes: [8], batchSize: 8 } : {});
  const unrollLength = quick ? 2 : 10;
  numTasks = quick ? Math.min(numTasks, 2) : numTasks;
  const lopt = new PerParamMLPLOpt();
  const step = new VectorizedLOptTruncatedStep({ task, learnedOpt: lopt, numTasks, unrollLength, lossTransform: (l) => tf.clone(l) });
  return { task, lopt, step };
}

/** The meta-loss on the fixed input (one task, 10 steps, the same batch each step). */
export function w4Check(task: Task<MLPParams, ImageBatch>, lopt: PerParamMLPLOpt): number {
  const { theta, params, batch } = w4CheckInput();
  const fixedTask = defineTask({ name: 'W4Check', init: () => tf.tidy(() => params.map((l) => ({ w: tf.clone(l.w), b: tf.clone(l.b) }))), loss: task.loss });
  const step = new VectorizedLOptTruncatedStep({ task: fixedTask, learnedOpt: lopt, numTasks: 1, unrollLength: 10, lossTransform: (l) => tf.clone(l), batchFn: () => tf.tidy(() => ({ image: tf.clone(batch.image), label: tf.clone(batch.label) })) });
  const value = scope(() => {
    const st = step.initStepState(theta, PRNGKey(0));
    const out = step.unrollStep(theta, st);
    return out.losses.mean().dataSync()[0]!;
  });
  tree.dispose([theta, params, batch]);
  return value;
}

/**
 * The W4 workload instance for one estimator: theta from PRNGKey(0); each step is one gradient
 * estimate with key foldIn(PRNGKey(1), step), read back and freed.
 */
export function w4EstimatorInstance(est: UnrollEstimator<PerParamMLPTheta, null>, task: Task<MLPParams, ImageBatch>, lopt: PerParamMLPLOpt): WorkloadInstance {
  const theta = lopt.init(PRNGKey(0));
  let i = 0;
  return {
    step() {
      const out = est.computeGradientEstimate(theta, foldIn(PRNGKey(1), i++), null);
      out.metaLoss.dataSync();
      tree.dispose([out.grad, out.metaLoss]);
    },
    check: () => w4Check(task, lopt),
    dispose() {
      tree.dispose(theta);
      est.clearJitCache();
    },
  };
}

/**
 * A W4 workload: the W4 setting for `numTasks` tasks (see w4Setting), one estimate of
 * `estimator(step, jit)` per step, eager or under the bench's jit switch (the estimator's own
 * `jit` option: its whole estimate is one trace).
 */
export function w4Workload(w: Pick<Workload, 'id' | 'title' | 'peers'> & { numTasks(quick: boolean): number; estimator(step: VectorizedLOptTruncatedStep, jit: boolean): UnrollEstimator<PerParamMLPTheta, null> }): Workload {
  const { numTasks, estimator, ...rest } = w;
  return {
    ...rest,
    repeats: 5,
    async setup({ quick, jit }) {
      const { task, lopt, step } = await w4Setting(numTasks(quick), quick);
      return w4EstimatorInstance(estimator(step, jit), task, lopt);
    },
  };
}
