// The learner / worker protocol against a real redis-server: 1 learner and 3 workers as separate
// processes, then the faults (duplicate, malformed and oversize messages, server restart with and
// without its data, learner restart from its checkpoint, worker killed mid-unroll).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import { redisMissing, spawnScript, startRedis, type RedisServer, type SpawnedScript } from '@lopt/test-utils';
import { PREFIX, readCheckpoint, resolveConfig, resultsQueue, runLearner, specOf, thetaDigest, writeMessage, type LearnerStats, type ResolvedConfig } from '../src/index.js';
import { toB64 } from '../src/protocol.js';
import fixture, { A } from './fixtures/config.js';

const RUN = 'itest';
const CONFIG = 'packages/distributed/test/fixtures/config.ts';
const WORKER = 'packages/distributed/src/cli/worker.ts';
const LEARNER = 'packages/distributed/src/cli/learner.ts';
const missing = redisMissing();
if (missing) console.log(`skipped: ${missing}`);

/** Every estimate sent was applied, dropped as stale, or is the pending job of a slot. */
function expectNothingLost(s: LearnerStats, slots = 3): void {
  expect(s.sent).toBe(s.applied + s.droppedStale + s.pending);
  expect(s.pending).toBe(slots - 1);
  expect(s.applied).toBeGreaterThanOrEqual(s.step);
}

describe.skipIf(missing !== null)('distributed meta-training on a real Redis server', () => {
  let redis: RedisServer;
  let client: Redis;
  const workers: SpawnedScript[] = [];
  const dirs: string[] = [];
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'lopt-dist-'));
    dirs.push(d);
    return d;
  };
  const cfg = (over: Partial<ResolvedConfig> = {}): ResolvedConfig => ({ ...resolveConfig({ ...fixture, run: RUN }), ...over });
  const events: Array<Record<string, unknown>> = [];
  const learner = (steps: number, dir: string, over: Partial<ResolvedConfig> = {}, log = (e: Record<string, unknown>) => void events.push(e)) =>
    runLearner(cfg(over), { redisUrl: redis.url, checkpointDir: dir, steps, log });
  const env = () => ({ LOPT_REDIS_URL: redis.url, LOPT_TEST_RUN: RUN });
  const jobsDone = (w: SpawnedScript, epoch: number) => w.lines.filter((l) => l.includes('"event":"done"') && l.includes(`"job":"w-${epoch}-`)).length;
  const waitEvent = async (pred: (e: Record<string, unknown>) => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const e = events.find(pred);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('event not seen');
  };
  const theta = async (dir: string) => {
    const c = cfg();
    const spec = specOf(c.outerOptimizer.init(c.learnedOptimizer.init(PRNGKey(0))), 'outer');
    const ck = await readCheckpoint<{ params: { log_lr: tf.Scalar } }>(dir, spec, 1 << 20);
    return ck!;
  };

  beforeAll(async () => {
    tf.setBackend('cpu');
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    for (const name of ['w1', 'w2', 'w3']) workers.push(spawnScript(WORKER, ['--config', CONFIG, '--name', name, '--delay-ms', '100'], { env: { ...env(), LOPT_TEST_LOCK_MS: '2000' } }));
    await Promise.all(workers.map((w) => w.waitFor((l) => l?.event === 'ready', 150_000)));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    client?.disconnect();
    await redis?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('1 learner and 3 worker processes meta-learn the learning rate (closed-form optimum lr = 1/a)', async () => {
    const dir = await tempDir();
    const l = spawnScript(LEARNER, ['--config', CONFIG, '--checkpoint-dir', dir, '--steps', '40'], { env: env() });
    const done = await l.waitFor((e) => e?.event === 'done', 150_000);
    expect((await l.exited).code).toBe(0);
    expectNothingLost(done);
    expect([done.step, done.rejected, done.duplicates]).toEqual([40, {}, 0]);
    const epoch = (await l.waitFor((e) => e?.event === 'started')).epoch as number;
    // Every worker took part.
    for (const w of workers) expect(jobsDone(w, epoch)).toBeGreaterThan(0);
    // From lr = 0.1 towards 1/a = 0.5; the meta-loss falls.
    const ck = await theta(dir);
    const lr = Math.exp(ck.outerState.params.log_lr.dataSync()[0]!);
    expect(Math.abs(lr - 1 / A)).toBeLessThan(Math.abs(0.1 - 1 / A) / 2);
    expect(done.metaLossLast).toBeLessThan(done.metaLossFirst);
    console.log(`1 learner + 3 workers: sent ${done.sent}, applied ${done.applied}, dropped as stale ${done.droppedStale}, retried ${done.retried}, pending ${done.pending}; lr 0.1 -> ${lr.toFixed(4)} (optimum ${1 / A})`);
  }, 180_000);

  it('rejects malformed and oversize messages, counting each, and goes on', async () => {
    const dir = await tempDir();
    events.length = 0;
    const results = new Queue(resultsQueue(RUN), { connection: client, prefix: PREFIX });
    const run = learner(12, dir);
    const started = await waitEvent((e) => e.event === 'started');
    const epoch = started.epoch as number;
    const good = { epoch, slot: 0, seq: 0, thetaVersion: 0, attempt: 1, worker: 'forger', computeS: 0 };
    const grad = (x: unknown) => toB64(writeMessage({ metaLoss: 1 }, { grad: x }));
    const state = toB64(writeMessage({}, { state: {} }));
    const bad: Array<[string, unknown]> = [
      ['not an object', 'hello'],
      ['garbage payload', { ...good, estimate: 'AAAA////', state }],
      ['wrong leaf name', { ...good, estimate: grad({ lr: tf.scalar(1) }), state }],
      ['wrong shape', { ...good, estimate: grad({ log_lr: tf.zeros([2]) }), state }],
      ['wrong dtype', { ...good, estimate: grad({ log_lr: tf.scalar(1, 'int32') }), state }],
      ['NaN gradient', { ...good, estimate: grad({ log_lr: tf.scalar(NaN) }), state }],
      ['oversize', { ...good, estimate: 'A'.repeat(200_000), state }],
      ['unknown slot', { ...good, slot: 99, estimate: grad({ log_lr: tf.scalar(1) }), state }],
    ];
    // Pushed while every slot still waits for job 0 (the workers take 100 ms per estimate).
    await results.addBulk(bad.map(([name, data]) => ({ name: 'result', data, opts: { jobId: `bad-${name.replace(/ /g, '_')}` } })));
    const stats = await run;
    expect(stats.rejected).toEqual({ malformed: 3, structure: 3, nonFinite: 1, oversize: 1 });
    await results.close();
    expectNothingLost(stats);
    console.log(`rejected ${JSON.stringify(stats.rejected)}; the learner went on to step ${stats.step}`);
  }, 120_000);

  it('applies a result that arrives twice exactly once', async () => {
    const dir = await tempDir();
    events.length = 0;
    const results = new Queue(resultsQueue(RUN), { connection: client, prefix: PREFIX });
    let copied = false;
    const run = learner(15, dir);
    const epoch = (await waitEvent((e) => e.event === 'started')).epoch as number;
    // Copy the first real result under another job id (BullMQ's own dedup by job id does not catch it; the learner must).
    while (!copied) {
      const first = (await results.getCompleted(0, 100)).find((j) => j.id?.startsWith(`r-${epoch}-`));
      if (first) {
        await results.add('result', first.data, { jobId: `copy-${first.id}` });
        copied = true;
      } else await new Promise((r) => setTimeout(r, 20));
    }
    const stats = await run;
    await results.close();
    expect(stats.duplicates).toBe(1);
    expect(events.filter((e) => e.event === 'duplicate')).toHaveLength(1);
    expectNothingLost(stats);
    console.log(`duplicate: sent ${stats.sent}, applied ${stats.applied}, duplicates ${stats.duplicates}`);
  }, 120_000);

  it('continues across a server restart (append-only file), and stops with a clear error when the server lost the data', async () => {
    const dir = await tempDir();
    events.length = 0;
    const run = learner(40, dir);
    await waitEvent((e) => e.event === 'checkpoint' && (e.step as number) >= 5);
    await redis.restart();
    const stats = await run;
    expect(events.some((e) => e.event === 'reconnected')).toBe(true);
    expectNothingLost(stats);
    expect(stats.step).toBe(40);
    console.log(`server restart: continued to step ${stats.step}; sent ${stats.sent}, applied ${stats.applied}, stale ${stats.droppedStale}, retried ${stats.retried}`);

    events.length = 0;
    const dir2 = await tempDir();
    const run2 = learner(1000, dir2);
    await waitEvent((e) => e.event === 'checkpoint');
    await redis.restart({ wipe: true });
    await expect(run2).rejects.toThrow(`the Redis server lost run ${RUN}'s data (it restarted without persistence, or was flushed)`);
    const ck = await theta(dir2);
    // What is on disk is a whole checkpoint of a step the learner reached.
    expect(ck.step % 5).toBe(0);
    expect(ck.step).toBeGreaterThanOrEqual(5);
  }, 150_000);

  it('resumes from its last atomic checkpoint after the learner is killed, with theta bit for bit the checkpoint', async () => {
    const dir = await tempDir();
    const a = spawnScript(LEARNER, ['--config', CONFIG, '--checkpoint-dir', dir, '--steps', '60'], { env: { ...env(), LOPT_TEST_CKPT_EVERY: '5' } });
    await a.waitFor((e) => e?.event === 'checkpoint' && e.step >= 10, 150_000);
    a.child.kill('SIGKILL');
    await a.exited;
    const ck = await theta(dir);
    const want = thetaDigest(ck.outerState.params);
    const b = spawnScript(LEARNER, ['--config', CONFIG, '--checkpoint-dir', dir, '--steps', '60'], { env: { ...env(), LOPT_TEST_CKPT_EVERY: '5' } });
    const resumed = await b.waitFor((e) => e?.event === 'resumed', 150_000);
    expect([resumed.step, resumed.thetaSha256]).toEqual([ck.step, want]);
    const done = await b.waitFor((e) => e?.event === 'done', 150_000);
    expect((await b.exited).code).toBe(0);
    expect([done.step, done.restarts]).toEqual([60, 1]);
    expectNothingLost(done);
    // The workers, never restarted, took the new learner's jobs.
    const epoch = (await b.waitFor((e) => e?.event === 'started')).epoch as number;
    expect(workers.reduce((n, w) => n + jobsDone(w, epoch), 0)).toBeGreaterThan(0);
    console.log(`learner restart: resumed at step ${ck.step}; sent ${done.sent}, applied ${done.applied}, stale ${done.droppedStale}, obsolete ${done.obsolete}`);
  }, 240_000);

  it('retries the job of a worker killed mid-unroll elsewhere: nothing lost, nothing applied twice', async () => {
    const dir = await tempDir();
    events.length = 0;
    const run = learner(80, dir);
    const epoch = (await waitEvent((e) => e.event === 'started')).epoch as number;
    const victim = workers[2]!;
    const start = await victim.waitFor((l) => l?.event === 'start' && String(l.job).startsWith(`w-${epoch}-`) && l.seq >= 1, 60_000);
    victim.child.kill('SIGKILL');
    await victim.exited;
    expect(victim.lines.some((l) => l.includes(`"event":"done"`) && l.includes(`"job":"${start.job}"`))).toBe(false);
    const stats = await run;
    // Another worker ran the same job (second attempt), once.
    const redone = workers.slice(0, 2).flatMap((w) => w.lines.filter((l) => l.includes(`"event":"done"`) && l.includes(`"job":"${start.job}"`)));
    expect(redone).toHaveLength(1);
    expect(stats.retried).toBeGreaterThanOrEqual(1);
    expect(stats.duplicates).toBe(0);
    expectNothingLost(stats);
    console.log(`worker killed: job ${start.job} retried elsewhere; sent ${stats.sent}, applied ${stats.applied}, stale ${stats.droppedStale}, retried ${stats.retried}`);
  }, 120_000);
});
