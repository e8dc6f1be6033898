import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, relErr, useBackend } from '@lopt/test-utils';
import { grad, jit, valueAndGrad } from '../src/index.js';

/**
 * jit on the native tensorflow backend. Replay calls each kernel function with bare TensorInfos;
 * eight of tfjs-node's kernels (Mean, Pow, Prelu, Step, _FusedMatMul, FusedConv2D,
 * FusedDepthwiseConv2D, FusedBatchNorm) call tfjs ops on their inputs, which need Tensors, so a
 * replay through one of them throws. Kernels that only call libtensorflow replay fine.
 */
describe.skipIf(!BACKENDS.includes('tensorflow'))('jit on the native tensorflow backend', () => {
  beforeAll(() => useBackend('tensorflow'));
  const w = () => tf.tensor2d([[0.5, -1.2], [0.3, 0.8], [-0.7, 0.1]]);
  const x = () => tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [-2, 0.3, 1], [0.1, 0.2, -0.4]]);

  it('replays kernels that only call libtensorflow, with the eager numbers; no fusion there', () => {
    const f = (a: tf.Tensor, b: tf.Tensor) => grad((p: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(b, p))) as tf.Scalar)(a);
    const [a, b] = [w(), x()];
    const j = jit(f);
    expect(j.lower(a, b)).toMatch(/jit graph on tensorflow \(\d+ nodes in \d+ steps, 0 fused/);
    const eager = f(a, b) as tf.Tensor;
    for (let i = 0; i < 3; i++) {
      const got = j(a, b) as tf.Tensor;
      expect(relErr(got, eager)).toBeLessThan(1e-6);
      got.dispose();
    }
    expect(j.traceCount).toBe(1);
    j.clearCache();
    tf.dispose([a, b, eager]);
  });

  // tfjs-node's Mean (and Pow, Prelu, Step, fused kernels) call tfjs ops on their inputs: replay
  // hands them temporary tensors.
  it('replays a loss and its gradient through tf.mean (the Mean kernel) with the eager numbers', () => {
    const f = (a: tf.Tensor, b: tf.Tensor) => valueAndGrad((p: tf.Tensor) => tf.mean(tf.tanh(tf.matMul(b, p))) as tf.Scalar)(a)[0];
    const [a, b] = [w(), x()];
    const j = jit(f);
    try {
      const eager = f(a, b) as tf.Tensor;
      for (let i = 0; i < 2; i++) {
        // The first call traces (through the engine, with Tensors); the second replays.
        const got = j(a, b) as tf.Tensor;
        expect(relErr(got, eager)).toBeLessThan(1e-6);
        got.dispose();
      }
      eager.dispose();
    } finally {
      j.clearCache();
      tf.dispose([a, b]);
    }
  });
});
