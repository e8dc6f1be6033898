import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, split } from '@lopt/random';
import * as tree from '@lopt/tree';
import { useBackend, useLeakCheck } from '@lopt/test-utils';
import {
  ConstantTruncationSchedule,
  FullES,
  FullGrad,
  LogUniformLengthSchedule,
  NEVER_ENDING_LENGTH,
  NeverEndingTruncationSchedule,
  TruncatedPES,
  VectorizedLOptTruncatedStep,
  clipLoss,
  concatStates,
  stateTensors,
} from '../src/index.js';
import { lsgd, quadLossAndGrad, quadStep, quadTask } from './helpers.js';

describe('VectorizedLOptTruncatedStep', () => {
  beforeAll(() => useBackend('cpu'));
  useLeakCheck();

  it('resets a task when its step reaches the length (fresh params, step 0), staggered starts spread the resets', () => {
    const theta = lsgd.init(PRNGKey(0));
    const step = quadStep({ numTasks: 6, unrollLength: 4, truncationSchedule: new ConstantTruncationSchedule(5), randomInitialIterationOffset: 5 });
    const s0 = step.initStepState(theta, PRNGKey(1));
    const start = Array.from(s0.innerStep.dataSync());
    expect(start.every((v) => v >= 0 && v < 5)).toBe(true);
    expect(new Set(start).size).toBeGreaterThan(1);
    const out = step.unrollStep(theta, s0);
    const T = 6;
    for (let t = 0; t < T; t++) {
      // Reset at the first step s with start + s >= 5, then counting from 1.
      const s = 5 - start[t]!;
      for (let k = 0; k < 4; k++) expect(out.resets[k * T + t], `task ${t} step ${k}`).toBe(k === s ? 1 : 0);
      expect(out.state.innerStep.dataSync()[t]).toBe(s < 4 ? 4 - s : start[t]! + 4);
    }
    // A task that reset trains from fresh params: its loss at the reset step is that of a new x0,
    // and it matches the closed form of the fresh training from there on.
    const losses = out.losses.arraySync();
    const t = start.findIndex((v) => 5 - v < 3);
    expect(t).toBeGreaterThanOrEqual(0);
    const s = 5 - start[t]!;
    const p1 = (out.state.optState.params as tf.Tensor).arraySync() as number[][];
    // After the reset the task took 4 − s SGD steps from x0: x0 = p / r^(4 − s).
    const x0 = p1[t]!.map((p, j) => p / (1 - 0.1 * [0.5, 1, 2, 3][j]!) ** (4 - s));
    expect(losses[s]![t]).toBeCloseTo(quadLossAndGrad([x0], 0.1, 0, 1).loss, 4);
    tree.dispose([theta, s0, out.state, out.losses]);
  });

  it('tasks with the same key (antithetic pairs) get the same resets and batches; different tasks get different inits', () => {
    const theta = lsgd.init(PRNGKey(0));
    const step = quadStep({ numTasks: 3, unrollLength: 4, truncationSchedule: new ConstantTruncationSchedule(3), randomInitialIterationOffset: 3 });
    const s = step.initStepState(theta, PRNGKey(2));
    const x = (s.optState.params as tf.Tensor).arraySync() as number[][];
    expect(x[0]).not.toEqual(x[1]);
    const both = concatStates([s, s]);
    const out = step.unrollStep(theta, both);
    const l = out.losses.arraySync();
    for (let k = 0; k < 4; k++) {
      expect(l[k]!.slice(0, 3)).toEqual(l[k]!.slice(3));
      expect(Array.from(out.resets.subarray(k * 6, k * 6 + 3))).toEqual(Array.from(out.resets.subarray(k * 6 + 3, k * 6 + 6)));
    }
    expect(out.resets.some((r) => r === 1)).toBe(true);
    tree.dispose([theta, s, both, out.state, out.losses]);
  });

  it('truncation schedules: constant, log-uniform in [min, max] (log-spread), never ending', () => {
    expect(new ConstantTruncationSchedule(100).sampleLength(PRNGKey(0))).toBe(100);
    const lu = new LogUniformLengthSchedule(10, 1000);
    const ls = Array.from({ length: 2000 }, (_, i) => lu.sampleLength(split(PRNGKey(i), 1).at(0)));
    expect(Math.min(...ls)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...ls)).toBeLessThanOrEqual(1000);
    // log-uniform: P(length < 100) = 1/2.
    const below = ls.filter((l) => l < 100).length / ls.length;
    expect(Math.abs(below - 0.5)).toBeLessThan(0.05);
    expect(new NeverEndingTruncationSchedule().sampleLength(PRNGKey(0))).toBe(NEVER_ENDING_LENGTH);
    expect(() => new ConstantTruncationSchedule(0)).toThrow(/totalLength must be a positive integer, got 0/);
    expect(() => new LogUniformLengthSchedule(10, 5)).toThrow(/maxLength \(5\) must be >= minLength \(10\)/);

    const theta = lsgd.init(PRNGKey(0));
    const step = quadStep({ numTasks: 2, unrollLength: 3, truncationSchedule: new NeverEndingTruncationSchedule() });
    let st = step.initStepState(theta, PRNGKey(0));
    for (let i = 0; i < 3; i++) {
      const out = step.unrollStep(theta, st);
      expect(out.resets.every((r) => r === 0)).toBe(true);
      tree.dispose([st, out.losses]);
      st = out.state;
    }
    expect(Array.from(st.innerStep.dataSync())).toEqual([9, 9]);
    tree.dispose([theta, st]);
  });

  it("clipLoss is the notebook's: NaN → 3, else min(loss, 3); the default is the task's normalizer", () => {
    const l = tf.tensor1d([NaN, 5, 1.5, -1]);
    const c = clipLoss()(l);
    expect(Array.from(c.dataSync())).toEqual([3, 3, 1.5, -1]);
    // A diverging inner training (huge lr) is clipped at 3 in the meta-loss.
    const theta = { log_lr: tf.scalar(Math.log(5)) };
    const step = quadStep({ numTasks: 2, unrollLength: 6, lossTransform: clipLoss(3) });
    const out = new FullGrad({ truncatedStep: step }).computeGradientEstimate(theta, PRNGKey(0));
    const ml = out.metaLoss.dataSync()[0]!;
    expect(ml).toBeLessThanOrEqual(3);
    expect(ml).toBeGreaterThan(2);
    tree.dispose([l, c, theta, out]);
  });

  it('bad input: clear errors naming the argument', () => {
    expect(() => new VectorizedLOptTruncatedStep({ task: quadTask, learnedOpt: lsgd, numTasks: 0, unrollLength: 3 })).toThrow(/numTasks must be a positive integer, got 0/);
    expect(() => new VectorizedLOptTruncatedStep({ task: quadTask, learnedOpt: lsgd, numTasks: 2, unrollLength: 1.5 })).toThrow(/unrollLength must be a positive integer, got 1.5/);
    expect(() => new VectorizedLOptTruncatedStep({ task: quadTask, learnedOpt: lsgd, numTasks: 2, unrollLength: 2, randomInitialIterationOffset: -1 })).toThrow(
      /randomInitialIterationOffset must be an integer >= 0/,
    );
    expect(() => new VectorizedLOptTruncatedStep({ task: {} as never, learnedOpt: lsgd, numTasks: 2, unrollLength: 2 })).toThrow(/task must be a Task/);
    expect(() => new FullES({ truncatedStep: quadStep(), std: 0 })).toThrow(/FullES: std must be a positive number, got 0/);
    expect(() => new FullES({ truncatedStep: quadStep(), lossType: 'mean' as never })).toThrow(/lossType must be 'average', 'last' or 'min', got mean/);
    expect(() => new TruncatedPES({ truncatedStep: quadStep(), std: -1 })).toThrow(/TruncatedPES: std must be a positive number/);
    const theta = lsgd.init(PRNGKey(0));
    const step = quadStep();
    expect(() => step.unrollStep(theta, { optState: {}, innerStep: null, length: null, key: PRNGKey(0) } as never)).toThrow(/key must be a key batch \[T\], got Key \[\]/);
    const st = step.initStepState(theta, PRNGKey(0));
    expect(() => step.unrollStep(theta, st, { numSteps: 0 })).toThrow(/numSteps must be a positive integer, got 0/);
    tree.dispose([theta, ...stateTensors(st)]);
  });
});
