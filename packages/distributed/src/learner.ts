import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { Queue, Worker, type Job } from 'bullmq';
import { PRNGKey } from '@lopt/random';
import { isTensor, leaves, map } from '@lopt/tree';
import { initBackend } from '@lopt/transforms';
import { applyAggregatedGradient } from '@lopt/gradient-estimators';
import { readCheckpoint, writeCheckpoint, type SlotSnapshot } from './checkpoint.js';
import type { ResolvedConfig } from './config.js';
import { checkResultFields, connect, epochKey, fromB64, jobsQueue, PREFIX, resultsQueue, statusKey, thetaKey, workJobId, type ResultJob, type WorkJob } from './protocol.js';
import { buildTree, checkTree, readMessage, specOf, WireError, writeMessage } from './wire.js';
import { disposeTree } from './worker.js';

export interface LearnerOptions {
  readonly redisUrl: string;
  /** Where the atomic checkpoint lives; an existing one is resumed. */
  readonly checkpointDir: string;
  /** Outer steps to reach (default: the config's `steps`). */
  readonly steps?: number;
  readonly log?: (event: Record<string, unknown>) => void;
}

/** The learner's figures; `sent = applied + droppedStale + pending` when nothing is lost. */
export interface LearnerStats {
  step: number;
  version: number;
  /** Jobs enqueued (one per estimate asked for). */
  sent: number;
  /** Results taken off the results queue (valid or not). */
  received: number;
  applied: number;
  droppedStale: number;
  /** Valid results whose job had been started more than once (stalled worker, failure). */
  retried: number;
  /** Results for an estimate already handled (applied once, counted here). */
  duplicates: number;
  /** Results of a previous learner run (its jobs were re-issued from the checkpoint). */
  obsolete: number;
  /** Rejected messages by reason: malformed, oversize, structure, nonFinite. */
  rejected: Record<string, number>;
  /** Jobs waiting for a result at the end (one per slot). */
  pending: number;
  restarts: number;
  /** Outer steps skipped because the averaged estimate was not finite (never written into theta). */
  skippedNonFinite?: number;
  /** Seconds from the first job to the last step, and the learner's own seconds spent on results. */
  wallS: number;
  learnerS: number;
  metaLoss: number[];
}

const freshStats = (): LearnerStats => ({
  step: 0,
  version: 0,
  sent: 0,
  received: 0,
  applied: 0,
  droppedStale: 0,
  retried: 0,
  duplicates: 0,
  obsolete: 0,
  rejected: {},
  pending: 0,
  restarts: 0,
  wallS: 0,
  learnerS: 0,
  metaLoss: [],
});

/** sha256 of theta's values (leaf order, raw little-endian bytes): to show a resumed theta is the checkpoint's, bit for bit. */
export function thetaDigest(theta: unknown): string {
  const h = createHash('sha256');
  for (const l of leaves(theta)) if (isTensor(l)) h.update(new Uint8Array((l.dataSync() as Float32Array).slice().buffer));
  return h.digest('hex');
}

/**
 * `lopt-learner`: holds theta and the outer optimizer state, publishes theta versions, hands out
 * one job per slot, applies estimates within the staleness bound and checkpoints atomically.
 * Resolves with the figures when `steps` outer steps are done; rejects on a fatal error (e.g. the
 * Redis server lost the run's data).
 */
export async function runLearner(cfg: ResolvedConfig, opts: LearnerOptions): Promise<LearnerStats> {
  await initBackend(cfg.backend);
  const log = opts.log ?? ((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
  const steps = opts.steps ?? cfg.steps;
  const { learnedOptimizer: lopt, outerOptimizer: outer } = cfg;

  const theta0 = lopt.init(PRNGKey(cfg.seed));
  let outerState: unknown = outer.init(theta0);
  disposeTree(theta0, new Set(leaves(outerState).filter(isTensor)));
  const thetaSpec = specOf(outer.getParams(outerState), 'grad');
  const outerSpec = specOf(outerState, 'outer');
  let stats = freshStats();
  let slots: SlotSnapshot[] = Array.from({ length: cfg.slots }, () => ({ seq: 0, state: null }));
  const ckpt = await readCheckpoint(opts.checkpointDir, outerSpec, cfg.maxMessageBytes);
  if (ckpt) {
    if (ckpt.slots.length !== cfg.slots) throw new Error(`checkpoint has ${ckpt.slots.length} slots, the config ${cfg.slots}`);
    disposeTree(outerState);
    outerState = ckpt.outerState;
    slots = [...ckpt.slots];
    stats = { ...freshStats(), ...(ckpt.counters as Partial<LearnerStats>), step: ckpt.step, version: ckpt.version };
    stats.restarts++;
    // The checkpoint's pending jobs are sent again below; count each once.
    stats.sent -= stats.pending;
    log({ event: 'resumed', step: ckpt.step, version: ckpt.version, thetaSha256: thetaDigest(outer.getParams(outerState)) });
    if (stats.step >= steps) {
      log({ event: 'done', ...stats, metaLoss: undefined });
      disposeTree(outerState);
      return stats;
    }
  }

  const redis = connect(opts.redisUrl, 'lopt-learner');
  const jobs = new Queue<WorkJob>(jobsQueue(cfg.run), { connection: redis, prefix: PREFIX });
  const results = new Queue(resultsQueue(cfg.run), { connection: redis, prefix: PREFIX });
  const previous = Number((await redis.get(epochKey(cfg.run))) ?? 0);
  const epoch = Math.max(Date.now(), previous + 1);
  // A previous learner's jobs and results are obsolete: this run re-issues every slot's job.
  await jobs.drain(true);
  await results.drain(true);

  const publish = async () => {
    const bytes = writeMessage({ epoch, version: stats.version }, { theta: outer.getParams(outerState) });
    // One SET: readers see this version whole or the previous one.
    await redis.set(thetaKey(cfg.run), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
  const enqueue = async (slot: number) => {
    const s = slots[slot]!;
    await jobs.add('estimate', { epoch, slot, seq: s.seq, state: s.state }, { jobId: workJobId(epoch, slot, s.seq), attempts: 10, backoff: { type: 'fixed', delay: 200 }, removeOnComplete: true, removeOnFail: { count: 1000 } });
    stats.sent++;
  };
  const checkpoint = async (pending: number) => {
    stats.pending = pending;
    const { metaLoss: _m, ...counters } = stats;
    await writeCheckpoint(opts.checkpointDir, { step: stats.step, version: stats.version, outerState, slots, counters });
    log({ event: 'checkpoint', step: stats.step, version: stats.version });
  };

  await publish();
  await redis.set(epochKey(cfg.run), String(epoch));
  await redis.set(statusKey(cfg.run), 'running');
  const t0 = performance.now();
  const wallBefore = stats.wallS;
  for (let s = 0; s < cfg.slots; s++) await enqueue(s);
  log({ event: 'started', epoch, step: stats.step, version: stats.version, slots: cfg.slots });

  let buffer: unknown[] = [];
  let pendingLoss: number[] = [];
  let finish!: (s: LearnerStats) => void;
  let fail!: (e: Error) => void;
  const done = new Promise<LearnerStats>((res, rej) => {
    finish = res;
    fail = rej;
  });
  let stopped = false;

  const reject = (reason: string, detail: string, job: Job) => {
    stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1;
    log({ event: 'rejected', reason, detail, job: job.id });
  };

  const apply = async () => {
    const mean = buffer.length === 1 ? buffer[0] : map((...gs: tf.Tensor[]) => tf.tidy(() => tf.div(tf.addN(gs), gs.length)), buffer[0], ...buffer.slice(1));
    const meanLoss = tf.scalar(pendingLoss.reduce((a, b) => a + b, 0) / pendingLoss.length);
    // The MetaTrainer's update (checks the structure, skips a non-finite mean, disposes what it replaces).
    const up = applyAggregatedGradient(outer, { thetaOptState: outerState }, { thetaGrads: mean, meanLoss });
    outerState = up.state.thetaOptState;
    disposeTree([mean, buffer, meanLoss], new Set(leaves(outerState).filter(isTensor)));
    buffer = [];
    pendingLoss = [];
    if (!up.applied) {
      stats.skippedNonFinite = (stats.skippedNonFinite ?? 0) + 1;
      log({ event: 'skipped', reason: up.skippedReason });
      return;
    }
    stats.step++;
    stats.version++;
    await publish();
  };

  const handle = async (job: Job) => {
    if (stopped) return;
    const h0 = performance.now();
    stats.received++;
    try {
      const d = job.data as ResultJob & { state?: unknown; error?: unknown };
      if (typeof d?.error === 'string' && d.epoch === epoch && slots[d.slot]?.seq === d.seq) {
        stopped = true;
        fail(new Error(`slot ${d.slot}'s job ${d.seq} failed on all its ${d.attempt} attempts (last on ${String((d as { worker?: unknown }).worker)}): ${d.error}`));
        return;
      }
      const bad = checkResultFields(d, cfg.maxMessageBytes) ?? (typeof d.state !== 'string' ? 'state must be a base64 string' : d.state.length > Math.ceil((cfg.maxMessageBytes * 4) / 3) + 4 ? 'oversize: the worker state' : null);
      if (bad) return reject(bad.startsWith('oversize') ? 'oversize' : 'malformed', bad, job);
      // Every payload is validated first, whatever its ids say.
      let msg;
      try {
        msg = readMessage(fromB64(d.estimate), cfg.maxMessageBytes);
        checkTree(msg, 'grad', thetaSpec, { finite: true });
        if (typeof msg.meta.metaLoss !== 'number' || !Number.isFinite(msg.meta.metaLoss)) throw new WireError('nonFinite', `metaLoss is ${String(msg.meta.metaLoss)}`);
        readMessage(fromB64(d.state as string), cfg.maxMessageBytes);
      } catch (e) {
        if (e instanceof WireError) return reject(e.reason, e.message, job);
        throw e;
      }
      if (d.epoch !== epoch) {
        stats.obsolete++;
        return;
      }
      const slot = slots[d.slot];
      if (!slot) return reject('malformed', `slot ${d.slot} does not exist (${cfg.slots} slots)`, job);
      if (d.seq !== slot.seq) {
        if (d.seq > slot.seq) return reject('malformed', `slot ${d.slot} seq ${d.seq} was never sent`, job);
        stats.duplicates++;
        log({ event: 'duplicate', slot: d.slot, seq: d.seq });
        return;
      }
      if (d.thetaVersion > stats.version) return reject('malformed', `theta version ${d.thetaVersion} is newer than the learner's ${stats.version}`, job);
      if (d.attempt > 1) stats.retried++;
      const staleness = stats.version - d.thetaVersion;
      if (staleness > cfg.maxStaleness) {
        stats.droppedStale++;
      } else {
        buffer.push(buildTree(msg, 'grad', thetaSpec));
        stats.applied++;
        stats.metaLoss.push(msg.meta.metaLoss);
        pendingLoss.push(msg.meta.metaLoss);
      }
      slots[d.slot] = { seq: slot.seq + 1, state: d.state as string };
      let stepped = false;
      if (buffer.length >= cfg.estimatesPerStep) {
        await apply();
        stepped = true;
      }
      if (stats.step >= steps) {
        stopped = true;
        stats.wallS = wallBefore + (performance.now() - t0) / 1000;
        stats.learnerS += (performance.now() - h0) / 1000;
        await checkpoint(cfg.slots - 1);
        finish(stats);
        return;
      }
      await enqueue(d.slot);
      if (stepped && stats.step % cfg.checkpointEvery === 0) await checkpoint(cfg.slots);
    } finally {
      if (!stopped) stats.learnerS += (performance.now() - h0) / 1000;
    }
  };

  const worker = new Worker(resultsQueue(cfg.run), handle, { connection: connect(opts.redisUrl, 'lopt-learner-results'), prefix: PREFIX, concurrency: 1, drainDelay: 1, lockDuration: 60_000 });
  worker.on('error', (err) => log({ event: 'error', error: err.message }));
  worker.on('failed', (job, err) => {
    // A bug in handling must not pass silently, but never takes the learner down.
    log({ event: 'failed', job: job?.id, error: err.message });
  });

  // After a reconnect, the run's data must still be there; a server restarted without
  // persistence lost the jobs, and waiting would hang: stop with a clear error instead.
  let lostConnection = false;
  redis.on('close', () => (lostConnection = true));
  redis.on('ready', async () => {
    if (!lostConnection || stopped) return;
    lostConnection = false;
    const e = await redis.get(epochKey(cfg.run));
    if (e === String(epoch)) {
      log({ event: 'reconnected', step: stats.step });
      return;
    }
    stopped = true;
    fail(new Error(`the Redis server lost run ${cfg.run}'s data (it restarted without persistence, or was flushed); nothing was applied after step ${stats.step}. Restart lopt-learner: it resumes from its last checkpoint in ${opts.checkpointDir}. Run Redis with appendonly yes to survive restarts.`));
  });

  try {
    const out = await done;
    await redis.set(statusKey(cfg.run), 'done');
    await jobs.drain(true);
    log({ event: 'done', ...stats, metaLoss: undefined, metaLossFirst: stats.metaLoss[0], metaLossLast: stats.metaLoss.at(-1) });
    return out;
  } finally {
    await worker.close(true).catch(() => {});
    await jobs.close().catch(() => {});
    await results.close().catch(() => {});
    redis.disconnect();
    disposeTree([outerState, buffer]);
  }
}
