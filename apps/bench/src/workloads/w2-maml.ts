import * as tf from '@tensorflow/tfjs';
import { maml, type MAMLTask } from '@lopt/learned-optimizers';
import { adam, applyUpdates } from '@lopt/optimizers';
import { PRNGKey, foldIn, split } from '@lopt/random';
import { sinusoidFamily, type MLPParams, type SinusoidBatch, type SinusoidConfig } from '@lopt/tasks';
import { jit, scope, valueAndGrad, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Workload, WorkloadInstance, WorkloadOptions } from '../workload.js';

/** Meta-batches cycled through by the timed steps (sampled in setup: data generation is not timed, as in the peers). */
const BATCHES = 100;

/**
 * The fixed input of `check()`, easy to rebuild in Python: MLP 1-40-40-1 with
 * W_l[i, j] = 0.1·sin(i + 2j + l) and b_l[j] = 0.01·cos(j + l) (l = 0, 1, 2; W_l is [in, out]);
 * task t = 0…3 has amplitude 0.1 + 0.1t and phase 0.5t; support x[t, k] = −5 + 10·(t·20 + k)/80,
 * query x[t, k] = −4.9 + 9.8·((7·(t·20 + k)) mod 80)/80 (k = 0…19), y = A·sin(x + φ). The value is
 * the batched MAML meta-loss (one inner SGD step at 0.1, mean over tasks of the query MSE);
 * JAX in float64 gives 0.0370585587, eager PyTorch (float32, the peer's batched loss) 0.0370585546, lopt 0.0370585583.
 */
export function w2CheckInput(): { theta: MLPParams; tasks: MAMLTask<SinusoidBatch, SinusoidConfig> } {
  return scope(() => {
    const sizes = [1, 40, 40, 1];
    const theta = sizes.slice(1).map((out, l) => {
      const fin = sizes[l]!;
      const w = Float32Array.from({ length: fin * out }, (_, n) => 0.1 * Math.sin(Math.floor(n / out) + 2 * (n % out) + l));
      const b = Float32Array.from({ length: out }, (_, j) => 0.01 * Math.cos(j + l));
      return { w: tf.tensor2d(w, [fin, out]), b: tf.tensor1d(b) };
    });
    const T = 4;
    const K = 20;
    const amp = Array.from({ length: T }, (_, t) => 0.1 + 0.1 * t);
    const ph = Array.from({ length: T }, (_, t) => 0.5 * t);
    const batch = (x: (n: number) => number): SinusoidBatch => {
      const xs = Float32Array.from({ length: T * K }, (_, n) => x(n));
      const ys = Float32Array.from(xs, (v, n) => amp[Math.floor(n / K)]! * Math.sin(v + ph[Math.floor(n / K)]!));
      return { x: tf.tensor3d(xs, [T, K, 1]), y: tf.tensor3d(ys, [T, K, 1]) };
    };
    return {
      theta,
      tasks: {
        config: { amplitude: tf.tensor1d(amp), phase: tf.tensor1d(ph) },
        support: batch((n) => -5 + (10 * n) / (T * K)),
        query: batch((n) => -4.9 + (9.8 * ((7 * n) % (T * K))) / (T * K)),
      },
    };
  });
}

/**
 * W2: one meta-step of the "MAML in JAX" tutorial's batched MAML: 4 sinusoid tasks (K = 20
 * support and 20 query points each) under vmap, one inner SGD step at 0.1 on an MLP 1-40-40-1,
 * the meta-gradient (second order, or first order), and Adam 1e-3. `--quick`: 2 tasks of 10 points.
 */
function w2(firstOrder: boolean): Workload {
  return {
    id: firstOrder ? 'w2-fomaml' : 'w2-maml',
    title: `the "MAML in JAX" tutorial: one batched MAML meta-step, 4 tasks, K = 20, ${firstOrder ? 'first order (FOMAML)' : 'second order'}, Adam`,
    peers: { torch: 'torch/w2', jax: 'jax/w2' },
    setup({ jit: useJit, quick }: WorkloadOptions): WorkloadInstance {
      const T = quick ? 2 : 4;
      const K = quick ? 10 : 20;
      const family = sinusoidFamily({ k: K });
      const m = maml(family, { lr: 0.1, firstOrder });
      const opt = adam(1e-3);
      let theta = m.init(PRNGKey(0));
      let optState = opt.init(theta);
      const data = scope(() =>
        Array.from({ length: quick ? 10 : BATCHES }, (_, i) => {
          const ks = split(foldIn(PRNGKey(1), i), 3);
          const config = vmap(family.sample)(split(ks.at(0), T)) as SinusoidConfig;
          return { config, support: family.sampleBatch(config, split(ks.at(1), T)), query: family.sampleBatch(config, split(ks.at(2), T)) };
        }),
      );
      const metaStep = (th: MLPParams, s: typeof optState, tasks: MAMLTask<SinusoidBatch, SinusoidConfig>) => {
        const [loss, g] = valueAndGrad((p: MLPParams) => m.metaLoss(p, tasks))(th);
        const [u, next] = opt.update(g, s, th);
        return { theta: applyUpdates(th, u), optState: next, loss };
      };
      const jitted = useJit ? jit(metaStep) : undefined;
      const step = jitted ?? ((th: MLPParams, s: typeof optState, tasks: MAMLTask<SinusoidBatch, SinusoidConfig>) => scope(() => metaStep(th, s, tasks)));
      let i = 0;
      return {
        step() {
          const next = step(theta, optState, data[i++ % data.length]!);
          tree.dispose([theta, optState, next.loss]);
          theta = next.theta;
          optState = next.optState;
        },
        check() {
          const input = w2CheckInput();
          const value = scope(() => maml(sinusoidFamily(), { lr: 0.1, firstOrder }).metaLoss(input.theta, input.tasks).dataSync()[0]!);
          tree.dispose(input);
          return value;
        },
        dispose() {
          tree.dispose([theta, optState, data]);
          jitted?.clearCache();
        },
      };
    },
  };
}

export const w2Maml: Workload = w2(false);
export const w2Fomaml: Workload = w2(true);
