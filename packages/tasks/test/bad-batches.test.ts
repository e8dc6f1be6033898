import * as tf from '@tensorflow/tfjs';
import { PRNGKey, split } from '@lopt/random';
import * as tree from '@lopt/tree';
import { beforeAll, describe, expect, it } from 'vitest';
import { fashionMnistMlpTask, linearRegressionTask, quadraticFamily, sinusoidFamily, smoketestTask, vectorizeTask } from '../src/index.js';
import { useBackend, useLeakCheck } from '@lopt/test-utils';

beforeAll(() => useBackend('cpu'));
useLeakCheck();

// Runs `fn` with tensors made inside it freed afterwards (the call is expected to throw).
const throwsIn = (fn: () => unknown): (() => void) => () => {
  tf.tidy(() => {
    fn();
  });
};

describe('a batch that does not fit the task gets an error naming the task, the fields and the shapes', () => {
  it('linear regression: wrong field names, wrong shapes, a batch that is not an object', () => {
    const task = linearRegressionTask();
    const theta = tf.scalar(1);
    const k = PRNGKey(0);
    expect(throwsIn(() => task.loss(theta, k, { inputs: tf.ones([7]), targets: tf.ones([7]) } as never))).toThrow(
      'LinearRegression_slope10 loss: batch has fields {inputs, targets}, expected {x, y} (missing x, y)',
    );
    expect(throwsIn(() => task.loss(theta, k, { x: tf.ones([7]), y: tf.ones([5]) }))).toThrow(
      'LinearRegression_slope10 loss: batch.y has shape [5], expected [B] with B = 7 (from batch.x)',
    );
    expect(throwsIn(() => task.loss(theta, k, { x: tf.ones([7, 1]), y: tf.ones([7]) } as never))).toThrow('LinearRegression_slope10 loss: batch.x has shape [7,1], expected [B]');
    expect(throwsIn(() => task.loss(theta, k, null as never))).toThrow('LinearRegression_slope10 loss: batch must be an object with fields {x, y}, got null');
    expect(throwsIn(() => task.loss(theta, k, { x: [1, 2], y: tf.ones([2]) } as never))).toThrow('LinearRegression_slope10 loss: batch.x must be a tensor of shape [B], got array of length 2');
    // every loss method checks, not only loss
    expect(throwsIn(() => task.lossWithAux(theta, k, { x: tf.ones([3]) } as never))).toThrow('LinearRegression_slope10 lossWithAux: batch has fields {x}, expected {x, y} (missing y)');
    theta.dispose();
  });

  it('Fashion-MNIST MLP: field names, image width, label count and dtype', async () => {
    const task = await fashionMnistMlpTask();
    const p = task.init(PRNGKey(0));
    const k = PRNGKey(0);
    const name = 'ImageMLP_FashionMnist8x8_128_relu loss';
    expect(throwsIn(() => task.loss(p, k, { images: tf.zeros([4, 64]), labels: tf.zeros([4], 'int32') } as never))).toThrow(
      `${name}: batch has fields {images, labels}, expected {image, label} (missing image, label)`,
    );
    expect(throwsIn(() => task.loss(p, k, { image: tf.zeros([4, 63]), label: tf.zeros([4], 'int32') } as never))).toThrow(`${name}: batch.image has shape [4,63], expected [B,64]`);
    expect(throwsIn(() => task.loss(p, k, { image: tf.zeros([4, 64]), label: tf.zeros([5], 'int32') } as never))).toThrow(`${name}: batch.label has shape [5], expected [B] with B = 4 (from batch.image)`);
    expect(throwsIn(() => task.loss(p, k, { image: tf.zeros([4, 64]), label: tf.zeros([4]) } as never))).toThrow(`${name}: batch.label has dtype float32, expected int32`);
    tree.dispose(p);
  });

  it('sinusoid: per-task batches [K, 1], and stacked ones [T, K, 1] in vectorizedLoss', () => {
    const fam = sinusoidFamily();
    const cfg = fam.sample(PRNGKey(0));
    const task = fam.taskFn(cfg);
    const p = task.init(PRNGKey(0));
    const name = 'Sinusoid_amp0.1-0.5_k20';
    expect(throwsIn(() => task.loss(p, PRNGKey(0), { x: tf.zeros([20]), y: tf.zeros([20]) } as never))).toThrow(`${name} loss: batch.x has shape [20], expected [K,1]`);
    expect(throwsIn(() => task.loss(p, PRNGKey(0), { inputs: tf.zeros([20, 1]), y: tf.zeros([20, 1]) } as never))).toThrow(
      `${name} loss: batch has fields {inputs, y}, expected {x, y} (missing x)`,
    );
    const keys = split(PRNGKey(1), 2);
    const sampled = [fam.sample(keys.at(0)), fam.sample(keys.at(1))];
    const cfgs = tree.stack(sampled);
    const params = fam.vectorizedInit(cfgs, keys);
    expect(throwsIn(() => fam.vectorizedLoss(cfgs, params, keys, { x: tf.zeros([20, 1]), y: tf.zeros([20, 1]) }))).toThrow(
      `${name} vectorizedLoss: batch.x has shape [20,1], expected [T,K,1]`,
    );
    tree.dispose([cfg, p, sampled, cfgs, params]);
  });

  it('quadratic: a θ of the wrong size (the task takes no batch)', () => {
    const fam = quadraticFamily({ dim: 3 });
    const cfg = fam.sample(PRNGKey(0));
    expect(throwsIn(() => fam.taskFn(cfg).loss(tf.zeros([4]), PRNGKey(0), null))).toThrow('quadratic loss: θ must have shape [3], got [4]');
    tree.dispose(cfg);
  });

  it('vectorized tasks check the per-task batch inside vmap, and name the argument order', () => {
    const task = linearRegressionTask();
    const v = vectorizeTask(task);
    const keys = split(PRNGKey(0), 2);
    const params = v.init(keys);
    expect(throwsIn(() => v.loss(params, PRNGKey(0), { x: tf.ones([2, 7]), y: tf.ones([2, 6]) } as never))).toThrow(
      'LinearRegression_slope10 loss: batch.y has shape [6], expected [B] with B = 7 (from batch.x)',
    );
    expect(throwsIn(() => v.loss(params, { x: tf.ones([2, 7]), y: tf.ones([2, 7]) } as never, PRNGKey(0) as never))).toThrow(
      'vectorizeTask(LinearRegression_slope10).loss(params, key, batches): key must be one PRNG key or a key batch [T], got object with keys [x,y]',
    );
    params.dispose();
  });
});

describe('async task builders', () => {
  it('fashionMnistMlpTask() returns a Promise; using it as a task says to await it', async () => {
    const pending = fashionMnistMlpTask();
    expect(() => (pending as never as { init(k: unknown): unknown }).init(PRNGKey(0))).toThrow(
      'fashionMnistMlpTask() returns a Promise of the task: write `const task = await fashionMnistMlpTask()` before calling task.init()',
    );
    expect(() => smoketestTask(pending as never)).toThrow('smoketestTask: got a Promise, not a task; await it first');
    expect(() => vectorizeTask(pending as never)).toThrow('vectorizeTask: got a Promise, not a task; await it first');
    const task = await pending;
    expect(typeof task.init).toBe('function');
  });
});
