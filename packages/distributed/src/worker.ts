import * as tf from '@tensorflow/tfjs';
import { Queue, Worker, type Job } from 'bullmq';
import { foldIn, PRNGKey, type Key } from '@lopt/random';
import { isTensor, leaves } from '@lopt/tree';
import { initBackend } from '@lopt/transforms';
import type { ResolvedConfig } from './config.js';
import { connect, epochKey, fromB64, jobsQueue, PREFIX, resultJobId, resultsQueue, thetaKey, toB64, type ResultJob, type WorkJob } from './protocol.js';
import { buildTree, readMessage, specOf, writeMessage, type TreeSpec } from './wire.js';

/** The key of chain `slot`'s worker-state init and of its job `seq` (the same on every retry). */
export const slotKey = (seed: number, slot: number): Key => foldIn(PRNGKey(seed), slot + 1);
export const initKey = (seed: number, slot: number): Key => foldIn(slotKey(seed, slot), 0);
export const jobKey = (seed: number, slot: number, seq: number): Key => foldIn(slotKey(seed, slot), seq + 1);

export interface WorkerOptions {
  readonly redisUrl: string;
  /** Shown in logs and results (default `worker-<pid>`). */
  readonly name?: string;
  /** One JSON object per event (default: a line on stdout). */
  readonly log?: (event: Record<string, unknown>) => void;
  /** Test hook: wait this long in the middle of each estimate (while holding the job). */
  readonly delayMs?: number;
}

export interface RunningWorker {
  /** Finishes the current job and disconnects. */
  close(): Promise<void>;
  /** Resolves when the worker has closed. */
  readonly closed: Promise<void>;
}

/** Disposes the tensors of `t`, except those in `keep` (an estimator may hand back theta's own tensors). */
export function disposeTree(t: unknown, keep: ReadonlySet<tf.Tensor> = new Set()): void {
  tf.dispose(leaves(t).filter((x): x is tf.Tensor => isTensor(x) && !keep.has(x)));
}

/** Templates (structure, shapes, dtypes) every incoming message is checked against. */
function templates(cfg: ResolvedConfig): { theta: TreeSpec; state: TreeSpec } {
  const theta = cfg.learnedOptimizer.init(PRNGKey(cfg.seed));
  const state = cfg.estimator.initWorkerState(theta, initKey(cfg.seed, 0));
  const out = { theta: specOf(theta, 'theta'), state: specOf(state, 'state') };
  disposeTree([theta, state]);
  return out;
}

/**
 * `lopt-worker`: takes jobs of the config's run, computes each estimate with the latest theta
 * and pushes it back. Holds no state between jobs except a decoded copy of the latest theta.
 */
export async function startWorker(cfg: ResolvedConfig, opts: WorkerOptions): Promise<RunningWorker> {
  await initBackend(cfg.backend);
  const name = opts.name ?? `worker-${process.pid}`;
  const log = opts.log ?? ((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
  const spec = templates(cfg);
  const redis = connect(opts.redisUrl, `lopt-${name}`);
  const results = new Queue(resultsQueue(cfg.run), { connection: redis, prefix: PREFIX });
  let cached: { epoch: number; version: number; theta: unknown; raw: Buffer; tensors: Set<tf.Tensor> } | null = null;

  const latestTheta = async (epoch: number) => {
    const raw = await redis.getBuffer(thetaKey(cfg.run));
    if (!raw) throw new Error(`no theta published for run ${cfg.run} yet`);
    if (cached && cached.raw.equals(raw)) return cached;
    const msg = readMessage(new Uint8Array(raw), cfg.maxMessageBytes);
    const e = msg.meta.epoch;
    const v = msg.meta.version;
    if (typeof e !== 'number' || typeof v !== 'number') throw new Error('theta message without epoch and version');
    if (e !== epoch) throw new Error(`theta is from learner epoch ${e}, the job from ${epoch}; retrying`);
    const theta = buildTree(msg, 'theta', spec.theta, { finite: true });
    if (cached) disposeTree(cached.theta);
    cached = { epoch: e, version: v, theta, raw, tensors: new Set(leaves(theta).filter(isTensor)) };
    return cached;
  };

  const process_ = async (job: Job<WorkJob>) => {
    const d = job.data;
    const current = Number((await redis.get(epochKey(cfg.run))) ?? 0);
    if (d.epoch < current) {
      log({ event: 'obsolete', worker: name, job: job.id });
      return 'obsolete';
    }
    const th = await latestTheta(d.epoch);
    log({ event: 'start', worker: name, job: job.id, slot: d.slot, seq: d.seq, thetaVersion: th.version, attempt: job.attemptsStarted });
    const t0 = performance.now();
    const state = d.state === null ? cfg.estimator.initWorkerState(th.theta, initKey(cfg.seed, d.slot)) : buildTree(readMessage(fromB64(d.state), cfg.maxMessageBytes), 'state', spec.state);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    let estimate: Uint8Array;
    let nextState: Uint8Array;
    let metaLoss: number;
    try {
      const out = cfg.estimator.computeGradientEstimate(th.theta, jobKey(cfg.seed, d.slot, d.seq), state);
      metaLoss = out.metaLoss.dataSync()[0]!;
      estimate = writeMessage({ metaLoss }, { grad: out.grad });
      nextState = writeMessage({}, { state: out.state });
      disposeTree([out.grad, out.metaLoss, out.state], new Set([...th.tensors, ...leaves(state).filter(isTensor)]));
    } finally {
      disposeTree(state, th.tensors);
    }
    const r: ResultJob & { state: string } = {
      epoch: d.epoch,
      slot: d.slot,
      seq: d.seq,
      thetaVersion: th.version,
      attempt: job.attemptsStarted,
      worker: name,
      estimate: toB64(estimate),
      state: toB64(nextState),
      computeS: (performance.now() - t0) / 1000,
    };
    await results.add('result', r, { jobId: resultJobId(d.epoch, d.slot, d.seq), removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } });
    log({ event: 'done', worker: name, job: job.id, slot: d.slot, seq: d.seq, metaLoss });
    return 'ok';
  };

  // A job that fails on its last attempt is reported to the learner, which stops with the reason
  // (otherwise its chain would wait forever).
  const guarded = async (job: Job<WorkJob>) => {
    try {
      return await process_(job);
    } catch (e) {
      if (job.attemptsStarted >= (job.opts.attempts ?? 1)) {
        const d = job.data;
        await results.add('failure', { epoch: d.epoch, slot: d.slot, seq: d.seq, error: (e as Error).message, attempt: job.attemptsStarted, worker: name }, { jobId: `f-${d.epoch}-${d.slot}-${d.seq}`, removeOnComplete: { count: 1000 } });
      }
      throw e;
    }
  };
  const worker = new Worker<WorkJob>(jobsQueue(cfg.run), guarded, {
    connection: redis,
    prefix: PREFIX,
    concurrency: 1,
    lockDuration: cfg.lockMs,
    stalledInterval: cfg.stalledCheckMs,
    maxStalledCount: 5,
    drainDelay: 1,
  });
  worker.on('failed', (job, err) => log({ event: 'failed', worker: name, job: job?.id, error: err.message }));
  worker.on('error', (err) => log({ event: 'error', worker: name, error: err.message }));
  await worker.waitUntilReady();
  log({ event: 'ready', worker: name, run: cfg.run });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | null = null;
  return {
    closed,
    close: () =>
      (closing ??= (async () => {
        await worker.close();
        await results.close();
        redis.disconnect();
        if (cached) disposeTree(cached.theta);
        resolveClosed();
      })()),
  };
}
