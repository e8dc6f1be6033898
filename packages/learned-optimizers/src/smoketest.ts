import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import { PRNGKey, split, type Key } from '@lopt/random';
import { sinusoidFamily, type Task } from '@lopt/tasks';
import * as tree from '@lopt/tree';
import { grad, scope, valueAndGrad } from '@lopt/transforms';
import type { LearnedOptimizer } from './base.js';
import { deserializeTheta, serializeTheta } from './theta-io.js';

export interface SmoketestLearnedOptimizerOptions {
  /** The task to take steps on (default: a sinusoid regression MLP 1-8-1 from @lopt/tasks). */
  readonly task?: Task;
  readonly key?: Key;
  /** Inner steps to take (default 3). */
  readonly steps?: number;
}

export interface LearnedOptimizerSmoketestReport {
  readonly name: string;
  readonly task: string;
  /** Number of meta-parameters (coordinates of theta). */
  readonly numMetaParams: number;
  /** Task loss before and after the steps. */
  readonly loss: number;
  readonly lossAfter: number;
  readonly checks: string[];
}

const fail = (name: string, what: string): never => {
  throw new Error(`smoketestLearnedOptimizer(${name}): ${what}`);
};

const finite = (t: unknown) => tf.tidy(() => (tree.leaves(t) as tf.Tensor[]).every((l) => tf.all(tf.isFinite(l)).dataSync()[0] === 1));

function bitEqual(a: unknown, b: unknown): boolean {
  if (!tree.sameStructure(a, b, { shapes: true, dtypes: true })) return false;
  const lb = tree.leaves(b) as tf.Tensor[];
  return (tree.leaves(a) as tf.Tensor[]).every((x, i) => {
    const u = x.dataSync();
    const v = lb[i]!.dataSync();
    return u.every((e, j) => Object.is(e, v[j]));
  });
}

/** "path: shape dtype" for every leaf, to compare state layouts across steps. */
const layout = (t: unknown) => tree.leavesWithPath(t).map(([p, l]) => `${tree.formatPath(p)}: ${tree.isTensor(l) ? `${l.dtype} [${l.shape.join(',')}]` : tree.describe(l)}`);

/**
 * learned_optimization's `smoketest_learned_optimizer`, for your own learned optimizers (and run
 * on every built-in one): init is deterministic per key and gives float32 tensors; `optFn`
 * returns an Optimizer; a few updates on a task keep the state's structure, shapes and dtypes,
 * keep the params finite and are deterministic; the meta-gradient of the loss after one update
 * is finite and shaped like theta; theta round-trips bit for bit through serializeTheta /
 * deserializeTheta; nothing leaks tensors. Throws an Error naming the optimizer and the failed
 * check; returns a report.
 */
export function smoketestLearnedOptimizer(lopt: LearnedOptimizer, opts: SmoketestLearnedOptimizerOptions = {}): LearnedOptimizerSmoketestReport {
  const name = lopt.name || '<unnamed learned optimizer>';
  const key = opts.key ?? PRNGKey(0);
  const steps = opts.steps ?? 3;
  const ks = split(key, 4);
  const [kTheta, kTask, kData, kLoss] = [ks.at(0), ks.at(1), ks.at(2), ks.at(3)];
  const checks: string[] = [];
  // The default task's config (two scalars) exists before the leak count starts and is freed after it.
  const family = opts.task ? undefined : sinusoidFamily({ hidden: [8], k: 8 });
  const cfg = family?.sample(kTask);
  const task = opts.task ?? family!.taskFn(cfg!);
  const before = tf.memory().numTensors;
  let report: Omit<LearnedOptimizerSmoketestReport, 'checks'>;
  // A scope of our own: whatever a failed check leaves behind is freed when we throw.
  tf.engine().startScope();
  try {
    if (typeof lopt.name !== 'string' || lopt.name === '') fail(name, 'name must be a non-empty string');
    let configJson = '';
    try {
      configJson = JSON.stringify(lopt.config);
    } catch {
      fail(name, 'config is not JSON-serializable');
    }
    if (JSON.stringify(JSON.parse(configJson)) !== configJson) fail(name, 'config does not survive a JSON round trip');

    const theta = lopt.init(kTheta);
    const again = lopt.init(kTheta);
    for (const [p, l] of tree.leavesWithPath(theta)) {
      if (!tree.isTensor(l) || l.dtype !== 'float32') fail(name, `theta ${tree.formatPath(p)} is ${tree.describe(l)}; theta leaves must be float32 tensors`);
    }
    if (!bitEqual(theta, again)) fail(name, 'init is not deterministic: the same key gave different theta');
    if (!finite(theta)) fail(name, 'theta is not finite at init');
    tree.dispose(again);
    checks.push('init deterministic per key, float32, finite');

    const opt: Optimizer = lopt.optFn(theta);
    if (!opt || typeof opt.init !== 'function' || typeof opt.update !== 'function' || typeof opt.getParams !== 'function') {
      fail(name, 'optFn must return an Optimizer {name, init, update, getParams}');
    }

    const params = task.init(kTask);
    const batch = task.datasets ? task.datasets.train.sample(kData) : null;
    const lossFn = (p: unknown) => task.loss(p, kLoss, batch);
    const run = (o: Optimizer) =>
      scope(() => {
        let s = o.init(params, { numSteps: steps, key: kTheta });
        const shape0 = layout(s);
        for (let i = 0; i < steps; i++) {
          const [l, g] = valueAndGrad(lossFn)(o.getParams(s));
          const next = o.update(s, g, { loss: l, key: kTheta });
          const shape = layout(next);
          if (shape.join('\n') !== shape0.join('\n')) {
            fail(name, `update ${i + 1} changed the state's structure, shapes or dtypes:\n  init:   ${shape0.join('; ')}\n  update: ${shape.join('; ')}`);
          }
          s = next;
        }
        return s;
      });
    const s1 = run(opt);
    const p1 = opt.getParams(s1);
    const mismatch = tree.findMismatch(params, p1, { shapes: true, dtypes: true, names: ['task params', 'getParams(state)'] });
    if (mismatch) fail(name, `getParams does not return the params' structure: ${mismatch}`);
    if (!finite(p1)) fail(name, `params are not finite after ${steps} updates`);
    const s2 = run(lopt.optFn(theta));
    if (!bitEqual(s1, s2)) fail(name, 'updates are not deterministic: the same inputs gave different states');
    checks.push(`${steps} updates: state layout kept, params finite, deterministic`);

    const metaLoss = (th: unknown) => {
      const o = lopt.optFn(th);
      const s = o.init(params, { numSteps: steps, key: kTheta });
      return lossFn(o.getParams(o.update(s, grad(lossFn)(o.getParams(s)), { key: kTheta })));
    };
    const mg = grad(metaLoss)(theta);
    const mm = tree.findMismatch(theta, mg, { shapes: true, names: ['theta', 'meta-gradient'] });
    if (mm) fail(name, `the meta-gradient does not match theta: ${mm}`);
    if (!finite(mg)) fail(name, 'the meta-gradient through one update is not finite');
    checks.push('meta-gradient through an update finite, shaped like theta');

    const back = deserializeTheta(lopt, serializeTheta(lopt, theta));
    if (!bitEqual(theta, back)) fail(name, 'theta does not round-trip through serializeTheta / deserializeTheta');
    checks.push('theta round-trips through safetensors bytes');

    const l0 = lossFn(params);
    const l1 = lossFn(p1);
    let numMetaParams = 0;
    for (const l of tree.leaves(theta) as tf.Tensor[]) numMetaParams += l.size;
    report = { name, task: task.name, numMetaParams, loss: l0.dataSync()[0]!, lossAfter: l1.dataSync()[0]! };
    tree.dispose([theta, params, batch, s1, s2, mg, back, l0, l1]);
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) fail(name, `${leaked} tensors leaked (init, optFn, update and getParams must be tidy)`);
  } finally {
    tf.engine().endScope();
    if (cfg) tree.dispose(cfg);
  }
  return { ...report, checks: [...checks, 'no tensor leaks'] };
}
