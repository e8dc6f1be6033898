/**
 * MetaTrainer: learned_optimization's SingleMachineGradientLearner (a GradientLearner plus
 * gradient_worker_compute over the estimators) with a training loop around it: validation on
 * held-out tasks, progress callbacks, a metrics log and atomic checkpoints that resume bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { foldIn, isKey, PRNGKey, split, type Key } from '@lopt/random';
import type { GradientTransformation, Optimizer } from '@lopt/optimizers';
import { flatten, isTensor } from '@lopt/tree';
import type { GradientEstimator } from '../base.js';
import { decodeCheckpoint, encodeCheckpoint, type MetaTrainerCheckpoint } from './checkpoint.js';
import { aggregateEstimates, applyAggregatedGradient, estimatorKeys, GradientLearner, type GradientLearnerState, type MetaInitializer } from './gradient-learner.js';
import { inProcessPool, type EstimatorPool } from './pool.js';
import type { CheckpointStore, MetricsSink } from './store.js';

/** SingleMachineState plus the step count, the run key and the skipped-step count. */
export interface MetaTrainerState<S = any, W = any> {
  readonly step: number;
  readonly key: Key;
  readonly gradientLearnerState: GradientLearnerState<S>;
  readonly gradientEstimatorStates: readonly W[];
  readonly skipped: number;
}

/** What one meta-step did (passed to `onStep`, written to the log). */
export interface MetaStepRecord {
  /** Meta-steps done after this one. */
  readonly step: number;
  /** Mean meta-loss over the estimators. */
  readonly metaLoss: number;
  /** Global norm of the averaged meta-gradient. */
  readonly thetaGradNorm: number;
  /** False when the meta-gradient was not finite and was not applied. */
  readonly applied: boolean;
  readonly skippedReason?: string;
  /** Steps skipped so far in this run. */
  readonly skippedTotal: number;
  /** The validation meta-loss, on steps where it was computed. */
  readonly validationMetaLoss?: number;
  /** The checkpoint written after this step, if any. */
  readonly checkpoint?: string;
  /** Seconds this step took (estimates + update). */
  readonly seconds: number;
  /** Per-estimator metrics: `<index>/<name>/metaLoss`, and what the estimators report. */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface MetaTrainerValidation<T> {
  /** Every how many meta-steps (after steps k, 2k, ...). */
  readonly every: number;
  /** The meta-loss of theta on held-out tasks (sampled from `key`, the same key each time). */
  metaLoss(theta: T, key: Key): tf.Scalar | number | Promise<tf.Scalar | number>;
  /** Default: `foldIn(runKey, 0x7fffffff)`, fixed for the run. */
  readonly key?: Key;
}

export interface MetaTrainerOptions<T> {
  /** Makes the initial theta (a LearnedOptimizer, or any `{init(key)}`). */
  readonly metaInit: MetaInitializer<T>;
  /** The optimizer of theta: an Optimizer, or an optax GradientTransformation such as `adam(1e-3)`. */
  readonly thetaOpt: Optimizer<any, T> | GradientTransformation<any>;
  /** The estimators, run in this thread in order; or give `pool`. */
  readonly gradientEstimators?: readonly GradientEstimator<T, any>[];
  /** Where the estimators run (e.g. `workerPool` from the node entry); their order is the pool's. */
  readonly pool?: EstimatorPool<T, any>;
  /** Meta-training length passed to the theta optimizer's init (for schedules). */
  readonly numSteps?: number;
  readonly validation?: MetaTrainerValidation<T>;
  /** Checkpoint after every `every` steps and at the end of `train`. */
  readonly checkpoint?: { readonly store: CheckpointStore; readonly every: number; readonly metadata?: Readonly<Record<string, string>> };
  /** One record per step (e.g. `jsonLinesLog(path)` from the node entry). */
  readonly log?: MetricsSink;
  /** Called after every step. */
  readonly onStep?: (record: MetaStepRecord) => unknown;
}

export interface TrainOptions {
  /** The run's key (required unless resuming from a checkpoint, which holds it). */
  readonly key?: Key;
  /** Train until this many meta-steps are done in total. */
  readonly steps: number;
  /**
   * Continue from the latest checkpoint in the store (`true`), or from the named one; starts
   * fresh when `true` and the store is empty. A checkpoint that cannot be read is an error.
   */
  readonly resume?: boolean | string;
  /** Continue from this in-memory state instead (it is consumed). */
  readonly state?: MetaTrainerState;
}

export interface TrainResult<S, W> {
  readonly state: MetaTrainerState<S, W>;
  readonly records: MetaStepRecord[];
}

const VALIDATION_FOLD = 0x7fffffff;

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

async function scalarOf(x: tf.Scalar | number | Promise<tf.Scalar | number>): Promise<number> {
  const v = await x;
  if (typeof v === 'number') return v;
  try {
    return (await v.data())[0]!;
  } finally {
    v.dispose();
  }
}

/** learned_optimization's SingleMachineGradientLearner with the training loop of a meta-trainer. */
export class MetaTrainer<T = any, S = any, W = any> {
  readonly gradientLearner: GradientLearner<T, S>;
  readonly pool: EstimatorPool<T, W>;
  private readonly opts: MetaTrainerOptions<T>;

  constructor(opts: MetaTrainerOptions<T>) {
    if (typeof opts?.metaInit?.init !== 'function') throw new Error('MetaTrainer: metaInit must have init(key) (e.g. a LearnedOptimizer)');
    if (opts.pool && opts.gradientEstimators) throw new Error('MetaTrainer: give gradientEstimators or pool, not both');
    if (!opts.pool && !opts.gradientEstimators) throw new Error('MetaTrainer: gradientEstimators (a non-empty array) or pool is required');
    const v = opts.validation;
    if (v && (!Number.isInteger(v.every) || v.every < 1 || typeof v.metaLoss !== 'function')) {
      throw new Error(`MetaTrainer: validation needs every (a positive integer, got ${v.every}) and metaLoss(theta, key)`);
    }
    const c = opts.checkpoint;
    if (c && (!Number.isInteger(c.every) || c.every < 1 || typeof c.store?.save !== 'function')) {
      throw new Error(`MetaTrainer: checkpoint needs store (a CheckpointStore) and every (a positive integer, got ${c.every})`);
    }
    this.opts = opts;
    this.gradientLearner = new GradientLearner<T, S>(opts.metaInit, opts.thetaOpt, opts.numSteps);
    this.pool = (opts.pool ?? inProcessPool(opts.gradientEstimators!)) as EstimatorPool<T, W>;
  }

  get estimatorNames(): readonly string[] {
    return this.pool.estimatorNames;
  }

  /** SingleMachineGradientLearner.init: theta from `split(key)[0]`, worker states from `split(split(key)[1], n)`. */
  async init(key: Key): Promise<MetaTrainerState<S, W>> {
    if (!isKey(key)) throw new Error('MetaTrainer.init: key must be a Key from @lopt/random');
    const [k1, k2] = split(key);
    const gradientLearnerState = this.gradientLearner.init(k1!);
    const theta = this.getMetaParams({ gradientLearnerState });
    const gradientEstimatorStates = await this.pool.initWorkerStates(theta, estimatorKeys(k2!, this.estimatorNames.length));
    return { step: 0, key, gradientLearnerState, gradientEstimatorStates, skipped: 0 };
  }

  getMetaParams(state: Pick<MetaTrainerState<S, W>, 'gradientLearnerState'>): T {
    return this.gradientLearner.getMetaParams(state.gradientLearnerState);
  }

  /**
   * One meta-step: every estimator at `foldIn(key, step)`'s keys, the average in estimator
   * order, applied unless it is not finite. Consumes `state` (its replaced tensors are disposed).
   */
  async update(state: MetaTrainerState<S, W>): Promise<{ state: MetaTrainerState<S, W>; record: MetaStepRecord }> {
    const t0 = now();
    const [kCompute, kUpdate] = split(foldIn(state.key, state.step));
    const theta = this.getMetaParams(state);
    const keys = estimatorKeys(kCompute!, this.estimatorNames.length);
    const estimates = await this.pool.computeEstimates(theta, keys, state.gradientEstimatorStates);
    const out = aggregateEstimates(theta, estimates, this.estimatorNames);
    let learner;
    try {
      learner = applyAggregatedGradient(this.gradientLearner.thetaOpt, state.gradientLearnerState, out.toPut, { key: kUpdate!, finite: out.finite });
    } finally {
      tf.dispose(flatten(out.toPut)[0].filter(isTensor));
    }
    const skipped = state.skipped + (learner.applied ? 0 : 1);
    const next: MetaTrainerState<S, W> = { step: state.step + 1, key: state.key, gradientLearnerState: learner.state, gradientEstimatorStates: out.unrollStates, skipped };
    const record: MetaStepRecord = {
      step: next.step,
      metaLoss: learner.metrics.meanLoss!,
      thetaGradNorm: learner.metrics.thetaGradNorm!,
      applied: learner.applied,
      ...(learner.skippedReason ? { skippedReason: learner.skippedReason } : {}),
      skippedTotal: skipped,
      seconds: (now() - t0) / 1000,
      metrics: out.metrics,
    };
    return { state: next, record };
  }

  /** The validation meta-loss of the state's theta (needs `validation` in the options). */
  async validate(state: MetaTrainerState<S, W>): Promise<number> {
    const v = this.opts.validation;
    if (!v) throw new Error('MetaTrainer.validate: no validation in the options');
    const theta = this.getMetaParams(state);
    const key = v.key ?? foldIn(state.key, VALIDATION_FOLD);
    // A synchronous metaLoss runs under tf.tidy, so its intermediate tensors are freed.
    let pending: Promise<tf.Scalar | number> | undefined;
    const value = tf.tidy(() => {
      const r = v.metaLoss(theta, key);
      if (r instanceof Promise) {
        pending = r;
        return tf.scalar(0);
      }
      return typeof r === 'number' ? tf.scalar(r) : r;
    });
    if (pending) {
      value.dispose();
      return scalarOf(pending);
    }
    return scalarOf(value);
  }

  /** The state as a checkpoint (shares its tensors). */
  checkpointOf(state: MetaTrainerState<S, W>): MetaTrainerCheckpoint<S, W> {
    const metadata = this.opts.checkpoint?.metadata;
    return { ...state, thetaOptName: this.gradientLearner.thetaOpt.name, estimatorNames: this.estimatorNames, ...(metadata ? { metadata } : {}) };
  }

  /** Checkpoint bytes of a state. */
  encode(state: MetaTrainerState<S, W>): Uint8Array {
    return encodeCheckpoint(this.checkpointOf(state));
  }

  /** A state from checkpoint bytes, checked against this trainer's (structure, shapes, names). */
  async decode(bytes: Uint8Array): Promise<MetaTrainerState<S, W>> {
    // The template: a fresh state's layout (its tensors are freed right away).
    const fresh = await this.init(PRNGKey(0));
    try {
      const c = decodeCheckpoint<S, W>(bytes, { template: this.checkpointOf(fresh) });
      return { step: c.step, key: c.key, gradientLearnerState: c.gradientLearnerState, gradientEstimatorStates: c.gradientEstimatorStates, skipped: c.skipped };
    } finally {
      this.dispose(fresh);
    }
  }

  /** Frees a state's tensors. */
  dispose(state: MetaTrainerState<S, W>): void {
    tf.dispose(flatten([state.gradientLearnerState, state.gradientEstimatorStates])[0].filter(isTensor));
  }

  /**
   * Meta-trains until `steps` meta-steps are done: validation every `validation.every` steps,
   * a checkpoint every `checkpoint.every` steps and at the end, `onStep` and the log after every
   * step. Returns the final state (free it with `dispose`) and this call's records.
   */
  async train(opts: TrainOptions): Promise<TrainResult<S, W>> {
    if (!Number.isInteger(opts?.steps) || opts.steps < 0) throw new Error(`MetaTrainer.train: steps must be a non-negative integer, got ${opts?.steps}`);
    let state = opts.state ?? (await this.start(opts));
    const records: MetaStepRecord[] = [];
    const { validation, checkpoint, log, onStep } = this.opts;
    while (state.step < opts.steps) {
      const r = await this.update(state);
      state = r.state;
      let record = r.record;
      if (validation && state.step % validation.every === 0) record = { ...record, validationMetaLoss: await this.validate(state) };
      if (checkpoint && (state.step % checkpoint.every === 0 || state.step === opts.steps)) {
        record = { ...record, checkpoint: await checkpoint.store.save(state.step, this.encode(state)) };
      }
      records.push(record);
      await log?.write(record as unknown as Record<string, unknown>);
      await onStep?.(record);
    }
    return { state, records };
  }

  private async start(opts: TrainOptions): Promise<MetaTrainerState<S, W>> {
    const store = this.opts.checkpoint?.store;
    if (opts.resume) {
      if (!store) throw new Error('MetaTrainer.train: resume needs checkpoint.store in the options');
      const all = await store.list();
      const pick = typeof opts.resume === 'string' ? all.find((c) => c.name === opts.resume) : all[all.length - 1];
      if (typeof opts.resume === 'string' && !pick) throw new Error(`MetaTrainer.train: no checkpoint named ${opts.resume} (have: ${all.map((c) => c.name).join(', ') || 'none'})`);
      if (pick) {
        let state: MetaTrainerState<S, W>;
        try {
          state = await this.decode(await store.load(pick.name));
        } catch (e) {
          const i = all.indexOf(pick);
          const prev = i > 0 ? all[i - 1] : undefined;
          throw new Error(
            `MetaTrainer.train: cannot resume from checkpoint ${pick.name}: ${(e as Error).message}. Nothing was deleted` +
              (prev ? `; the previous checkpoint ${prev.name} (step ${prev.step}) is kept: pass resume: '${prev.name}' to continue from it` : ''),
          );
        }
        if (opts.key && !keysEqual(opts.key, state.key)) {
          this.dispose(state);
          throw new Error(`MetaTrainer.train: checkpoint ${pick.name} was written by a run with another key; pass that key or none to resume`);
        }
        return state;
      }
    }
    if (!opts.key) throw new Error('MetaTrainer.train: key is required (a Key from @lopt/random) unless resuming from a checkpoint');
    return this.init(opts.key);
  }
}

const keysEqual = (a: Key, b: Key) => a.data.length === b.data.length && a.data.every((x, i) => x === b.data[i]);
