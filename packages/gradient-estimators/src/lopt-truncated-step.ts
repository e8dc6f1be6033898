import * as tf from '@tensorflow/tfjs';
import { foldIn, randintArray, split, wrapKeyData, type Key } from '@lopt/random';
import { dispose, map as treeMap, where as treeWhere } from '@lopt/tree';
import { jit, scan, scope, valueAndGrad, vmap } from '@lopt/transforms';
import { vectorizeTask, type Task } from '@lopt/tasks';
import type { LearnedOptimizer } from '@lopt/learned-optimizers';
import { ConstantTruncationSchedule, type TruncationSchedule } from './truncation-schedule.js';
import {
  keyColumn,
  numTasksOf,
  type InitStepStateOptions,
  type RunOutput,
  type TruncatedStep,
  type TruncatedUnrollState,
  type UnrollConfig,
  type UnrollOptions,
  type UnrollOutput,
  type UnrollPlan,
} from './truncated-step.js';

/** Maps raw task losses to the values meta-training averages (elementwise). */
export type LossTransform = (loss: tf.Tensor) => tf.Tensor;

/**
 * The no-dependency notebook's clipping: NaN → `max`, otherwise `min(loss, max)` (default 3), so
 * a diverging inner training cannot dominate the meta-loss.
 */
export function clipLoss(max = 3): LossTransform {
  if (!Number.isFinite(max)) throw new Error(`clipLoss: max must be a finite number, got ${String(max)}`);
  return (loss) => tf.tidy(() => tf.where(tf.isNaN(loss), tf.fill(loss.shape, max), tf.minimum(loss, max)));
}

export interface VectorizedLOptTruncatedStepOptions<B = any> {
  readonly task: Task<any, B>;
  readonly learnedOpt: LearnedOptimizer;
  /** Tasks trained side by side (their leading axis). */
  readonly numTasks: number;
  /** Inner steps per unroll (per gradient estimate). */
  readonly unrollLength: number;
  /** When each inner training ends and is reset; default constant `unrollLength` (every unroll is a whole training). */
  readonly truncationSchedule?: TruncationSchedule;
  /** Initial innerStep drawn uniformly in [0, offset) per task, so resets do not happen in lock step (default 0). */
  readonly randomInitialIterationOffset?: number;
  /** Loss normalization; default the task's `normalizer`. The notebook's is `clipLoss(3)`. */
  readonly lossTransform?: LossTransform;
  /** A batch for a key; default `task.datasets.train.sample`, none for tasks without data. */
  readonly batchFn?: ((key: Key) => B) | null;
  /**
   * Run `unrollStep`'s tensor part under @lopt/transforms `jit` (traced once per configuration,
   * then replayed). Default false: the estimators jit their whole estimate themselves (their own
   * `jit` option). `LOPT_JIT=0` turns it off.
   */
  readonly jit?: boolean;
}

function positiveInt(where: string, what: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Error(`${where}: ${what} must be a positive integer, got ${String(n)}`);
  return n;
}

const keyId = (k: Key) => `${k.data[0]},${k.data[1]}`;

/**
 * learned_optimization's VectorizedLOptTruncatedStep (outer_trainers/lopt_truncated_step.py) for
 * one task, vmapped over T copies: each step, every task whose innerStep reached its length is
 * reset (fresh params from `task.init`, fresh optimizer state, a new length from the schedule),
 * then every task takes one step of the learned optimizer on its own batch, with batched ops. The
 * step's loss (before the update) goes through `lossTransform`.
 */
export class VectorizedLOptTruncatedStep<B = any> implements TruncatedStep {
  readonly task: Task<any, B>;
  readonly learnedOpt: LearnedOptimizer;
  readonly numTasks: number;
  readonly unrollLength: number;
  readonly truncationSchedule: TruncationSchedule;
  readonly randomInitialIterationOffset: number;
  readonly lossTransform: LossTransform;
  readonly batchFn: ((key: Key) => B) | null;
  readonly jit: boolean;

  constructor(opts: VectorizedLOptTruncatedStepOptions<B>) {
    const f = 'VectorizedLOptTruncatedStep';
    if (!opts || !opts.task || typeof opts.task.loss !== 'function') throw new Error(`${f}: task must be a Task`);
    if (!opts.learnedOpt || typeof opts.learnedOpt.optFn !== 'function') throw new Error(`${f}: learnedOpt must be a LearnedOptimizer`);
    this.task = opts.task;
    this.learnedOpt = opts.learnedOpt;
    this.numTasks = positiveInt(f, 'numTasks', opts.numTasks);
    this.unrollLength = positiveInt(f, 'unrollLength', opts.unrollLength);
    this.truncationSchedule = opts.truncationSchedule ?? new ConstantTruncationSchedule(this.unrollLength);
    const off = opts.randomInitialIterationOffset ?? 0;
    if (!Number.isInteger(off) || off < 0) throw new Error(`${f}: randomInitialIterationOffset must be an integer >= 0, got ${String(off)}`);
    this.randomInitialIterationOffset = off;
    const t = this.task;
    this.lossTransform = opts.lossTransform ?? ((l) => t.normalizer(l));
    const train = t.datasets?.train;
    this.batchFn = opts.batchFn === undefined ? (train ? (k) => train.sample(k) : null) : opts.batchFn;
    this.jit = opts.jit ?? false;
  }

  initStepState(theta: any, key: Key, opts: InitStepStateOptions = {}): TruncatedUnrollState {
    const T = positiveInt('initStepState', 'numTasks', opts.numTasks ?? this.numTasks);
    const offset = opts.randomInitialIterationOffset ?? this.randomInitialIterationOffset;
    return scope(() => {
      const ks = split(key, 4);
      const params = vectorizeTask(this.task).init(split(ks.at(0), T));
      const lo = this.learnedOpt;
      const optState = vmap((th: any, p: any) => lo.optFn(th, true).init(p), [null, 0])(theta, params);
      const lk = split(ks.at(1), T);
      const lengths = Int32Array.from({ length: T }, (_, i) => this.truncationSchedule.sampleLength(lk.at(i)));
      const steps = offset > 0 ? randintArray(ks.at(2), [T], 0, offset) : new Int32Array(T);
      return { optState, innerStep: tf.tensor1d(steps, 'int32'), length: tf.tensor1d(lengths, 'int32'), key: split(ks.at(3), T) };
    });
  }

  unrollStep(theta: any, state: TruncatedUnrollState, opts: UnrollOptions = {}): UnrollOutput {
    const plan = this.planUnroll(state, opts);
    const out = scope(() => {
      const run = this.jit && plan.jittable ? this.jittedRun : this.runUnroll;
      const o = run(theta, state.optState, plan.inputs, plan.config);
      return { state: plan.finish(o.optState), losses: o.losses, ...(o.lastLoss ? { lastLoss: o.lastLoss } : {}) };
    });
    dispose(plan.inputs);
    return { ...out, resets: plan.resets };
  }

  /**
   * The JS half of an unroll: reads the step counters ([T] int32, once), decides which task
   * resets at which step and with which keys, draws the fresh inits and every step's batches.
   * The plan's tensors are the caller's (dispose `inputs` after running it; `finish` makes new ones).
   */
  planUnroll(state: TruncatedUnrollState, opts: UnrollOptions = {}): UnrollPlan {
    const T = numTasksOf(state);
    const K = positiveInt('unrollStep', 'numSteps', opts.numSteps ?? this.unrollLength);
    const evalLast = opts.evalLast ?? false;
    const { task, batchFn } = this;
    const resets = new Uint8Array(K * T);
    const steps = Int32Array.from(state.innerStep.dataSync());
    const lens = Int32Array.from(state.length.dataSync());
    const ks = split(state.key, 3);
    const nextKey = keyColumn(ks, 0);
    const stepKeys = keyColumn(ks, 1);
    const resetKeys = keyColumn(ks, 2);
    const initKeyData: number[] = [];
    const freshIdx: (Int32Array | null)[] = [];
    const resetsOf = new Uint8Array(T);
    for (let s = 0; s < K; s++) {
      let idx: Int32Array | null = null;
      for (let t = 0; t < T; t++) {
        if (steps[t]! >= lens[t]!) {
          const rk = split(foldIn(resetKeys.at(t), s), 2);
          idx ??= new Int32Array(T);
          idx[t] = initKeyData.length / 2;
          const ik = rk.at(0);
          initKeyData.push(ik.data[0]!, ik.data[1]!);
          lens[t] = this.truncationSchedule.sampleLength(rk.at(1));
          steps[t] = 0;
          resets[s * T + t] = 1;
          resetsOf[t]!++;
        }
        steps[t] = steps[t]! + 1;
      }
      freshIdx.push(idx);
    }
    const mode: UnrollConfig['resets'] = initKeyData.length === 0 ? 'none' : resetsOf.every((n) => n <= 1) ? 'once' : 'steps';
    const config: UnrollConfig = { numTasks: T, numSteps: K, vectorizedTheta: opts.vectorizedTheta ?? false, evalLast, resets: mode };

    const inputs = scope(() => {
      // Batches: one per task and step; tasks sharing a key (antithetic pairs) share the batch.
      const stepKey = (s: number) => wrapKeyData(Uint32Array.from({ length: 2 * T }, (_, i) => foldIn(stepKeys.at(i >> 1), s).data[i & 1]!), [T]);
      const batchesFor = (keys: Key): B | null => {
        if (!batchFn) return null;
        const cache = new Map<string, B>();
        const per = Array.from({ length: T }, (_, t) => {
          const k = keys.at(t);
          const id = keyId(k);
          let b = cache.get(id);
          if (!b) cache.set(id, (b = batchFn(k)));
          return b;
        });
        return treeMap((...xs: tf.Tensor[]) => tf.stack(xs), per[0], ...per.slice(1)) as B;
      };
      const keys = Array.from({ length: K }, (_, s) => stepKey(s));
      const fresh = mode === 'none' ? null : vectorizeTask(task).init(wrapKeyData(Uint32Array.from(initKeyData), [initKeyData.length / 2]));
      const gatherFresh = (idx: Int32Array) => treeMap((x: tf.Tensor) => tf.gather(x, tf.tensor1d(idx, 'int32')), fresh);
      const maskAt = (s: number) => tf.tensor1d(Array.from(resets.subarray(s * T, (s + 1) * T)), 'bool');
      const onceIdx = new Int32Array(T);
      for (let s = 0; s < K; s++) for (let t = 0; t < T; t++) if (resets[s * T + t]) onceIdx[t] = freshIdx[s]![t]!;
      const evalKey = evalLast ? stepKey(K) : null;
      return {
        keys,
        batches: batchFn ? keys.map(batchesFor) : null,
        evalKey,
        evalBatch: evalKey ? batchesFor(evalKey) : null,
        // 'once': masks [T] for every step and one fresh init per task; 'steps': both per step (null where none).
        masks: mode === 'none' ? null : Array.from({ length: K }, (_, s) => (mode === 'once' || freshIdx[s] ? maskAt(s) : null)),
        fresh: mode === 'once' ? gatherFresh(onceIdx) : mode === 'steps' ? freshIdx.map((idx) => (idx ? gatherFresh(idx) : null)) : null,
      };
    });
    return {
      config,
      inputs,
      resets,
      jittable: mode !== 'steps',
      finish: (optState) => ({ optState, innerStep: tf.tensor1d(steps, 'int32'), length: tf.tensor1d(lens, 'int32'), key: nextKey }),
    };
  }

  /**
   * The tensor half of an unroll (pure: no JS reads of tensor values, randomness from the plan's
   * keys), so it runs under jit: `numSteps` steps of the learned optimizer on every task, resets
   * selected with `where` on the plan's masks.
   */
  runUnroll = (theta: any, optState: any, inputs: unknown, config: UnrollConfig): RunOutput => {
    const { task, learnedOpt: lo, lossTransform } = this;
    const inp = inputs as LOptUnrollInputs<B>;
    const thetaAxis = config.vectorizedTheta ? 0 : null;
    const batchAxis = inp.batches ? 0 : null;
    return scope(() => {
      const trainOne = (th: any, s: any, k: Key, b: B | null) => {
        const opt = lo.optFn(th, true);
        const [l, g] = valueAndGrad((p: any) => task.loss(p, k, b as B))(opt.getParams(s));
        return [opt.update(s, g, { loss: l }), lossTransform(l)] as const;
      };
      const train = vmap(trainOne, [thetaAxis, 0, 0, batchAxis]);
      const initOne = (th: any, p: any) => lo.optFn(th, true).init(p);
      const select = vmap((r: tf.Tensor, a: any, b: any) => treeWhere(r, a, b), [0, 0, 0]);
      const freshOnce = config.resets === 'once' ? vmap(initOne, [thetaAxis, 0])(theta, inp.fresh) : null;
      let s = 0;
      const [final, losses] = scan(
        (carry: any) => {
          const i = s++;
          const mask = inp.masks?.[i];
          if (mask) {
            const fresh = freshOnce ?? vmap(initOne, [thetaAxis, 0])(theta, (inp.fresh as any[])[i]);
            carry = select(mask, fresh, carry);
          }
          return train(theta, carry, inp.keys[i]!, inp.batches?.[i] ?? null) as [any, tf.Tensor];
        },
        optState,
        null,
        { length: config.numSteps },
      );
      let lastLoss: tf.Tensor1D | undefined;
      if (config.evalLast) {
        const evalOne = (th: any, st: any, kk: Key, bb: B | null) => lossTransform(task.loss(lo.optFn(th, true).getParams(st), kk, bb as B));
        lastLoss = vmap(evalOne, [thetaAxis, 0, 0, batchAxis])(theta, final, inp.evalKey!, inp.evalBatch) as tf.Tensor1D;
      }
      return { optState: final, losses: losses as tf.Tensor2D, ...(lastLoss ? { lastLoss } : {}) };
    });
  };

  private readonly jittedRun = jit(this.runUnroll, { staticArgnums: [3] });

  /** Drops the traces of `jit: true` (and the constants they keep). */
  clearJitCache(): void {
    this.jittedRun.clearCache();
  }
}

/** The tensors and keys of a planned unroll of VectorizedLOptTruncatedStep. */
interface LOptUnrollInputs<B> {
  keys: Key[];
  batches: B[] | null;
  evalKey: Key | null;
  evalBatch: B | null;
  masks: (tf.Tensor | null)[] | null;
  fresh: unknown;
}
