import * as tf from '@tensorflow/tfjs';
import { LSTMLOpt, type LSTMLOptState, type LSTMLOptTheta } from '@lopt/learned-optimizers';
import { PRNGKey, split } from '@lopt/random';
import { jit, scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { lstmMetaStep, quadraticData } from '../../../demo/src/examples/lstm-quadratic.js';
import type { Workload } from '../workload.js';
import { fixed } from './fixed.js';

/** Data sets cycled through by the timed steps (each set runs 5 unrolls, as a meta-step of the demo). */
const SETS = 4;
const UNROLLS = 5;

/**
 * The fixed input of `check()`, from `fixed` (scale · sin(offset + i), float32, row-major). LSTM
 * weights: lstm{1,2}.{wi, wh, b} and fc.{w, b} with offsets 0..7 and scale 0.3; W [128, 10, 10]
 * (offset 100, scale 1), y [128, 10] (offset 200), θ0 [128, 10] (offset 300); zero carries. The
 * value is the meta-loss of one train step: the sum of the 20 inner losses. Built the same way in
 * Python, the torch peer's model gives 8569.2021 and the flax one 8569.2012 (lopt: 8569.2021).
 */
export function w3FixedInput(batch = 128): { theta: LSTMLOptTheta; W: tf.Tensor; y: tf.Tensor; theta0: tf.Tensor } {
  const H = 20;
  const theta = {
    lstm1: { wi: fixed([1, 4 * H], 0.3, 0), wh: fixed([H, 4 * H], 0.3, 1), b: fixed([4 * H], 0.3, 2) },
    lstm2: { wi: fixed([H, 4 * H], 0.3, 3), wh: fixed([H, 4 * H], 0.3, 4), b: fixed([4 * H], 0.3, 5) },
    fc: { w: fixed([H, 1], 0.3, 6), b: fixed([1], 0.3, 7) },
  } as LSTMLOptTheta;
  return { theta, W: fixed([batch, 10, 10], 1, 100), y: fixed([batch, 10], 1, 200), theta0: fixed([batch, 10], 1, 300) };
}

/**
 * W3: one train step of "Learning JAX by Learning to Learn" (the demo `lstm-quadratic`'s own
 * step): a 20-step unroll of the coordinatewise two-layer LSTM optimizer over 128 × 10
 * coordinates, the gradient of the summed losses in theta, Adam(0.01) on theta.
 */
export const w3Lstm: Workload = {
  id: 'w3-lstm',
  title: '"Learning JAX by Learning to Learn": one meta-step of the coordinatewise LSTM optimizer (20-step unroll over 128 × 10 coordinates, backward, Adam)',
  peers: { torch: 'torch/w3', jax: 'jax/w3' },
  setup({ jit: useJit, quick }) {
    // --quick: the same shapes, 2-step unrolls (check() always unrolls 20 steps, as the peers).
    const meta = lstmMetaStep(new LSTMLOpt(), undefined, quick ? 2 : 20);
    const { lopt } = meta;
    const step = useJit ? jit(meta.step) : meta.step;
    let theta = lopt.init(PRNGKey(0));
    let metaState = meta.metaOpt.init(theta);
    const keys = split(PRNGKey(1), SETS);
    const data = Array.from({ length: SETS }, (_, i) => quadraticData(keys.at(i)));
    let calls = 0;
    let optState: LSTMLOptState | undefined;
    return {
      step() {
        const d = data[Math.floor(calls / UNROLLS) % SETS]!;
        if (calls % UNROLLS === 0) {
          tree.dispose(optState);
          optState = scope(() => lopt.optFn(theta).init(d.theta0));
        }
        calls++;
        const next = step(theta, metaState, d.cfg, optState!);
        tree.dispose([theta, metaState, optState, next.loss]);
        ({ theta, metaState, optState } = next);
      },
      check() {
        return scope(() => {
          const x = w3FixedInput();
          const s0 = lopt.optFn(x.theta).init(x.theta0);
          const [loss] = lstmMetaStep(lopt).unrollLoss(x.theta, { W: x.W, y: x.y }, s0);
          return loss.dataSync()[0]!;
        });
      },
      dispose() {
        tree.dispose([theta, metaState, optState, data]);
        if (useJit) (step as ReturnType<typeof jit>).clearCache();
      },
    };
  },
};
