/**
 * The learner / worker protocol over Redis with BullMQ (learned_optimization's
 * GradientLearner / worker split):
 *
 * - the learner holds theta and publishes each version with one `SET` of a self-checking
 *   message ({@link thetaKey}), so a reader sees a whole version or an error, never half of one;
 * - the `jobs` queue holds one job per unroll chain ("slot"): (epoch, slot, seq, worker state);
 *   the job's key is derived from (seed, slot, seq), so a retried job computes the same estimate;
 * - a worker takes a job, pulls the latest theta, runs the estimator and adds a result to the
 *   `results` queue with a job id made of (epoch, slot, seq), so a retried job's result is
 *   de-duplicated by BullMQ and again by the learner;
 * - the learner applies estimates whose staleness is within the bound, drops the rest (counted),
 *   and enqueues the slot's next job with the new worker state. A killed worker's job is moved
 *   back to the queue by BullMQ's stalled-job check and runs elsewhere.
 */
import { Redis } from 'ioredis';

export const PREFIX = 'lopt';

export const jobsQueue = (run: string) => `${run}-jobs`;
export const resultsQueue = (run: string) => `${run}-results`;
/** The latest theta (a wire message with meta {epoch, version}). */
export const thetaKey = (run: string) => `${PREFIX}:${run}:theta`;
/** The learner's current epoch (one per learner start); jobs of older epochs are obsolete. */
export const epochKey = (run: string) => `${PREFIX}:${run}:epoch`;
/** 'running' | 'done'. */
export const statusKey = (run: string) => `${PREFIX}:${run}:status`;
export const resultJobId = (epoch: number, slot: number, seq: number) => `r-${epoch}-${slot}-${seq}`;
export const workJobId = (epoch: number, slot: number, seq: number) => `w-${epoch}-${slot}-${seq}`;

/** A job: compute the estimate of chain `slot`, step `seq`, from worker state `state` (base64 wire message; null: init it). */
export interface WorkJob {
  readonly epoch: number;
  readonly slot: number;
  readonly seq: number;
  readonly state: string | null;
}

/** A result: the estimate (base64 wire message with trees grad and state, meta metaLoss) and which theta it used. */
export interface ResultJob {
  readonly epoch: number;
  readonly slot: number;
  readonly seq: number;
  readonly thetaVersion: number;
  /** How many times the job was started (more than 1: it was retried after a stall or failure). */
  readonly attempt: number;
  readonly worker: string;
  readonly estimate: string;
  /** Seconds the estimator ran. */
  readonly computeS: number;
}

const isInt = (x: unknown, min = 0): x is number => typeof x === 'number' && Number.isInteger(x) && x >= min;

/** Validates a result's fields (not its payload); returns a reason or null. */
export function checkResultFields(d: unknown, maxBytes: number): string | null {
  if (typeof d !== 'object' || d === null) return 'the result is not an object';
  const r = d as Record<string, unknown>;
  for (const f of ['epoch', 'slot', 'seq', 'thetaVersion'] as const) if (!isInt(r[f])) return `${f} must be a non-negative integer, got ${JSON.stringify(r[f])}`;
  if (!isInt(r.attempt, 1)) return `attempt must be a positive integer`;
  if (typeof r.estimate !== 'string') return 'estimate must be a base64 string';
  // Checked before decoding: base64 is 4/3 of the bytes.
  if (r.estimate.length > Math.ceil((maxBytes * 4) / 3) + 4) return `oversize: the estimate is ${r.estimate.length} base64 characters, over the ${maxBytes}-byte limit`;
  return null;
}

export const toB64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
export const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** An ioredis connection as BullMQ wants it (commands wait across reconnects instead of failing). */
export function connect(url: string, name: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: name, retryStrategy: (n) => Math.min(100 * n, 1000) });
  // ioredis reconnects by itself; the learner and workers report connection errors through BullMQ's 'error' events.
  r.on('error', () => {});
  return r;
}
