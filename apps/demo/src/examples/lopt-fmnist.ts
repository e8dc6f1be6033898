import * as tf from '@tensorflow/tfjs';
import { adam, optaxOptimizer, sgd, type GradientTransformation } from '@lopt/optimizers';
import { PRNGKey, foldIn, split, type Key } from '@lopt/random';
import { fashionMnistMlpTask, type Task } from '@lopt/tasks';
import { scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { MLPLOpt, PerParamMLPLOpt, type LearnedOptimizer } from '@lopt/learned-optimizers';
import {
  ConstantTruncationSchedule,
  FullES,
  FullGrad,
  TruncatedGrad,
  TruncatedPES,
  VectorizedLOptTruncatedStep,
  clipLoss,
  MetaTrainer,
  type GradientEstimator,
} from '@lopt/gradient-estimators';
import type { Example, ExampleContext } from '../context.js';

/** A hand-designed optimizer as a LearnedOptimizer with an empty theta, so the same vectorized unroll evaluates it. */
function fixedOptimizer(name: string, tx: () => GradientTransformation<any>): LearnedOptimizer<Record<string, never>> {
  return { name, config: {}, init: () => ({}), optFn: () => optaxOptimizer(tx(), name) };
}

/** Mean (over `numTasks` fresh tasks) raw training loss at every inner step, with batched ops over the tasks. */
function innerCurve(task: Task, lopt: LearnedOptimizer, theta: unknown, key: Key, numTasks: number, steps: number): number[] {
  const step = new VectorizedLOptTruncatedStep({ task, learnedOpt: lopt, numTasks, unrollLength: steps, lossTransform: (l) => tf.clone(l) });
  return scope(() => {
    const st = step.initStepState(theta, key);
    const out = step.unrollStep(theta, st);
    return Array.from(tf.mean(out.losses, 1).dataSync());
  }) as unknown as number[];
}

interface PhaseResult {
  readonly name: string;
  readonly metaLosses: number[];
  readonly skipped: number;
  readonly secondsPerStep: number;
  readonly theta: any;
}

/**
 * Meta-trains theta with one estimator and Adam through the MetaTrainer (learned_optimization's
 * GradientLearner loop): a non-finite meta-gradient is skipped and counted, never applied.
 */
async function metaTrain(ctx: ExampleContext, label: string, est: GradientEstimator, theta0: any, metaLr: number, steps: number, key: Key): Promise<PhaseResult> {
  const bar = ctx.progress(steps, label);
  const trainer = new MetaTrainer({
    metaInit: { init: () => tree.clone(theta0) },
    thetaOpt: adam(metaLr),
    gradientEstimators: [est],
    onStep: (r) => bar.tick({ metaLoss: r.metaLoss.toFixed(3) }),
  });
  const t0 = performance.now();
  const { state, records } = await trainer.train({ key, steps });
  bar.stop();
  const secondsPerStep = (performance.now() - t0) / 1000 / Math.max(steps, 1);
  const theta = tree.clone(trainer.getMetaParams(state));
  trainer.dispose(state);
  (est as { clearJitCache?: () => void }).clearJitCache?.(); // the traces keep constants alive
  return { name: label, metaLosses: records.map((r) => r.metaLoss), skipped: state.skipped, secondsPerStep, theta };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const r4 = (x: number) => Number(x.toFixed(4));

/**
 * learned_optimization's "No dependency introduction to learned optimizers in JAX", end to end:
 * the Fashion-MNIST 8×8 MLP, SGD / momentum / Adam, the per-parameter MLP learned optimizer
 * meta-trained five ways, then MLPLOpt meta-trained with PES and compared with a tuned Adam at
 * inner step 100 on fresh tasks.
 */
export const loptFmnist: Example = {
  name: 'lopt-fmnist',
  title: 'Learned optimizers for a Fashion-MNIST 8x8 MLP (backprop, ES, truncations, PES)',
  source: 'No dependency introduction to learned optimizers in JAX',
  // Meta-steps per estimator (MLPLOpt gets 10×): a few minutes on a quiet machine; --steps for longer.
  defaultSteps: 5,
  defaultSeed: 0,
  async run(ctx) {
    const task = await fashionMnistMlpTask();
    const S = ctx.steps;
    const key = PRNGKey(ctx.seed);
    const k = (i: number) => foldIn(key, i);
    const evalTasks = 4;

    // Baselines over 100 inner steps (the notebook's SGD(0.1), Momentum(0.01, 0.9), and Adam).
    const baselines = {
      'SGD(0.1)': fixedOptimizer('SGD', () => sgd(0.1)),
      'Momentum(0.01, 0.9)': fixedOptimizer('Momentum', () => sgd({ learningRate: 0.01, momentum: 0.9 })),
      'Adam(0.001)': fixedOptimizer('Adam', () => adam(1e-3)),
    };
    const baselineCurves: Record<string, number[]> = {};
    for (const [name, o] of Object.entries(baselines)) baselineCurves[name] = innerCurve(task, o, {}, k(1), evalTasks, 100);

    const lopt = new PerParamMLPLOpt();
    const theta0 = lopt.init(PRNGKey(ctx.seed));
    const plain = (numTasks: number) => new VectorizedLOptTruncatedStep({ task, learnedOpt: lopt, numTasks, unrollLength: 10 });
    const truncated = (numTasks: number) =>
      new VectorizedLOptTruncatedStep({
        task,
        learnedOpt: lopt,
        numTasks,
        unrollLength: 10,
        truncationSchedule: new ConstantTruncationSchedule(100),
        randomInitialIterationOffset: 100,
        lossTransform: clipLoss(3),
      });
    // Each estimator runs under jit unless --no-jit (the bench's W4/W5 measure it faster on wasm).
    // The notebook's settings: Adam 1e-3 (gradients), 3e-3 (ES, σ = 0.001, 32 particles), 1e-4 (truncated, 32 tasks).
    const phases: Array<[string, GradientEstimator, number]> = [
      ['(a) FullGrad, 1 task x 10 steps', new FullGrad({ truncatedStep: plain(1), jit: ctx.jit }), 1e-3],
      ['(b) FullGrad, 8 tasks x 10 steps', new FullGrad({ truncatedStep: plain(8), jit: ctx.jit }), 1e-3],
      ['(c) FullES, 32 antithetic pairs', new FullES({ truncatedStep: plain(32), std: 0.001, jit: ctx.jit }), 3e-3],
      ['(d) TruncatedGrad, 32 tasks, resets at 100', new TruncatedGrad({ truncatedStep: truncated(32), maxTasksPerBatch: 8, jit: ctx.jit }), 1e-4],
      ['(e) TruncatedPES, 32 tasks, resets at 100', new TruncatedPES({ truncatedStep: truncated(32), std: 0.01, jit: ctx.jit }), 1e-4],
    ];
    const results: PhaseResult[] = [];
    for (const [i, [name, est, lr]] of phases.entries()) results.push(await metaTrain(ctx, name, est, theta0, lr, S, k(10 + i)));
    const lcurves: Record<string, number[]> = {};
    for (const r of results) lcurves[r.name] = innerCurve(task, lopt, r.theta, k(1), evalTasks, 100);

    // MLPLOpt meta-trained with PES (learned_optimization's default learned optimizer).
    const mlp = new MLPLOpt();
    const mlpSteps = 10 * S;
    const mlpStep = new VectorizedLOptTruncatedStep({
      task,
      learnedOpt: mlp,
      numTasks: 8,
      unrollLength: 10,
      truncationSchedule: new ConstantTruncationSchedule(100),
      randomInitialIterationOffset: 100,
      lossTransform: clipLoss(3),
    });
    const mlpTheta0 = mlp.init(PRNGKey(ctx.seed + 1));
    const mlpResult = await metaTrain(ctx, 'MLPLOpt, TruncatedPES, 8 tasks', new TruncatedPES({ truncatedStep: mlpStep, std: 0.01, jit: ctx.jit }), mlpTheta0, 1e-3, mlpSteps, k(20));

    // Fresh tasks (keys never used in meta-training): Adam over a learning-rate grid vs the learned optimizers at step 100.
    const fresh = k(99);
    const adamGrid = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2];
    const adamAt100 = adamGrid.map((lr) => {
      const c = innerCurve(task, fixedOptimizer('Adam', () => adam(lr)), {}, fresh, evalTasks, 100);
      return { lr, lossAt100: r4(c[99]!), curve: c };
    });
    const best = adamAt100.reduce((a, b) => (b.lossAt100 < a.lossAt100 ? b : a));
    const mlpCurve = innerCurve(task, mlp, mlpResult.theta, fresh, evalTasks, 100);
    const mlpUntrained = innerCurve(task, mlp, mlpTheta0, fresh, evalTasks, 100);

    const x100 = Array.from({ length: 100 }, (_, i) => i);
    await ctx.plot('meta-training.png', {
      title: 'Meta-loss over meta-training (per-parameter MLP learned optimizer)',
      panels: results.map((r) => ({ series: [{ name: r.name, x: r.metaLosses.map((_, i) => i), y: r.metaLosses }], yLabel: 'meta-loss', xLabel: 'meta-step' })),
    });
    await ctx.plot('inner-training.png', {
      title: 'Inner training on Fashion-MNIST 8x8: learned optimizers against hand-designed ones',
      panels: [
        {
          series: [
            ...Object.entries(baselineCurves).map(([name, y]) => ({ name, x: x100, y })),
            ...Object.entries(lcurves).map(([name, y]) => ({ name: name.split(',')[0]!, x: x100, y })),
          ],
          yLabel: 'training loss',
          xLabel: 'inner step',
        },
        {
          series: [
            { name: `Adam(${best.lr}) (best of grid)`, x: x100, y: best.curve },
            { name: 'MLPLOpt (PES)', x: x100, y: mlpCurve },
            { name: 'MLPLOpt (untrained)', x: x100, y: mlpUntrained },
          ],
          yLabel: 'training loss (fresh tasks)',
          xLabel: 'inner step',
        },
      ],
    });
    await ctx.plot('mlp-lopt-pes.png', {
      title: 'MLPLOpt meta-trained with PES',
      panels: [{ series: [{ name: 'meta-loss', x: mlpResult.metaLosses.map((_, i) => i), y: mlpResult.metaLosses }], yLabel: 'meta-loss', xLabel: 'meta-step' }],
    });

    tree.dispose([theta0, mlpTheta0, mlpResult.theta, ...results.map((r) => r.theta)]);
    const beatsAdam = mlpCurve[99]! < best.lossAt100;
    return {
      baselines: Object.fromEntries(Object.entries(baselineCurves).map(([n, c]) => [n, { lossAt10: r4(c[9]!), lossAt100: r4(c[99]!) }])),
      perParamMLPLOpt: results.map((r) => ({
        estimator: r.name,
        metaSteps: r.metaLosses.length,
        firstMetaLoss: r4(mean(r.metaLosses.slice(0, Math.max(1, Math.ceil(r.metaLosses.length / 5))))),
        lastMetaLoss: r4(mean(r.metaLosses.slice(-Math.max(1, Math.ceil(r.metaLosses.length / 5))))),
        skippedNonFinite: r.skipped,
        secondsPerMetaStep: Number(r.secondsPerStep.toFixed(3)),
        innerLossAt10: r4(lcurves[r.name]![9]!),
        innerLossAt100: r4(lcurves[r.name]![99]!),
      })),
      mlpLOpt: {
        estimator: 'TruncatedPES, 8 tasks, unroll 10, resets at 100, std 0.01, Adam(1e-3)',
        metaSteps: mlpSteps,
        firstMetaLoss: r4(mean(mlpResult.metaLosses.slice(0, 5))),
        lastMetaLoss: r4(mean(mlpResult.metaLosses.slice(-5))),
        secondsPerMetaStep: Number(mlpResult.secondsPerStep.toFixed(3)),
        lossAt100: r4(mlpCurve[99]!),
        untrainedLossAt100: r4(mlpUntrained[99]!),
      },
      adamGridAt100: adamAt100.map(({ lr, lossAt100 }) => ({ lr, lossAt100 })),
      tunedAdam: { lr: best.lr, lossAt100: best.lossAt100 },
      mlpLOptBeatsTunedAdamAt100: beatsAdam,
    };
  },
  report(s) {
    const lines: string[] = [];
    for (const [n, v] of Object.entries(s.baselines as Record<string, { lossAt100: number }>)) lines.push(`${n}: training loss at step 100 = ${v.lossAt100}`);
    for (const r of s.perParamMLPLOpt as Array<{ estimator: string; firstMetaLoss: number; lastMetaLoss: number; innerLossAt100: number; secondsPerMetaStep: number }>) {
      lines.push(`${r.estimator}: meta-loss ${r.firstMetaLoss} → ${r.lastMetaLoss}, loss at step 100 = ${r.innerLossAt100} (${r.secondsPerMetaStep} s/meta-step)`);
    }
    const m = s.mlpLOpt as { lossAt100: number; metaSteps: number };
    const a = s.tunedAdam as { lr: number; lossAt100: number };
    lines.push(`MLPLOpt after ${m.metaSteps} PES meta-steps: loss at step 100 = ${m.lossAt100}; tuned Adam(${a.lr}) = ${a.lossAt100}`);
    lines.push(
      s.mlpLOptBeatsTunedAdamAt100
        ? 'MLPLOpt beats the tuned Adam at inner step 100 on fresh tasks.'
        : 'MLPLOpt does not beat the tuned Adam yet: meta-train longer (--steps); learned_optimization meta-trains for thousands of steps.',
    );
    return lines;
  },
};
