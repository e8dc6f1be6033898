import * as tf from '@tensorflow/tfjs';
import { PRNGKey } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearRegressionSamples, linearRegressionTask, OPTAX_META_LEARNING_KEYS, smoketestTask } from '../src/index.js';
import { useBackend, values } from '@lopt/test-utils';

beforeAll(() => useBackend('cpu'));

describe("linear regression (optax's meta-learning notebook)", () => {
  it('streams the JAX-exact samples the notebook prints', () => {
    const gen = linearRegressionSamples(OPTAX_META_LEARNING_KEYS.data());
    const got = Array.from({ length: 5 }, () => gen.next().value!).map((s) => [s.y.toFixed(3), s.x.toFixed(3)]);
    expect(got).toEqual([
      ['72.695', '7.184'],
      ['3.827', '0.367'],
      ['3.362', '0.327'],
      ['10.027', '0.973'],
      ['96.446', '9.739'],
    ]);
  });

  it('batches the same stream; sample(key) is deterministic', () => {
    const task = linearRegressionTask({ batchSize: 7 });
    const it = task.datasets!.train.iterate(PRNGKey(0));
    const b0 = it.next().value!;
    const b1 = it.next().value!;
    const gen = linearRegressionSamples(PRNGKey(0));
    const first14 = Array.from({ length: 14 }, () => gen.next().value!);
    expect(values(b0.x)).toEqual(first14.slice(0, 7).map((s) => s.x));
    expect(values(b1.y)).toEqual(first14.slice(7).map((s) => s.y));
    const a = task.datasets!.train.sample(PRNGKey(3));
    const b = task.datasets!.train.sample(PRNGKey(3));
    expect(values(a.x)).toEqual(values(b.x));
    tf.dispose([b0, b1, a, b].flatMap((q) => [q.x, q.y]));
  });

  it('init is jax.random.normal(PRNGKey(42)); loss is mean ½(y - xθ)²', () => {
    const task = linearRegressionTask();
    const theta = task.init(OPTAX_META_LEARNING_KEYS.theta());
    expect(values(theta)[0]).toBeCloseTo(-0.18471177, 7);
    const batch = { x: tf.tensor1d([1, 2]), y: tf.tensor1d([10, 21]) };
    const l = task.loss(tf.scalar(10), PRNGKey(0), batch);
    expect(values(l)[0]).toBeCloseTo((0 + 0.5) / 2, 6);
    tf.dispose([theta, l, batch.x, batch.y]);
  });

  it('passes the smoketest; the normalizer clips and maps NaN to the max', () => {
    const r = smoketestTask(linearRegressionTask());
    expect(r.numParams).toBe(1);
    expect(r.batchShapes).toEqual({ x: [7], y: [7] });
    const task = linearRegressionTask();
    const n = task.normalizer!(tf.tensor1d([NaN, -1, 3, 1e9]));
    // max = 10 × ½ (slope · max|x|)² = 10 × ½ (10 · 10)²
    expect(values(n)).toEqual([50000, 0, 3, 50000]);
    n.dispose();
  });
});
