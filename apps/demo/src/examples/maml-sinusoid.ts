import * as tf from '@tensorflow/tfjs';
import { maml } from '@lopt/learned-optimizers';
import { adam, applyUpdates } from '@lopt/optimizers';
import { PRNGKey, foldIn, split, uniform } from '@lopt/random';
import { mlpApply, sinusoidFamily, type MLPParams, type SinusoidConfig } from '@lopt/tasks';
import { scope, valueAndGrad, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Example } from '../context.js';
import { adaptationCurve, lastMean, movingMean, oneTask, round, sampleTasks, train, type SineTasks } from './maml-common.js';

const K = 20; // points per support (and, batched, per query) set
const INNER_LR = 0.1;
const META_LR = 1e-3;
const TASKS = 4; // tasks per meta-batch in the batched run
const EVAL_TASKS = 100;
const SHOTS = 4; // inner steps shown in the k-shot plot

/**
 * The "MAML in JAX" tutorial (after Finn et al. 2017): sinusoid regression with an MLP 1-40-40-1,
 * one inner SGD step at 0.1, second-order meta-gradients, Adam 1e-3. Trains three models from the
 * same initialization: MAML on one task per step (K = 20 support points, one query point, as the
 * tutorial), MAML batched over 4 tasks (K = 20 each for support and query), and a model
 * pretrained on the same tasks by plain regression. Then adapts each to new tasks with 1…4 SGD
 * steps: MAML's initialization adapts, the pretrained one barely does.
 */
export const mamlSinusoid: Example = {
  name: 'maml-sinusoid',
  title: 'MAML on sinusoid regression: single-task and batched, against pretraining',
  source: 'the "MAML in JAX" tutorial',
  defaultSteps: 20000,
  defaultSeed: 0,
  async run(ctx) {
    const family = sinusoidFamily({ k: K });
    const m = maml(family, { lr: INNER_LR });
    const opt = adam(META_LR);
    const root = PRNGKey(ctx.seed);
    const theta0 = m.init(foldIn(root, 0));
    type State = { theta: MLPParams; opt: ReturnType<typeof opt.init> };
    const start = (): State => {
      const theta = tree.clone(theta0);
      return { theta, opt: opt.init(theta) };
    };
    const update = (s: State, loss: (th: MLPParams) => tf.Scalar) => {
      const [l, g] = valueAndGrad(loss)(s.theta);
      const [u, o] = opt.update(g, s.opt, s.theta);
      return { state: { theta: applyUpdates(s.theta, u), opt: o }, loss: l };
    };

    // The tutorial's single-task loop: a new task each step, K support points, one query point.
    const single = train(ctx, 'MAML, 1 task/step', foldIn(root, 1), start(), (s, key) => {
      const ks = split(key);
      const task = oneTask(family, family.sample(ks.at(0)), ks.at(1), K, 1);
      return update(s, (th) => m.taskLoss(th, task));
    });
    const batched = train(ctx, 'MAML, 4 tasks/step', foldIn(root, 2), start(), (s, key) => {
      const tasks = sampleTasks(family, key, TASKS, K, K);
      return update(s, (th) => m.metaLoss(th, tasks));
    });
    // Pretraining: the same tasks and points, the regression loss at theta itself (no inner step).
    const pretrainLoss = (th: MLPParams, tasks: SineTasks) => {
      const per = vmap((p: MLPParams, c: SinusoidConfig, s: typeof tasks.support, q: typeof tasks.query) => {
        const t = family.taskFn(c);
        return tf.add(t.loss(p, PRNGKey(0), s), t.loss(p, PRNGKey(0), q));
      }, [null, 0, 0, 0])(th, tasks.config!, tasks.support, tasks.query);
      return tf.div(tf.mean(per), 2) as tf.Scalar;
    };
    const pretrained = train(ctx, 'pretraining, 4 tasks/step', foldIn(root, 2), start(), (s, key) => {
      const tasks = sampleTasks(family, key, TASKS, K, K);
      return update(s, (th) => pretrainLoss(th, tasks));
    });

    // Meta-test: new tasks, K support points, loss on 100 query points after 0…4 inner steps.
    const testTasks = sampleTasks(family, foldIn(root, 3), EVAL_TASKS, K, 100);
    const curves = {
      mamlBatched: adaptationCurve(family, batched.state.theta, testTasks, INNER_LR, SHOTS).map((x) => round(x)),
      mamlSingle: adaptationCurve(family, single.state.theta, testTasks, INNER_LR, SHOTS).map((x) => round(x)),
      pretrained: adaptationCurve(family, pretrained.state.theta, testTasks, INNER_LR, SHOTS).map((x) => round(x)),
    };
    tree.dispose(testTasks);

    // The tutorial's k-shot plot: the target sin(x) (amplitude 1, phase 0), K support points.
    const target: SinusoidConfig = { amplitude: tf.scalar(1), phase: tf.scalar(0) };
    const grid = tf.tidy(() => tf.linspace(-5, 5, 100).reshape([100, 1]));
    const gridY = tf.sin(grid);
    const support = scope(() => {
      const x = uniform(foldIn(root, 4), [K, 1], { minval: -5, maxval: 5 });
      return { x, y: tf.sin(x) };
    });
    const kShot = (theta: MLPParams) => {
      const preds: number[][] = [];
      const losses: number[] = [];
      for (let s = 0; s <= SHOTS; s++) {
        scope(() => {
          const p = s === 0 ? theta : m.adapt(theta, support, { steps: s, config: target });
          const y = mlpApply(p, grid, 'relu');
          preds.push(Array.from(y.dataSync()));
          losses.push(round(tf.mean(tf.square(tf.sub(y, gridY))).dataSync()[0]!));
        });
      }
      return { preds, losses };
    };
    const shotsMaml = kShot(batched.state.theta);
    const shotsPre = kShot(pretrained.state.theta);
    const xs = Array.from(grid.dataSync());
    const ys = Array.from(gridY.dataSync());
    tree.dispose([target, grid, gridY, support]);

    const steps = Array.from({ length: ctx.steps }, (_, i) => i);
    await ctx.plot('maml-sinusoid-loss.png', {
      title: 'MAML meta-training loss (mean over the last 100 steps)',
      panels: [
        {
          series: [
            { name: 'MAML, 1 task per step', x: steps, y: movingMean(single.losses, 100) },
            { name: 'MAML, 4 tasks per step', x: steps, y: movingMean(batched.losses, 100) },
            { name: 'pretraining (no inner step)', x: steps, y: movingMean(pretrained.losses, 100) },
          ],
          yLabel: 'loss',
          xLabel: 'meta-step',
          logY: true,
        },
      ],
    });
    const shotSeries = (r: { preds: number[][] }) => [
      { name: 'target', x: xs, y: ys },
      ...r.preds.map((y, s) => ({ name: s === 0 ? 'pre-update' : `${s}-step`, x: xs, y })),
    ];
    const stepsAxis = Array.from({ length: SHOTS + 1 }, (_, i) => i);
    await ctx.plot('maml-sinusoid-kshot.png', {
      title: `Adapting to sin(x) from ${K} points: MAML against pretraining`,
      panels: [
        { series: shotSeries(shotsMaml), yLabel: 'MAML (4 tasks/step)', xLabel: 'x' },
        { series: shotSeries(shotsPre), yLabel: 'pretrained', xLabel: 'x' },
        {
          series: [
            { name: 'MAML, 4 tasks/step', x: stepsAxis, y: curves.mamlBatched },
            { name: 'MAML, 1 task/step', x: stepsAxis, y: curves.mamlSingle },
            { name: 'pretrained', x: stepsAxis, y: curves.pretrained },
          ],
          yLabel: `test MSE (${EVAL_TASKS} new tasks)`,
          xLabel: 'inner SGD steps',
          logY: true,
        },
      ],
    });
    tree.dispose([theta0, single.state, batched.state, pretrained.state]);

    const after = (c: number[]) => c.slice(1);
    return {
      k: K,
      innerLr: INNER_LR,
      metaLr: META_LR,
      tasksPerStep: TASKS,
      training: {
        mamlSingle: { lossFirst100: round(lastMean(single.losses.subarray(0, 100))), lossLast100: round(lastMean(single.losses)), msPerStep: single.msPerStep },
        mamlBatched: { lossFirst100: round(lastMean(batched.losses.subarray(0, 100))), lossLast100: round(lastMean(batched.losses)), msPerStep: batched.msPerStep },
        pretrained: { lossFirst100: round(lastMean(pretrained.losses.subarray(0, 100))), lossLast100: round(lastMean(pretrained.losses)), msPerStep: pretrained.msPerStep },
      },
      metaTest: { tasks: EVAL_TASKS, queryPoints: 100, lossAfterSteps: curves },
      sinTarget: { lossAfterSteps: { mamlBatched: shotsMaml.losses, pretrained: shotsPre.losses } },
      mamlAdaptsBetter: after(curves.mamlBatched).every((l, i) => l < after(curves.pretrained)[i]!),
    };
  },
  report(s) {
    const c = (s.metaTest as { lossAfterSteps: Record<string, number[]> }).lossAfterSteps;
    const t = s.training as Record<string, { lossLast100: number; msPerStep: { median: number } }>;
    const f = (xs: number[]) => xs.map((x) => x.toFixed(4)).join(' → ');
    return [
      `meta-training loss (last 100 steps): MAML 1 task ${t.mamlSingle!.lossLast100}, MAML 4 tasks ${t.mamlBatched!.lossLast100}, pretraining ${t.pretrained!.lossLast100}`,
      `test MSE on new tasks after 0…${SHOTS} inner steps:`,
      `  MAML (4 tasks/step): ${f(c.mamlBatched!)}`,
      `  MAML (1 task/step):  ${f(c.mamlSingle!)}`,
      `  pretrained:          ${f(c.pretrained!)}`,
      s.mamlAdaptsBetter ? 'MAML adapts better than pretraining after every number of steps' : 'MAML did NOT adapt better than pretraining at every step (too few meta-steps?)',
      `time per meta-step (median): ${t.mamlBatched!.msPerStep.median} ms batched, ${t.mamlSingle!.msPerStep.median} ms single-task`,
    ];
  },
};
