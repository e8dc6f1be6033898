import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import { deserialize, dispose, serialize, stack, unstack } from '@lopt/tree';
import { vmap } from '@lopt/transforms';
import { adam, applyUpdates, injectHyperparams, optaxOptimizer, rmsprop, sgd, type Optimizer } from '../src/index.js';
import { BACKENDS, expectClose, fresh, treeValues, values, useBackend } from '@lopt/test-utils';

describe.each(BACKENDS)('Optimizer interface and state handling on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('optaxOptimizer: init holds params and iteration, update applies the transformation', () => {
    const opt: Optimizer = optaxOptimizer(sgd(0.5), 'SGD_lr0.5');
    expect(opt.name).toBe('SGD_lr0.5');
    const params = { w: tf.tensor1d([1, 2]) };
    const s0 = fresh(params, () => opt.init(params, { numSteps: 10, key: PRNGKey(0) }));
    expect(s0.iteration.dtype).toBe('int32');
    expect(opt.getParams(s0).w).not.toBe(params.w);
    const g = { w: tf.tensor1d([1, -1]) };
    const s1 = fresh([params, s0, g], () => opt.update(s0, g, { loss: 3, key: PRNGKey(1) }));
    expectClose(opt.getParams(s1).w, [0.5, 2.5]);
    expect(s1.iteration.dataSync()[0]).toBe(1);
    dispose([params, s0, g, s1]);
  });

  it('states stack, unstack, serialize and vmap like any pytree', () => {
    const tx = adam(0.1);
    const ps = [tf.tensor1d([1, 2]), tf.tensor1d([-1, 0.5]), tf.tensor1d([3, 3])];
    const gs = [tf.tensor1d([0.1, -0.2]), tf.tensor1d([2, 1]), tf.tensor1d([-1, 0])];
    const states = ps.map((p) => tx.init(p));
    // One update per example, then the same batched with vmap.
    const each = ps.map((p, i) => tx.update(gs[i]!, states[i]!, p));
    const [uB, sB] = vmap((g: tf.Tensor, s: unknown, p: tf.Tensor) => tx.update(g, s as never, p))(stack(gs), stack(states), stack(ps));
    expectClose(treeValues(uB).flat(), each.flatMap(([u]) => values(u)), 1e-6);
    unstack(sB).forEach((s, i) => expectClose(treeValues(s).flat(), treeValues(each[i]![1]).flat(), 1e-6));
    const round = deserialize(serialize(each[0]![1]));
    expectClose(treeValues(round).flat(), treeValues(each[0]![1]).flat(), 0, 0);
    dispose([ps, gs, states, each, uB, sB, round]);
  });

  it('vmap over injected hyperparameters: one learning rate per example', () => {
    const tx = injectHyperparams(rmsprop)({ learningRate: 0.1 });
    const p = tf.tensor1d([1, 2]);
    const g = tf.tensor1d([0.5, -1]);
    const s = tx.init(p);
    const lrs = [0.1, 0.2, 0.4];
    const states = lrs.map((lr) => ({ ...s, hyperparams: { ...s.hyperparams, learningRate: tf.scalar(lr) } }));
    const [uB] = vmap((st: unknown) => tx.update(g, st as never, p))(stack(states));
    const base = values(tx.update(g, s, p)[0]);
    expectClose(values(uB), lrs.flatMap((lr) => base.map((x) => (x * lr) / 0.1)), 1e-6);
    dispose([p, g, s, states.map((x) => x.hyperparams.learningRate), uB]);
  });

  it('applyUpdates adds in the params dtype and checks structure', () => {
    const p = { a: tf.tensor1d([1, 2]), b: [tf.scalar(3)] };
    const u = { a: tf.tensor1d([0.5, 0.5]), b: [tf.scalar(-1)] };
    const q = fresh([p, u], () => applyUpdates(p, u));
    expect(treeValues(q)).toEqual([[1.5, 2.5], [2]]);
    expect(() => applyUpdates(p, { a: tf.tensor1d([1]), b: [tf.scalar(1)] })).toThrow('applyUpdates: a: shape [2] (params) vs [1] (updates)');
    expect(() => applyUpdates(p, { a: u.a })).toThrow('applyUpdates: <root>: keys [b] only in params');
    dispose([p, u, q]);
  });
});
