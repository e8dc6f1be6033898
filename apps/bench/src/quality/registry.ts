import { adam, optaxOptimizer, sgd } from '@lopt/optimizers';
import { foldIn, type Key } from '@lopt/random';
import { LearnableAdam, MLPLOpt, PerParamMLPLOpt, pretrained } from '@lopt/learned-optimizers';
import { fashionMnistMlpTask, quadraticFamily } from '@lopt/tasks';
import * as tree from '@lopt/tree';
import type { QualityOptimizer, QualityTask } from './types.js';

/** Quadratics ‖Wθ − y‖² in 10 dimensions of "Learning to learn by gradient descent by gradient descent". */
export const quadraticTask: QualityTask = {
  id: 'quadratic',
  title: '10-dimensional quadratics ‖Wθ − y‖² with W, y, θ0 ~ N(0, 1) ("Learning to learn by gradient descent by gradient descent")',
  steps: { full: 100, quick: 30 },
  target: 5,
  instance(key: Key) {
    const family = quadraticFamily({ dim: 10 });
    const cfg = family.sample(key);
    const task = family.taskFn(cfg);
    return { init: task.init(key), loss: (p) => task.loss(p, key, null), dispose: () => tree.dispose(cfg) };
  },
};

/** The no-dependency notebook's task: the Fashion-MNIST 8×8 MLP, a new batch of 128 every step. */
export const fashionMnistTask: QualityTask = {
  id: 'fmnist-mlp',
  title: "Fashion-MNIST 8×8, MLP 64-128-10, batch 128 (learned_optimization's no-dependency notebook)",
  steps: { full: 200, quick: 30 },
  target: 1.0,
  async instance(key: Key) {
    const task = await fashionMnistMlpTask();
    const train = task.datasets!.train;
    const loss = (p: Parameters<typeof task.loss>[0], step: number) => {
      const k = foldIn(key, step);
      return task.loss(p, k, train.sample(k));
    };
    return { init: task.init(key), loss, dispose: () => {} };
  },
};

/** The held-out tasks of `pnpm bench quality`, in order. Add one with `registerQualityTask`. */
export const QUALITY_TASKS: QualityTask[] = [quadraticTask, fashionMnistTask];

/**
 * The optimizers compared: tuned baselines (learning rate by log-space search) and every learned
 * optimizer of @lopt/learned-optimizers that meta-trains quickly. Add one with `registerQualityOptimizer`.
 */
export const QUALITY_OPTIMIZERS: QualityOptimizer[] = [
  { id: 'sgd', title: 'SGD, learning rate tuned', baseline: (lr) => optaxOptimizer(sgd(lr), `SGD_lr${lr}`) },
  { id: 'adam', title: 'Adam, learning rate tuned', baseline: (lr) => optaxOptimizer(adam(lr), `Adam_lr${lr}`) },
  { id: 'learnable-adam', title: 'LearnableAdam: Adam with meta-learned lr, betas, epsilon', learned: { lopt: new LearnableAdam(), metaLr: 0.03 } },
  { id: 'per-param-mlp', title: "PerParamMLPLOpt: the no-dependency notebook's per-parameter MLP", learned: { lopt: new PerParamMLPLOpt(), metaLr: 3e-3 } },
  { id: 'mlp-lopt', title: "MLPLOpt: learned_optimization's MLP learned optimizer", learned: { lopt: new MLPLOpt(), metaLr: 1e-3 } },
  // Pretrained, used as published (no tuning, no meta-training): "Celo: Training Versatile Learned Optimizers on a Compute Diet".
  { id: 'celo', title: 'Celo (pretrained, published checkpoint)', prepare: () => pretrained.celo() },
  { id: 'celo-adam', title: 'Celo-Adam (pretrained, published checkpoint)', prepare: () => pretrained.celoAdam() },
];

const ID = /^[a-z0-9][a-z0-9-]*$/;

export function registerQualityTask(t: QualityTask): QualityTask {
  if (!ID.test(t.id)) throw new Error(`registerQualityTask: id '${t.id}' must be lowercase letters, digits and dashes`);
  if (QUALITY_TASKS.some((x) => x.id === t.id)) throw new Error(`registerQualityTask: a task '${t.id}' is already registered`);
  QUALITY_TASKS.push(t);
  return t;
}

export function registerQualityOptimizer(o: QualityOptimizer): QualityOptimizer {
  if (!ID.test(o.id)) throw new Error(`registerQualityOptimizer: id '${o.id}' must be lowercase letters, digits and dashes`);
  if (QUALITY_OPTIMIZERS.some((x) => x.id === o.id)) throw new Error(`registerQualityOptimizer: an optimizer '${o.id}' is already registered`);
  if (!o.baseline && !o.learned && !o.prepare) throw new Error(`registerQualityOptimizer: '${o.id}' needs baseline, learned or prepare`);
  QUALITY_OPTIMIZERS.push(o);
  return o;
}
