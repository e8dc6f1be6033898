import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BACKENDS, relErr, useBackend, values } from '@lopt/test-utils';
import { grad, hvp } from '../src/index.js';
import { FAST_GRADIENT_KERNELS, fastGradientConfigs } from '../src/fast-gradients.js';
import { runtime } from '../src/runtime.js';

/** Runs `fn` with tfjs' own gradients for the four kernels, then puts lopt's back. */
function withTfjsGradients<T>(fn: () => T): T {
  const originals = runtime().tfjsGradients;
  for (const k of FAST_GRADIENT_KERNELS) tf.registerGradient(originals.get(k)!);
  try {
    return fn();
  } finally {
    for (const cfg of fastGradientConfigs()) tf.registerGradient(cfg);
  }
}

const ops: Record<(typeof FAST_GRADIENT_KERNELS)[number], (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  Add: tf.add,
  Sub: tf.sub,
  Multiply: tf.mul,
  RealDiv: tf.div,
};
// Same shapes, and both directions of broadcasting (including rank changes and size-1 axes).
const SHAPES: Array<[number[], number[]]> = [[[2, 3], [2, 3]], [[2, 3], [3]], [[1, 3], [2, 1]], [[2, 3], []], [[], [4]]];
const data = (shape: number[], seed: number) => tf.tensor(Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => 1.5 + Math.sin(seed + i * 0.7)), shape);

describe.each(BACKENDS)('speed-only arithmetic gradients on %s', (backend) => {
  it.each(FAST_GRADIENT_KERNELS)('%s: values, gradients and second derivatives equal tfjs\' own', async (kernel) => {
    await useBackend(backend);
    expect(runtime().tfjsGradients.get(kernel), 'tfjs original kept').toBeDefined();
    for (const [sa, sb] of SHAPES) {
      tf.tidy(() => {
        const a = data(sa, 1);
        const b = data(sb, 2);
        // A non-linear use of the op, so second derivatives through it are not trivially zero.
        const f = (p: { a: tf.Tensor; b: tf.Tensor }) => tf.sum(tf.square(tf.tanh(ops[kernel](p.a, p.b)))) as tf.Scalar;
        const dir = { a: data(sa, 3), b: data(sb, 4) };
        const run = () => {
          const g = grad(f)({ a, b }) as { a: tf.Tensor; b: tf.Tensor };
          const h = hvp(f, { a, b }, dir);
          return [values(f({ a, b })), values(g.a), values(g.b), values(h.a), values(h.b)];
        };
        const fast = run();
        const orig = withTfjsGradients(run);
        fast.forEach((v, i) => expect(relErr(v, orig[i]!), `${kernel} [${sa}] with [${sb}], output ${i}`).toBeLessThan(1e-6));
      });
    }
  });
});
