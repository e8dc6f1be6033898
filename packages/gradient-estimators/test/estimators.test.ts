import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, split } from '@lopt/random';
import * as tree from '@lopt/tree';
import { useBackend, useLeakCheck } from '@lopt/test-utils';
import { ConstantTruncationSchedule, FullES, FullGrad, TruncatedES, TruncatedGrad, TruncatedPES, stateTensors, type GradientEstimator } from '../src/index.js';
import { lsgd, quadLossAndGrad, quadStep } from './helpers.js';

const LR = 0.1;
const g0 = (g: any) => (g.log_lr as tf.Tensor).dataSync()[0]!;
const x0sOf = (step: ReturnType<typeof quadStep>, key: ReturnType<typeof PRNGKey>, numTasks?: number) => {
  const theta = lsgd.init(PRNGKey(0));
  const st = step.initStepState(theta, key, { ...(numTasks ? { numTasks } : {}), randomInitialIterationOffset: 0 });
  const x = (st.optState.params as tf.Tensor).arraySync() as number[][];
  tree.dispose([st, theta]);
  return x;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1));

/** Runs `calls` estimates from a fresh worker state, disposing as it goes; the per-call grads and losses. */
function run<W>(est: GradientEstimator<any, W>, theta: any, key: ReturnType<typeof PRNGKey>, calls: number) {
  const ks = split(key, calls + 1);
  let state = est.initWorkerState(theta, ks.at(0));
  const grads: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < calls; i++) {
    const out = est.computeGradientEstimate(theta, ks.at(i + 1), state);
    grads.push(g0(out.grad));
    losses.push(out.metaLoss.dataSync()[0]!);
    tree.dispose([state, out.grad, out.metaLoss]);
    state = out.state;
  }
  tree.dispose(state);
  return { grads, losses };
}

describe('estimators on a quadratic with a learnable learning rate (closed-form meta-gradient)', () => {
  beforeAll(() => useBackend('cpu'));
  useLeakCheck();

  it('FullGrad equals the closed form (average and last loss), and TruncatedGrad with one truncation equals FullGrad', () => {
    const theta = lsgd.init(PRNGKey(0));
    const step = quadStep({ numTasks: 4, unrollLength: 5 });
    const key = PRNGKey(1);
    const x0 = x0sOf(step, key);
    const want = quadLossAndGrad(x0, LR, 0, 5);
    const fg = new FullGrad({ truncatedStep: step }).computeGradientEstimate(theta, key);
    expect(fg.metaLoss.dataSync()[0]).toBeCloseTo(want.loss, 5);
    expect(Math.abs(g0(fg.grad) - want.grad) / Math.abs(want.grad)).toBeLessThan(1e-5);

    const last = new FullGrad({ truncatedStep: step, lossType: 'last' }).computeGradientEstimate(theta, key);
    const wantLast = quadLossAndGrad(x0, LR, 5, 6);
    expect(Math.abs(g0(last.grad) - wantLast.grad) / Math.abs(wantLast.grad)).toBeLessThan(1e-5);

    const tg = new TruncatedGrad({ truncatedStep: step });
    const ws = tg.initWorkerState(theta, key);
    const t1 = tg.computeGradientEstimate(theta, PRNGKey(7), ws);
    expect(g0(t1.grad)).toBeCloseTo(g0(fg.grad), 6);
    expect(t1.metaLoss.dataSync()[0]).toBeCloseTo(fg.metaLoss.dataSync()[0]!, 6);
    expect(Array.from(t1.state.innerStep.dataSync())).toEqual([5, 5, 5, 5]);
    // Chunks of tasks give the same mean gradient and the same next state.
    const chunked = new TruncatedGrad({ truncatedStep: step, maxTasksPerBatch: 3 }).computeGradientEstimate(theta, PRNGKey(7), ws);
    expect(g0(chunked.grad)).toBeCloseTo(g0(t1.grad), 6);
    expect(chunked.metaLoss.dataSync()[0]).toBeCloseTo(t1.metaLoss.dataSync()[0]!, 6);
    expect(Array.from((chunked.state.optState.params as tf.Tensor).dataSync())).toEqual(Array.from((t1.state.optState.params as tf.Tensor).dataSync()));
    expect(() => new TruncatedGrad({ truncatedStep: step, maxTasksPerBatch: 0 })).toThrow(/maxTasksPerBatch must be a positive integer, got 0/);
    tree.dispose([theta, fg, last, ws, t1, chunked]);
  });

  it('FullES (antithetic, one batch of 2P tasks) agrees with the closed form within the error its variance predicts', () => {
    const theta = lsgd.init(PRNGKey(0));
    const P = 512;
    const std = 0.01;
    const step = quadStep({ numTasks: P, unrollLength: 5 });
    const key = PRNGKey(3);
    // FullES draws its tasks with the second half of split(key).
    const x0 = x0sOf(step, split(key, 2).at(1), P);
    for (const lossType of ['average', 'last'] as const) {
      const want = lossType === 'average' ? quadLossAndGrad(x0, LR, 0, 5) : quadLossAndGrad(x0, LR, 5, 6);
      const out = new FullES({ truncatedStep: step, std, lossType }).computeGradientEstimate(theta, key);
      // In one dimension each pair gives ≈ g_t · z², z ~ N(0, 1): variance 2 g_t², so the standard
      // error of the mean of P pairs is sqrt(2 Σ g_t²) / P.
      const se = Math.sqrt(2 * want.perTaskGrad.reduce((a, g) => a + g * g, 0)) / P;
      expect(se).toBeLessThan(0.15 * Math.abs(want.grad));
      expect(Math.abs(g0(out.grad) - want.grad)).toBeLessThan(4 * se);
      tree.dispose(out);
    }
    // batched: false runs the 2P trainings one at a time with the same numbers.
    const small = quadStep({ numTasks: 3, unrollLength: 4 });
    const a = new FullES({ truncatedStep: small, std }).computeGradientEstimate(theta, key);
    const b = new FullES({ truncatedStep: small, std, batched: false }).computeGradientEstimate(theta, key);
    expect(g0(b.grad)).toBeCloseTo(g0(a.grad), 4);
    expect(b.metaLoss.dataSync()[0]).toBeCloseTo(a.metaLoss.dataSync()[0]!, 5);
    tree.dispose([theta, a, b]);
  });

  it('across truncations PES is unbiased for the whole-training gradient; TruncatedES is not (it follows TruncatedGrad)', () => {
    // Trainings of 6 steps in 3 truncations of 2; the mean of the 3 segment gradients is the
    // gradient of the mean loss over the whole training (closed form).
    const theta = lsgd.init(PRNGKey(0));
    const N = 256;
    const R = 10;
    const step = quadStep({ numTasks: N, unrollLength: 2, truncationSchedule: new ConstantTruncationSchedule(6) });
    const pesErr: number[] = [];
    const tesErr: number[] = [];
    const tesVsTrunc: number[] = [];
    const truncBias: number[] = [];
    for (let r = 0; r < R; r++) {
      const key = PRNGKey(100 + r);
      // run() starts the worker from split(key, calls + 1).at(0).
      const xs = x0sOf(step, split(key, 4).at(0));
      const full = quadLossAndGrad(xs, LR, 0, 6).grad;
      const pes = mean(run(new TruncatedPES({ truncatedStep: step, std: 0.01 }), theta, key, 3).grads);
      const tes = mean(run(new TruncatedES({ truncatedStep: step, std: 0.01 }), theta, key, 3).grads);
      const trunc = mean(run(new TruncatedGrad({ truncatedStep: step }), theta, key, 3).grads);
      pesErr.push(pes - full);
      tesErr.push(tes - full);
      tesVsTrunc.push(tes - trunc);
      truncBias.push(trunc - full);
    }
    const se = (xs: number[]) => sd(xs) / Math.sqrt(xs.length);
    if (process.env.LOPT_DEBUG) console.log({ pes: [mean(pesErr), se(pesErr)], tes: [mean(tesErr), se(tesErr)], tesVsTrunc: [mean(tesVsTrunc), se(tesVsTrunc)], truncBias: mean(truncBias) });
    expect(Math.abs(mean(pesErr))).toBeLessThan(4 * se(pesErr));
    expect(Math.abs(mean(tesVsTrunc))).toBeLessThan(4 * se(tesVsTrunc));
    // TruncatedES is off by far more than its own noise.
    expect(Math.abs(mean(tesErr))).toBeGreaterThan(8 * se(tesErr));
    expect(Math.abs(mean(truncBias))).toBeGreaterThan(0.2);
    tree.dispose(theta);
  });

  it('numTensors is flat over repeated estimates of every estimator', () => {
    const theta = lsgd.init(PRNGKey(0));
    const step = quadStep({ numTasks: 3, unrollLength: 3, truncationSchedule: new ConstantTruncationSchedule(5), randomInitialIterationOffset: 4 });
    const ests: GradientEstimator[] = [
      new FullGrad({ truncatedStep: step }),
      new TruncatedGrad({ truncatedStep: step }),
      new FullES({ truncatedStep: step, lossType: 'min' }),
      new TruncatedES({ truncatedStep: step }),
      new TruncatedPES({ truncatedStep: step }),
    ];
    for (const est of ests) {
      run(est, theta, PRNGKey(1), 2);
      const before = tf.memory().numTensors;
      run(est, theta, PRNGKey(2), 6);
      expect(tf.memory().numTensors, est.name).toBe(before);
    }
    tree.dispose(theta);
  });
});
