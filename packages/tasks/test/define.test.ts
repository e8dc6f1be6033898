import * as tf from '@tensorflow/tfjs';
import { PRNGKey, type Key } from '@lopt/random';
import { valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineTask, defineTaskFamily, functionStream, identityNormalizer, smoketestTask, type TaskAux } from '../src/index.js';
import { noLeak, useBackend, useLeakCheck, values } from '@lopt/test-utils';

beforeAll(() => useBackend('cpu'));
useLeakCheck();

type Batch = { x: tf.Tensor1D; y: tf.Tensor1D };
const batch = (): Batch => ({ x: tf.tensor1d([1, 2, 3]), y: tf.tensor1d([2, 4, 7]) });
// loss(w) = mean (w x - y)²; at w = 2 the residuals are [0, 0, -1]: loss 1/3, d/dw = 2/3 · mean(r x) = 2·(-3)/3 = -2.
const stream = functionStream<Batch>(3, () => batch());
const base = {
  name: 'Slope',
  datasets: { train: stream, innerValid: stream, outerValid: stream, test: stream },
  init: (_key: Key) => tf.scalar(2),
  loss: (w: tf.Scalar, _key: Key, b: Batch) => tf.tidy(() => tf.mean(tf.square(tf.sub(tf.mul(b.x, w), b.y))) as tf.Scalar),
};

describe('defineTask fills in learned_optimization defaults', () => {
  it('identity normalizer, lossWithAux [loss, {}], initWithState [init, null], the state methods from loss', () => {
    const task = defineTask(base);
    const b = batch();
    const w = task.init(PRNGKey(0));
    const l = task.loss(w, PRNGKey(0), b);
    expect(values(l)[0]).toBeCloseTo(1 / 3, 6);
    const n = noLeak(() => task.normalizer(l));
    expect(n).not.toBe(l); // a new tensor the caller owns, equal to the loss
    expect(values(n)).toEqual(values(l));
    const raw = tf.tensor1d([NaN, 1]);
    const same = identityNormalizer(raw);
    expect(values(same)).toEqual([NaN, 1]);
    const [la, aux] = task.lossWithAux(w, PRNGKey(0), b);
    expect(values(la)).toEqual(values(l));
    expect(aux).toEqual({});
    const [p0, s0] = task.initWithState(PRNGKey(0));
    expect(values(p0)).toEqual([2]);
    expect(s0).toBeNull();
    const [ls, s1] = task.lossWithState(w, null, PRNGKey(0), b);
    expect([values(ls)[0], s1]).toEqual([values(l)[0], null]);
    const [lsa, s2, aux2] = task.lossWithStateAndAux(w, null, PRNGKey(0), b);
    expect([values(lsa)[0], s2, aux2]).toEqual([values(l)[0], null, {}]);
    expect(() => task.lossWithState(w, { count: 1 } as never, PRNGKey(0), b)).toThrow(
      'Slope lossWithState: got a model state, but the task defines neither lossWithState nor lossWithStateAndAux',
    );
    tree.dispose([b, w, l, n, raw, same, la, p0, ls, lsa]);
  });

  it('lossWithAux goes through valueAndGrad with hasAux (gradient -2 at w = 2)', () => {
    const task = defineTask({
      ...base,
      lossWithAux: (w: tf.Scalar, key: Key, b: Batch): [tf.Scalar, TaskAux] => [base.loss(w, key, b), { maxAbsResidual: tf.max(tf.abs(tf.sub(tf.mul(b.x, w), b.y))) }],
    });
    const b = batch();
    const w = tf.scalar(2);
    const [[l, aux], g] = valueAndGrad((p: tf.Scalar) => task.lossWithAux(p, PRNGKey(0), b), { hasAux: true })(w) as [[tf.Scalar, TaskAux], tf.Scalar];
    expect(values(l)[0]).toBeCloseTo(1 / 3, 6);
    expect(values(aux.maxAbsResidual!)).toEqual([1]);
    expect(values(g)[0]).toBeCloseTo(-2, 5);
    expect(smoketestTask(task).checks).toContain('lossWithAux agrees with loss');
    tree.dispose([b, w, l, aux, g]);
  });

  it('a task with model state: lossWithState is made from lossWithStateAndAux, its aux freed', () => {
    // The state counts examples seen (a running statistic, as batch norm keeps).
    type S = { seen: tf.Scalar };
    const task = defineTask<tf.Scalar, Batch, S>({
      ...base,
      initWithState: (key) => [base.init(key), { seen: tf.scalar(0) }],
      lossWithStateAndAux: (w, s, key, b) => [base.loss(w, key, b), { seen: tf.add(s.seen, b.x.shape[0]) as tf.Scalar }, { residual: tf.sub(tf.mul(b.x, w), b.y) }],
    });
    const b = batch();
    const [w, s0] = task.initWithState(PRNGKey(0));
    const [l, s1] = noLeak(() => task.lossWithState(w, s0, PRNGKey(0), b));
    expect(values(l)[0]).toBeCloseTo(1 / 3, 6);
    expect(values(s1.seen)).toEqual([3]);
    const [l2, s2, aux] = task.lossWithStateAndAux(w, s1, PRNGKey(0), b);
    expect(values(s2.seen)).toEqual([6]);
    expect(values(aux.residual!)).toEqual([0, 0, -1]);
    expect(smoketestTask(task).checks).toContain('model state: initWithState, lossWithState(AndAux) consistent');
    tree.dispose([b, w, s0, l, s1, l2, s2, aux]);
  });

  it('is idempotent and rejects what is not a task', () => {
    const task = defineTask(base);
    expect(defineTask(task)).toBe(task);
    expect(() => defineTask({ ...base, normaliser: (l: tf.Tensor) => l } as never)).toThrow('defineTask(Slope): unknown option normaliser (known: name, init, loss, normalizer,');
    expect(() => defineTask({ ...base, loss: undefined } as never)).toThrow('defineTask(Slope): loss must be a function, got undefined');
    expect(() => defineTask({ ...base, name: '' })).toThrow('defineTask: name must be a non-empty string, got ""');
    expect(() => defineTask({ ...base, initWithState: (k: Key) => [base.init(k), {}] } as never)).toThrow(
      'defineTask(Slope): a task with initWithState must define lossWithState or lossWithStateAndAux',
    );
    expect(() => defineTask(Promise.resolve(task) as never)).toThrow('defineTask: got a Promise, not a task; await it first');
  });

  it('defineTaskFamily passes every sampled task through defineTask and keeps other members', () => {
    const fam = defineTaskFamily({
      name: 'Slopes',
      sample: (_key: Key) => ({ slope: 3 }),
      taskFn: (cfg: { slope: number }) => ({ ...base, name: `Slope${cfg.slope}` }),
      describe: () => 'slopes',
    });
    const task = fam.taskFn(fam.sample(PRNGKey(0)));
    expect(task.name).toBe('Slope3');
    expect(typeof task.normalizer).toBe('function');
    expect(typeof task.lossWithStateAndAux).toBe('function');
    expect(fam.describe()).toBe('slopes');
    expect(() => defineTaskFamily({ ...fam, vectorizedInit: () => null } as never)).toThrow('defineTaskFamily(Slopes): a vectorized family needs both vectorizedInit and vectorizedLoss');
  });
});
