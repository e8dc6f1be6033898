import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import { scope } from '@lopt/transforms';
import type { Datasets, Task, TaskAux, VectorizedTaskFamily } from './base.js';
import { checkBatch, type BatchSpec } from './batch-spec.js';
import { notAPromise } from './promise-guard.js';

/** What {@link defineTask} takes: a task whose optional methods may be left out. */
export interface TaskSpec<P, B, S = null> {
  readonly name: string;
  init(key: Key): P;
  loss(params: P, key: Key, batch: B): tf.Scalar;
  /** Default: the identity. */
  normalizer?(loss: tf.Tensor): tf.Tensor;
  readonly datasets?: Datasets<B>;
  /** Checked against every batch given to the loss methods (fields, shapes, dtypes). */
  readonly batchSpec?: BatchSpec;
  lossWithAux?(params: P, key: Key, batch: B): [tf.Scalar, TaskAux];
  initWithState?(key: Key): [P, S];
  lossWithState?(params: P, state: S, key: Key, batch: B): [tf.Scalar, S];
  lossWithStateAndAux?(params: P, state: S, key: Key, batch: B): [tf.Scalar, S, TaskAux];
}

/** A task with every method present, as {@link defineTask} returns it. */
export type DefinedTask<P, B, S = null> = Task<P, B, S> & Required<Pick<Task<P, B, S>, 'lossWithAux' | 'initWithState' | 'lossWithState' | 'lossWithStateAndAux'>>;

const KNOWN = ['name', 'init', 'loss', 'normalizer', 'datasets', 'batchSpec', 'lossWithAux', 'initWithState', 'lossWithState', 'lossWithStateAndAux'];
const DEFINED = new WeakSet<object>();

/**
 * learned_optimization's default normalizer: the loss unchanged (as a new tensor, so that callers
 * own what a normalizer returns whichever one a task has).
 */
export function identityNormalizer(loss: tf.Tensor): tf.Tensor {
  return tf.clone(loss);
}

/**
 * Builds a {@link Task} with learned_optimization's defaults filled in, so every method a trainer
 * may call is there: `normalizer` is the identity, `lossWithAux` returns `[loss, {}]`,
 * `initWithState` returns `[init(key), null]`, `lossWithState` / `lossWithStateAndAux` are made
 * from each other or, for stateless tasks, from `loss` / `lossWithAux` (a non-null state then
 * throws, as learned_optimization raises). With `batchSpec`, every loss method first checks its
 * batch and throws an error naming the task, the fields expected and given, and the shapes.
 * Every method runs in a memory scope, so only the tensors it returns outlive the call.
 * Idempotent: a task it returned is returned as is.
 *
 * ```ts
 * const task = defineTask({ name: 'Square', init: () => tf.scalar(3), loss: (p) => tf.square(p) as tf.Scalar });
 * ```
 */
export function defineTask<P, B, S = null>(spec: TaskSpec<P, B, S>): DefinedTask<P, B, S> {
  if (spec !== null && typeof spec === 'object' && DEFINED.has(spec)) return spec as DefinedTask<P, B, S>;
  notAPromise('defineTask', spec);
  if (spec === null || typeof spec !== 'object') throw new Error(`defineTask: expected a task object, got ${spec === null ? 'null' : typeof spec}`);
  const name = spec.name;
  if (typeof name !== 'string' || name === '') throw new Error(`defineTask: name must be a non-empty string, got ${JSON.stringify(name)}`);
  const unknown = Object.keys(spec).filter((k) => !KNOWN.includes(k));
  if (unknown.length) throw new Error(`defineTask(${name}): unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${KNOWN.join(', ')})`);
  for (const m of ['init', 'loss'] as const) {
    if (typeof spec[m] !== 'function') throw new Error(`defineTask(${name}): ${m} must be a function, got ${typeof spec[m]}`);
  }
  for (const m of ['normalizer', 'lossWithAux', 'initWithState', 'lossWithState', 'lossWithStateAndAux'] as const) {
    if (spec[m] !== undefined && typeof spec[m] !== 'function') throw new Error(`defineTask(${name}): ${m} must be a function, got ${typeof spec[m]}`);
  }
  if (spec.initWithState && !spec.lossWithState && !spec.lossWithStateAndAux) {
    throw new Error(`defineTask(${name}): a task with initWithState must define lossWithState or lossWithStateAndAux`);
  }
  const { batchSpec } = spec;
  const check = batchSpec ? (method: string, batch: B) => checkBatch(`${name} ${method}`, batchSpec, batch) : () => {};
  // The user's methods, each in a memory scope; the public ones below check the batch first, under
  // their own name, and then call these.
  const rawLoss = (params: P, key: Key, batch: B): tf.Scalar => scope(() => spec.loss.call(spec, params, key, batch));
  const userAux = spec.lossWithAux;
  const rawAux = userAux
    ? (params: P, key: Key, batch: B): [tf.Scalar, TaskAux] => scope(() => userAux.call(spec, params, key, batch))
    : (params: P, key: Key, batch: B): [tf.Scalar, TaskAux] => [rawLoss(params, key, batch), {}];
  const userState = spec.lossWithState;
  const userStateAux = spec.lossWithStateAndAux;
  const noState = (method: string, state: S): void => {
    if (state !== null && state !== undefined) {
      throw new Error(`${name} ${method}: got a model state, but the task defines neither lossWithState nor lossWithStateAndAux`);
    }
  };

  const init = (key: Key): P => scope(() => spec.init.call(spec, key));
  const userInitState = spec.initWithState;
  const initWithState = userInitState ? (key: Key): [P, S] => scope(() => userInitState.call(spec, key)) : (key: Key): [P, S] => [init(key), null as S];
  const loss = (params: P, key: Key, batch: B): tf.Scalar => {
    check('loss', batch);
    return rawLoss(params, key, batch);
  };
  const lossWithAux = (params: P, key: Key, batch: B): [tf.Scalar, TaskAux] => {
    check('lossWithAux', batch);
    return rawAux(params, key, batch);
  };
  const lossWithStateAndAux = (params: P, state: S, key: Key, batch: B): [tf.Scalar, S, TaskAux] => {
    check('lossWithStateAndAux', batch);
    if (userStateAux) return scope(() => userStateAux.call(spec, params, state, key, batch));
    if (userState) {
      const [l, s] = scope(() => userState.call(spec, params, state, key, batch));
      return [l, s, {}];
    }
    noState('lossWithStateAndAux', state);
    const [l, aux] = rawAux(params, key, batch);
    return [l, null as S, aux];
  };
  const lossWithState = (params: P, state: S, key: Key, batch: B): [tf.Scalar, S] => {
    check('lossWithState', batch);
    if (userState) return scope(() => userState.call(spec, params, state, key, batch));
    if (userStateAux) {
      // The aux values are not returned, so the scope frees them.
      return scope(() => {
        const [l, s] = userStateAux.call(spec, params, state, key, batch);
        return [l, s] as [tf.Scalar, S];
      });
    }
    noState('lossWithState', state);
    return [rawLoss(params, key, batch), null as S];
  };
  const task: DefinedTask<P, B, S> = {
    name,
    init,
    loss,
    normalizer: spec.normalizer ? (l) => scope(() => spec.normalizer!.call(spec, l)) : identityNormalizer,
    ...(spec.datasets ? { datasets: spec.datasets } : {}),
    ...(batchSpec ? { batchSpec } : {}),
    lossWithAux,
    initWithState,
    lossWithState,
    lossWithStateAndAux,
  };
  DEFINED.add(task);
  return task;
}

/** What {@link defineTaskFamily} takes; extra members (helpers such as `supportQuery`) pass through. */
export interface TaskFamilySpec<C, P, B> {
  readonly name: string;
  sample(key: Key): C;
  taskFn(cfg: C): TaskSpec<P, B>;
  readonly datasets?: Datasets<B>;
}

type SpecOf<F extends TaskFamilySpec<any, any, any>> = ReturnType<F['taskFn']>;
/** The family {@link defineTaskFamily} returns: `F` with `taskFn` giving defined tasks. */
export type DefinedTaskFamily<F extends TaskFamilySpec<any, any, any>> = Omit<F, 'taskFn'> & {
  taskFn(cfg: Parameters<F['taskFn']>[0]): SpecOf<F> extends TaskSpec<infer P, infer B> ? DefinedTask<P, B> : never;
};

/**
 * Builds a {@link TaskFamily} (or a {@link VectorizedTaskFamily}, when `vectorizedInit` and
 * `vectorizedLoss` are given) whose `taskFn` results go through {@link defineTask}, so every
 * sampled task has a normalizer and the other defaults. Other members are kept as they are.
 */
export function defineTaskFamily<F extends TaskFamilySpec<any, any, any>>(spec: F): DefinedTaskFamily<F> {
  notAPromise('defineTaskFamily', spec, 'task family');
  if (spec === null || typeof spec !== 'object') throw new Error(`defineTaskFamily: expected a family object, got ${spec === null ? 'null' : typeof spec}`);
  const { name } = spec;
  if (typeof name !== 'string' || name === '') throw new Error(`defineTaskFamily: name must be a non-empty string, got ${JSON.stringify(name)}`);
  for (const m of ['sample', 'taskFn'] as const) {
    if (typeof spec[m] !== 'function') throw new Error(`defineTaskFamily(${name}): ${m} must be a function, got ${typeof spec[m]}`);
  }
  const v = spec as Partial<VectorizedTaskFamily>;
  if ((v.vectorizedInit === undefined) !== (v.vectorizedLoss === undefined)) {
    throw new Error(`defineTaskFamily(${name}): a vectorized family needs both vectorizedInit and vectorizedLoss`);
  }
  const taskFn = spec.taskFn;
  return { ...spec, taskFn: (cfg: unknown) => defineTask(taskFn.call(spec, cfg)) } as unknown as DefinedTaskFamily<F>;
}
