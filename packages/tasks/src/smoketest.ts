import * as tf from '@tensorflow/tfjs';
import { PRNGKey, split, type Key } from '@lopt/random';
import * as tree from '@lopt/tree';
import { grad, scope } from '@lopt/transforms';
import type { Task, TaskFamily, VectorizedTaskFamily } from './base.js';
import { checkBatch } from './batch-spec.js';
import { notAPromise } from './promise-guard.js';

export interface SmoketestReport {
  readonly name: string;
  /** Initial loss on the first training batch. */
  readonly loss: number;
  readonly numParams: number;
  /** Shapes of one training batch (by path), if the task has data. */
  readonly batchShapes?: Record<string, number[]>;
  readonly checks: string[];
}

const fail = (task: string, what: string): never => {
  throw new Error(`smoketest ${task}: ${what}`);
};

/** Disposes the tensors anywhere in a value (configs may hold non-pytree values such as strings). */
function disposeAll(x: unknown): void {
  if (tree.isTensor(x)) x.dispose();
  else if (Array.isArray(x)) x.forEach(disposeAll);
  else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) Object.values(x).forEach(disposeAll);
}

function allFinite(t: tf.Tensor): boolean {
  return tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1);
}

function treesEqual(a: unknown, b: unknown): boolean {
  if (!tree.sameStructure(a, b, { shapes: true })) return false;
  const la = tree.leaves(a);
  const lb = tree.leaves(b);
  return la.every((x, i) => {
    const y = lb[i]!;
    if (!tree.isTensor(x) || !tree.isTensor(y)) return x === y;
    return tf.tidy(() => tf.all(tf.equal(x, y)).dataSync()[0] === 1);
  });
}

/** Deep equality for configs, which may hold strings and other plain values besides tensors. */
function configsEqual(a: unknown, b: unknown): boolean {
  if (tree.isTensor(a) || tree.isTensor(b)) return tree.isTensor(a) && tree.isTensor(b) && treesEqual(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => configsEqual(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return configsEqual(ka, kb) && ka.every((k) => configsEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return Object.is(a, b);
}

function shapesOf(batch: unknown): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [p, l] of tree.leavesWithPath(batch)) if (tree.isTensor(l)) out[tree.formatPath(p)] = [...l.shape];
  return out;
}

/**
 * learned_optimization's smoketest_task, for your own tasks: init works and is deterministic per
 * key, params are float32 tensors, the loss on a training batch is a finite scalar, gradients are
 * finite and shaped like the params, the loss is deterministic, batches from each split have
 * consistent shapes, match `batchSpec` and are the same for the same key, the normalizer is there
 * and elementwise, `lossWithAux` and the model-state methods (where the task has them) agree with
 * `loss`, and nothing leaks tensors.
 * Throws an Error naming the task and the failed check; returns a report.
 */
export function smoketestTask<P, B, S = null>(task: Task<P, B, S>, opts: { key?: Key } = {}): SmoketestReport {
  notAPromise('smoketestTask', task);
  const name = task.name || '<unnamed task>';
  if (typeof task.normalizer !== 'function') {
    fail(name, 'normalizer is missing; every task has one (build the task with defineTask(...) to get the identity by default)');
  }
  const key = opts.key ?? PRNGKey(0);
  const [kInit, kData, kLoss, kOther] = [0, 1, 2, 3].map((i) => split(key, 4).at(i)) as [Key, Key, Key, Key];
  const checks: string[] = [];
  const before = tf.memory().numTensors;
  let report: SmoketestReport;
  {
    const p1 = task.init(kInit);
    const p2 = task.init(kInit);
    const [leaves, def] = tree.flatten(p1);
    if (leaves.length === 0) fail(name, 'init returned no parameters');
    def.paths().forEach((path, i) => {
      const l = leaves[i];
      if (!tree.isTensor(l) || l.dtype !== 'float32') fail(name, `param ${tree.formatPath(path)} is ${tree.describe(l)}; params must be float32 tensors`);
      if (!allFinite(l as tf.Tensor)) fail(name, `param ${tree.formatPath(path)} is not finite at init`);
    });
    if (!treesEqual(p1, p2)) fail(name, 'init is not deterministic: the same key gave different params');
    checks.push('init deterministic, float32, finite');

    if (task.batchSpec && !task.datasets) fail(name, 'has a batchSpec but no datasets to draw a batch from (tasks without data take a null batch and need no batchSpec)');
    let batch = null as B;
    let batchShapes: Record<string, number[]> | undefined;
    if (task.datasets) {
      batch = task.datasets.train.sample(kData);
      const again = task.datasets.train.sample(kData);
      if (!treesEqual(batch, again)) fail(name, 'datasets.train.sample is not deterministic for a key');
      tree.dispose(again);
      batchShapes = shapesOf(batch);
      if (task.batchSpec) {
        try {
          checkBatch(`${name} datasets.train`, task.batchSpec, batch);
        } catch (e) {
          fail(name, `datasets.train batches do not match batchSpec: ${(e as Error).message}`);
        }
      }
      for (const split_ of ['train', 'innerValid', 'outerValid', 'test'] as const) {
        const s = task.datasets[split_];
        const it = s.iterate(kOther);
        const b1 = it.next().value as B;
        const b2 = it.next().value as B;
        const lead = Object.values(shapesOf(b1)).map((sh) => sh[0]);
        if (lead.some((d) => d !== s.batchSize)) fail(name, `datasets.${split_}: batch leaves have leading sizes [${lead.join(',')}] but batchSize is ${s.batchSize}`);
        const sh1 = JSON.stringify(shapesOf(b1));
        if (sh1 !== JSON.stringify(shapesOf(b2))) fail(name, `datasets.${split_}: consecutive batches have different shapes`);
        // Splits may use other batch sizes, but examples must look the same.
        const perExample = (s: Record<string, number[]>) => JSON.stringify(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.slice(1)])));
        if (perExample(shapesOf(b1)) !== perExample(batchShapes)) {
          fail(name, `datasets.${split_} examples ${perExample(shapesOf(b1))} differ in shape from train's ${perExample(batchShapes)}`);
        }
        const it2 = s.iterate(kOther);
        const c1 = it2.next().value as B;
        if (!treesEqual(b1, c1)) fail(name, `datasets.${split_}.iterate is not deterministic for a key`);
        tree.dispose([b1, b2, c1]);
      }
      checks.push('batches deterministic, same example shapes in every split');
    }

    const l1 = task.loss(p1, kLoss, batch);
    if (!tree.isTensor(l1) || l1.rank !== 0) fail(name, `loss must return a scalar tensor, got ${tree.describe(l1)}`);
    if (!allFinite(l1)) fail(name, `loss is not finite: ${l1.dataSync()[0]}`);
    const l2 = task.loss(p1, kLoss, batch);
    if (l1.dataSync()[0] !== l2.dataSync()[0]) fail(name, `loss is not deterministic: ${l1.dataSync()[0]} vs ${l2.dataSync()[0]}`);
    checks.push('loss finite scalar, deterministic');

    const g = grad((p: P) => task.loss(p, kLoss, batch))(p1);
    const mismatch = tree.findMismatch(p1, g, { shapes: true, names: ['params', 'grads'] });
    if (mismatch) fail(name, `gradients do not match params: ${mismatch}`);
    for (const [path, l] of tree.leavesWithPath(g)) {
      if (!allFinite(l as tf.Tensor)) fail(name, `gradient at ${tree.formatPath(path)} is not finite`);
    }
    checks.push('gradients finite, shaped like params');

    checks.push(...checkNormalizer(name, task, l1));
    checks.push(...checkOptionalMethods(name, task, p1, kInit, kLoss, batch, l1.dataSync()[0]!));
    report = { name, loss: l1.dataSync()[0]!, numParams: leaves.reduce<number>((s, l) => s + (l as tf.Tensor).size, 0), ...(batchShapes ? { batchShapes } : {}), checks };
    tree.dispose([p1, p2, batch, l1, l2, g]);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) fail(name, `${leaked} tensors leaked (init, sampling, loss and grad must be tidy)`);
  return { ...report, checks: [...report.checks, 'no tensor leaks'] };
}

/** The normalizer is elementwise and finite on finite losses (NaN may stay NaN: the identity does). */
function checkNormalizer<P, B, S>(name: string, task: Task<P, B, S>, loss: tf.Scalar): string[] {
  let mapsNaN = false;
  tf.tidy(() => {
    const n = task.normalizer(loss);
    if (!tree.isTensor(n) || n.rank !== 0 || !allFinite(n)) fail(name, `normalizer must map a finite scalar loss to a finite scalar, got ${tree.describe(n)}`);
    const many = task.normalizer(tf.stack([loss, tf.mul(loss, 2), tf.scalar(0)]));
    if (!tree.isTensor(many) || !tf.util.arraysEqual(many.shape, [3])) fail(name, `normalizer must be elementwise: [3] losses gave ${tree.describe(many)}`);
    if (many.dataSync()[0] !== n.dataSync()[0]) fail(name, 'normalizer must be elementwise: a batch of losses gave other values than one loss');
    mapsNaN = allFinite(task.normalizer(tf.scalar(NaN)));
  });
  return [`normalizer elementwise, finite${mapsNaN ? ', maps NaN to a finite value' : ' (NaN stays NaN)'}`];
}

/** lossWithAux and the model-state methods, where the task defines them, agree with loss. */
function checkOptionalMethods<P, B, S>(name: string, task: Task<P, B, S>, params: P, kInit: Key, kLoss: Key, batch: B, loss: number): string[] {
  const checks: string[] = [];
  const sameLoss = (what: string, l: unknown) => {
    if (!tree.isTensor(l) || l.rank !== 0) fail(name, `${what} must return a scalar loss first, got ${tree.describe(l)}`);
    if ((l as tf.Tensor).dataSync()[0] !== loss) fail(name, `${what} gives loss ${(l as tf.Tensor).dataSync()[0]}, but loss gives ${loss}`);
  };
  const auxOk = (what: string, aux: unknown) => {
    if (!tree.isPlainObject(aux) || !Object.values(aux).every(tree.isTensor)) fail(name, `${what} must return an aux object of tensors, got ${tree.describe(aux)}`);
  };
  tf.tidy(() => {
    if (task.lossWithAux) {
      const out = task.lossWithAux(params, kLoss, batch);
      if (!Array.isArray(out) || out.length !== 2) fail(name, `lossWithAux must return [loss, aux], got ${tree.describe(out)}`);
      sameLoss('lossWithAux', out[0]);
      auxOk('lossWithAux', out[1]);
      checks.push('lossWithAux agrees with loss');
    }
    if (task.initWithState || task.lossWithState || task.lossWithStateAndAux) {
      const [p, s] = task.initWithState ? task.initWithState(kInit) : [params, null as S];
      const mismatch = tree.findMismatch(params, p, { shapes: true, names: ['init', 'initWithState params'] });
      if (mismatch) fail(name, `initWithState params differ in structure from init: ${mismatch}`);
      for (const m of ['lossWithState', 'lossWithStateAndAux'] as const) {
        const f = task[m] as ((...args: unknown[]) => unknown[]) | undefined;
        if (!f) continue;
        const out = f.call(task, p, s, kLoss, batch);
        const n = m === 'lossWithState' ? 2 : 3;
        if (!Array.isArray(out) || out.length !== n) fail(name, `${m} must return ${n === 2 ? '[loss, state]' : '[loss, state, aux]'}, got ${tree.describe(out)}`);
        const l = out[0] as tf.Tensor;
        if (!tree.isTensor(l) || l.rank !== 0 || !allFinite(l)) fail(name, `${m} must return a finite scalar loss, got ${tree.describe(l)}`);
        if (!tree.sameStructure(s, out[1], { shapes: true })) fail(name, `${m} returned a state that differs in structure from initWithState's: ${tree.findMismatch(s, out[1], { shapes: true, names: ['initial state', 'new state'] })}`);
        if (n === 3) auxOk(m, out[2]);
      }
      checks.push('model state: initWithState, lossWithState(AndAux) consistent');
    }
  });
  return checks;
}

/**
 * learned_optimization's smoketest_task_family: sampling is deterministic per key, the sampled
 * task passes {@link smoketestTask}, and for a vectorized family, the batched loss over sampled
 * tasks equals the loop over them.
 */
export function smoketestTaskFamily<C, P, B>(family: TaskFamily<C, P, B> | VectorizedTaskFamily<C, P, B>, opts: { key?: Key; tasks?: number } = {}): SmoketestReport {
  notAPromise('smoketestTaskFamily', family, 'task family');
  const name = family.name || '<unnamed family>';
  const key = opts.key ?? PRNGKey(0);
  const before = tf.memory().numTensors;
  const c1 = family.sample(key);
  const c2 = family.sample(key);
  if (!configsEqual(c1, c2)) fail(name, 'sample is not deterministic: the same key gave different configs');
  const report = smoketestTask(family.taskFn(c1), { key });
  disposeAll([c1, c2]);
  const checks = [`task: ${report.checks.join('; ')}`, 'sample deterministic'];
  if ('vectorizedLoss' in family) {
    const T = opts.tasks ?? 3;
    const keys = split(split(key).at(1), T);
    const err = scope(() => {
      const cfgs = Array.from({ length: T }, (_, t) => family.sample(keys.at(t)));
      const tasks = cfgs.map((c) => family.taskFn(c));
      const params = tasks.map((t, i) => t.init(keys.at(i)));
      const batches = tasks.map((t, i) => (t.datasets ? t.datasets.train.sample(keys.at(i)) : (null as B)));
      const loop = tf.stack(tasks.map((t, i) => t.loss(params[i]!, keys.at(i), batches[i]!)));
      const stackedParams = family.vectorizedInit(tree.stack(cfgs), keys);
      if (!treesEqual(stackedParams, tree.stack(params))) fail(name, 'vectorizedInit differs from stacking init over the same keys');
      const vec = family.vectorizedLoss(tree.stack(cfgs), stackedParams, keys, (batches[0] === null ? null : tree.stack(batches)) as B);
      if (!tf.util.arraysEqual(vec.shape, [T])) fail(name, `vectorizedLoss must return [${T}] losses, got [${vec.shape.join(',')}]`);
      return tf.max(tf.div(tf.abs(tf.sub(vec, loop)), tf.maximum(tf.abs(loop), 1))).dataSync()[0]!;
    });
    if (!(err < 1e-4)) fail(name, `vectorizedLoss differs from the per-task loop (max relative error ${err})`);
    checks.push(`vectorized loss over ${T} tasks equals the loop (max rel. err ${err.toExponential(1)})`);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) fail(name, `${leaked} tensors leaked`);
  return { ...report, name, checks: [...checks, 'no tensor leaks'] };
}
