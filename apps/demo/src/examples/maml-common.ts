import * as tf from '@tensorflow/tfjs';
import { maml, type MAMLTask } from '@lopt/learned-optimizers';
import { PRNGKey, foldIn, split, type Key } from '@lopt/random';
import type { SinusoidBatch, SinusoidConfig, sinusoidFamily } from '@lopt/tasks';
import { jit, scope, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { ExampleContext } from '../context.js';

export type Family = ReturnType<typeof sinusoidFamily>;
export type SineTasks = MAMLTask<SinusoidBatch, SinusoidConfig>;

/** T tasks of the family, stacked: configs [T], support [T, kSupport, 1], query [T, kQuery, 1]. */
export function sampleTasks(family: Family, key: Key, T: number, kSupport: number, kQuery: number): SineTasks {
  return scope(() => {
    const ks = split(key, 3);
    const config = vmap(family.sample)(split(ks.at(0), T)) as SinusoidConfig;
    return { config, support: family.sampleBatch(config, split(ks.at(1), T), kSupport), query: family.sampleBatch(config, split(ks.at(2), T), kQuery) };
  });
}

/** One task (no task axis): support and query sets of a config. */
export function oneTask(family: Family, config: SinusoidConfig, key: Key, kSupport: number, kQuery: number): SineTasks {
  return scope(() => {
    const ks = split(key);
    return { config, support: family.sampleBatch(config, ks.at(0), kSupport), query: family.sampleBatch(config, ks.at(1), kQuery) };
  });
}

export interface TrainResult<S> {
  readonly state: S;
  readonly losses: Float64Array;
  /** Median and min milliseconds per step (after the first, which traces under jit). */
  readonly msPerStep: { median: number; min: number };
}

/**
 * Runs `steps` steps of `step(state, key_i)` with key_i = foldIn(key, i), under jit when the
 * context says so (the sampling, the meta-gradient and Adam replay as one recording), recording
 * the loss of each step and freeing every state it replaces.
 */
export function train<S>(ctx: ExampleContext, label: string, key: Key, init: S, step: (state: S, key: Key) => { state: S; loss: tf.Tensor }): TrainResult<S> {
  const jitted = ctx.jit ? jit(step) : undefined;
  const f = jitted ?? step;
  let state = init;
  const losses = new Float64Array(ctx.steps);
  const times: number[] = [];
  const bar = ctx.progress(ctx.steps, label);
  for (let i = 0; i < ctx.steps; i++) {
    const t0 = performance.now();
    const out = scope(() => f(state, foldIn(key, i)));
    losses[i] = out.loss.dataSync()[0]!;
    if (i > 0) times.push(performance.now() - t0);
    tree.dispose([state, out.loss]);
    state = out.state;
    if (i % 100 === 0 || i === ctx.steps - 1) bar.tick({ loss: movingMean(losses.subarray(0, i + 1), 100).at(-1)!.toFixed(4) });
    else bar.tick();
  }
  bar.stop();
  jitted?.clearCache();
  const sorted = times.sort((a, b) => a - b);
  const r4 = (x: number | undefined) => Number((x ?? 0).toFixed(4));
  return { state, losses, msPerStep: { median: r4(sorted[sorted.length >> 1]), min: r4(sorted[0]) } };
}

/** Trailing mean over `w` values (fewer at the start). */
export function movingMean(xs: ArrayLike<number>, w: number): number[] {
  const out: number[] = [];
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i]!;
    if (i >= w) s -= xs[i - w]!;
    out.push(s / Math.min(i + 1, w));
  }
  return out;
}

/** Mean of the last `n` values. */
export const lastMean = (xs: ArrayLike<number>, n = 100): number => {
  const a = Array.from(xs).slice(-n);
  return a.reduce((p, q) => p + q, 0) / Math.max(1, a.length);
};

/**
 * Mean query loss over the tasks before adaptation and after 1…maxSteps inner SGD steps at rate
 * `lr` (the meta-test curve): index s is the loss after s steps.
 */
export function adaptationCurve(family: Family, theta: unknown, tasks: SineTasks, lr: number, maxSteps: number): number[] {
  const pre = scope(() => {
    const losses = vmap((th: unknown, c: SinusoidConfig, q: SinusoidBatch) => family.taskFn(c).loss(th as never, PRNGKey(0), q), [null, 0, 0])(theta, tasks.config!, tasks.query);
    return tf.mean(losses).dataSync()[0]!;
  });
  const after = Array.from({ length: maxSteps }, (_, i) =>
    scope(() => maml(family, { lr, adaptationSteps: i + 1 }).metaLoss(theta as never, tasks).dataSync()[0]!),
  );
  return [pre, ...after];
}

export const round = (x: number, d = 5): number => Number(x.toPrecision(d));
