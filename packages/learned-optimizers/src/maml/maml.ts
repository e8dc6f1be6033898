import * as tf from '@tensorflow/tfjs';
import { PRNGKey, foldIn, isKey, type Key } from '@lopt/random';
import type { Task, TaskFamily } from '@lopt/tasks';
import { grad, scope, stopGradient, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { checkNumber, checkPositiveInt, checkTheta, type ThetaLayout } from '../common/checks.js';
import { paramsLayout, toSource, type LossFn, type Source } from './source.js';

/** Options of {@link maml} and {@link metaSGD}; the names are learn2learn's (`lr`, `first_order`, `adaptation_steps`). */
export interface MAMLOptions {
  /**
   * Inner-loop SGD learning rate α (learn2learn's `lr`; the MAML tutorial's alpha). Default 0.1.
   * For {@link metaSGD}, the initial value of every learned rate.
   */
  readonly lr?: number;
  /** Inner SGD steps k ≥ 1 on the support set (learn2learn's examples' `adaptation_steps`). Default 1. */
  readonly adaptationSteps?: number;
  /**
   * First-order MAML (learn2learn's `first_order`): the inner gradients are treated as constants,
   * which drops the Hessian terms of the meta-gradient (FOMAML). Default false: the exact
   * meta-gradient, through every inner step.
   */
  readonly firstOrder?: boolean;
  /** How `metaLoss` runs its tasks: `'vmap'` (default: batched ops over the task axis) or `'loop'` (one task at a time, same numbers). */
  readonly batching?: 'vmap' | 'loop';
}

/**
 * One task for MAML: a support set for the inner steps and a query set for the loss after them,
 * each a batch of the task (e.g. `{x: [K, 1], y: [K, 1]}` for the sinusoid family). For a
 * TaskFamily, `config` is the task's config; `key` is passed to the task's loss (each inner step
 * folds in its index; the query loss folds in k), default `PRNGKey(0)`.
 */
export interface MAMLTask<B, C = unknown> {
  readonly support: B;
  readonly query: B;
  readonly config?: C;
  readonly key?: Key;
}

/** Meta-SGD's meta-parameters: the initial params and one learned inner learning rate per parameter (same tree). */
export interface MetaSGDTheta<P> {
  readonly params: P;
  readonly lrs: P;
}

export interface AdaptOptions<C> {
  /** Inner steps (default: the algorithm's `adaptationSteps`). */
  readonly steps?: number;
  /** The task's config, for a TaskFamily. */
  readonly config?: C;
  /** Key for the task's loss (default `PRNGKey(0)`). */
  readonly key?: Key;
}

/** MAML, FOMAML or Meta-SGD over the tasks of a Task or TaskFamily: configuration only, theta is passed in. */
export interface MAMLAlgorithm<T, P, B, C = unknown> {
  /** `MAML`, `FOMAML`, `MetaSGD` or `FOMetaSGD`. */
  readonly name: string;
  readonly lr: number;
  readonly adaptationSteps: number;
  readonly firstOrder: boolean;
  /** Initial meta-parameters: the task's init (and, for Meta-SGD, every rate at `lr`). */
  init(key: Key): T;
  /** The initial params in theta (theta itself for MAML, `theta.params` for Meta-SGD). */
  params(theta: T): P;
  /** Params after the inner SGD steps on one task's support set (no task axis). */
  adapt(theta: T, support: B, opts?: AdaptOptions<C>): P;
  /** One task's query loss after adaptation (no task axis): the tutorial's `maml_loss`. */
  taskLoss(theta: T, task: MAMLTask<B, C>): tf.Scalar;
  /**
   * The meta-loss: the mean over tasks of the query loss after adaptation. `tasks` holds T tasks
   * stacked on a leading axis (support/query leaves [T, ...], config leaves [T], key batch [T]).
   * Differentiate it with `grad` for the meta-gradient.
   */
  metaLoss(theta: T, tasks: MAMLTask<B, C>): tf.Scalar;
}

interface Parts<T, P> {
  readonly name: string;
  init(params: P): T;
  params(theta: T): P;
  /** α as a number (MAML) or a tree like the params (Meta-SGD). */
  lrs(theta: T): number | P;
  readonly layout: ThetaLayout;
}

function checkOptions(fname: string, opts: MAMLOptions) {
  const known = ['lr', 'adaptationSteps', 'firstOrder', 'batching'];
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`${fname}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const lr = checkNumber(`${fname}: lr`, opts.lr ?? 0.1);
  const adaptationSteps = checkPositiveInt(`${fname}: adaptationSteps (inner steps k)`, opts.adaptationSteps ?? 1);
  const firstOrder = opts.firstOrder ?? false;
  if (typeof firstOrder !== 'boolean') throw new Error(`${fname}: firstOrder must be a boolean, got ${String(firstOrder)}`);
  const batching = opts.batching ?? 'vmap';
  if (batching !== 'vmap' && batching !== 'loop') throw new Error(`${fname}: batching must be 'vmap' or 'loop', got ${String(batching)}`);
  return { lr, adaptationSteps, firstOrder, batching };
}

function build<T, P, B, C>(
  fname: string,
  source: Source<P, B, C>,
  o: ReturnType<typeof checkOptions>,
  parts: (layout: ThetaLayout) => Parts<T, P>,
): MAMLAlgorithm<T, P, B, C> {
  const probe = source.init(PRNGKey(0));
  let layout: ThetaLayout;
  try {
    layout = paramsLayout(fname, source as Source<unknown, unknown, unknown>, probe);
  } finally {
    tree.dispose(probe);
  }
  const { name, layout: thetaLayout, ...p } = parts(layout);
  const defaultKey = PRNGKey(0);

  const checkKeyArg = (where: string, key: unknown) => {
    if (key !== undefined && !isKey(key)) throw new Error(`${where}: key must be a PRNG key of @lopt/random, got ${tree.describe(key)}`);
  };
  const needConfig = (where: string, config: unknown) => {
    if (source.isFamily && config === undefined) {
      throw new Error(`${where}: config is missing; the tasks of the TaskFamily ${source.name} need their config (from family.sample)`);
    }
    if (!source.isFamily && config !== undefined) throw new Error(`${where}: config is given, but ${source.name} is a Task, not a TaskFamily`);
  };

  // The inner loop: k SGD steps, each differentiable (the chain rule through every step) unless firstOrder.
  const inner = (theta: T, loss: LossFn<P, B>, support: B, key: Key, steps: number): P => {
    const alpha = p.lrs(theta);
    let params = p.params(theta);
    for (let s = 0; s < steps; s++) {
      const k = foldIn(key, s);
      let g = grad((q: P) => loss(q, k, support))(params);
      if (o.firstOrder) g = stopGradient(g);
      params =
        typeof alpha === 'number'
          ? tree.map((w: tf.Tensor, gw: tf.Tensor) => tf.sub(w, tf.mul(gw, alpha)), params, g)
          : tree.map((w: tf.Tensor, gw: tf.Tensor, a: tf.Tensor) => tf.sub(w, tf.mul(a, gw)), params, g, alpha);
    }
    return params;
  };
  const oneTask = (theta: T, support: B, query: B, config: C | undefined, key: Key): tf.Scalar => {
    const loss = source.lossFor(config);
    return loss(inner(theta, loss, support, key, o.adaptationSteps), foldIn(key, o.adaptationSteps), query);
  };
  const checkTask = (where: string, task: MAMLTask<B, C>) => {
    if (task === null || typeof task !== 'object') throw new Error(`${where}: expected {support, query${source.isFamily ? ', config' : ''}}, got ${tree.describe(task)}`);
    for (const f of ['support', 'query'] as const) if (task[f] === undefined) throw new Error(`${where}: ${f} is missing (a batch of ${source.name})`);
    needConfig(where, task.config);
    checkKeyArg(where, task.key);
  };

  return {
    name,
    lr: o.lr,
    adaptationSteps: o.adaptationSteps,
    firstOrder: o.firstOrder,
    init: (key) => scope(() => p.init(source.init(key))),
    params: (theta) => {
      checkTheta(`${fname}.params`, thetaLayout, theta);
      return p.params(theta);
    },
    adapt: (theta, support, opts = {}) => {
      const where = `${fname}.adapt`;
      checkTheta(where, thetaLayout, theta);
      const steps = checkPositiveInt(`${where}: steps (inner steps k)`, opts.steps ?? o.adaptationSteps);
      if (support === undefined) throw new Error(`${where}: support is missing (a batch of ${source.name})`);
      needConfig(where, opts.config);
      checkKeyArg(where, opts.key);
      return scope(() => inner(theta, source.lossFor(opts.config), support, opts.key ?? defaultKey, steps));
    },
    taskLoss: (theta, task) => {
      const where = `${fname}.taskLoss`;
      checkTheta(where, thetaLayout, theta);
      checkTask(where, task);
      return scope(() => oneTask(theta, task.support, task.query, task.config, task.key ?? defaultKey));
    },
    metaLoss: (theta, tasks) => {
      const where = `${fname}.metaLoss`;
      checkTheta(where, thetaLayout, theta);
      checkTask(where, tasks);
      const { support, query, config, key } = tasks;
      return scope(() => {
        if (o.batching === 'loop') {
          const sup = tree.unstack(support);
          const qry = tree.unstack(query);
          const cfgs = config === undefined ? undefined : tree.unstack(config);
          const losses = sup.map((s, i) => oneTask(theta, s, qry[i]!, cfgs?.[i], key ? key.at(i) : defaultKey));
          return tf.mean(tf.stack(losses)) as tf.Scalar;
        }
        // theta is shared (not mapped); support, query, config and the keys carry the task axis.
        const losses = source.isFamily
          ? key
            ? vmap((th: T, s: B, q: B, c: C, k: Key) => oneTask(th, s, q, c, k), [null, 0, 0, 0, 0])(theta, support, query, config as C, key)
            : vmap((th: T, s: B, q: B, c: C) => oneTask(th, s, q, c, defaultKey), [null, 0, 0, 0])(theta, support, query, config as C)
          : key
            ? vmap((th: T, s: B, q: B, k: Key) => oneTask(th, s, q, undefined, k), [null, 0, 0, 0])(theta, support, query, key)
            : vmap((th: T, s: B, q: B) => oneTask(th, s, q, undefined, defaultKey), [null, 0, 0])(theta, support, query);
        return tf.mean(losses) as tf.Scalar;
      });
    },
  };
}

/**
 * MAML (Finn et al. 2017): meta-learns an initialization. Theta is the task's params; each task
 * takes `adaptationSteps` SGD steps θ ← θ − lr·∇L_support(θ) from it, and the meta-loss is the
 * query loss after them, differentiated through every step (second order, exact) or, with
 * `firstOrder: true`, FOMAML. Works with any Task or TaskFamily of @lopt/tasks whose params are
 * float32 tensors; the tasks of a batch run together under `vmap`.
 *
 * ```ts
 * const family = sinusoidFamily();
 * const m = maml(family, { lr: 0.1 });
 * const theta = m.init(PRNGKey(0));
 * const metaGrad = grad((th) => m.metaLoss(th, tasks))(theta);
 * ```
 */
export function maml<P, B, C = unknown>(task: Task<P, B> | TaskFamily<C, P, B>, opts: MAMLOptions = {}): MAMLAlgorithm<P, P, B, C> {
  const fname = 'maml';
  const o = checkOptions(fname, opts);
  const source = toSource<P, B, C>(fname, task);
  return build<P, P, B, C>(fname, source, o, (layout) => ({
    name: o.firstOrder ? 'FOMAML' : 'MAML',
    init: (params) => params,
    params: (theta) => theta,
    lrs: () => o.lr,
    layout,
  }));
}

/**
 * Meta-SGD (Li et al. 2017, learn2learn's `MetaSGD`): MAML with one learned inner learning rate
 * per parameter. Theta is `{params, lrs}`, `lrs` shaped like the params and initialised to `lr`;
 * the inner step is θ ← θ − lrs ⊙ ∇L_support(θ), and the meta-gradient reaches both.
 */
export function metaSGD<P, B, C = unknown>(task: Task<P, B> | TaskFamily<C, P, B>, opts: MAMLOptions = {}): MAMLAlgorithm<MetaSGDTheta<P>, P, B, C> {
  const fname = 'metaSGD';
  const o = checkOptions(fname, opts);
  const source = toSource<P, B, C>(fname, task);
  return build<MetaSGDTheta<P>, P, B, C>(fname, source, o, (layout) => ({
    name: o.firstOrder ? 'FOMetaSGD' : 'MetaSGD',
    init: (params) => ({ params, lrs: tree.map((w: tf.Tensor) => tf.fill(w.shape, o.lr), params) }),
    params: (theta) => theta.params,
    lrs: (theta) => theta.lrs,
    layout: [...layout.map(([path, shape]) => [['params', ...path], shape] as const), ...layout.map(([path, shape]) => [['lrs', ...path], shape] as const)],
  }));
}
