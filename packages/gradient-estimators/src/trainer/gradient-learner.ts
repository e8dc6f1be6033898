/**
 * learned_optimization's outer_trainers/gradient_learner.py: the learner that holds theta and its
 * optimizer state (GradientLearner), and the worker side that runs every gradient estimator and
 * averages their estimates (gradientWorkerCompute). The learner applies averaged estimates; a
 * non-finite one is skipped and reported, never applied (upstream maps NaN to 0 instead).
 */
import * as tf from '@tensorflow/tfjs';
import { split, type Key } from '@lopt/random';
import { optaxOptimizer, type GradientTransformation, type Optimizer } from '@lopt/optimizers';
import { flatten, formatPath, isTensor } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientEstimate, GradientEstimator } from '../base.js';
import { inProcessPool } from './pool.js';

/** What `init(key)` makes theta from: a LearnedOptimizer, or any `{init(key)}` (MetaInitializer). */
export interface MetaInitializer<T> {
  init(key: Key): T;
}

/** GradientLearnerState: the theta optimizer's state (which holds theta). */
export interface GradientLearnerState<S = any> {
  readonly thetaOptState: S;
}

/** AggregatedGradient: an averaged estimate as the learner receives it. */
export interface AggregatedGradient<T> {
  readonly thetaGrads: T;
  readonly meanLoss: tf.Scalar;
}

/** What {@link applyAggregatedGradient} did. */
export interface LearnerUpdate<S> {
  readonly state: GradientLearnerState<S>;
  /** False when the meta-gradient had a NaN or infinity: theta and the optimizer state are unchanged. */
  readonly applied: boolean;
  /** Why it was skipped: the first non-finite leaf and the estimators that produced non-finite values. */
  readonly skippedReason?: string;
  readonly metrics: Record<string, number>;
}

/** Accepts an Optimizer, or wraps an optax GradientTransformation (`adam(1e-3)`) as one. */
export function asOptimizer<T>(opt: Optimizer<any, T> | GradientTransformation<any>): Optimizer<any, T> {
  if (typeof (opt as Optimizer).getParams === 'function') return opt as Optimizer<any, T>;
  if (typeof (opt as GradientTransformation<any>).init === 'function' && typeof (opt as GradientTransformation<any>).update === 'function') {
    return optaxOptimizer(opt as GradientTransformation<any>, 'thetaOpt');
  }
  throw new Error('thetaOpt must be an Optimizer ({init, update, getParams}) or a GradientTransformation ({init, update}) from @lopt/optimizers');
}

/** Disposes the tensors of `old` that `next` does not hold (functional updates may share leaves). */
export function disposeReplaced(old: unknown, next: unknown): void {
  const keep = new Set(flatten(next)[0].filter(isTensor));
  for (const t of flatten(old)[0]) if (isTensor(t) && !keep.has(t) && !t.isDisposed) t.dispose();
}

/**
 * Per estimate, whether every leaf of its gradient is finite, with one read for all of them;
 * and the first non-finite leaf's path.
 */
export function finiteReport<T>(grads: readonly T[]): { finite: boolean[]; firstBad?: string } {
  if (grads.length === 0) return { finite: [] };
  const paths = flatten(grads[0])[1].paths();
  const flags = tf.tidy(() =>
    tf.stack(grads.flatMap((g) => flatten(g)[0].map((l) => (isTensor(l) ? tf.all(tf.isFinite(l as tf.Tensor)) : tf.scalar(Number.isFinite(l as number), 'bool'))))),
  );
  const v = flags.dataSync();
  flags.dispose();
  const per = paths.length;
  const finite = grads.map((_, i) => v.subarray(i * per, (i + 1) * per).every((x) => x === 1));
  let firstBad: string | undefined;
  for (let i = 0; i < v.length && firstBad === undefined; i++) if (v[i] !== 1) firstBad = formatPath(paths[i % per]!, 'theta');
  return { finite, ...(firstBad !== undefined ? { firstBad } : {}) };
}

/** Checks that a gradient has theta's structure and shapes; the error names the leaf. */
export function checkGradStructure(fname: string, theta: unknown, grad: unknown, what: string): void {
  const [tl, td] = flatten(theta);
  const [gl, gd] = flatten(grad);
  if (!td.equals(gd)) throw new Error(`${fname}: ${what} has structure ${gd.toString()}, theta has ${td.toString()}`);
  const paths = td.paths();
  tl.forEach((t, i) => {
    const g = gl[i];
    const ts = isTensor(t) ? t.shape : [];
    const gs = isTensor(g) ? g.shape : [];
    if (!isTensor(g) || g.dtype !== 'float32' || ts.length !== gs.length || ts.some((d, j) => d !== gs[j])) {
      throw new Error(`${fname}: ${what} ${formatPath(paths[i]!, 'theta')}: expected float32 [${ts.join(',')}], got ${isTensor(g) ? `${g.dtype} [${gs.join(',')}]` : typeof g}`);
    }
  });
}

/**
 * Averages estimates in their given order: `(g0 + g1 + ... + gn-1) / n` leaf by leaf, the
 * same ops on the same backend whoever computed them, so the result is bit-identical for the
 * same estimates. The mean loss is the mean of the estimates' meta-losses. Inputs are not disposed.
 */
export function averageEstimates<T>(grads: readonly T[], losses: readonly tf.Scalar[]): AggregatedGradient<T> {
  if (grads.length === 0) throw new Error('averageEstimates: no estimates');
  return scope(() => {
    const flat = grads.map((g) => flatten(g)[0] as tf.Tensor[]);
    const def = flatten(grads[0])[1];
    const n = grads.length;
    const leaves = flat[0]!.map((_, j) => {
      let acc = flat[0]![j]!;
      for (let i = 1; i < n; i++) acc = tf.add(acc, flat[i]![j]!);
      return n === 1 ? acc.clone() : tf.div(acc, n);
    });
    let loss = losses[0]!;
    for (let i = 1; i < n; i++) loss = tf.add(loss, losses[i]!);
    return { thetaGrads: def.unflatten<T>(leaves), meanLoss: (n === 1 ? loss.clone() : tf.div(loss, n)) as tf.Scalar };
  });
}

/**
 * The learner's one write: applies an averaged estimate to theta with the theta optimizer
 * (GradientLearner.update for one AggregatedGradient), unless it is not finite. Disposes the
 * replaced state tensors, never the gradient. For learners that receive estimates from elsewhere
 * (workers, queues).
 */
export function applyAggregatedGradient<T, S>(
  thetaOpt: Optimizer<S, T>,
  state: GradientLearnerState<S>,
  agg: AggregatedGradient<T>,
  opts: { key?: Key; finite?: boolean[] } = {},
): LearnerUpdate<S> {
  const theta = thetaOpt.getParams(state.thetaOptState);
  checkGradStructure('applyAggregatedGradient', theta, agg.thetaGrads, 'the meta-gradient');
  const report = finiteReport([agg.thetaGrads]);
  const meanLoss = agg.meanLoss.dataSync()[0]!;
  const gradNorm = tf.tidy(() => tf.sqrt(tf.addN(flatten(agg.thetaGrads)[0].map((l) => tf.sum(tf.square(l as tf.Tensor))))).dataSync()[0]!);
  if (!report.finite[0]) {
    const bad = (opts.finite ?? []).flatMap((ok, i) => (ok ? [] : [i]));
    const reason = `non-finite meta-gradient at ${report.firstBad}${bad.length > 0 ? ` (from estimator${bad.length > 1 ? 's' : ''} ${bad.join(', ')})` : ''}; theta not updated`;
    return { state, applied: false, skippedReason: reason, metrics: { meanLoss, thetaGradNorm: gradNorm } };
  }
  const next = thetaOpt.update(state.thetaOptState, agg.thetaGrads, { loss: agg.meanLoss, ...(opts.key ? { key: opts.key } : {}) });
  disposeReplaced(state.thetaOptState, next);
  return { state: { thetaOptState: next }, applied: true, metrics: { meanLoss, thetaGradNorm: gradNorm } };
}

/** learned_optimization's GradientLearner: theta, its optimizer, and the averaged update. */
export class GradientLearner<T, S = any> {
  readonly thetaOpt: Optimizer<S, T>;

  constructor(
    readonly metaInit: MetaInitializer<T>,
    thetaOpt: Optimizer<S, T> | GradientTransformation<any>,
    readonly numSteps?: number,
  ) {
    this.thetaOpt = asOptimizer<T>(thetaOpt) as Optimizer<S, T>;
  }

  init(key: Key): GradientLearnerState<S> {
    const theta = this.metaInit.init(key);
    const thetaOptState = this.thetaOpt.init(theta, this.numSteps !== undefined ? { numSteps: this.numSteps } : {});
    disposeReplaced(theta, thetaOptState);
    return { thetaOptState };
  }

  getMetaParams(state: GradientLearnerState<S>): T {
    return this.thetaOpt.getParams(state.thetaOptState);
  }

  /** Averages `gradsList` in order and applies it (skipped, and reported, when not finite). */
  update(state: GradientLearnerState<S>, gradsList: readonly AggregatedGradient<T>[], key?: Key): LearnerUpdate<S> {
    const agg = averageEstimates(
      gradsList.map((g) => g.thetaGrads),
      gradsList.map((g) => g.meanLoss),
    );
    try {
      return applyAggregatedGradient(this.thetaOpt, state, agg, key ? { key } : {});
    } finally {
      tf.dispose(flatten(agg)[0].filter(isTensor));
    }
  }
}

/** The keys gradientWorkerCompute hands the estimators: `split(key, n)`, one per estimator, in order. */
export function estimatorKeys(key: Key, n: number): Key[] {
  return n === 0 ? [] : [...split(key, n)];
}

/** WorkerComputeOut: the averaged estimate, the next worker states, per-estimator finiteness. */
export interface WorkerComputeOut<T, W> {
  readonly toPut: AggregatedGradient<T>;
  readonly unrollStates: W[];
  /** Whether each estimator's gradient was finite. */
  readonly finite: boolean[];
  readonly metrics: Record<string, number>;
}

/**
 * Averages per-estimator estimates (given in estimator order) into a WorkerComputeOut, disposing
 * the estimates' gradients and losses (their states are returned).
 */
export function aggregateEstimates<T, W>(theta: T, estimates: readonly GradientEstimate<T, W>[], names: readonly string[] = []): WorkerComputeOut<T, W> {
  estimates.forEach((e, i) => checkGradStructure('gradientWorkerCompute', theta, e.grad, `estimator ${i}${names[i] ? ` (${names[i]})` : ''}'s gradient`));
  const { finite } = finiteReport(estimates.map((e) => e.grad));
  const toPut = averageEstimates(
    estimates.map((e) => e.grad),
    estimates.map((e) => e.metaLoss),
  );
  const metrics: Record<string, number> = {};
  const losses = tf.tidy(() => tf.stack(estimates.map((e) => e.metaLoss)).dataSync());
  estimates.forEach((e, i) => {
    const name = names[i] ?? `estimator${i}`;
    metrics[`${i}/${name}/metaLoss`] = losses[i]!;
    for (const [k, v] of Object.entries(e.metrics ?? {})) metrics[`${i}/${name}/${k}`] = v;
  });
  for (const e of estimates) tf.dispose([...(flatten(e.grad)[0].filter(isTensor) as tf.Tensor[]), e.metaLoss]);
  return { toPut, unrollStates: estimates.map((e) => e.state), finite, metrics };
}

/**
 * learned_optimization's gradient_worker_compute: runs every estimator on theta with its own
 * key (`estimatorKeys(key, n)`) and worker state, and averages the estimates in estimator order.
 * The old worker states' tensors that the new states do not hold are disposed.
 */
export async function gradientWorkerCompute<T, W>(
  theta: T,
  gradientEstimators: readonly GradientEstimator<T, W>[],
  unrollStates: readonly W[],
  key: Key,
): Promise<WorkerComputeOut<T, W>> {
  if (gradientEstimators.length !== unrollStates.length) {
    throw new Error(`gradientWorkerCompute: ${gradientEstimators.length} estimators but ${unrollStates.length} worker states`);
  }
  const estimates = await inProcessPool(gradientEstimators).computeEstimates(theta, estimatorKeys(key, gradientEstimators.length), unrollStates);
  return aggregateEstimates(
    theta,
    estimates,
    gradientEstimators.map((g) => g.name),
  );
}
