import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import { adam } from '@lopt/optimizers';
import { BACKENDS, runScript, useBackend } from '@lopt/test-utils';
import { flatten, isTensor } from '@lopt/tree';
import { MetaTrainer, type MetaTrainerState } from '../src/index.js';
import { workerPool, type WorkerPool } from '../src/node.js';
import { makeEstimators, metaInit, type Theta } from './fixtures/quadratic-estimators.js';

const MODULE = fileURLToPath(new URL('./fixtures/quadratic-estimators.ts', import.meta.url));
const stateValues = (s: MetaTrainerState) => flatten([s.gradientLearnerState, s.gradientEstimatorStates])[0].map((l) => (isTensor(l) ? Array.from(l.dataSync()) : l));

/** Trains `steps` meta-steps with the estimators in this thread or on a pool; returns every tensor's values. */
async function run(args: Parameters<typeof makeEstimators>[0], steps: number, pool?: WorkerPool) {
  const trainer = new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: adam(0.01), ...(pool ? { pool } : { gradientEstimators: makeEstimators(args) }) });
  const before = tf.memory().numTensors;
  const r = await trainer.train({ key: PRNGKey(21), steps });
  const values = stateValues(r.state);
  const losses = r.records.map((x) => x.metaLoss);
  trainer.dispose(r.state);
  expect(tf.memory().numTensors).toBe(before);
  return { values, losses };
}

describe.each(BACKENDS)('workerPool (%s)', (backend) => {
  beforeAll(() => useBackend(backend));
  const pools: WorkerPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  // 8 truncated estimators of 4 tasks (worker states carried across steps) and 2 plain ones.
  const args = { kind: 'mixed' as const, count: 10, tasks: 4 };
  const sizes = backend === 'cpu' ? [1, 2, 3] : [2];

  it(`is bit-identical to the in-thread run for N = ${sizes.join(', ')} workers`, async () => {
    const ref = await run(args, 4);
    for (const n of sizes) {
      const pool = await workerPool<Theta>({ workers: n, module: MODULE, factory: 'makeEstimators', args });
      pools.push(pool);
      expect(pool.estimatorNames).toEqual(makeEstimators(args).map((e) => e.name));
      const got = await run(args, 4, pool);
      expect(got.losses).toEqual(ref.losses);
      expect(got.values).toEqual(ref.values);
      // Every worker took part (dynamic scheduling: which one ran what does not matter).
      expect(pool.requestsPerWorker.every((k) => k > 0)).toBe(true);
      expect(pool.requestsPerWorker.reduce((a, b) => a + b, 0)).toBe(10 * 5);
    }
  });
});

describe('workerPool errors and shutdown', () => {
  beforeAll(() => useBackend('cpu'));

  it("a worker's error is reported with the worker's stack; the pool keeps working", async () => {
    const pool = await workerPool<Theta>({ workers: 2, module: MODULE, factory: 'makeEstimators', args: { kind: 'full', count: 2, throwOnCall: 2 } });
    try {
      const trainer = new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: adam(0.01), pool });
      let s = await trainer.init(PRNGKey(0));
      s = (await trainer.update(s)).state;
      const err = await trainer.update(s).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/^workerPool: worker \d failed on estimator 0 \(Quadratic#0\) in computeGradientEstimate: estimator 0 failed on call 2\n--- worker stack ---\nError: estimator 0 failed on call 2\n\s+at throwFromFixture \(.*quadratic-estimators\.ts/);
      trainer.dispose(s);
    } finally {
      await pool.close();
    }
  });

  it('bad modules and factories are clear errors, and no worker is left running', async () => {
    await expect(workerPool({ workers: 1, module: MODULE, factory: 'nope' })).rejects.toThrow(/could not build the estimators with nope\(\) from file:.*quadratic-estimators\.ts: .*has no exported function 'nope' \(exports: .*makeEstimators/);
    await expect(workerPool({ workers: 1, module: '/no/such/module.ts', factory: 'x' })).rejects.toThrow(/worker 0 could not build the estimators with x\(\) from file:\/\/\/no\/such\/module\.ts: .*Cannot find module/);
    await expect(workerPool({ workers: 1, module: MODULE, factory: 'metaInit' })).rejects.toThrow(/must return a non-empty array of GradientEstimators/);
    await expect(workerPool({ workers: 0, module: MODULE })).rejects.toThrow('workerPool: workers must be a positive integer, got 0');
  });

  it('the process exits cleanly after close, and also when close is forgotten', async () => {
    const script = fileURLToPath(new URL('./fixtures/pool-script.ts', import.meta.url));
    const [closedRun, forgotten] = await Promise.all([runScript(script, ['close'], { timeoutMs: 90_000 }), runScript(script, ['forget'], { timeoutMs: 90_000 })]);
    expect(closedRun.stderr).toBe('');
    expect(closedRun.code).toBe(0);
    expect(closedRun.stdout.trim()).toBe('2 workers, step 1 done, closed');
    expect(forgotten.code).toBe(0);
    expect(forgotten.stdout.trim()).toBe('2 workers, step 1 done, not closed');
  });
});
