import * as tf from '@tensorflow/tfjs';
import { normal, PRNGKey, split } from '@lopt/random';
import * as tree from '@lopt/tree';
import { beforeAll, describe, expect, it } from 'vitest';
import { fashionMnistData, fashionMnistMlpTask, imageMlpFamily, imageMlpTask, smoketestTask, smoketestTaskFamily, vectorizeTask, type ImageClassificationData } from '../src/index.js';
import { useBackend, values } from '@lopt/test-utils';

beforeAll(() => useBackend('cpu'));

describe("Fashion-MNIST 8x8 MLP (learned_optimization's no-dependency notebook)", () => {
  it('uses learned_optimization splits of the shipped 8x8 data', async () => {
    const task = await fashionMnistMlpTask();
    const d = task.datasets!;
    expect([d.train.size, d.innerValid.size, d.outerValid.size, d.test.size]).toEqual([48000, 6000, 6000, 10000]);
    const b = d.train.sample(PRNGKey(0));
    expect(b.image.shape).toEqual([128, 64]);
    expect(b.label.shape).toEqual([128]);
    expect(b.label.dtype).toBe('int32');
    const px = values(b.image);
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    tf.dispose([b.image, b.label]);
  });

  it("init is the seed's: normal(split(key)[i]) · 0.02, b0 = 0, b1 = 1", async () => {
    const task = await fashionMnistMlpTask();
    const key = PRNGKey(0);
    const p = task.init(key);
    const [k1, k2] = [split(key).at(0), split(key).at(1)];
    expect(p.map((l) => [l.w.shape, l.b.shape])).toEqual([[[64, 128], [128]], [[128, 10], [10]]]);
    expect(values(p[0]!.w)).toEqual(values(tf.mul(normal(k1, [64, 128]), 0.02)));
    expect(values(p[1]!.w)).toEqual(values(tf.mul(normal(k2, [128, 10]), 0.02)));
    expect(values(p[0]!.b).every((v) => v === 0)).toBe(true);
    expect(values(p[1]!.b).every((v) => v === 1)).toBe(true);
    tree.dispose(p);
  });

  it('loss is mean softmax cross-entropy: log(10) when all logits are equal', async () => {
    const task = await fashionMnistMlpTask();
    const p = task.init(PRNGKey(0));
    const zero = p.map((l) => ({ w: tf.zerosLike(l.w), b: tf.onesLike(l.b) }));
    const b = task.datasets!.train.sample(PRNGKey(1));
    expect(values(task.loss(zero, PRNGKey(0), b))[0]).toBeCloseTo(Math.log(10), 6);
    // Hand-computed cross-entropy for a two-example batch with logits from a one-layer net.
    const tiny: ImageClassificationData = {
      name: 'tiny',
      pixels: 2,
      numClasses: 3,
      train: { images: new Float32Array(20).fill(0.5), labels: new Uint8Array(10), count: 10 },
      test: { images: new Float32Array([1, 0]), labels: new Uint8Array([1]), count: 1 },
    };
    const t2 = imageMlpTask({ data: tiny, hiddenSizes: [], batchSize: 2 });
    const w = [{ w: tf.tensor2d([[1, 2, 3], [0, 0, 1]]), b: tf.zeros([3]) }];
    const batch = { image: tf.tensor2d([[1, 0], [0, 1]]), label: tf.tensor1d([0, 2], 'int32') } as never;
    const lse = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));
    const expected = ((lse([1, 2, 3]) - 1) + (lse([0, 0, 1]) - 1)) / 2;
    expect(values(t2.loss(w, PRNGKey(0), batch))[0]).toBeCloseTo(expected, 6);
    tf.dispose([b.image, b.label]);
    tree.dispose([p, zero, w]);
  });

  it('rejects out-of-range labels with a clear error (bad batches: bad-batches.test.ts)', async () => {
    const data = await fashionMnistData(8);
    const labels = data.train.labels.slice();
    labels[345] = 12;
    expect(() => imageMlpTask({ data: { ...data, train: { ...data.train, labels } } })).toThrow('FashionMnist8x8: train label 12 at index 345 is out of range for 10 classes');
  });

  it('passes the smoketest; the family samples architectures; vectorized loss equals the loop', async () => {
    const task = await fashionMnistMlpTask();
    const r = smoketestTask(task);
    expect(r.numParams).toBe(64 * 128 + 128 + 128 * 10 + 10);
    expect(r.loss).toBeGreaterThan(2.2);
    expect(r.loss).toBeLessThan(2.5);
    const fam = imageMlpFamily({ data: await fashionMnistData(8), batchSize: 32 });
    const archs = new Set(Array.from({ length: 30 }, (_, i) => JSON.stringify(fam.sample(PRNGKey(i)))));
    expect(archs.size).toBeGreaterThan(5);
    smoketestTaskFamily(fam);
    const v = vectorizeTask(task);
    const keys = split(PRNGKey(5), 3);
    const params = v.init(keys);
    const batches = [0, 1, 2].map((i) => task.datasets!.train.sample(keys.at(i)));
    const losses = v.loss(params, PRNGKey(0), tree.stack(batches));
    const loop = [0, 1, 2].map((i) => values(task.loss(tree.unstack(params)[i]!, PRNGKey(0), batches[i]!))[0]!);
    values(losses).forEach((l, i) => expect(l).toBeCloseTo(loop[i]!, 5));
  });
});
