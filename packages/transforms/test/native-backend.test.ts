import * as tf from '@tensorflow/tfjs';
import { normal, PRNGKey, uniform } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { grad, initBackend } from '../src/index.js';
import { BACKENDS, useBackend, useEnv, values } from '@lopt/test-utils';

/**
 * Where the native TensorFlow backend (@tensorflow/tfjs-node on libtensorflow 2.21, from
 * `pnpm setup:tensorflow`) differs from cpu and wasm, each difference pinned by a number. The
 * README's backend section lists the same; the shared suites (second order, vmap, scan, memory,
 * optimizers, tasks) run on it through BACKENDS. Runs only where the backend is installed.
 */
const HERE = BACKENDS.includes('tensorflow');

/** Runs f on a backend and returns its values (the tensors are disposed). */
function on(backend: string, f: () => tf.Tensor): number[] {
  tf.setBackend(backend);
  return tf.tidy(() => values(f()));
}

describe.skipIf(!HERE)('the native tensorflow backend', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    await useBackend('wasm');
    await useBackend('tensorflow');
  });

  describe('starting it', () => {
    useEnv({ LOPT_BACKEND: 'tensorflow' });
    it('LOPT_BACKEND=tensorflow picks it, and tfjs-node shares lopt\'s one tfjs engine', async () => {
      await initBackend('cpu');
      expect(await initBackend()).toBe('tensorflow');
      expect(tf.getBackend()).toBe('tensorflow');
      const spec = '@tensorflow/tfjs-node';
      const node = (await import(/* @vite-ignore */ spec)) as { Tensor: unknown; engine: () => unknown };
      // The same classes: tfjs-node loads the repository's @tensorflow/tfjs, not a copy of its own.
      expect(node.Tensor).toBe(tf.Tensor);
      expect(node.engine()).toBe(tf.engine());
    });
  });

  it('has every kernel cpu has except these (none of which lopt uses)', () => {
    const native = new Set(tf.getKernelsForBackend('tensorflow').map((k) => k.kernelName));
    const missing = tf.getKernelsForBackend('cpu').map((k) => k.kernelName).filter((k) => !native.has(k));
    expect(missing.sort()).toEqual([
      'BitwiseAnd', 'DenseBincount', 'Draw', 'MaxPoolWithArgmax', 'RaggedGather', 'RaggedRange', 'RaggedTensorToTensor', 'RotateWithOffset',
      'SearchSorted', 'SparseFillEmptyRows', 'SparseReshape', 'SparseSegmentMean', 'SparseSegmentSum', 'StringNGrams', 'StringSplit',
      'StringToHashBucketFast', 'Transform',
    ]);
    // lopt's JS UnsortedSegmentSum (gather's gradient) is for wasm; tensorflow has its own.
    expect(tf.getKernel('UnsortedSegmentSum', 'tensorflow')).toBeDefined();
  });

  it('elementwise float32 ops agree with cpu to a few ulp', () => {
    const x = () => tf.mul(normal(PRNGKey(0), [4096]), 3);
    const ops: Record<string, (t: tf.Tensor) => tf.Tensor> = {
      tanh: tf.tanh, sigmoid: tf.sigmoid, exp: tf.exp, log: (t) => tf.log(tf.abs(t)), softplus: tf.softplus, sin: tf.sin, cos: tf.cos,
      rsqrt: (t) => tf.rsqrt(tf.abs(t)), softmax: (t) => tf.softmax(t.reshape([64, 64])), logSumExp: (t) => tf.logSumExp(t.reshape([64, 64]), 1),
    };
    for (const [name, f] of Object.entries(ops)) {
      const a = on('cpu', () => f(x()));
      const b = on('tensorflow', () => f(x()));
      const err = Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.max(Math.abs(v), 1e-3)));
      expect(err, name).toBeLessThan(1e-6); // measured ≤ 4e-7
    }
  });

  it('matMul and sum are as accurate as wasm or better (error vs float64 over sum |a·b|)', () => {
    const k = 512;
    const a = Float32Array.from(normal(PRNGKey(2), [16 * k]).dataSync());
    const b = Float32Array.from(normal(PRNGKey(3), [k * 16]).dataSync());
    const err = (backend: string): number => {
      const got = on(backend, () => tf.matMul(tf.tensor2d(a, [16, k]), tf.tensor2d(b, [k, 16])));
      let worst = 0;
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < 16; j++) {
          let s = 0;
          let m = 0;
          for (let q = 0; q < k; q++) {
            s += a[i * k + q]! * b[q * 16 + j]!;
            m += Math.abs(a[i * k + q]! * b[q * 16 + j]!);
          }
          worst = Math.max(worst, Math.abs(got[i * 16 + j]! - s) / m);
        }
      }
      return worst;
    };
    // float32 accumulation (tensorflow, wasm) vs cpu's float64 accumulation: measured 1.1e-7, 1.2e-7, 3.4e-8.
    expect(err('tensorflow')).toBeLessThan(2.5e-7);
    expect(err('cpu')).toBeLessThan(6e-8);
    // Sums reduce pairwise on tensorflow (measured 5e-8 relative over 2^20 terms, wasm 2e-5).
    const xs = Float32Array.from(uniform(PRNGKey(4), [1 << 18]).dataSync());
    let ref = 0;
    for (const v of xs) ref += v;
    expect(Math.abs(on('tensorflow', () => tf.sum(tf.tensor1d(xs)))[0]! - ref) / ref).toBeLessThan(1e-6);
  });

  it('flushes denormals to zero (cpu and wasm keep them)', () => {
    // libtensorflow runs with FTZ/DAZ: results below 1.18e-38 become 0, so log(exp(-90)) is -Infinity.
    expect(on('cpu', () => tf.exp(tf.tensor1d([-90])))[0]).toBeCloseTo(8.194e-40, 42);
    expect(on('wasm', () => tf.exp(tf.tensor1d([-90])))[0]).toBeGreaterThan(0);
    expect(on('tensorflow', () => tf.exp(tf.tensor1d([-90])))).toEqual([0]);
    expect(on('tensorflow', () => tf.log(tf.exp(tf.tensor1d([-90]))))).toEqual([-Infinity]);
    expect(on('tensorflow', () => tf.mul(tf.tensor1d([1e-38]), 1e-2))).toEqual([0]);
    // The stable forms lopt's losses use do not go through denormals.
    expect(on('tensorflow', () => tf.logSigmoid(tf.tensor1d([-90])))[0]).toBeCloseTo(-90, 4);
  });

  it('computes elu (and selu) for tiny negative inputs as exp(x) - 1 in float32', () => {
    // Absolute error stays below float32's resolution at 1; relative error near 0 does not.
    const x = Float32Array.from({ length: 100 }, (_, i) => -(i + 1) * 1e-6);
    for (const backend of ['cpu', 'wasm', 'tensorflow']) {
      const y = on(backend, () => tf.elu(tf.tensor1d(x)));
      const abs = Math.max(...y.map((v, i) => Math.abs(v - Math.expm1(x[i]!))));
      const rel = Math.max(...y.map((v, i) => Math.abs(v - Math.expm1(x[i]!)) / -Math.expm1(x[i]!)));
      expect(abs, backend).toBeLessThan(1e-7);
      // cpu and wasm are exact to float32 (6e-8); tensorflow is off by up to 1.3% at -1e-6.
      if (backend === 'tensorflow') expect(rel).toBeGreaterThan(1e-3);
      else expect(rel, backend).toBeLessThan(1e-6);
    }
  });

  it('differs on integer and NaN edge cases', () => {
    const int = (v: number[]) => tf.tensor1d(v, 'int32');
    // Integer division by zero: cpu gives 0, libtensorflow refuses (its error does not name the tfjs op).
    expect(on('cpu', () => tf.div(int([7, 5]), int([2, 0])))).toEqual([3, 0]);
    expect(() => on('tensorflow', () => tf.div(int([7, 5]), int([2, 0])))).toThrow(/Integer division by zero/);
    expect(() => on('tensorflow', () => tf.pow(int([2]), int([-1])))).toThrow(/Integers to negative integer powers are not allowed/);
    // NaN and out-of-range floats cast to int32: cpu 0 and wraps, tensorflow INT32_MIN (x86 cvttss2si).
    expect(on('cpu', () => tf.cast(tf.tensor1d([NaN, 3e9, -1.7]), 'int32'))).toEqual([0, -1294967296, -1]);
    expect(on('tensorflow', () => tf.cast(tf.tensor1d([NaN, 3e9, -1.7]), 'int32'))).toEqual([-2147483648, -2147483648, -1]);
    // sign(NaN): cpu 0, tensorflow NaN (as numpy and jax).
    expect(on('cpu', () => tf.sign(tf.tensor1d([NaN])))).toEqual([0]);
    expect(on('tensorflow', () => tf.sign(tf.tensor1d([NaN])))).toEqual([NaN]);
  });

  it('gives @lopt/random the same numbers as cpu, and counts tensors the same way', () => {
    const draw = (backend: string) => on(backend, () => tf.concat([uniform(PRNGKey(7), [500]), normal(PRNGKey(8), [500])]));
    expect(draw('tensorflow')).toEqual(draw('cpu'));
    tf.setBackend('tensorflow');
    // tfjs-node reports memory as unreliable (its buffers live in libtensorflow); the tensor count is exact.
    expect(tf.memory().unreliable).toBe(true);
    const f = (w: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(w, w)));
    const w = tf.randomNormal([8, 8]);
    const before = tf.memory().numTensors;
    const g = grad(f) as (x: tf.Tensor) => tf.Tensor;
    const h = grad((v: tf.Tensor) => tf.sum(g(v)) as tf.Scalar) as (x: tf.Tensor) => tf.Tensor;
    for (let i = 0; i < 200; i++) tf.dispose([g(w), h(w)]);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});
