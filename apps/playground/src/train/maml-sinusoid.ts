/**
 * The maml-sinusoid example's trainer: the batched MAML run of `pnpm demo maml-sinusoid` (4 tasks
 * per step, K = 20 support and query points, one inner SGD step at 0.1, second order, Adam), with
 * the demo's task sampling and its k-shot adaptation curve on held-out tasks.
 */
import * as tf from '@tensorflow/tfjs';
import { maml, serializeTheta, type LearnedOptimizer } from '@lopt/learned-optimizers';
import { adam, applyUpdates } from '@lopt/optimizers';
import { PRNGKey, foldIn, type Key } from '@lopt/random';
import { sinusoidFamily, type MLPParams } from '@lopt/tasks';
import { jit, scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { adaptationCurve, sampleTasks } from '../../../demo/src/examples/maml-common.js';
import type { HyperValues, Trainer } from '../examples/types.js';

const K = 20;
const EVAL_TASKS = 25;
const SHOTS = 4;
/** The k-shot curve is measured on step 0 and every EVAL_EVERY steps after. */
export const EVAL_EVERY = 25;

export async function mamlSinusoidTrainer({ seed, hyper }: { seed: number; hyper: HyperValues }): Promise<Trainer> {
  const metaLr = hyper.metaLr as number;
  const innerLr = hyper.innerLr as number;
  const tasksPerStep = hyper.tasks as number;
  if (!(metaLr > 0)) throw new Error(`meta learning rate (Adam): must be positive, got ${metaLr}`);
  const family = sinusoidFamily({ k: K });
  const m = maml(family, { lr: innerLr });
  const opt = adam(metaLr);
  const root = PRNGKey(seed);
  let theta: MLPParams = m.init(foldIn(root, 0));
  let optState = opt.init(theta);
  type State = { theta: MLPParams; opt: typeof optState };
  // The demo's batched run: step i samples its tasks with foldIn(foldIn(root, 2), i).
  const runKey = foldIn(root, 2);
  const step = jit((s: State, key: Key) => {
    const tasks = sampleTasks(family, key, tasksPerStep, K, K);
    const [l, g] = valueAndGrad((th: MLPParams) => m.metaLoss(th, tasks))(s.theta);
    const [u, o] = opt.update(g, s.opt, s.theta);
    return { state: { theta: applyUpdates(s.theta, u) as MLPParams, opt: o }, loss: l };
  });
  const evalTasks = sampleTasks(family, foldIn(root, 3), EVAL_TASKS, K, 100);
  // theta files need a LearnedOptimizer for their name, config and layout: MAML's theta is the
  // initialization of the MLP.
  const asLopt: LearnedOptimizer<MLPParams> = {
    name: 'MAML',
    config: { task: 'sinusoid', k: K, innerLr, hiddenSizes: [40, 40] },
    init: (key) => m.init(key),
    optFn: () => {
      throw new Error('MAML theta is an initialization, not an optimizer');
    },
  };
  let i = 0;
  return {
    step() {
      const out = scope(() => step({ theta, opt: optState }, foldIn(runKey, i)));
      const metaLoss = out.loss.dataSync()[0]!;
      tree.dispose([theta, optState, out.loss]);
      ({ theta, opt: optState } = out.state);
      const inner = i % EVAL_EVERY === 0 ? adaptationCurve(family, theta, evalTasks, innerLr, SHOTS) : undefined;
      i++;
      const finite = tf.tidy(() => tf.stack(tree.leaves(theta).map((l) => tf.all(tf.isFinite(l as tf.Tensor)))).dataSync()).every((v) => v === 1);
      return { metaLoss, scalars: {}, ...(inner && { inner }), ...(!finite && { nonFinite: 'theta (the MLP initialization) has NaN or Inf' }) };
    },
    thetaFile: () => serializeTheta(asLopt, theta, { metadata: { example: 'maml-sinusoid' } }),
    dispose() {
      step.clearCache();
      tree.dispose([theta, optState, evalTasks]);
    },
  };
}
