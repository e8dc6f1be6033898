import * as tf from '@tensorflow/tfjs';
import { normal, PRNGKey, split, uniform, type Key } from '@lopt/random';
import * as tree from '@lopt/tree';
import { beforeAll, describe, expect, it } from 'vitest';
import { arrayStream, clipNormalizer, defineTask, smoketestTask, vectorizeTask, type Task } from '../src/index.js';
import { useBackend, values } from '@lopt/test-utils';

beforeAll(() => useBackend('cpu'));

// The README's custom task, verbatim in spirit: a linear least-squares problem.
function myTask(): Task<{ w: tf.Tensor }, null> {
  return defineTask({
    name: 'MyLeastSquares',
    init: (key: Key) => ({ w: normal(key, [3]) }),
    loss: (p: { w: tf.Tensor }) => tf.tidy(() => tf.sum(tf.square(tf.sub(p.w, tf.tensor1d([1, 2, 3])))) as tf.Scalar),
  });
}

describe('smoketestTask on user tasks', () => {
  it('passes a well-behaved custom task', () => {
    const r = smoketestTask(myTask());
    expect(r.checks).toEqual([
      'init deterministic, float32, finite',
      'loss finite scalar, deterministic',
      'gradients finite, shaped like params',
      'normalizer elementwise, finite (NaN stays NaN)',
      'lossWithAux agrees with loss',
      'model state: initWithState, lossWithState(AndAux) consistent',
      'no tensor leaks',
    ]);
    const clipped = smoketestTask(defineTask({ ...myTask(), normalizer: clipNormalizer(10) }));
    expect(clipped.checks).toContain('normalizer elementwise, finite, maps NaN to a finite value');
  });

  it('requires a normalizer and checks that it is elementwise', () => {
    const { normalizer: _, ...rest } = myTask();
    expect(() => smoketestTask(rest as never)).toThrow(
      'smoketest MyLeastSquares: normalizer is missing; every task has one (build the task with defineTask(...) to get the identity by default)',
    );
    expect(() => smoketestTask({ ...myTask(), normalizer: (l: tf.Tensor) => tf.sum(l) })).toThrow('smoketest MyLeastSquares: normalizer must be elementwise: [3] losses gave Tensor float32 []');
    expect(() => smoketestTask({ ...myTask(), normalizer: (l: tf.Tensor) => tf.div(l, 0) })).toThrow('normalizer must map a finite scalar loss to a finite scalar');
  });

  it('needs datasets when the task declares a batchSpec', () => {
    const t = myTask();
    expect(() => smoketestTask(defineTask({ name: t.name, init: t.init, loss: t.loss, batchSpec: { x: ['B'] } }))).toThrow(
      'smoketest MyLeastSquares: has a batchSpec but no datasets to draw a batch from',
    );
  });

  it('checks lossWithAux against loss', () => {
    const t = myTask();
    const bad = { ...t, lossWithAux: (p: { w: tf.Tensor }, k: Key, b: null): [tf.Scalar, {}] => [tf.add(t.loss(p, k, b), 1) as tf.Scalar, {}] };
    expect(() => smoketestTask(bad)).toThrow(/smoketest MyLeastSquares: lossWithAux gives loss [\d.]+, but loss gives [\d.]+/);
  });

  it('names what is wrong', () => {
    const base = myTask();
    let n = 0;
    expect(() => smoketestTask({ ...base, init: () => ({ w: tf.scalar(n++) }) })).toThrow('smoketest MyLeastSquares: init is not deterministic: the same key gave different params');
    expect(() => smoketestTask({ ...base, init: () => ({ w: tf.tensor1d([1], 'int32') }) })).toThrow('param w is Tensor int32 [1]; params must be float32 tensors');
    expect(() => smoketestTask({ ...base, loss: (p) => tf.square(p.w) as never })).toThrow('loss must return a scalar tensor, got Tensor float32 [3]');
    expect(() => smoketestTask({ ...base, loss: (p) => tf.sum(tf.sqrt(tf.sub(p.w, 100))) as tf.Scalar })).toThrow('loss is not finite: NaN');
    let leak: tf.Tensor | undefined;
    expect(() =>
      smoketestTask({
        ...base,
        loss: (p) => {
          leak = tf.ones([1]);
          return base.loss(p, PRNGKey(0), null);
        },
      }),
    ).toThrow(/tensors leaked/);
    leak?.dispose();
  });
});

describe('arrayStream', () => {
  const columns = { v: { data: Float32Array.from({ length: 10 }, (_, i) => i), shape: [], dtype: 'float32' as const } };

  it('iterates epochs as permutations: every example once per epoch, same key same order', () => {
    const s = arrayStream<{ v: tf.Tensor }>(columns, { batchSize: 5 });
    const it = s.iterate(PRNGKey(1));
    const epoch1 = [...values(it.next().value!.v), ...values(it.next().value!.v)];
    const epoch2 = [...values(it.next().value!.v), ...values(it.next().value!.v)];
    expect([...epoch1].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...epoch2].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch1).not.toEqual(epoch2);
    const again = s.iterate(PRNGKey(1));
    expect(values(again.next().value!.v)).toEqual(epoch1.slice(0, 5));
  });

  it('respects ranges and rejects bad input', () => {
    const s = arrayStream<{ v: tf.Tensor }>(columns, { batchSize: 4, range: [6, 10] });
    expect(values(s.sample(PRNGKey(0)).v).every((v) => v >= 6)).toBe(true);
    expect(() => arrayStream(columns, { batchSize: 4, range: [6, 11] })).toThrow('arrayStream: range [6, 11) is not inside [0, 10)');
    expect(() => arrayStream(columns, { batchSize: 0 })).toThrow('arrayStream: batchSize must be a positive integer, got 0');
    expect(() => arrayStream({ ...columns, w: { data: new Int32Array(9), shape: [] } }, { batchSize: 2 })).toThrow('arrayStream: column w has 9 examples but v has 10');
  });
});

describe('vectorizeTask', () => {
  // A stochastic loss, so that the key matters: sum(w²) + u with u ~ U(0, 1) drawn from the key.
  const noisy = defineTask({
    name: 'Noisy',
    init: (key: Key) => normal(key, [2]),
    loss: (w: tf.Tensor, key: Key) => tf.tidy(() => tf.add(tf.sum(tf.square(w)), uniform(key, [])) as tf.Scalar),
  });

  it('loss(params, key, batches): one key shared by all tasks, or one key per task, equals the loop', () => {
    const v = vectorizeTask(noisy);
    const keys = split(PRNGKey(3), 4);
    const params = v.init(keys);
    const each = tree.unstack(params);
    const shared = v.loss(params, PRNGKey(9), null);
    const perTask = v.loss(params, keys, null);
    expect(shared.shape).toEqual([4]);
    each.forEach((w, i) => {
      expect(values(shared)[i]).toBeCloseTo(values(noisy.loss(w, PRNGKey(9), null))[0]!, 5);
      expect(values(perTask)[i]).toBeCloseTo(values(noisy.loss(w, keys.at(i), null))[0]!, 5);
    });
    // Different keys, different noise: the per-task losses are not the shared-key ones.
    expect(values(perTask)).not.toEqual(values(shared));
    const n = v.normalizer(perTask);
    expect(values(n)).toEqual(values(perTask));
    tf.dispose([params, ...each, shared, perTask, n]);
  });
});
