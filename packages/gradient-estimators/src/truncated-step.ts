import * as tf from '@tensorflow/tfjs';
import { isKey, wrapKeyData, type Key } from '@lopt/random';
import { describe, flatten, map as treeMap } from '@lopt/tree';

/**
 * The inner training of T tasks at once (learned_optimization's TruncatedUnrollState, stacked):
 * every tensor leaf has a leading task axis.
 */
export interface TruncatedUnrollState<S = any> {
  /** The optimizer state of every task (it holds the params): leaves [T, ...]. */
  optState: S;
  /** Steps taken in the current inner training (int32 [T]). */
  innerStep: tf.Tensor1D;
  /** Length of the current inner training from the truncation schedule (int32 [T]); reset when innerStep reaches it. */
  length: tf.Tensor1D;
  /** Each task's key (a key batch [T]): data, loss keys and resets are drawn from it. */
  key: Key;
}

/** What one unroll of `numSteps` steps over T tasks gives. */
export interface UnrollOutput<S = any> {
  readonly state: TruncatedUnrollState<S>;
  /** Normalized training loss of every step and task, [numSteps, T] (loss at the params before the step's update). */
  readonly losses: tf.Tensor2D;
  /** Row-major [numSteps, T]: 1 where the task was reset at that step (before it trained). */
  readonly resets: Uint8Array;
  /** With `evalLast`: the normalized loss at the final params on a fresh batch, [T]. */
  readonly lastLoss?: tf.Tensor1D;
}

export interface UnrollOptions {
  /** theta has a leading task axis [T] (one theta per task, as ES perturbations); default false. */
  readonly vectorizedTheta?: boolean;
  /** Steps to take; default the step's `unrollLength`. */
  readonly numSteps?: number;
  /** Also evaluate the loss at the final params (FullES' `last` loss type). */
  readonly evalLast?: boolean;
}

export interface InitStepStateOptions {
  /** Tasks to create; default the step's `numTasks`. */
  readonly numTasks?: number;
  /** Draw each task's initial innerStep uniformly in [0, offset) so resets are spread out; default the step's setting (0 for none). */
  readonly randomInitialIterationOffset?: number;
}

/**
 * The static part of a planned unroll: JSON data, part of a jit cache key (equal configs share a
 * trace).
 */
export interface UnrollConfig {
  readonly numTasks: number;
  readonly numSteps: number;
  readonly vectorizedTheta: boolean;
  readonly evalLast: boolean;
  /**
   * How resets enter the unroll: 'none' (no task resets), 'once' (a task resets at most once:
   * one fresh init per task, selected by a [T] mask at every step) or 'steps' (some task resets
   * twice: fresh inits per step, a structure that differs from call to call, so never jitted).
   */
  readonly resets: 'none' | 'once' | 'steps';
}

/**
 * An unroll planned on the JS side (which task resets at which step, the keys and batches of
 * every step), so that the rest is a pure function of tensors and keys, `runUnroll`, that jit
 * can trace: the plan's `inputs` are its arguments, `config` its static argument.
 */
export interface UnrollPlan<S = any> {
  readonly config: UnrollConfig;
  /** Tensors and keys the unroll reads (a pytree; never read on the JS side by runUnroll). */
  readonly inputs: unknown;
  /** Row-major [numSteps, T]: 1 where the task is reset at that step (before it trains). */
  readonly resets: Uint8Array;
  /** Whether `runUnroll` on this plan may run under jit (the same config gives the same trace). */
  readonly jittable: boolean;
  /** The state after the unroll from its final optState (new counters and keys). */
  finish(optState: S): TruncatedUnrollState<S>;
}

/** What `runUnroll` computes: the final optState, the losses [numSteps, T], with evalLast the final loss [T]. */
export interface RunOutput<S = any> {
  readonly optState: S;
  readonly losses: tf.Tensor2D;
  readonly lastLoss?: tf.Tensor1D;
}

/**
 * learned_optimization's VectorizedTruncatedStep (outer_trainers/truncated_step.py): creates and
 * advances the inner training of many tasks at once. The estimators are written against it.
 * `unrollStep` is `planUnroll` (JS: counters, keys, data), `runUnroll` (tensors only, jittable)
 * and `finish`; the estimators call the parts to put their whole estimate under one jit.
 */
export interface TruncatedStep<T = any, S = any> {
  readonly numTasks: number;
  readonly unrollLength: number;
  initStepState(theta: T, key: Key, opts?: InitStepStateOptions): TruncatedUnrollState<S>;
  unrollStep(theta: T, state: TruncatedUnrollState<S>, opts?: UnrollOptions): UnrollOutput<S>;
  planUnroll(state: TruncatedUnrollState<S>, opts?: UnrollOptions): UnrollPlan<S>;
  runUnroll(theta: T, optState: S, inputs: unknown, config: UnrollConfig): RunOutput<S>;
}

/** Number of tasks of a state (the length of its key batch). */
export function numTasksOf(state: TruncatedUnrollState): number {
  if (!state || !isKey(state.key) || state.key.shape.length !== 1) {
    throw new Error(`truncated state: key must be a key batch [T], got ${describe(state?.key)}`);
  }
  return state.key.shape[0]!;
}

/** Key `j` of every row of a key batch [T, n] → [T]. */
export function keyColumn(keys: Key, j: number): Key {
  const [T, n] = keys.shape as [number, number];
  const out = new Uint32Array(2 * T);
  for (let t = 0; t < T; t++) {
    out[2 * t] = keys.data[2 * (t * n + j)]!;
    out[2 * t + 1] = keys.data[2 * (t * n + j) + 1]!;
  }
  return wrapKeyData(out, [T]);
}

function concatKeys(keys: Key[]): Key {
  const total = keys.reduce((a, k) => a + k.data.length, 0);
  const out = new Uint32Array(total);
  let o = 0;
  for (const k of keys) {
    out.set(k.data, o);
    o += k.data.length;
  }
  return wrapKeyData(out, [total / 2]);
}

/** The states' tasks one after the other (a state of T1 + T2 + ... tasks). */
export function concatStates<S>(states: TruncatedUnrollState<S>[]): TruncatedUnrollState<S> {
  return {
    optState: treeMap((...xs: tf.Tensor[]) => tf.concat(xs, 0), states[0]!.optState, ...states.slice(1).map((s) => s.optState)) as S,
    innerStep: tf.concat(states.map((s) => s.innerStep)) as tf.Tensor1D,
    length: tf.concat(states.map((s) => s.length)) as tf.Tensor1D,
    key: concatKeys(states.map((s) => s.key)),
  };
}

/** Tasks [begin, begin + size) of a state, as new tensors. */
export function sliceState<S>(state: TruncatedUnrollState<S>, begin: number, size: number): TruncatedUnrollState<S> {
  const sl = (x: tf.Tensor) => tf.slice(x, [begin], [size]);
  return {
    optState: treeMap((x: tf.Tensor) => tf.slice(x, begin, size), state.optState) as S,
    innerStep: sl(state.innerStep) as tf.Tensor1D,
    length: sl(state.length) as tf.Tensor1D,
    key: wrapKeyData(state.key.data.slice(2 * begin, 2 * (begin + size)), [size]),
  };
}

/** A copy of a state with its own tensors. */
export function cloneState<S>(state: TruncatedUnrollState<S>): TruncatedUnrollState<S> {
  return {
    optState: treeMap((x: tf.Tensor) => tf.clone(x), state.optState) as S,
    innerStep: tf.clone(state.innerStep),
    length: tf.clone(state.length),
    key: state.key,
  };
}

/** Every tensor of a state (for disposal and counting). */
export function stateTensors(state: TruncatedUnrollState): tf.Tensor[] {
  return [...(flatten(state.optState)[0] as tf.Tensor[]), state.innerStep, state.length];
}
