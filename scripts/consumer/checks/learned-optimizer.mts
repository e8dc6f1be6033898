// One meta-training step with a learned optimizer from the installed @lopt/learned-optimizers:
// unroll 3 inner steps of a quadratic, differentiate the final loss with respect to theta, and
// check that a small step against that meta-gradient lowers the meta-loss.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as lopts from '@lopt/learned-optimizers';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { initBackend, scope, valueAndGrad } from '@lopt/transforms';

interface LearnedOptimizerLike {
  name: string;
  init(key: unknown): any;
  optFn(theta: any, isTraining?: boolean): {
    init(params: any, opts?: { numSteps?: number }): any;
    update(state: any, grad: any, opts?: { loss?: tf.Tensor }): any;
    getParams(state: any): any;
  };
}

const isLearnedOptimizer = (v: unknown): v is LearnedOptimizerLike =>
  typeof v === 'object' && v !== null && typeof (v as LearnedOptimizerLike).init === 'function' && typeof (v as LearnedOptimizerLike).optFn === 'function';

// The package's factories are probed by shape, not by name, so this keeps working as it grows:
// the first export that is a learned optimizer, or a function that returns one when called
// without arguments. Functions that read or write files are never called.
function findLearnedOptimizer(): [string, LearnedOptimizerLike] | undefined {
  const exports = Object.entries(lopts as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
  for (const [name, v] of exports) if (isLearnedOptimizer(v)) return [name, v];
  for (const [name, v] of exports) {
    if (typeof v !== 'function' || /^(save|load|read|write|smoketest|download|is|assert)/i.test(name)) continue;
    try {
      const made: unknown = (v as () => unknown)();
      if (isLearnedOptimizer(made)) return [`${name}()`, made];
    } catch {
      // needs arguments or is a class: not a default-constructible learned optimizer
    }
  }
  return undefined;
}

const found = findLearnedOptimizer();
if (found === undefined) {
  const names = Object.keys(lopts).filter((k) => k !== 'default');
  console.log(`consumer-check: skip @lopt/learned-optimizers exports no learned optimizer yet (runtime exports: ${names.length ? names.join(', ') : 'none'})`);
} else {
  const [what, lopt] = found;
  await initBackend('cpu');
  const target = tf.tensor1d([1, -2, 0.5, 3]);
  const loss = (p: { w: tf.Tensor }) => tf.sum(tf.square(tf.sub(p.w, target))) as tf.Scalar;
  const metaLoss = (theta: unknown) => {
    const opt = lopt.optFn(theta, true);
    let state = opt.init({ w: tf.zeros([4]) }, { numSteps: 3 });
    for (let i = 0; i < 3; i++) {
      const [l, g] = valueAndGrad(loss)(opt.getParams(state));
      state = opt.update(state, g, { loss: l });
    }
    return loss(opt.getParams(state));
  };
  const theta = lopt.init(PRNGKey(0));
  const before = tf.memory().numTensors;
  const [l0, g] = scope(() => valueAndGrad(metaLoss)(theta)) as [tf.Scalar, any];
  const gNorm = tree.globalNorm(g);
  const norm = gNorm.dataSync()[0]!;
  gNorm.dispose();
  assert.ok(Number.isFinite(l0.dataSync()[0]!) && Number.isFinite(norm), `meta-loss ${l0.dataSync()[0]} or meta-gradient norm ${norm} not finite`);
  assert.ok(norm > 0, 'the meta-gradient is zero: theta does not reach the inner updates');
  const step = 1e-3 / norm; // a step of length 1e-3 along the meta-gradient, to first order -1e-3·|g|
  const next = scope(() => tree.sub(theta, tree.scale(step, g)));
  const l1 = scope(() => metaLoss(next));
  const [a, b] = [l0.dataSync()[0]!, l1.dataSync()[0]!];
  assert.ok(b < a, `a meta-step did not lower the meta-loss: ${a} -> ${b}`);
  tree.dispose([l0, g, next, l1]);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  console.log(`${lopt.name} (${what}): meta-loss ${a.toPrecision(6)} -> ${b.toPrecision(6)} after one meta-step, |meta-grad| ${norm.toPrecision(4)}`);
}
