import * as tf from '@tensorflow/tfjs';
import { normal, PRNGKey, split } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { quadraticBatchFamily, quadraticFamily, smoketestTaskFamily } from '../src/index.js';
import { useBackend, values } from '@lopt/test-utils';

beforeAll(() => useBackend('cpu'));

describe('quadratics (seed 001)', () => {
  it('loss is ‖Wθ − y‖² (hand-computed)', () => {
    const fam = quadraticFamily({ dim: 2 });
    const task = fam.taskFn({ W: tf.tensor2d([[1, 2], [3, 4]]), y: tf.tensor1d([1, -1]) });
    // Wθ = [1*1 + 2*0.5, 3*1 + 4*0.5] = [2, 5]; minus y = [1, 6]; sum of squares 37.
    const l = task.loss(tf.tensor1d([1, 0.5]), PRNGKey(0), null);
    expect(values(l)).toEqual([37]);
    expect(() => task.loss(tf.tensor1d([1, 2, 3]), PRNGKey(0), null)).toThrow('quadratic loss: θ must have shape [2], got [3]');
  });

  it('samples W, y, θ0 from one key like the seed, and batches 128 problems with a mean', () => {
    const key = PRNGKey(0);
    const fam = quadraticBatchFamily({ batchSize: 128, dim: 10 });
    const cfg = fam.sample(key);
    const theta = fam.taskFn(cfg).init(key);
    const k = split(key, 3);
    const [w, y, th] = [normal(k.at(0), [128, 10, 10]), normal(k.at(1), [128, 10]), normal(k.at(2), [128, 10])];
    expect(values(cfg.W)).toEqual(values(w));
    expect(values(cfg.y)).toEqual(values(y));
    expect(values(theta)).toEqual(values(th));
    // The seed's f: mean over the batch of sum((W θ - y)²).
    const seedF = tf.mean(tf.sum(tf.square(tf.sub(tf.squeeze(tf.matMul(w, tf.expandDims(th, -1)), [-1]), y)), 1));
    const l = fam.taskFn(cfg).loss(theta, key, null);
    expect(values(l)[0]).toBeCloseTo(values(seedF)[0]!, 3);
    tf.dispose([cfg.W, cfg.y, theta, w, y, th, seedF, l]);
  });

  it('passes the family smoketest, vectorized path included', () => {
    expect(smoketestTaskFamily(quadraticFamily()).checks.join(' ')).toMatch(/vectorized loss over 3 tasks equals the loop/);
    expect(smoketestTaskFamily(quadraticBatchFamily({ batchSize: 16 })).checks.join(' ')).toMatch(/vectorized/);
  });
});
