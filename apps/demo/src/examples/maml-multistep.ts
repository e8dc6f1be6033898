import { maml } from '@lopt/learned-optimizers';
import { adam, applyUpdates } from '@lopt/optimizers';
import { PRNGKey, foldIn } from '@lopt/random';
import { sinusoidFamily, type MLPParams } from '@lopt/tasks';
import { valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Example } from '../context.js';
import { adaptationCurve, lastMean, movingMean, round, sampleTasks, train } from './maml-common.js';

const K = 20;
const TASKS = 10; // tasks per meta-batch, as the homework
// The homework's inner step is 1e-2 on the *summed* squared error of 20 points, i.e. 0.2 on the mean
// (the sinusoid family's loss). It runs one step; at 0.2 the 2- and 5-step runs blow up (NaN within
// 100 meta-steps), so all runs use 0.05 on the mean (2.5e-3 on the sum).
const INNER_LR = 0.05;
const META_LR = 5e-3;
const INNER_STEPS = [1, 2, 5] as const;
const EVAL_TASKS = 100;
const MAX_EVAL_STEPS = 5;

/**
 * The MAML homework notebook: the multi-step inner loop θ⁽ᵗ⁺¹⁾ = θ⁽ᵗ⁾ − η∇L(θ⁽ᵗ⁾), differentiated
 * through every step by the chain rule (second order) or with the first-order approximation, for
 * 1, 2 and 5 inner steps. Sinusoids with amplitude in [0.1, 5] and phase in [0, π], 10 tasks of
 * 20 points per meta-batch, Adam 5e-3. Each of the six models is meta-tested on 100 new tasks:
 * loss on 100 query points after 0…5 inner steps from 20 support points.
 */
export const mamlMultistep: Example = {
  name: 'maml-multistep',
  title: 'MAML with 1, 2 and 5 inner steps: second order against first order',
  source: 'the MAML homework notebook',
  defaultSteps: 1000,
  defaultSeed: 0,
  async run(ctx) {
    const family = sinusoidFamily({ amplitude: [0.1, 5], k: K });
    const opt = adam(META_LR);
    const root = PRNGKey(ctx.seed);
    const theta0 = maml(family).init(foldIn(root, 0));
    const testTasks = sampleTasks(family, foldIn(root, 2), EVAL_TASKS, K, 100);
    const runs: Array<{ name: string; innerSteps: number; firstOrder: boolean; losses: Float64Array; curve: number[]; msPerStep: { median: number; min: number } }> = [];
    for (const innerSteps of INNER_STEPS) {
      for (const firstOrder of [false, true]) {
        const m = maml(family, { lr: INNER_LR, adaptationSteps: innerSteps, firstOrder });
        const name = `${innerSteps} step${innerSteps > 1 ? 's' : ''}, ${firstOrder ? 'first' : 'second'} order`;
        const theta = tree.clone(theta0);
        type State = { theta: MLPParams; opt: ReturnType<typeof opt.init> };
        // The same meta-batches for every run (same key), so the runs differ only in the method.
        const r = train<State>(ctx, name, foldIn(root, 1), { theta, opt: opt.init(theta) }, (s, key) => {
          const tasks = sampleTasks(family, key, TASKS, K, K);
          const [loss, g] = valueAndGrad((th: MLPParams) => m.metaLoss(th, tasks))(s.theta);
          const [u, o] = opt.update(g, s.opt, s.theta);
          return { state: { theta: applyUpdates(s.theta, u), opt: o }, loss };
        });
        const curve = adaptationCurve(family, r.state.theta, testTasks, INNER_LR, MAX_EVAL_STEPS).map((x) => round(x));
        tree.dispose(r.state);
        runs.push({ name, innerSteps, firstOrder, losses: r.losses, curve, msPerStep: r.msPerStep });
      }
    }
    tree.dispose([theta0, testTasks]);

    const steps = Array.from({ length: ctx.steps }, (_, i) => i);
    const evalAxis = Array.from({ length: MAX_EVAL_STEPS + 1 }, (_, i) => i);
    await ctx.plot('maml-multistep.png', {
      title: 'MAML with 1, 2 and 5 inner steps, second order against first order',
      panels: [
        { series: runs.map((r) => ({ name: r.name, x: steps, y: movingMean(r.losses, 50) })), yLabel: 'meta-training loss (mean of 50)', xLabel: 'meta-step', logY: true },
        { series: runs.map((r) => ({ name: r.name, x: evalAxis, y: r.curve })), yLabel: `meta-test MSE (${EVAL_TASKS} new tasks)`, xLabel: 'inner SGD steps at test time', logY: true },
      ],
    });
    return {
      k: K,
      tasksPerStep: TASKS,
      innerLr: INNER_LR,
      metaLr: META_LR,
      runs: runs.map((r) => ({
        name: r.name,
        innerSteps: r.innerSteps,
        firstOrder: r.firstOrder,
        trainLossFirst100: round(lastMean(r.losses.subarray(0, 100))),
        trainLossLast100: round(lastMean(r.losses)),
        // Meta-test loss after the number of inner steps the model was meta-trained with.
        testLossAfterAdaptation: r.curve[r.innerSteps],
        testLossAfterSteps: r.curve,
        msPerStep: r.msPerStep,
      })),
    };
  },
  report(s) {
    const runs = s.runs as Array<{ name: string; testLossAfterAdaptation: number; testLossAfterSteps: number[]; msPerStep: { median: number } }>;
    return [
      `meta-test MSE on ${EVAL_TASKS} new tasks, after adapting with the number of inner steps meta-trained for (before adaptation in brackets):`,
      ...runs.map((r) => `  ${r.name.padEnd(26)} ${r.testLossAfterAdaptation.toFixed(4)}  (${r.testLossAfterSteps[0]!.toFixed(4)})   ${r.msPerStep.median} ms/step`),
    ];
  },
};
