import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKey, normal, PRNGKey, split, type Key } from '@lopt/random';
import * as tree from '@lopt/tree';
import { useBackend, useLeakCheck } from '@lopt/test-utils';
import { defineTask } from '@lopt/tasks';
import { PerParamMLPLOpt } from '@lopt/learned-optimizers';
import {
  ConstantTruncationSchedule,
  FullES,
  FullGrad,
  TruncatedES,
  TruncatedGrad,
  TruncatedPES,
  VectorizedLOptTruncatedStep,
  clipLoss,
  type UnrollEstimator,
} from '../src/index.js';
import { lsgd, quadStep } from './helpers.js';

/** Linear regression with a batch per key (exercises the plan's batches and shared pair batches). */
type Batch = { x: tf.Tensor; y: tf.Tensor };
const regTask = defineTask({
  name: 'Reg4',
  init: (key: Key) => ({ w: normal(key, [4]) }),
  loss: (p: { w: tf.Tensor }, _k: Key, b: Batch) => tf.tidy(() => tf.mean(tf.square(tf.sub(tf.matMul(b.x, tf.reshape(p.w, [4, 1])), b.y)))) as tf.Scalar,
});
const batchFn = (key: Key): Batch => {
  const ks = split(key, 2);
  return { x: normal(ks.at(0), [8, 4]), y: normal(ks.at(1), [8, 1]) };
};
const lopt = new PerParamMLPLOpt({ hiddenSize: 8 });
const regStep = (o: { numTasks: number; unrollLength: number; length?: number; offset?: number }) =>
  new VectorizedLOptTruncatedStep({
    task: regTask,
    learnedOpt: lopt,
    numTasks: o.numTasks,
    unrollLength: o.unrollLength,
    batchFn,
    lossTransform: clipLoss(3),
    ...(o.length ? { truncationSchedule: new ConstantTruncationSchedule(o.length) } : {}),
    ...(o.offset ? { randomInitialIterationOffset: o.offset } : {}),
  });

/** Every leaf of a and b equal within float32 rounding (relative 1e-5, or 1e-6 absolute). */
function expectClose(a: unknown, b: unknown, what: string) {
  const [la] = tree.flatten(a);
  const [lb] = tree.flatten(b);
  expect(lb.length, what).toBe(la.length);
  la.forEach((x, i) => {
    const y = lb[i];
    if (isKey(x)) return expect(Array.from((y as Key).data), what).toEqual(Array.from(x.data));
    if (!tree.isTensor(x)) return expect(y, what).toEqual(x);
    const xv = Array.from((x as tf.Tensor).dataSync());
    const yv = Array.from((y as tf.Tensor).dataSync());
    expect((y as tf.Tensor).shape, what).toEqual((x as tf.Tensor).shape);
    xv.forEach((p, j) => expect(Math.abs(p - yv[j]!), `${what} leaf ${i}[${j}]: ${p} vs ${yv[j]}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(p)));
  });
}

/**
 * Runs `calls` estimates with the eager and the jitted estimator side by side (same keys, same
 * starting state), comparing gradients, meta-losses and carried states; then checks that more
 * jitted calls leave numTensors flat and that clearJitCache frees the traces.
 */
function compareJit(make: (jit: boolean) => UnrollEstimator<any, any>, theta: unknown, calls = 3) {
  const eager = make(false);
  const jitted = make(true);
  const before = tf.memory().numTensors;
  const ks = split(PRNGKey(5), calls + 8);
  let se = eager.initWorkerState(theta, ks.at(0));
  let sj = jitted.initWorkerState(theta, ks.at(0));
  for (let i = 0; i < calls; i++) {
    const a = eager.computeGradientEstimate(theta, ks.at(i + 1), se);
    const b = jitted.computeGradientEstimate(theta, ks.at(i + 1), sj);
    expectClose([a.grad, a.metaLoss], [b.grad, b.metaLoss], `${eager.name} call ${i}`);
    if (a.state) expectClose(a.state, b.state, `${eager.name} call ${i} state`);
    tree.dispose([se, sj, a.grad, a.metaLoss, b.grad, b.metaLoss]);
    se = a.state;
    sj = b.state;
  }
  tree.dispose(se);
  const flat = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    const b = jitted.computeGradientEstimate(theta, ks.at(calls + 1 + i), sj);
    tree.dispose([sj, b.grad, b.metaLoss]);
    sj = b.state;
    if (i === 0) expect(tf.memory().numTensors, `${eager.name}: numTensors flat over jitted calls`).toBe(flat);
  }
  expect(tf.memory().numTensors, `${eager.name}: numTensors flat over jitted calls`).toBe(flat);
  tree.dispose(sj);
  jitted.clearJitCache();
  expect(tf.memory().numTensors, `${eager.name}: clearJitCache frees the traces`).toBe(before);
}

describe('estimators under jit agree with eager (same keys) and do not leak', () => {
  beforeAll(() => useBackend('cpu'));
  useLeakCheck();

  it('FullGrad (average and last loss), on a quadratic with a learnable lr and on regression with the per-parameter MLP', () => {
    const th = lsgd.init(PRNGKey(0));
    const step = quadStep();
    compareJit((jit) => new FullGrad({ truncatedStep: step, jit }), th);
    compareJit((jit) => new FullGrad({ truncatedStep: step, jit, lossType: 'last', numSteps: 3 }), th);
    const theta = lopt.init(PRNGKey(1));
    compareJit((jit) => new FullGrad({ truncatedStep: regStep({ numTasks: 3, unrollLength: 4 }), jit }), theta);
    tree.dispose([th, theta]);
  });

  it('FullES batched and one pair at a time (min loss)', () => {
    const theta = lopt.init(PRNGKey(1));
    const step = regStep({ numTasks: 3, unrollLength: 3 });
    compareJit((jit) => new FullES({ truncatedStep: step, jit, std: 0.01 }), theta);
    compareJit((jit) => new FullES({ truncatedStep: step, jit, std: 0.01, numPairs: 2, batched: false, lossType: 'min' }), theta, 2);
    tree.dispose(theta);
  });

  it('TruncatedGrad, TruncatedES and PES across truncations with staggered resets', () => {
    const theta = lopt.init(PRNGKey(1));
    // Length 5, unrolls of 3 and staggered starts: most segments reset some task once.
    const step = regStep({ numTasks: 4, unrollLength: 3, length: 5, offset: 5 });
    compareJit((jit) => new TruncatedGrad({ truncatedStep: step, jit }), theta, 4);
    compareJit((jit) => new TruncatedGrad({ truncatedStep: step, jit, maxTasksPerBatch: 3 }), theta, 3);
    compareJit((jit) => new TruncatedES({ truncatedStep: step, jit }), theta, 4);
    compareJit((jit) => new TruncatedPES({ truncatedStep: step, jit }), theta, 4);
    // Length 2 < 3 steps: tasks reset twice in a segment (planned per step, run eagerly).
    const short = regStep({ numTasks: 2, unrollLength: 3, length: 2 });
    compareJit((jit) => new TruncatedPES({ truncatedStep: short, jit }), theta, 3);
    tree.dispose(theta);
  });

  it('VectorizedLOptTruncatedStep with jit: true gives the eager unroll; a plan with double resets is not jittable', () => {
    const theta = lopt.init(PRNGKey(1));
    const mk = (jit: boolean, length: number) =>
      new VectorizedLOptTruncatedStep({ task: regTask, learnedOpt: lopt, numTasks: 3, unrollLength: 3, batchFn, truncationSchedule: new ConstantTruncationSchedule(length), randomInitialIterationOffset: length, jit });
    let doubled = false;
    for (const length of [4, 2]) {
      const [e, j] = [mk(false, length), mk(true, length)];
      let se = e.initStepState(theta, PRNGKey(3));
      let sj = j.initStepState(theta, PRNGKey(3));
      for (let i = 0; i < 4; i++) {
        const plan = j.planUnroll(sj);
        const twice = Array.from({ length: 3 }, (_, t) => plan.resets.filter((r, k) => r && k % 3 === t).length).some((n) => n > 1);
        expect(plan.jittable).toBe(!twice);
        doubled ||= twice;
        tree.dispose(plan.inputs);
        const a = e.unrollStep(theta, se);
        const b = j.unrollStep(theta, sj);
        expect(b.resets).toEqual(a.resets);
        expectClose([a.losses, a.state], [b.losses, b.state], `unroll ${i} (length ${length})`);
        tree.dispose([se, sj, a.losses, b.losses]);
        se = a.state;
        sj = b.state;
      }
      tree.dispose([se, sj]);
      j.clearJitCache();
    }
    expect(doubled).toBe(true);
    tree.dispose(theta);
  });
});
