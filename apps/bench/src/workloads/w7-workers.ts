/**
 * W7: meta-training on all cores of one machine. One MetaTrainer step of antithetic FullES with
 * 32 pairs as 2 estimators × 16 pairs (the no-dependency notebook's ES on the Fashion-MNIST 8×8
 * MLP task with its per-parameter MLP learned optimizer, 10-step unrolls), the estimators in this
 * thread (`w7-es-in-process`) or on a 2-worker `workerPool` (`w7-es-workers`). Both give the same
 * theta bit for bit; the ratio of their times is the pool's speed-up. This module is also the
 * pool's estimator module (`makeW7Estimators`).
 */
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { PRNGKey } from '@lopt/random';
import { initBackend } from '@lopt/transforms';
import { flatten, isTensor } from '@lopt/tree';
import { adam } from '@lopt/optimizers';
import { fashionMnistMlpTask } from '@lopt/tasks';
import { PerParamMLPLOpt } from '@lopt/learned-optimizers';
import { FullES, MetaTrainer, VectorizedLOptTruncatedStep, type GradientEstimator, type MetaTrainerState } from '@lopt/gradient-estimators';
import { workerPool, type WorkerPool } from '@lopt/gradient-estimators/node';
import type { Workload, WorkloadInstance } from '../workload.js';

export interface W7Args {
  /** Estimators (each a FullES). */
  readonly count: number;
  /** Antithetic pairs per estimator. */
  readonly pairs: number;
  readonly unrollLength: number;
}

export const W7_FULL: W7Args = { count: 2, pairs: 16, unrollLength: 10 };
export const W7_QUICK: W7Args = { count: 2, pairs: 4, unrollLength: 5 };

/** The estimator factory every worker (and the in-process run) calls. */
export async function makeW7Estimators(args: W7Args): Promise<GradientEstimator[]> {
  const task = await fashionMnistMlpTask();
  const lopt = new PerParamMLPLOpt();
  return Array.from(
    { length: args.count },
    () => new FullES({ truncatedStep: new VectorizedLOptTruncatedStep({ task, learnedOpt: lopt, numTasks: args.pairs, unrollLength: args.unrollLength }), std: 0.001, numPairs: args.pairs }),
  );
}

/** A MetaTrainer over the W7 estimators, in this thread (workers = 0) or on a pool; `step()` is one meta-step. */
export async function w7Trainer(args: W7Args, workers: number): Promise<WorkloadInstance & { trainer: MetaTrainer; state(): MetaTrainerState; pool?: WorkerPool }> {
  const pool = workers > 0 ? await workerPool({ workers, module: new URL(import.meta.url), factory: 'makeW7Estimators', args }) : undefined;
  const trainer = new MetaTrainer({ metaInit: new PerParamMLPLOpt(), thetaOpt: adam(3e-3), ...(pool ? { pool } : { gradientEstimators: await makeW7Estimators(args) }) });
  let state = await trainer.init(PRNGKey(0));
  return {
    trainer,
    ...(pool ? { pool } : {}),
    state: () => state,
    async step() {
      state = (await trainer.update(state)).state;
    },
    dispose() {
      trainer.dispose(state);
      void pool?.close();
    },
  };
}

const w7 = (id: string, workers: number, title: string): Workload => ({
  id,
  title,
  jittable: false,
  // The cpu backend takes ~10 s per step here: the speed-up is measured where users would run it.
  backends: ['wasm', 'tensorflow'],
  offThread: workers > 0,
  repeats: 5,
  setup: ({ quick }) => w7Trainer(quick ? W7_QUICK : W7_FULL, workers),
});

export const w7EsInProcess = w7('w7-es-in-process', 0, "No dependency introduction to learned optimizers in JAX: one MetaTrainer step of FullES, 2 estimators × 16 antithetic pairs, 10-step unrolls, in this thread");
export const w7EsWorkers = w7('w7-es-workers', 2, "No dependency introduction to learned optimizers in JAX: the same FullES MetaTrainer step (2 × 16 pairs) on a 2-worker workerPool (worker_threads)");

/**
 * Times `repeats` meta-steps (after one warm-up) in this thread and on 2 workers: the minimum
 * wall-clock time, the process CPU time (all threads) of that step, and whether both runs end
 * with the same theta bit for bit.
 */
export async function measureW7(args: W7Args, repeats = 3, workers = 2) {
  const out: Record<string, { wallMin: number; cpuAtMin: number; walls: number[] }> = {};
  const thetas: number[][] = [];
  for (const n of [0, workers]) {
    const w = await w7Trainer(args, n);
    await w.step();
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await w.step();
      walls.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1e6);
    }
    thetas.push(flatten(w.trainer.getMetaParams(w.state()))[0].flatMap((l) => (isTensor(l) ? Array.from(l.dataSync()) : [])));
    const wallMin = Math.min(...walls);
    out[n === 0 ? 'inProcess' : `workers${n}`] = { wallMin, cpuAtMin: cpus[walls.indexOf(wallMin)]!, walls };
    w.dispose();
    await w.pool?.close();
  }
  const identical = thetas[0]!.length === thetas[1]!.length && thetas[0]!.every((x, i) => Object.is(x, thetas[1]![i]));
  return { ...out, identical, speedup: out.inProcess!.wallMin / out[`workers${workers}`]!.wallMin };
}

// `npx tsx --tsconfig tsconfig.json apps/bench/src/workloads/w7-workers.ts [wasm|cpu] [quick] [repeats]`
// (the workers load this module too: only the main thread measures).
if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [backend = 'wasm', size = 'full', repeats = '3'] = process.argv.slice(2);
  await initBackend(backend);
  console.log(JSON.stringify({ backend, ...(await measureW7(size === 'quick' ? W7_QUICK : W7_FULL, Number(repeats))) }, null, 1));
}
