import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, normal, split } from '@lopt/random';
import * as tree from '@lopt/tree';
import { grad, scope, vmap } from '@lopt/transforms';
import { useBackend, useLeakCheck } from '@lopt/test-utils';
import type { LearnedOptimizer } from '../src/index.js';
import { BUILTINS } from './builtins.js';
import { maxRelErr } from './helpers.js';

/** Params of T tasks (a matrix, a vector, a scalar), stacked, and their regression targets. */
function tasks(T: number) {
  return tf.tidy(() => {
    const k = split(PRNGKey(9), 6);
    return {
      params: { w: normal(k.at(0), [T, 3, 4]), b: normal(k.at(1), [T, 4]), s: normal(k.at(2), [T]) },
      target: { w: normal(k.at(3), [T, 3, 4]), b: normal(k.at(4), [T, 4]), s: normal(k.at(5), [T]) },
    };
  });
}

/** 3 inner steps on 0.5·Σ(p − target)² for one task; the loss at the end. */
const unroll = (lopt: LearnedOptimizer) => (theta: unknown, params: unknown, target: unknown) => {
  const opt = lopt.optFn(theta);
  const sq = (p: unknown) => tf.addN((tree.leaves(tree.sub(p, target)) as tf.Tensor[]).map((d) => tf.mul(0.5, tf.sum(tf.square(d))))) as tf.Scalar;
  let s = opt.init(params);
  for (let i = 0; i < 3; i++) s = opt.update(s, grad(sq)(opt.getParams(s)));
  return sq(opt.getParams(s));
};

describe('meta-gradients of a vmapped unroll and vmap over theta (what the estimators do)', () => {
  beforeAll(() => useBackend('cpu'));
  useLeakCheck();

  for (const make of BUILTINS) {
    const lopt = make();
    it(`${lopt.name} ${JSON.stringify(lopt.config)}: grad of the mean over 3 vmapped tasks = mean of per-task grads; vmap over 2 thetas = loop`, () => {
      const theta = lopt.init(PRNGKey(0));
      const { params, target } = tasks(3);
      const f = unroll(lopt);
      const batched = grad((th: unknown) => tf.mean(vmap(f, [null, 0, 0])(th, params, target)) as tf.Scalar)(theta);
      const perTask = scope(() => {
        const gs = [0, 1, 2].map((t) => grad((th: unknown) => f(th, tree.map((x: tf.Tensor) => x.gather(t), params), tree.map((x: tf.Tensor) => x.gather(t), target)))(theta));
        return tree.map((...xs: tf.Tensor[]) => tf.div(tf.addN(xs), 3), gs[0], ...gs.slice(1));
      });
      expect(maxRelErr(batched, perTask, 1e-2)).toBeLessThan(1e-4);

      // ES-style: a batch of perturbed thetas, one task.
      const one = tree.map((x: tf.Tensor) => x.gather(0), params);
      const tgt = tree.map((x: tf.Tensor) => x.gather(0), target);
      const thetas = scope(() => tree.stack([theta, tree.map((x: tf.Tensor) => tf.add(x, 1e-2), theta)]));
      const losses = vmap(f, [0, null, null])(thetas, one, tgt) as tf.Tensor;
      const loop = scope(() => tf.stack(tree.unstack(thetas).map((th) => f(th, one, tgt))));
      expect(maxRelErr(losses, loop, 1e-2)).toBeLessThan(1e-5);
      tree.dispose([theta, params, target, batched, perTask, one, tgt, thetas, losses, loop]);
    });
  }
});
