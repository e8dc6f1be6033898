import * as tf from '@tensorflow/tfjs';
import { jit, scope, valueAndGrad, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Workload } from '../workload.js';
import { fixed, fixedLabels } from './fixed.js';

/** The MLP of learned_optimization's no-dependency notebook: 64-128-10, relu, softmax cross-entropy. */
export interface Mlp {
  w0: tf.Tensor;
  b0: tf.Tensor;
  w1: tf.Tensor;
  b1: tf.Tensor;
}
export const BATCH = 128;

export const mlpParams = (lead: number[]): Mlp => ({
  w0: fixed([...lead, 64, 128], 0.1, 1),
  b0: fixed([...lead, 128], 0.01, 2),
  w1: fixed([...lead, 128, 10], 0.1, 3),
  b1: fixed([...lead, 10], 0.01, 4),
});

export function mlpLoss(p: Mlp, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const h = tf.relu(tf.add(tf.matMul(x, p.w0), p.b0));
  const logits = tf.add(tf.matMul(h, p.w1), p.b1);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, 10), tf.logSoftmax(logits)), -1))) as tf.Scalar;
}

/** Loss and gradient of the Fashion-MNIST 8×8 MLP at batch 128 (fixed inputs, see fixed.ts). */
export const mlpStep: Workload = {
  id: 'mlp-step',
  title: "learned_optimization's no-dependency notebook: Fashion-MNIST 8×8 MLP (64-128-10) loss + gradient at batch 128",
  peers: { torch: 'torch/mlp', jax: 'jax/mlp' },
  repeats: 100,
  setup({ jit: useJit }) {
    const params = mlpParams([]);
    const x = fixed([BATCH, 64], 0.5, 5);
    const y = fixedLabels([BATCH], 10);
    const vg = valueAndGrad(mlpLoss);
    const f = useJit ? jit(vg) : vg;
    return {
      step: () => tree.dispose(f(params, x, y)),
      check: () => {
        const [v, g] = vg(params, x, y);
        const out = v.dataSync()[0]!;
        tree.dispose([v, g]);
        return out;
      },
      dispose: () => tree.dispose([params, x, y]),
    };
  },
};

/** The same loss and gradient for 8 tasks with their own weights, through vmap (new weights every step, as in training). */
export const vmapMlp: Workload = {
  id: 'vmap-mlp',
  title: 'the same MLP loss + gradient for 8 tasks with per-task weights, through vmap (batched matMuls)',
  peers: { torch: 'torch/mlp', jax: 'jax/mlp' },
  tasks: 8,
  repeats: 50,
  setup({ jit: useJit }) {
    const T = 8;
    let params = mlpParams([T]);
    const x = fixed([T, BATCH, 64], 0.5, 5);
    const y = fixedLabels([T, BATCH], 10);
    const batched = vmap(valueAndGrad(mlpLoss));
    // A tiny SGD step so each call sees new weights (tfjs-wasm caches packed weights per tensor).
    const train = (p: Mlp, xb: tf.Tensor, yb: tf.Tensor) => {
      const [v, g] = batched(p, xb, yb);
      return { v, p: tree.map<Mlp>((w: tf.Tensor, gw: tf.Tensor) => tf.sub(w, tf.mul(1e-4, gw)), p, g) };
    };
    const f = useJit ? jit(train) : train;
    return {
      step() {
        const out = scope(() => f(params, x, y));
        tree.dispose([params, out.v]);
        params = out.p;
      },
      check: () => {
        const p0 = mlpParams([T]);
        const [v, g] = batched(p0, x, y);
        const out = tf.sum(v).dataSync()[0]!;
        tree.dispose([v, g, p0]);
        return out;
      },
      dispose: () => tree.dispose([params, x, y]),
    };
  },
};
