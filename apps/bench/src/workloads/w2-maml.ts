import * as tf from '@tensorflow/tfjs';
import { maml, type MAMLTask } from '@lopt/learned-optimizers';
import { adam, applyUpdates } from '@lopt/optimizers';
import { PRNGKey, foldIn, split } from '@lopt/random';
import { sinusoidFamily, type MLPParams, type SinusoidBatch, type SinusoidConfig } from '@lopt/tasks';
import { jit, scope, valueAndGrad, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Workload, WorkloadInstance, WorkloadOptions } from '../workload.js';
import { fixed } from './fixed.js';

/** Meta-batches cycled through by the timed steps (sampled in setup: data generation is not timed, as in the peers). */
const BATCHES = 100;

/**
 * The fixed input of `check()`, as the peers build it (peers/protocol.py `fixed_maml`): MLP
 * 1-40-40-1 with w_l = fixed([fan_in, fan_out], 1/√fan_in, 10l + 1), b_l = fixed([fan_out], 0.01,
 * 10l + 2) (l = 0, 1, 2), and 4 tasks of K = 20 points: support x = fixed([4, 20, 1], 5, 100),
 * y = fixed([4, 20, 1], 0.3, 200), query x with offset 300, y with 400. The value is the batched
 * MAML meta-loss (one inner SGD step at 0.1, mean over tasks of the query MSE).
 */
export function w2CheckInput(): { theta: MLPParams; tasks: MAMLTask<SinusoidBatch, SinusoidConfig> } {
  return scope(() => {
    const sizes = [1, 40, 40, 1];
    const theta = sizes.slice(1).map((out, l) => {
      const fin = sizes[l]!;
      return { w: fixed([fin, out], 1 / Math.sqrt(fin), 10 * l + 1), b: fixed([out], 0.01, 10 * l + 2) };
    });
    const batch = (offset: number): SinusoidBatch => ({ x: fixed([4, 20, 1], 5, offset), y: fixed([4, 20, 1], 0.3, offset + 100) });
    // The sinusoid loss reads only the points; the configs are there because the family asks for them.
    return { theta, tasks: { config: { amplitude: tf.ones([4]), phase: tf.zeros([4]) }, support: batch(100), query: batch(300) } };
  });
}

/**
 * W2: one meta-step of the "MAML in JAX" tutorial's batched MAML: 4 sinusoid tasks (K = 20
 * support and 20 query points each) under vmap, one inner SGD step at 0.1 on an MLP 1-40-40-1,
 * the meta-gradient (second order, or first order), and Adam 1e-3. `--quick`: 2 tasks of 10 points.
 */
function w2(firstOrder: boolean): Workload {
  return {
    id: firstOrder ? 'w2-maml-fo' : 'w2-maml',
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
